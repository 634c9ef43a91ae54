"""Exact rank and page positions from counts (pure): the XP count tree.

Order: XP descending, then user id ascending. Members are counted in small counter items at three XP
granularities, plus a tie level for the low XP values where crowds share one exact XP (0 XP, and the
15-25 XP of a single message: in a big guild tens of thousands of members each):

    A  per million of XP            key a = xp // 10^6
    B  per thousand, within an A    key b = (xp // 10^3) % 1000
    C  per bucket, within a B       key c = counted(xp) % 1000: the exact XP below 1000, the hundred
                                    (0, 100, ..., 900) from 1000 XP on
    T  per user-id range, within an exact XP below 1000   key t = user_id // 10^15

A member is counted at `counted(xp)`: its XP below 1000, its XP rounded down to the hundred from 1000 on,
so a bucket is one exact XP below 1000 and a hundred of XP above. Why the hundreds: an award (15-25 XP)
moved every member from one exact-XP C item to another, a 3-item transaction per award; inside a hundred
it now moves nothing (~80% of awards from 1000 XP on write nothing in the rank index).

Members ahead of (X, u) = A above a + B above b (in a) + C above c (in a, b) + the members of X's bucket
ahead of u: in the score index (score = xp * 10^20 + (10^20 - 1 - user id), store.keys.score) one
contiguous range, (score of (X, u), highest score of the bucket], counted there. Below 1000 the bucket is
one exact XP and the T level first narrows it to one user-id range, so the count stays small however many
share X. A page at any offset is found by walking A -> B -> C (-> T) and reading the index from the top of
that bucket (or tie range), skipping the members before the offset within it.

Counts are kept by the rank index function from the table's stream (see service/ranks.py): an XP change
moves a member from one C item to another (and T items below 1000 XP) only when it leaves its bucket,
and across B/A items only at their boundaries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

A, B, C, T = "A", "B", "C", "T"
MILLION, THOUSAND, HUNDRED = 10**6, 10**3, 10**2
TIE_RANGE = 10**15  # user ids (snowflakes, 17-20 digits) per T item: ~1,400 ranges over today's ids
TIED_BELOW = THOUSAND  # exact XP values with T counters: where ties crowd (a few messages' worth of XP)
BUCKET = HUNDRED  # XP per C bucket from TIED_BELOW on (below it: one exact XP)
# service.ranks counts "members below TIED_BELOW" as C(0, 0); changing either constant (or TIE_RANGE,
# BUCKET) changes which counters exist: bump store.keys.RANK_LAYOUT with it.
assert TIED_BELOW == THOUSAND and THOUSAND % BUCKET == 0


@dataclass(frozen=True, slots=True, order=True)
class Counter:
    """One counter item: its level, the parent it sits under, and its key within that parent."""

    level: str
    parent: tuple[int, ...]
    key: int


def counted(xp: int) -> int:
    """The XP a member at `xp` is counted at: the lowest XP of its bucket (xp itself below TIED_BELOW)."""
    return xp if xp < TIED_BELOW else xp - xp % BUCKET


def bucket_top(xp: int) -> int:
    """The highest XP of the bucket `xp` is in (xp itself below TIED_BELOW)."""
    return xp if xp < TIED_BELOW else counted(xp) + BUCKET - 1


def path(xp: int) -> tuple[int, int, int]:
    """(a, b, c) of the counters a member at `xp` is counted in (c: of its bucket)."""
    xp = counted(xp)
    return xp // MILLION, (xp // THOUSAND) % 1000, xp % 1000


def tie_range(user_id: int | str) -> int:
    return int(user_id) // TIE_RANGE


def counters(xp: int, user_id: int | str) -> list[Counter]:
    """The counters a member at `xp` is counted in (the same for every XP of one bucket)."""
    a, b, c = path(xp)
    found = [Counter(A, (), a), Counter(B, (a,), b), Counter(C, (a, b), c)]
    if xp < TIED_BELOW:
        found.append(Counter(T, (xp,), tie_range(user_id)))
    return found


Position = tuple[int, str]  # (xp, user id)


def canonical(position: Position | None) -> Position | None:
    """The position a member is counted at: (counted(xp), user id); None stays None (absent)."""
    return None if position is None else (counted(position[0]), position[1])


def deltas(changes: Iterable[tuple[Position | None, Position | None]]) -> dict[Counter, int]:
    """Net counter changes for member moves (old, new); None is "absent" (created / deleted). Counters a
    change leaves as they were (a move inside one bucket, inside one C item's parent, ...) do not appear."""
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
    """Where the member at a given 0-based position is: the XP to read the index from (the top of its
    bucket), the lowest user id of the range to read from (0 but in a T range), and how many index entries
    to skip from there (the members of the bucket, or tie range, before it)."""

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
