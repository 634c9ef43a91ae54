"""Exact ranks and leaderboard pages at any depth from the rank counters (xpshop.rank_tree), and the rank
index function's work: turning stream records into counter deltas.

The Leaderboard index is partitioned by guild and band of level (store.keys.band): a band's entries are in
score order, and bands follow each other in XP order (for the guild's curve), so a page is the counters
locating its start, one index Query of the band holding it, and the next band(s) down only when the page
runs past the band's end (the counters read say which bands below hold members). A guild on its single
band (store.keys.SINGLE_BAND: every guild below keys.FINE_BANDS_FROM members; `curve.banded` False) has
every member in band 0: one Query, as before the bands.

Requests: a rank is 3-5 (member, then A, B, C from 1000 XP; A, C, T below it; A, T at 0 XP; and a COUNT
over the members ahead of it in its bucket, a hundred of XP from 1000 on, or its tie range below, when it
shares it: in a thin thousand one COUNT over the thousand instead of C and that), +1 COUNT when the range
counted spans two bands; a page at any offset is 4-5 (A, B, C, T below 1000 XP, then one index Query from
the top of that bucket, skipping the members before the offset inside it), +1 Query per band boundary the
page crosses. None grows with the guild.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import rank_tree
from ..levels import Curve
from ..rank_tree import A, B, C, Position, T
from ..store import keys
from ..store import rank_counters as store


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]  # index entries (userId, xp, level, messages, xpMessages, lastAwardedAt)
    total: int


def total(guild_id: str) -> int:
    return sum(store.counts(guild_id, A).values())


# A rank from 1000 XP on counts the members of its thousand ahead of it on the index at once (one COUNT,
# no C read) when the B counter says the thousand holds at most this many: one request fewer than the C
# counters and a COUNT over the bucket, for a few RCU at most (~150 bytes an index entry). Every thousand
# of a small guild, the sparse upper thousands of a big one.
COUNT_THOUSAND_UP_TO = 100


def rank(guild_id: str, user_id: str, xp: int, level: int, curve: Curve, *, settled: bool = True) -> tuple[int, int]:
    """(1-based rank, members ranked) of a member at `xp` whose stored `level` is given, in a guild with
    this `curve` (its band layout, Curve.banded, and its levels say which leaderboard bands the members
    of its bucket ahead of it are in; unless `settled`, curves.levels_settled, they may be in any band, and
    every band is counted). Counters follow the stream (about a second behind): a member created a moment
    ago is ranked, and counted in the total, before they catch up."""
    position, members = _rank(guild_id, user_id, xp, _Bands(curve, level, settled))
    return position, max(members, position)


@dataclass(frozen=True, slots=True)
class _Bands:
    """The bands a rank's COUNT covers: for members above the ranked one up to some XP, the band of its
    stored level up to the band of that XP (bands follow XP order for one curve); all while not settled."""

    curve: Curve
    level: int
    settled: bool

    def up_to(self, xp: int, highest: int) -> list[int]:
        if not self.settled:
            return list(range(keys.BANDS))
        own = keys.band(self.level, self.curve.banded)
        return list(range(min(own, _band(self.curve, xp)), max(own, _band(self.curve, highest)) + 1))


def _count_scores(guild_id: str, bands: list[int], low_exclusive: int, high_inclusive: int) -> int:
    return sum(store.count_scores(guild_id, band, low_exclusive, high_inclusive) for band in bands)


def _rank(guild_id: str, user_id: str, xp: int, bands: _Bands) -> tuple[int, int]:
    a_counts = store.counts(guild_id, A)
    members = sum(a_counts.values())
    mine = keys.score(xp, user_id)
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
            ahead += _count_scores(guild_id, bands.up_to(xp, xp), mine, keys.score(xp, str(rank_tree.range_start(t))))
        return max(ahead, 0) + 1, members  # separate reads: a concurrent move may skew them by one
    a, b, c = rank_tree.path(xp)
    b_counts = store.counts(guild_id, B, (a,))
    ahead = rank_tree.above(a_counts, a) + rank_tree.above(b_counts, b)
    in_thousand = b_counts.get(b, 0)
    if in_thousand <= 1:
        return ahead + 1, members  # alone in its thousand
    # The members of my thousand ahead of me: those of the buckets above mine (C) and those of my bucket
    # with a higher score (one index range); or, in a thin thousand, the whole thousand's range at once.
    thousand_top = xp - xp % rank_tree.THOUSAND + rank_tree.THOUSAND - 1
    bucket_top = rank_tree.bucket_top(xp)
    in_bucket = bands.up_to(xp, bucket_top)
    in_thousand_bands = bands.up_to(xp, thousand_top)
    if in_thousand <= COUNT_THOUSAND_UP_TO and len(in_thousand_bands) <= len(in_bucket):
        return ahead + _count_scores(guild_id, in_thousand_bands, mine, keys.score(thousand_top, "0")) + 1, members
    c_counts = store.counts(guild_id, C, (a, b))
    ahead += rank_tree.above(c_counts, c)
    if c_counts.get(c, 0) > 1:
        ahead += _count_scores(guild_id, in_bucket, mine, keys.score(bucket_top, "0"))
    return ahead + 1, members


class _Seen:
    """The counters a page read on its way (A; B and C of the parents it walked), which also say where the
    next members down are: a page that runs past the end of its band skips the bands they show empty."""

    def __init__(self, a_counts: Mapping[int, int]) -> None:
        self.a = dict(a_counts)
        self.b: dict[int, dict[int, int]] = {}
        self.c: dict[tuple[int, int], dict[int, int]] = {}

    def counts(self, guild_id: str, level: str, parent: tuple[int, ...]) -> dict[int, int]:
        found = store.counts(guild_id, level, parent)
        if level == B:
            self.b[parent[0]] = found
        elif level == C:
            self.c[(parent[0], parent[1])] = found
        return found

    def next_band(self, guild_id: str, xp: int, curve: Curve) -> int | None:
        """The band of the highest counted member below `xp` (None: the counters show nobody below), from
        the counters read so far, reading B or C counters only where a bucket spans two bands. With nothing
        counted yet (a new guild, the stream a moment behind) the band just below: the index decides."""
        highest = xp - 1
        if highest < 0:
            return None
        if not any(n > 0 for n in self.a.values()):
            return _band(curve, highest)
        a = highest // rank_tree.MILLION
        if self.a.get(a, 0) > 0:
            found = self._in_million(guild_id, curve, a, highest)
            if found is not None:
                return found
        lower = [k for k, n in self.a.items() if n > 0 and k < a]
        if not lower:
            return None
        a = max(lower)
        return self._in_million(guild_id, curve, a, (a + 1) * rank_tree.MILLION - 1)

    def _in_million(self, guild_id: str, curve: Curve, a: int, highest: int) -> int | None:
        """The band of the highest member of million `a` at `highest` XP or below (None: nobody there)."""
        base = a * rank_tree.MILLION
        if highest == base + rank_tree.MILLION - 1 and _band(curve, base) == _band(curve, highest):
            return _band(curve, highest)  # a whole million with members, all in one band
        b_counts = self.b[a] if a in self.b else self.counts(guild_id, B, (a,))
        b = (highest // rank_tree.THOUSAND) % 1000
        if b_counts.get(b, 0) > 0:
            found = self._in_thousand(guild_id, curve, (a, b), highest)
            if found is not None:
                return found
        lower = [k for k, n in b_counts.items() if n > 0 and k < b]
        if not lower:
            return None
        b = max(lower)
        return self._in_thousand(guild_id, curve, (a, b), base + b * rank_tree.THOUSAND + rank_tree.THOUSAND - 1)

    def _in_thousand(self, guild_id: str, curve: Curve, parent: tuple[int, int], highest: int) -> int | None:
        """The band of the highest member of this thousand at `highest` XP or below (None: nobody there).
        Without its C counters at hand, when the thousand spans at most two bands, the band of `highest`
        itself: reading C would cost the request that reading that band costs, and the band read is needed
        anyway when it holds members (when it does not, the next band down is read: bands follow each other
        in XP order). A thousand over more bands (a flat curve) has its C counters read."""
        base = parent[0] * rank_tree.MILLION + parent[1] * rank_tree.THOUSAND
        if parent not in self.c and _band(curve, highest) - _band(curve, base) <= 1:
            return _band(curve, highest)
        c_counts = self.c[parent] if parent in self.c else self.counts(guild_id, C, parent)
        present = [k for k, n in c_counts.items() if n > 0 and base + k <= highest]
        if not present:
            return None
        # the band of the highest XP a member of that bucket may be at: a bucket of a hundred may span two
        # bands (the upper one empty below `highest`: read, found empty, the next one down follows)
        return _band(curve, min(highest, rank_tree.bucket_top(base + max(present))))


def _band(curve: Curve, xp: int) -> int:
    return keys.band(curve.level(xp), curve.banded)


def _read(
    guild_id: str, curve: Curve, seen: _Seen, *, band: int, start_score: int, wanted: int, settled: bool
) -> list[dict[str, Any]]:
    """Up to `wanted` index entries in leaderboard order from `start_score` in `band` down: the rest of that
    band, then the next band down the counters show members in, and so on (one Query per band read).
    Unless `settled` (a recalculation pending: stored levels, so bands, may follow a previous curve or band
    layout, and bands are then not in XP order), every band of the fine layout is read from `start_score`
    and merged (members may still sit in any of them during a switch of layouts, either way)."""
    if not settled:
        return _read_every_band(guild_id, start_score, wanted)
    found = store.scores_from(guild_id, band, start_score, wanted)
    while len(found) < wanted and band > 0:
        below = seen.next_band(guild_id, curve.total_xp_for_level(keys.BAND_LEVELS[band]), curve)
        if below is None:
            break
        band = min(band - 1, below)
        found += store.scores_from(guild_id, band, keys.SCORE_CEILING, wanted - len(found))
    return found


def _read_every_band(guild_id: str, start_score: int, wanted: int) -> list[dict[str, Any]]:
    """The first `wanted` index entries from `start_score` down over every band, in score order: one Query
    per band of the fine layout (keys.BANDS, whatever the guild's layout), only while a recalculation is
    pending."""
    found: list[dict[str, Any]] = []
    for band in range(keys.BANDS - 1, -1, -1):
        found += store.scores_from(guild_id, band, start_score, wanted)
    found.sort(key=lambda item: int(item["score"]), reverse=True)
    return found[:wanted]


def page(guild_id: str, offset: int, limit: int, curve: Curve, *, settled: bool = True) -> Page:
    """The members at positions offset .. offset+limit-1 (0-based) in leaderboard order. `curve`: the
    guild's, which says which band the located start is in; `settled`: whether stored levels follow it
    (curves.levels_settled)."""
    seen = _Seen(store.counts(guild_id, A))
    members = sum(seen.a.values())
    start = _locate(guild_id, seen, offset)
    if start is None:
        return Page([], members)
    band = _band(curve, start.xp)
    start_score = keys.score(start.xp, str(start.from_user_id))
    found = _read(guild_id, curve, seen, band=band, start_score=start_score, wanted=start.skip + limit, settled=settled)
    return Page(found[start.skip :], members)


def top(guild_id: str, limit: int, curve: Curve, skip: int = 0, *, settled: bool = True) -> Page:
    """Members skip+1 .. skip+limit read from the top of the index: the A counters (the total, and the top
    million of XP), the B (and C) counters under it only when that million (thousand) spans two bands, then
    one index Query from the top of the top member's band (more only when the read runs past it), paying
    RCU for the `skip` entries read past, so only worth it near the top. Within the bands read the index is
    the truth: a member the counters have not caught up with yet is listed there, and the total is then at
    least what was read."""
    seen = _Seen(store.counts(guild_id, A))
    members = sum(seen.a.values())
    if skip >= members:
        # past the end as counted, or nobody counted yet (a guild's first members are listed once the rank
        # index counts them, about a second after their write: which band to read comes from the counters)
        return Page([], members)
    band = seen.next_band(guild_id, keys.SCORE_CEILING // keys.SCORE_XP_UNIT, curve) if curve.banded else 0
    if band is None:
        band = keys.BANDS - 1  # counters caught between two updates: from the highest band down
    found = _read(
        guild_id, curve, seen, band=band, start_score=keys.SCORE_CEILING, wanted=skip + limit, settled=settled
    )[skip:]
    return Page(found, max(members, skip + len(found)) if found else members)


def _locate(guild_id: str, seen: _Seen, offset: int) -> rank_tree.Start | None:
    found = rank_tree.pick(seen.a, offset, descending=True)
    if found is None:
        return None
    a, left = found
    # Counters are separate items updated one by one: a reader between two updates of one batch may find a
    # level holding a member fewer than its parent said; clamping keeps the walk on the nearest member.
    b_pick = rank_tree.pick_clamped(seen.counts(guild_id, B, (a,)), left, descending=True)
    if b_pick is None:
        return None
    b, left = b_pick
    c_pick = rank_tree.pick_clamped(seen.counts(guild_id, C, (a, b)), left, descending=True)
    if c_pick is None:
        return None
    c, left = c_pick
    xp = a * rank_tree.MILLION + b * rank_tree.THOUSAND + c  # the bottom of the bucket
    if xp >= rank_tree.TIED_BELOW:  # read the index from the top of the bucket, past `left` of its members
        return rank_tree.Start(rank_tree.bucket_top(xp), 0, left)
    t_pick = rank_tree.pick_clamped(store.counts(guild_id, T, (xp,)), left, descending=False)
    if t_pick is None:
        return None
    t, left = t_pick
    return rank_tree.Start(xp, rank_tree.range_start(t), left)


def top_of_levels(guild_id: str, levels: Iterable[int], limit: int, fine: bool) -> list[dict[str, Any]]:
    """The first `limit` members from the bands of these levels (the levels members are at, e.g. from the
    stats' level histogram) in the guild's band layout (`fine`), highest band first: one Query when the
    highest band holds them (always, on the single band)."""
    found: list[dict[str, Any]] = []
    for band in sorted({keys.band(level, fine) for level in levels}, reverse=True):
        found += store.scores_from(guild_id, band, keys.SCORE_CEILING, limit - len(found))
        if len(found) >= limit:
            break
    return found


# ---------------------------------------------------------------- the rank index function


def _position(image: Mapping[str, Any] | None) -> Position | None:
    if not image or "xp" not in image or not str(image.get("SK", "")).startswith(keys.MEMBER_PREFIX):
        return None
    return int(image["xp"]), str(image.get("userId") or keys.user_id_from_member_sk(str(image["SK"])))


def apply_records(
    records: Iterable[tuple[str, Mapping[str, Any] | None, Mapping[str, Any] | None]],
    outcomes: dict[str, str] | None = None,
    *,
    deadline: int | None = None,
) -> int:
    """(sequence number, old image, new image) of member items, in stream order -> one plan per guild (per
    PLAN_MEMBERS members) moving each member from where it is counted to its last new position, each change
    applied once whatever the redeliveries (store.rank_counters). Returns how many members moved in the
    counters. `outcomes`, when given, gets each record's (by sequence number): its member's move in this
    batch: `applied`, `no-move` (nothing leaves its bucket), `duplicate` (applied by an earlier delivery:
    refused by the sequence number), `skipped` (not a member). `deadline` (epoch ms, xpshop.clock): when the
    caller is stopped (the function's remaining time); short of time for a plan, Unavailable before it is
    taken, never midway (store.rank_counters)."""
    moves: dict[tuple[str, str], list[Any]] = {}
    of_member: dict[tuple[str, str], list[str]] = {}
    for seq, old, new in records:
        before, after = _position(old), _position(new)
        image = new or old or {}
        if not str(image.get("SK", "")).startswith(keys.MEMBER_PREFIX):
            if outcomes is not None:
                outcomes[seq] = "skipped"
            continue
        guild_id = str(image.get("guildId") or keys.guild_id_from_pk(str(image["PK"])))
        user_id = str(image.get("userId") or keys.user_id_from_member_sk(str(image["SK"])))
        of_member.setdefault((guild_id, user_id), []).append(seq)
        found = moves.get((guild_id, user_id))
        if found is None:
            moves[(guild_id, user_id)] = [before, after, seq]
        else:  # a later record of the same member in this batch: keep the first old, take the last new
            found[1], found[2] = after, seq
    by_guild: dict[str, dict[str, tuple[Position | None, str]]] = {}
    for (guild_id, user_id), (before, after, seq) in moves.items():
        if rank_tree.canonical(before) == rank_tree.canonical(after):
            continue  # XP inside one bucket, messages counted without XP, stats fields: no counter moves
        by_guild.setdefault(guild_id, {})[user_id] = (after, seq)
    moved = {
        (guild_id, user)
        for guild_id, changes in by_guild.items()
        for user in store.apply(guild_id, changes, deadline=deadline)
    }
    if outcomes is not None:
        for (guild_id, user_id), seqs in of_member.items():
            planned = user_id in by_guild.get(guild_id, {})
            outcome = "no-move" if not planned else "applied" if (guild_id, user_id) in moved else "duplicate"
            outcomes.update(dict.fromkeys(seqs, outcome))
    return len(moved)


def repair(guild_id: str, members: Iterable[Position]) -> int:
    """Members whose counted position differs from their XP (never counted, or a change lost) are moved."""
    return store.repair(guild_id, members)


def forget(guild_id: str, user_id: str) -> bool:
    """Take a forgotten member out of the rank counters now; whether they were counted."""
    return store.forget(guild_id, user_id)


def import_members(guild_id: str, members: Iterable[Position]) -> None:
    """Counters for a guild loaded in bulk with nothing else writing (the bench)."""
    store.import_members(guild_id, members)
