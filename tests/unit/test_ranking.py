"""The rank counter algorithm (xpshop.rank_tree + service.ranks) against a brute-force oracle, with an
in-memory store behind it: many more and larger guilds than DynamoDB Local can take in a unit test. The
store keeps the leaderboard index as DynamoDB does: one partition per band of level (store.keys.band), in
score order within it, for both band layouts (a guild on its single band, one on the fine bands)."""

from __future__ import annotations

from collections import Counter as Multiset
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xpshop import rank_tree
from xpshop.levels import Curve
from xpshop.service import ranks as service
from xpshop.store import keys

# with a bucket's edges (1099/1100) and the default curve's level 6 (band 1 of the fine layout) at 2,105 XP,
# inside the bucket 2100-2199
EDGE_XP = [0, 1, 999, 1000, 1001, 1099, 1100, 2100, 2104, 2105, 2199, 999_999, 1_000_000, 1_000_001, 7_654_321]
xp_values = st.one_of(
    st.sampled_from(EDGE_XP),
    st.integers(1, 30),
    st.integers(0, 3000),
    st.integers(2080, 2220),  # crowds in the buckets around a band edge
    st.integers(0, 10**15 - 1),
)
user_ids = st.one_of(
    st.integers(10**16, 2**64 - 1),
    st.integers(0, 10**14).map(lambda n: 1_234_000_000_000_000_000 + n),  # one 0-XP tie range
).map(str)


# the default curve; a flat one (a level per 10 XP: a page crosses many bands); one with a level per 30 XP
# (a band per 60 XP from 1,000 on: one bucket of a hundred spans up to three bands); a steep one (few
# levels); each on the fine bands (a guild past keys.FINE_BANDS_FROM members) and on its single band
FINE_CURVES = [
    Curve(banded=True),
    Curve(0, 0, 10, banded=True),
    Curve(0, 0, 30, banded=True),
    Curve(50, 500, 1000, banded=True),
]
CURVES = [*FINE_CURVES, *(replace(c, banded=False) for c in FINE_CURVES)]
FINE = FINE_CURVES[0]


class MemoryStore:
    """store.rank_counters' reads over a dict of members and the counters the deltas produced."""

    def __init__(self, curve: Curve = FINE) -> None:
        self.curve = curve
        self.members: dict[str, int] = {}
        self.counters: Multiset[rank_tree.Counter] = Multiset()
        self.queries: list[int] = []  # bands read by scores_from

    def level(self, user: str) -> int:
        return self.curve.level(self.members[user])

    def band(self, user: str) -> int:
        return keys.band(self.level(user), self.curve.banded)

    def move(self, user: str, xp: int | None) -> None:
        old = (self.members[user], user) if user in self.members else None
        new = (xp, user) if xp is not None else None
        for counter, delta in rank_tree.deltas([(old, new)]).items():
            self.counters[counter] += delta
        if xp is None:
            self.members.pop(user, None)
        else:
            self.members[user] = xp

    def counts(self, guild_id: str, level: str, parent: tuple[int, ...] = ()) -> dict[int, int]:
        return {c.key: n for c, n in self.counters.items() if c.level == level and c.parent == parent and n}

    def _scores(self, band: int) -> list[tuple[int, str]]:
        in_band = ((keys.score(xp, u), u) for u, xp in self.members.items() if self.band(u) == band)
        return sorted(in_band, reverse=True)

    def count_scores(self, guild_id: str, band: int, low_exclusive: int, high_inclusive: int) -> int:
        return sum(1 for score, _ in self._scores(band) if low_exclusive < score <= high_inclusive)

    def scores_from(self, guild_id: str, band: int, start_score: int, wanted: int) -> list[dict]:
        self.queries.append(band)
        below = [{"userId": u, "xp": self.members[u]} for score, u in self._scores(band) if score <= start_score]
        return below[:wanted]


