"""Exact rank and page positions from counts (pure): the XP count tree.

Order: XP descending, then user id ascending. Members are counted in small counter items at three XP
granularities, plus a tie level for the low XP values where crowds share one exact XP (0 XP, and the
15-25 XP of a single message: in a big guild tens of thousands of members each):

    A  per million of XP          key a = xp // 10^6
    B  per thousand, within an A  key b = (xp // 10^3) % 1000
    C  per exact XP, within a B   key c = xp % 1000
    T  per user-id range, within an exact XP below 1000   key t = user_id // 10^15

Members ahead of (X, u) = A above a + B above b (in a) + C above c (in a, b) + ties: members at exactly X
with a smaller user id. Ties at X are one contiguous range of the score index, counted there; below
1000 XP the T level first narrows them to one user-id range, so the count stays small however many share
X. A page at any offset is found by walking A -> B -> C (-> T) and reading the index from that point.

Counts are kept by the rank index function from the table's stream (see service/ranks.py): every XP
change moves a member from one C item to another (and T items below 1000 XP), and across B/A items only
at their boundaries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

A, B, C, T = "A", "B", "C", "T"
MILLION, THOUSAND = 10**6, 10**3
TIE_RANGE = 10**15  # user ids (snowflakes, 17-20 digits) per T item: ~1,400 ranges over today's ids
TIED_BELOW = THOUSAND  # exact XP values with T counters: where ties crowd (a few messages' worth of XP)
# service.ranks counts "members below TIED_BELOW" as C(0, 0); changing either constant (or TIE_RANGE)
# changes which counters exist: bump store.keys.RANK_LAYOUT with it.
assert TIED_BELOW <= THOUSAND


@dataclass(frozen=True, slots=True, order=True)
class Counter:
    """One counter item: its level, the parent it sits under, and its key within that parent."""

    level: str
    parent: tuple[int, ...]
    key: int


def path(xp: int) -> tuple[int, int, int]:
    return xp // MILLION, (xp // THOUSAND) % 1000, xp % 1000


def tie_range(user_id: int | str) -> int:
    return int(user_id) // TIE_RANGE


def counters(xp: int, user_id: int | str) -> list[Counter]:
    """The counters a member at `xp` is counted in."""
    a, b, c = path(xp)
    found = [Counter(A, (), a), Counter(B, (a,), b), Counter(C, (a, b), c)]
    if xp < TIED_BELOW:
        found.append(Counter(T, (xp,), tie_range(user_id)))
    return found


Position = tuple[int, str]  # (xp, user id)


def deltas(changes: Iterable[tuple[Position | None, Position | None]]) -> dict[Counter, int]:
    """Net counter changes for member moves (old, new); None is "absent" (created / deleted). Counters a
    change leaves as they were (a move inside one C item's parent, ...) do not appear."""
    net: dict[Counter, int] = defaultdict(int)
    for old, new in changes:
        if old is not None:
            for counter in counters(*old):
                net[counter] -= 1
        if new is not None:
            for counter in counters(*new):
                net[counter] += 1
    return {counter: d for counter, d in net.items() if d}


# ---------------------------------------------------------------- reading


Counts = Mapping[int, int]  # key -> count, for the counters under one parent


def above(counts: Counts, key: int) -> int:
    return sum(n for k, n in counts.items() if k > key)


def below(counts: Counts, key: int) -> int:
    return sum(n for k, n in counts.items() if k < key)


@dataclass(frozen=True, slots=True)
class Start:
    """Where the member at a given 0-based position is: the XP value, the lowest user id of the range to
    read from, and how many index entries to skip from there."""

    xp: int
    from_user_id: int
    skip: int


def pick(counts: Counts, offset: int, *, descending: bool) -> tuple[int, int] | None:
    """The key whose members hold position `offset` (0-based) in the given order, and the offset left
    inside it; None when the counts hold fewer members."""
    for key in sorted(counts, reverse=descending):
        n = counts[key]
        if n <= 0:
            continue
        if offset < n:
            return key, offset
        offset -= n
    return None


def pick_clamped(counts: Counts, offset: int, *, descending: bool) -> tuple[int, int] | None:
    """`pick`, but an offset past the end lands on the last member (None only when there are none)."""
    size = sum(n for n in counts.values() if n > 0)
    return pick(counts, min(offset, size - 1), descending=descending) if size > 0 else None


def range_start(t: int) -> int:
    """The lowest user id of tie range `t`."""
    return t * TIE_RANGE
