"""The leaderboard index partitioned by band of level (LeaderboardBands, store/keys.py): pages that span
bands, offsets and ties at band edges, hidden members, moves between bands, the export across bands, and
the backfill of `board` for members written before the bands (the recalculation), on DynamoDB Local. Every
test runs for both band layouts: a guild on its single band (every guild below keys.FINE_BANDS_FROM
members) and one switched to the fine bands."""

from __future__ import annotations

import json

import pytest

from tests.support.board import Page, set_profile
from tests.support.storage import guild_curve, recorded_calls, spread_bands


@pytest.fixture(params=[False, True], ids=["single-band", "fine-bands"])
def band_guild(guild, request):
    """A fresh guild on its single band, or switched to the fine bands before anything is written."""
    if request.param:
        spread_bands(guild)
    return guild


def _oracle(members: dict[str, int]) -> list[str]:
    return sorted(members, key=lambda u: (-members[u], int(u)))


def _edge_xp() -> list[int]:
    """XP just below, at and above where each of the first bands starts (default curve), and far above."""
    from xpshop.levels import DEFAULT_CURVE
    from xpshop.store import keys

    found = [0, 1, 20]
    for level in keys.BAND_LEVELS[1:5]:
        start = DEFAULT_CURVE.total_xp_for_level(level)
        found += [start - 1, start, start + 1]
    return [*found, DEFAULT_CURVE.total_xp_for_level(keys.BAND_LEVELS[-1]) + 5]


def _guild_at_band_edges(api, guild: str, first_user: int) -> dict[str, int]:
    """Three members (a tie) at every edge XP: ties at a band's first XP and its last."""
    members: dict[str, int] = {}
    for n, xp in enumerate(_edge_xp()):
        for k in range(3):
            user = str(first_user + n * 7 + (2 - k) * 1_000_000)  # ids not in XP order
            members[user] = xp
            assert api.put(f"/api/xp/users/{guild}/{user}", {"xp": xp}).status == 200
    return members


def _check(api, guild: str, members: dict[str, int], limits: tuple[int, ...] = (1, 4, 10)) -> None:
    order = _oracle(members)
    for position, user in enumerate(order, start=1):
        assert api.get(f"/api/xp/leaderboard/{guild}/{user}").data == {"rank": position, "total": len(order)}, user
    for limit in limits:
        for offset in range(0, len(order) + 2):
            page = api.get(f"/api/xp/leaderboard/{guild}?offset={offset}&limit={limit}").data
            assert [e["userId"] for e in page["entries"]] == order[offset : offset + limit], (offset, limit)
            assert page["total"] == len(order)
    listed = api.get(f"/api/xp/users/{guild}?offset=0&limit=100").data
    assert [u["userId"] for u in listed["users"]] == order[:100]


def test_pages_and_ranks_across_band_edges_match_the_oracle(api, band_guild):
    from xpshop.levels import DEFAULT_CURVE
    from xpshop.store import keys
    from xpshop.store.table import plain, table

    guild, fine = band_guild, guild_curve(band_guild).banded
    members = _guild_at_band_edges(api, guild, 610_000_000_000_000_000)
    bands = {keys.band(DEFAULT_CURVE.level(xp), fine) for xp in members.values()}
    # fine: the guild spans bands, most pages of 10 cross at least one edge; single: all in band 0
    assert len(bands) >= 5 if fine else bands == {0}
    _check(api, guild, members)
    for user, xp in members.items():  # each member's entry is in the band of its level
        item = plain(table().get_item(Key=keys.member(guild, user))["Item"])
        assert item["board"] == keys.board(guild, keys.band(DEFAULT_CURVE.level(xp), fine)), (user, xp)