@pytest.fixture
def memory(monkeypatch: pytest.MonkeyPatch) -> MemoryStore:
    store = MemoryStore()
    for name in ("counts", "count_scores", "scores_from"):
        monkeypatch.setattr(service.store, name, getattr(store, name))
    return store


def _order(members: dict[str, int]) -> list[str]:
    return sorted(members, key=lambda u: (-members[u], int(u)))


def _check(memory: MemoryStore) -> None:
    order = _order(memory.members)
    curve = memory.curve
    for position, user in enumerate(order, start=1):
        assert service.rank("g", user, memory.members[user], memory.level(user), curve) == (
            position,
            len(order),
        )
    for offset in [*range(0, min(len(order), 40) + 2), len(order) - 1, len(order), len(order) + 5]:
        for limit in (1, 7, 30):
            memory.queries.clear()
            page = service.page("g", offset, limit, curve)
            wanted = order[max(offset, 0) : offset + limit]
            assert [e["userId"] for e in page.items] == wanted
            assert page.total == len(order)
            _reads_only_bands_it_lists(memory, wanted)
        for limit in (1, 30):
            memory.queries.clear()
            top = service.top("g", limit, curve, skip=offset)
            assert [e["userId"] for e in top.items] == order[offset : offset + limit]
            assert top.total == len(order)
            if offset < len(order):  # top reads past the first `offset` members: their bands count
                _reads_only_bands_it_lists(memory, order[: offset + limit])


def _reads_only_bands_it_lists(memory: MemoryStore, listed: list[str]) -> None:
    """A page Queries the bands its members are in, and an empty band on the way down only where a thousand
    of XP whose C counters it has not read spans two bands (at most one per band listed), or where a bucket
    of a hundred XP it lists spans bands (its members' exact XP is not counted: the bands above them in the
    bucket may be read empty)."""
    bands = {memory.band(u) for u in listed}
    curve = memory.curve
    buckets = {rank_tree.counted(memory.members[u]) for u in listed}
    spanned = sum(
        keys.band(curve.level(rank_tree.bucket_top(x)), curve.banded) - keys.band(curve.level(x), curve.banded)
        for x in buckets
    )
    assert len(memory.queries) <= 2 * max(len(bands), 1) + spanned, (memory.queries, sorted(bands))
    if not memory.curve.banded:  # one band: one index Query, as before the bands
        assert memory.queries == ([0] if listed else []), memory.queries


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    members=st.dictionaries(user_ids, xp_values, min_size=1, max_size=120),
    moves=st.lists(st.tuples(st.integers(0, 119), st.one_of(st.none(), xp_values)), max_size=40),
    curve=st.sampled_from(CURVES),
)
def test_ranks_and_pages_match_the_oracle(memory_factory, members, moves, curve):
    memory = memory_factory(curve)
    for user, xp in members.items():
        memory.move(user, xp)
    _check(memory)
    users = list(members)
    for index, xp in moves:
        memory.move(users[index % len(users)], xp)
    if memory.members:
        _check(memory)


@pytest.fixture
def memory_factory(monkeypatch: pytest.MonkeyPatch):  # a fresh store per hypothesis example (made in it)
    def make(curve: Curve = FINE) -> MemoryStore:
        store = MemoryStore(curve)
        for name in ("counts", "count_scores", "scores_from"):
            monkeypatch.setattr(service.store, name, getattr(store, name))
        return store

    return make


def test_a_large_zero_xp_crowd_and_deep_pages(memory):
    for i in range(5000):
        memory.move(str(1_100_000_000_000_000_000 + i * 104_729_000_000), 0 if i % 3 else i)
    order = _order(memory.members)
    for offset in (0, 1666, 1667, 2500, 4990):
        page = service.page("g", offset, 10, FINE)
        assert [e["userId"] for e in page.items] == order[offset : offset + 10]
    for user in order[::499]:
        assert service.rank("g", user, memory.members[user], memory.level(user), FINE)[0] == order.index(user) + 1


