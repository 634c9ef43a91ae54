"""Exact ranks and leaderboard pages at any depth from the rank counters (xpshop.rank_tree), and the rank
index function's work: turning stream records into counter deltas.

Requests: a rank is 3-5 (member, then A, B, C from 1000 XP; A, C, T below it; A, T at 0 XP; and a COUNT
over the ties in its range when it shares its XP); a page at any offset is 4-5 (A, B, C, T below 1000 XP,
then one index Query from that point). None grows with the guild.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import rank_tree
from ..rank_tree import A, B, C, Position, T
from ..store import keys
from ..store import rank_counters as store


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]  # index entries (userId, xp, level, messages, xpMessages, lastAwardedAt)
    total: int


def total(guild_id: str) -> int:
    return sum(store.counts(guild_id, A).values())


def rank(guild_id: str, user_id: str, xp: int) -> tuple[int, int]:
    """(1-based rank, members ranked) of a member at `xp`. Counters follow the stream (about a second
    behind): a member created a moment ago is ranked, and counted in the total, before they catch up."""
    position, members = _rank(guild_id, user_id, xp)
    return position, max(members, position)


def _rank(guild_id: str, user_id: str, xp: int) -> tuple[int, int]:
    a_counts = store.counts(guild_id, A)
    members = sum(a_counts.values())
    if xp < rank_tree.TIED_BELOW:
        # Everyone above 999 XP is ahead (members outside C(0, 0)), then those at more XP within it, then
        # the T ranges before mine at exactly this XP, then the smaller ids in my range.
        t_counts = store.counts(guild_id, T, (xp,))
        if xp == 0:
            ahead = members - sum(t_counts.values())  # everyone with XP
        else:
            c_counts = store.counts(guild_id, C, (0, 0))
            ahead = members - sum(c_counts.values()) + rank_tree.above(c_counts, xp)
        t = rank_tree.tie_range(user_id)
        ahead += rank_tree.below(t_counts, t)
        if t_counts.get(t, 0) > 1:
            ahead += store.count_scores(
                guild_id, keys.score(xp, user_id), keys.score(xp, str(rank_tree.range_start(t)))
            )
        return max(ahead, 0) + 1, members  # separate reads: a concurrent move may skew them by one
    a, b, c = rank_tree.path(xp)
    b_counts = store.counts(guild_id, B, (a,))
    c_counts = store.counts(guild_id, C, (a, b))
    ahead = rank_tree.above(a_counts, a) + rank_tree.above(b_counts, b) + rank_tree.above(c_counts, c)
    if c_counts.get(c, 0) > 1:  # ties at exactly this XP: those with a smaller user id
        ahead += store.count_scores(guild_id, keys.score(xp, user_id), keys.score(xp, "0"))
    return ahead + 1, members


def page(guild_id: str, offset: int, limit: int) -> Page:
    """The members at positions offset .. offset+limit-1 (0-based) in leaderboard order."""
    a_counts = store.counts(guild_id, A)
    members = sum(a_counts.values())
    start = _locate(guild_id, a_counts, offset)
    if start is None:
        return Page([], members)
    return Page(store.scores_from(guild_id, keys.score(start.xp, str(start.from_user_id)), start.skip, limit), members)


def top(guild_id: str, limit: int, skip: int = 0) -> Page:
    """Members skip+1 .. skip+limit read from the top of the index, nothing to locate: the A counters for the
    total, then one index Query (2 requests where page() takes 4-5), paying RCU for the `skip` entries read
    past, so only worth it near the top. The index is the truth: a member the counters have not caught up
    with yet is listed, and the total is then at least what was read."""
    members = total(guild_id)
    if skip and skip >= members:
        return Page([], members)  # past the end as counted: nothing worth reading past
    items = store.scores_from(guild_id, keys.SCORE_CEILING, skip, limit)
    return Page(items, max(members, skip + len(items)) if items else members)


def _locate(guild_id: str, a_counts: Mapping[int, int], offset: int) -> rank_tree.Start | None:
    found = rank_tree.pick(a_counts, offset, descending=True)
    if found is None:
        return None
    a, left = found
    # Counters are separate items updated one by one: a reader between two updates of one batch may find a
    # level holding a member fewer than its parent said; clamping keeps the walk on the nearest member.
    b_pick = rank_tree.pick_clamped(store.counts(guild_id, B, (a,)), left, descending=True)
    if b_pick is None:
        return None
    b, left = b_pick
    c_pick = rank_tree.pick_clamped(store.counts(guild_id, C, (a, b)), left, descending=True)
    if c_pick is None:
        return None
    c, left = c_pick
    xp = a * rank_tree.MILLION + b * rank_tree.THOUSAND + c
    if xp >= rank_tree.TIED_BELOW:
        return rank_tree.Start(xp, 0, left)
    t_pick = rank_tree.pick_clamped(store.counts(guild_id, T, (xp,)), left, descending=False)
    if t_pick is None:
        return None
    t, left = t_pick
    return rank_tree.Start(xp, rank_tree.range_start(t), left)


# ---------------------------------------------------------------- the rank index function


def _position(image: Mapping[str, Any] | None) -> Position | None:
    if not image or "xp" not in image or not str(image.get("SK", "")).startswith(keys.MEMBER_PREFIX):
        return None
    return int(image["xp"]), str(image.get("userId") or keys.user_id_from_member_sk(str(image["SK"])))


def apply_records(records: Iterable[tuple[str, Mapping[str, Any] | None, Mapping[str, Any] | None]]) -> int:
    """(sequence number, old image, new image) of member items, in stream order -> one move per member
    (its first old position to its last new one), each applied once whatever the redeliveries. Returns how
    many members moved in the counters."""
    moves: dict[tuple[str, str], list[Any]] = {}
    for seq, old, new in records:
        before, after = _position(old), _position(new)
        image = new or old or {}
        if not str(image.get("SK", "")).startswith(keys.MEMBER_PREFIX):
            continue
        guild_id = str(image.get("guildId") or str(image["PK"]).removeprefix("GUILD#"))
        user_id = str(image.get("userId") or keys.user_id_from_member_sk(str(image["SK"])))
        found = moves.get((guild_id, user_id))
        if found is None:
            moves[(guild_id, user_id)] = [before, after, seq]
        else:  # a later record of the same member in this batch: keep the first old, take the last new
            found[1], found[2] = after, seq
    moved = 0
    for (guild_id, user_id), (before, after, seq) in moves.items():
        if before == after:
            continue  # messages counted without XP, stats fields: the order did not move
        moved += store.move(guild_id, user_id, before, after, seq)
    return moved


def repair(guild_id: str, members: Iterable[Position]) -> int:
    """Members whose counted position differs from their XP (never counted, or a change lost) are moved."""
    return store.repair(guild_id, members)


def forget(guild_id: str, user_id: str) -> bool:
    """Take a forgotten member out of the rank counters now; whether they were counted."""
    return store.forget(guild_id, user_id)


def import_members(guild_id: str, members: Iterable[Position]) -> None:
    """Counters for a guild loaded in bulk with nothing else writing (the bench)."""
    store.import_members(guild_id, members)