def test_a_page_reads_one_index_query_per_band_it_lists(api, band_guild, monkeypatch):
    """Located through the counters, a page at any offset is A, B, C (T below 1,000 XP) and one index Query
    per band its members are in, and of the bands above its first member inside its hundred of XP (from
    1,000 XP on, where the counters do not say where inside it members are): no other band is read.
    Jumping from one million (or thousand) of XP to a lower one may read that one's B (C) counters first:
    one request more. On the single band: exactly one index Query after the counters, as before the bands."""
    from tests.integration.test_ranking import _get
    from xpshop import rank_tree
    from xpshop.levels import DEFAULT_CURVE
    from xpshop.store import keys, rank_counters

    guild, fine = band_guild, guild_curve(band_guild).banded
    members = _guild_at_band_edges(api, guild, 620_000_000_000_000_000)
    order = _oracle(members)
    api.before_read()
    read: list[int] = []
    real = rank_counters.scores_from
    monkeypatch.setattr(rank_counters, "scores_from", lambda g, band, *a: read.append(band) or real(g, band, *a))
    for offset in range(0, len(order), 3):
        read.clear()
        with recorded_calls() as calls:
            got = api.api.handle(_get(f"/api/xp/leaderboard/{guild}?offset={offset}&limit=5", api.admin_key))
        listed = json.loads(got.body)["data"]["entries"]
        assert [e["userId"] for e in listed] == order[offset : offset + 5]
        bands = {keys.band(DEFAULT_CURVE.level(e["xp"]), fine) for e in listed}
        # from 1000 XP on a page starts at the top of its first member's hundred: where that hundred spans
        # a band edge (2100-2199: level 6 from 2,105), the upper band's part of it is read past
        first = listed[0]["xp"]
        low, high = (keys.band(DEFAULT_CURVE.level(x), fine) for x in (first, rank_tree.bucket_top(first)))
        above = set(range(low + 1, high + 1))
        assert sorted(read, reverse=True) == read and bands <= set(read) <= bands | above, (offset, read, bands)
        counters = 4 if first < 1000 else 3  # A, B, C (and T)
        if fine:
            assert calls["Query"] <= counters + len(bands) + len(above) + 1, (offset, calls, bands)
        else:  # the counters that locate the page (T only below 1,000 XP), one index Query
            assert read == [0] and calls["Query"] == counters + 1, (offset, calls)


def test_moves_between_bands_keep_pages_exact(api, band_guild):
    from xpshop.levels import DEFAULT_CURVE
    from xpshop.store import keys

    guild = band_guild
    members = _guild_at_band_edges(api, guild, 630_000_000_000_000_000)
    users = list(members)
    high = DEFAULT_CURVE.total_xp_for_level(keys.BAND_LEVELS[3])
    # up across several bands (an award crossing levels), down to 0 (a removal), set into the middle
    assert api.post(f"/api/xp/users/{guild}/{users[0]}", {"amount": high}).status == 200
    members[users[0]] += high
    assert api.delete(f"/api/xp/users/{guild}/{users[-1]}", {"amount": members[users[-1]]}).status == 200
    members[users[-1]] = 0
    assert api.put(f"/api/xp/users/{guild}/{users[5]}", {"xp": high}).status == 200
    members[users[5]] = high  # now tied with the members at that band's first XP
    _check(api, guild, members, limits=(3, 10))