def test_a_crowd_at_one_message_worth_of_xp_stays_within_the_request_bound(memory, monkeypatch):
    """Tens of thousands at 15-25 XP (one message each): ranks and pages inside the crowd read at most
    four things (counters and one bounded COUNT or index read), plus the member's GetItem = 5 requests."""
    for i in range(6000):
        # ids over ~40 tie ranges, XP 15-25 like a single message, a few regulars above
        memory.move(str(1_000_000_000_000_000_000 + i * 7_000_000_000_000), 15 + i % 11 if i % 50 else 5000 + i)
    order = _order(memory.members)
    reads: list[str] = []
    for name in ("counts", "count_scores", "scores_from"):
        real = getattr(service.store, name)
        monkeypatch.setattr(service.store, name, lambda *a, _r=real, _n=name, **k: reads.append(_n) or _r(*a, **k))
    for user in order[::97]:
        reads.clear()
        assert service.rank("g", user, memory.members[user], memory.level(user), FINE)[0] == order.index(user) + 1
        assert len(reads) <= 4
    for offset in (0, 119, 120, 700, 3001, 5990):
        reads.clear()
        page = service.page("g", offset, 10, FINE)
        assert [e["userId"] for e in page.items] == order[offset : offset + 10]
        bands = {memory.band(e["userId"]) for e in page.items}
        assert len(reads) <= 4 + len(bands)  # A, B, C, T, then the index from that point (a Query per band)
    # within one exact XP and one tie range the COUNT covers only that range's members
    counted = [c for c in memory.counters if c.level == "T" and c.parent == (20,)]
    assert len(counted) > 1


def test_deltas_leave_out_what_did_not_move():
    assert rank_tree.deltas([((500, "1"), (500, "1"))]) == {}
    moved = rank_tree.deltas([((500, "1"), (520, "1"))])
    assert moved == {
        rank_tree.Counter("C", (0, 0), 500): -1,
        rank_tree.Counter("C", (0, 0), 520): 1,
        rank_tree.Counter("T", (500,), 0): -1,
        rank_tree.Counter("T", (520,), 0): 1,
    }
    # from 1000 XP on, no tie counters and a C item per hundred: a move inside a hundred moves nothing,
    # one out of it is two C items
    assert rank_tree.deltas([((1500, "1"), (1520, "1"))]) == {}
    assert rank_tree.deltas([((1500, "1"), (1599, "1"))]) == {}
    assert rank_tree.deltas([((1580, "1"), (1600, "1"))]) == {
        rank_tree.Counter("C", (0, 1), 500): -1,
        rank_tree.Counter("C", (0, 1), 600): 1,
    }
    assert set(rank_tree.deltas([((1999, "1"), (2000, "1"))])) == {
        rank_tree.Counter("B", (0,), 1),
        rank_tree.Counter("B", (0,), 2),
        rank_tree.Counter("C", (0, 1), 900),
        rank_tree.Counter("C", (0, 2), 0),
    }
    crossing = rank_tree.deltas([((999_999, "1"), (1_000_000, "1"))])
    assert {c.level for c in crossing} == {"A", "B", "C"}
    leaving_zero = rank_tree.deltas([((0, "5"), (20, "5"))])
    assert leaving_zero[rank_tree.Counter("T", (0,), 0)] == -1
    assert leaving_zero[rank_tree.Counter("T", (20,), 0)] == 1
    leaving_low = rank_tree.deltas([((999, "5"), (1000, "5"))])
    assert leaving_low[rank_tree.Counter("T", (999,), 0)] == -1
    assert not any(c.level == "T" and d > 0 for c, d in leaving_low.items())


def test_pick_and_clamp():
    counts = {5: 2, 3: 0, 1: 4}
    assert rank_tree.pick(counts, 0, descending=True) == (5, 0)
    assert rank_tree.pick(counts, 2, descending=True) == (1, 0)
    assert rank_tree.pick(counts, 6, descending=True) is None
    assert rank_tree.pick_clamped(counts, 60, descending=True) == (1, 3)
    assert rank_tree.pick_clamped({}, 0, descending=True) is None


def test_members_are_counted_at_their_exact_xp_below_1000_and_their_hundred_above():
    assert [rank_tree.counted(x) for x in (0, 1, 25, 999)] == [0, 1, 25, 999]
    assert [rank_tree.counted(x) for x in (1000, 1099, 1100, 2105, 999_999, 1_000_050)] == [
        1000,
        1000,
        1100,
        2100,
        999_900,
        1_000_000,
    ]
    assert [rank_tree.bucket_top(x) for x in (0, 999, 1000, 1099, 1100, 2105)] == [0, 999, 1099, 1099, 1199, 2199]
    assert rank_tree.path(2_345_678) == (2, 345, 600)
    assert rank_tree.path(678) == (0, 0, 678)
    assert rank_tree.canonical((1234, "7")) == (1200, "7") and rank_tree.canonical(None) is None
    # every XP of a bucket is counted in the same counters; the next bucket in others
    for low in (1000, 2100, 999_900, 1_000_000, 123_456_700):
        same = {tuple(rank_tree.counters(x, "5")) for x in range(low, low + 100)}
        assert len(same) == 1
        assert tuple(rank_tree.counters(low + 100, "5")) not in same


def test_crossings_at_999_to_1000_and_at_every_hundred_move_the_counters():
    crossing = rank_tree.deltas([((999, "5"), (1000, "5"))])
    assert crossing == {
        rank_tree.Counter("B", (0,), 0): -1,
        rank_tree.Counter("C", (0, 0), 999): -1,
        rank_tree.Counter("T", (999,), 0): -1,
        rank_tree.Counter("B", (0,), 1): 1,
        rank_tree.Counter("C", (0, 1), 0): 1,
    }
    assert rank_tree.deltas([((1000, "5"), (999, "5"))]) == {c: -d for c, d in crossing.items()}
    for low in range(1000, 5000, 100):
        assert rank_tree.deltas([((low - 1, "5"), (low, "5"))]), low
        assert not rank_tree.deltas([((low, "5"), (low + 99, "5"))]), low
    # a batch of moves nets out per counter: into a bucket and back out is nothing
    assert rank_tree.deltas([((1150, "5"), (1250, "5")), ((1260, "5"), (1199, "5"))]) == {}


def test_many_members_in_one_bucket_across_a_band_edge(memory, monkeypatch):
    """The bucket 2100-2199 holds the default curve's level 6 (band 1 of the fine bands) from 2,105 XP: ranks
    and pages inside it count and read both bands, and stay within the request bound."""
    users = [str(1_300_000_000_000_000_000 + i * 3_000_000_000_000) for i in range(240)]
    for i, user in enumerate(users):  # ~2 per XP value, ties included, on both sides of 2,105
        memory.move(user, 2100 + (i * 7) % 100)
    for i in range(30):  # others above and below
        memory.move(str(1_400_000_000_000_000_000 + i), 2300 + 37 * i if i % 2 else 1900 + i)
    order = _order(memory.members)
    assert {memory.band(u) for u in users} == {0, 1}
    reads: list[str] = []
    for name in ("counts", "count_scores", "scores_from"):
        real = getattr(service.store, name)
        monkeypatch.setattr(service.store, name, lambda *a, _r=real, _n=name, **k: reads.append(_n) or _r(*a, **k))
    for user in order:
        reads.clear()
        assert service.rank("g", user, memory.members[user], memory.level(user), FINE) == (
            order.index(user) + 1,
            len(order),
        )
        assert len(reads) <= 5  # A, B, C, a COUNT in each of the two bands
    for offset in range(0, len(order) + 1, 9):
        reads.clear()
        page = service.page("g", offset, 10, FINE)
        assert [e["userId"] for e in page.items] == order[offset : offset + 10], offset
        assert len(reads) <= 3 + 3  # A, B, C, then at most both bands of the bucket and the next one down