def test_hidden_members_keep_their_place_on_the_web_board_across_bands(api, band_guild):
    guild = band_guild
    members = _guild_at_band_edges(api, guild, 640_000_000_000_000_000)
    order = _oracle(members)
    assert api.put(f"/api/xp/config/{guild}", {"leaderboard": {"public": True}}).status == 200
    hidden = {order[2], order[len(order) // 2], order[-1]}
    for user in hidden:
        set_profile(guild, user, display_name="Secret", hidden=True)
    for n, user in enumerate(order):
        if user not in hidden:
            set_profile(guild, user, display_name=f"P{n:03d}")
    api.before_read()
    r = api.get(f"/leaderboard/{guild}", key=None)
    rows = Page(r.body).rows
    assert [row["rank"] for row in rows] == [str(n) for n in range(1, len(order) + 1)]
    for n, (row, user) in enumerate(zip(rows, order, strict=True)):
        assert row["name"] == ("Hidden member" if user in hidden else f"P{n:03d}")
    for user in hidden:
        assert user not in r.body


def test_the_export_walks_every_band_in_order(api, band_guild):
    guild = band_guild
    members = _guild_at_band_edges(api, guild, 650_000_000_000_000_000)
    order = _oracle(members)
    seen: list[str] = []
    cursor = None
    while True:
        path = f"/api/xp/export/{guild}?format=json&limit=4" + (f"&cursor={cursor}" if cursor else "")
        part = api.get(path).data
        seen += [m["id"] for m in part["members"]]
        cursor = part.get("next")
        if not cursor:
            break
    assert seen == order


def test_the_recalculation_backfills_board_for_members_written_before_the_bands(api, guild, monkeypatch):
    """Members written by a release without `board` are in no index partition: the first recalculation of
    a release with a newer BOARD_LAYOUT marks every guild and writes `board` for each (members.relevel_seen),
    after which pages and ranks are whole again. Levels, XP and the rank counters are left as they were."""
    from xpshop.service import recalc
    from xpshop.store import keys
    from xpshop.store import recalc as recalc_store
    from xpshop.store.table import table

    members = _guild_at_band_edges(api, guild, 660_000_000_000_000_000)
    api.before_read()
    for user in members:  # as the release before the bands wrote them
        table().update_item(Key=keys.member(guild, user), UpdateExpression="REMOVE board")
    assert api.get(f"/api/xp/leaderboard/{guild}?limit=100").data["entries"] == []
    table().put_item(Item={**keys.board_layout_record(), "layout": keys.BOARD_LAYOUT})
    monkeypatch.setattr(recalc, "_all_guilds", lambda after=None: [guild])  # the shared table holds others
    monkeypatch.setattr(recalc, "_settled", lambda marked_at: True)
    monkeypatch.setattr(keys, "BOARD_LAYOUT", keys.BOARD_LAYOUT + 1)  # upgraded

    report = recalc.run(lambda: 1e9)  # the schedule's run: no guild asked for
    assert [g["guildId"] for g in report["guilds"]] == [guild]
    assert report["guilds"][0]["releveled"] == 0  # no level changed: only `board` was written
    assert recalc_store.layout_recorded(keys.board_layout_record()) == keys.BOARD_LAYOUT
    assert recalc_store.marker(None) is None
    _check(api, guild, members, limits=(10,))
    again = recalc.run(lambda: 1e9)  # not repeated
    assert guild not in [g["guildId"] for g in again["guilds"]]


def test_pages_stay_whole_after_a_curve_change_until_the_recalculation(api, band_guild):
    """A curve change leaves stored levels (and so `board`) on the old curve until the recalculation job
    runs (up to RecalcSchedule later): bands no longer follow XP by the new curve, so pages must not skip
    members nor list them out of order meanwhile (found by the black-box probe: 1 of 3 members listed)."""
    guild = band_guild
    members = {"670000000000000001": 100, "670000000000000002": 4950, "670000000000000003": 20_000}
    for user, xp in members.items():
        assert api.put(f"/api/xp/users/{guild}/{user}", {"xp": xp}).status == 200
    steep = {"curve": {"a": 100, "b": 1000, "c": 10_000}, "leaderboard": {"public": True}}
    assert api.put(f"/api/xp/config/{guild}", steep).status == 200
    _check(api, guild, members, limits=(1, 2, 10))
    api.before_read()
    rows = Page(api.get(f"/leaderboard/{guild}", key=None).body).rows
    assert [row["rank"] for row in rows] == ["1", "2", "3"]
    # a member written with the new curve (a lower band) while the others are still on the old one
    assert api.post(f"/api/xp/users/{guild}/670000000000000001", {"amount": 30_000}).status == 200
    members["670000000000000001"] += 30_000
    # a tie between a member on the old curve's band and one written on the new curve's (the smaller id first)
    assert api.put(f"/api/xp/users/{guild}/670000000000000000", {"xp": 4950}).status == 200
    members["670000000000000000"] = 4950
    _check(api, guild, members, limits=(1, 2, 10))
    top = api.get(f"/api/xp/stats/{guild}").data["users"]["topUser"]
    assert top["userId"] == _oracle(members)[0] and top["xp"] == 30_100, top


def _exported(api, guild: str, limit: int) -> list[str]:
    seen: list[str] = []
    cursor = None
    while True:
        path = f"/api/xp/export/{guild}?format=json&limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        part = api.get(path).data
        seen += [m["id"] for m in part["members"]]
        cursor = part.get("next")
        if not cursor:
            return seen


def test_the_export_stays_in_order_after_a_curve_change_until_the_recalculation(api, band_guild):
    """The export is in leaderboard order while stored levels (and so bands) still follow the old curve, as
    pages are (found by the black-box probe: after a curve change, members written on the new curve's bands
    were exported after lower members still on the old one's; 22 inversions in a guild of 16,000)."""
    from xpshop.service import recalc

    guild = band_guild
    members = {"671000000000000001": 100, "671000000000000002": 4950, "671000000000000003": 20_000}
    for user, xp in members.items():
        assert api.put(f"/api/xp/users/{guild}/{user}", {"xp": xp}).status == 200
    assert api.put(f"/api/xp/config/{guild}", {"curve": {"a": 100, "b": 1000, "c": 10_000}}).status == 200
    # written on the new curve (a lower band) while the others are still on the old one, and a tie across them
    assert api.post(f"/api/xp/users/{guild}/671000000000000001", {"amount": 30_000}).status == 200
    members["671000000000000001"] += 30_000
    assert api.put(f"/api/xp/users/{guild}/671000000000000000", {"xp": 4950}).status == 200
    members["671000000000000000"] = 4950
    for limit in (1, 2, 10):
        assert _exported(api, guild, limit) == _oracle(members), limit
    # a cursor issued meanwhile still resumes in order once the recalculation has run
    first = api.get(f"/api/xp/export/{guild}?format=json&limit=1").data
    recalc.run(lambda: 1e9, [guild])
    rest = api.get(f"/api/xp/export/{guild}?format=json&limit=10&cursor={first['next']}").data
    assert [m["id"] for m in first["members"] + rest["members"]] == _oracle(members)


@pytest.mark.parametrize("thin_thousand", [100, 0], ids=["count-the-thousand", "count-the-bucket"])
def test_one_hundred_of_xp_across_a_band_edge(api, band_guild, monkeypatch, thin_thousand):
    """From 1000 XP on members are counted per hundred of XP; 2100-2199 holds the default curve's level 6
    (band 1 of the fine bands) from 2,105: ranks count the members ahead inside the hundred in both bands,
    pages skip into it across both, and an award inside it (over the band edge) moves no counter."""
    from xpshop.levels import DEFAULT_CURVE
    from xpshop.service import ranks
    from xpshop.store import keys
    from xpshop.store import rank_counters as counters

    monkeypatch.setattr(ranks, "COUNT_THOUSAND_UP_TO", thin_thousand)
    guild, fine = band_guild, guild_curve(band_guild).banded
    members = {str(640_000_000_000_000_000 + i * 7_777_777): 2100 + (i * 13) % 100 for i in range(24)}
    members |= {str(640_000_000_000_000_000 + 99 - i): xp for i, xp in enumerate([2104, 2104, 2105, 2105])}  # ties
    members |= {str(641_000_000_000_000_000 + i): xp for i, xp in enumerate([2099, 2200, 2050, 3000, 40])}
    for user, xp in members.items():
        assert api.put(f"/api/xp/users/{guild}/{user}", {"xp": xp}).status == 200
    bands = {keys.band(DEFAULT_CURVE.level(xp), fine) for xp in members.values() if 2100 <= xp < 2200}
    assert bands == ({0, 1} if fine else {0})
    _check(api, guild, members, limits=(1, 5))
    before = counters.counts(guild, "C", (0, 2))
    assert before[100] == 28
    mover = next(u for u, xp in members.items() if xp == 2100)
    assert api.post(f"/api/xp/users/{guild}/{mover}", {"amount": 90}).status == 200  # 2100 -> 2190: band 1
    members[mover] = 2190
    _check(api, guild, members, limits=(5,))
    assert counters.counts(guild, "C", (0, 2)) == before
