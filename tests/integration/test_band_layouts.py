"""A guild's leaderboard band layout (store.keys.SINGLE_BAND / FINE_BANDS) on DynamoDB Local: what marks a
guild that outgrew its single band (service.bands), the recalculation's one-way switch and the move of every
member's `board` (service.recalc), pages and ranks before, during (with concurrent awards) and after it."""

from __future__ import annotations

import threading

import pytest

from tests.integration.test_leaderboard_bands import _check, _guild_at_band_edges, _oracle
from tests.support.storage import guild_curve, member_item, recorded_calls, spread_bands


@pytest.fixture(autouse=True)
def settled_at_once(monkeypatch):
    """Markers normally stay until every container's cached curve has expired (30 s); not in these tests."""
    from xpshop.service import bands, curves

    monkeypatch.setattr(curves, "CACHE_SECONDS", -10.0)
    bands.forget()
    yield
    bands.forget()


def forever() -> float:
    return 1e9


def _boards(guild: str, members: dict[str, int]) -> dict[str, str]:
    return {user: member_item(guild, user)["board"] for user in members}


def _expected_boards(guild: str, members: dict[str, int], fine: bool) -> dict[str, str]:
    from xpshop.levels import DEFAULT_CURVE
    from xpshop.store import keys

    return {user: keys.board_of(guild, DEFAULT_CURVE.level(xp), fine) for user, xp in members.items()}


def _layout_item(guild: str) -> dict | None:
    from xpshop.store import keys
    from xpshop.store.table import plain, table

    item = table().get_item(Key=keys.guild_config(guild), ConsistentRead=True).get("Item")
    return plain(item) if item else None


def test_a_guild_is_switched_once_when_its_stats_pass_the_threshold(api, guild, monkeypatch):
    from xpshop.service import recalc
    from xpshop.store import config, keys, stats
    from xpshop.store import recalc as recalc_store

    members = _guild_at_band_edges(api, guild, 710_000_000_000_000_000)
    api.before_read()  # the stream: rank counters and stats
    assert stats.read(guild).members == len(members)
    assert _boards(guild, members) == _expected_boards(guild, members, False)  # a new guild: one band
    assert not guild_curve(guild).banded

    monkeypatch.setattr(keys, "FINE_BANDS_FROM", len(members) + 1)  # one member short
    recalc_store.mark(guild, "requested")
    assert recalc.run(forever, [guild])["guilds"][0]["done"]
    assert _layout_item(guild) is None and not guild_curve(guild).banded
    assert _boards(guild, members) == _expected_boards(guild, members, False)
    assert recalc_store.marker(guild) is None

    monkeypatch.setattr(keys, "FINE_BANDS_FROM", len(members))
    recalc_store.mark(guild, "requested")
    report = recalc.run(forever, [guild])["guilds"][0]
    assert report["done"] and report["releveled"] == 0  # no level changed: only `board` was written
    assert config.fine_bands(_layout_item(guild)) and guild_curve(guild).banded
    assert _boards(guild, members) == _expected_boards(guild, members, True)
    assert recalc_store.marker(guild)["reason"] == "board-bands"  # one more pass once every writer has it
    _check(api, guild, members, limits=(1, 10))

    items = {user: member_item(guild, user) for user in members}
    with recorded_calls() as calls:
        again = recalc.run(forever, [guild])["guilds"][0]
    assert again["done"] and again["releveled"] == 0
    assert {user: member_item(guild, user) for user in members} == items  # nothing rewritten
    assert calls["UpdateItem"] == 0 and calls["TransactWriteItems"] == 0, calls
    assert recalc_store.marker(guild) is None
    assert config.spread_bands(guild) is False  # one-way, once
    # the config's own versioning is untouched by the layout beside it
    assert api.put(f"/api/xp/config/{guild}", {"leaderboard": {"public": True}}).status == 200
    assert api.get(f"/api/xp/config/{guild}").status == 200
    assert config.fine_bands(_layout_item(guild)) and "bands" not in str(config.read(guild)[0])
    _check(api, guild, members, limits=(10,))


def test_pages_and_ranks_during_the_switch_with_concurrent_awards_then_exact(api, guild, monkeypatch, parallel):
    """A switch paused half-way (members not moved yet sit in band 0) with awards arriving from other
    processes (whose cached layout may still be the single band): every read answers, lists each member at
    most once, and once the passes are done every page and rank is exact again."""
    from xpshop.levels import DEFAULT_CURVE
    from xpshop.service import recalc
    from xpshop.store import keys
    from xpshop.store import recalc as recalc_store

    members = _guild_at_band_edges(api, guild, 720_000_000_000_000_000)
    api.before_read()
    monkeypatch.setattr(keys, "FINE_BANDS_FROM", len(members))
    monkeypatch.setattr(recalc_store, "PAGE_SIZE", 7)
    recalc_store.mark(guild, "requested")
    pages_allowed = iter([10.0, 10.0, 0.0])  # two pages, then "out of time"
    first = recalc.run(lambda: next(pages_allowed, 0.0), [guild])["guilds"][0]
    assert first["done"] is False and guild_curve(guild).banded
    boards = _boards(guild, members)
    assert boards != _expected_boards(guild, members, True)  # some moved, some not yet
    assert any(b != keys.board(guild, 0) for b in boards.values())

    total = len(members)
    for offset in range(0, total + 2, 5):  # during: every read answers, nobody listed twice
        r = api.get(f"/api/xp/leaderboard/{guild}?offset={offset}&limit=10")
        assert r.status == 200 and r.data["total"] == total
        listed = [e["userId"] for e in r.data["entries"]]
        assert len(listed) == len(set(listed)) and set(listed) <= set(members)
    whole = api.get(f"/api/xp/leaderboard/{guild}?offset=0&limit=100").data["entries"]
    assert len({e["userId"] for e in whole}) == len(whole)
    for user in list(members)[::4]:
        r = api.get(f"/api/xp/leaderboard/{guild}/{user}")
        assert r.status == 200 and 1 <= r.data["rank"] <= total
    assert api.get(f"/api/xp/stats/{guild}").status == 200
    assert api.put(f"/api/xp/config/{guild}", {"leaderboard": {"public": True}}).status == 200
    assert api.get(f"/leaderboard/{guild}", key=None).status == 200
    assert api.get(f"/api/xp/export/{guild}?format=json").status == 200

    high = DEFAULT_CURVE.total_xp_for_level(keys.BAND_LEVELS[6])
    awarded = {user: high + i for i, user in enumerate(list(members)[::3])}  # across several bands

    def award() -> None:  # from worker processes, while the rest of the switch runs here
        requests = [("POST", f"/api/xp/users/{guild}/{u}", {"amount": n}, None) for u, n in awarded.items()]
        assert all(status == 200 for status, _ in parallel.run(requests))

    worker = threading.Thread(target=award)
    worker.start()
    recalc.run(forever, [guild])  # the rest of the paused pass
    worker.join()
    members = {user: xp + awarded.get(user, 0) for user, xp in members.items()}
    assert {user: member_item(guild, user)["xp"] for user in members} == members  # no award lost
    recalc.run(forever, [guild])  # the pass the switch asked for (every writer now on the fine bands)
    assert recalc_store.marker(guild) is None
    assert _boards(guild, members) == _expected_boards(guild, members, True)
    assert [e["userId"] for e in api.get(f"/api/xp/leaderboard/{guild}?limit=100").data["entries"]] == _oracle(members)
    _check(api, guild, members, limits=(1, 10))


def test_a_stats_write_counting_new_members_marks_a_guild_that_outgrew_its_band(api, guild, monkeypatch):
    """The message consumer's stats write hands back the members its shard counts (no request of its own):
    shard x STATS_SHARDS at FINE_BANDS_FROM marks the guild for the recalculation, once, never over a marker
    already set (a pass under way keeps its progress), and never a guild already on the fine bands."""
    from tests.support.storage import new_guild_id, new_user_id
    from xpshop.service import bands
    from xpshop.service.messages import Tally
    from xpshop.store import keys
    from xpshop.store import recalc as recalc_store
    from xpshop.store.members import Change

    monkeypatch.setattr(keys, "FINE_BANDS_FROM", 3 * keys.STATS_SHARDS)
    shard_user = new_user_id()

    def joined(guild_id: str, n: int) -> None:  # n new members counted on one shard in one batch
        tally = Tally()
        for _ in range(n):
            tally.add(guild_id, shard_user, Change(True, 0, 20, 0, 0), xp_message=True)
        with recorded_calls() as calls:
            tally.flush()
        assert calls["UpdateItem"] == 1, calls  # the stats write itself

    joined(guild, 2)
    assert recalc_store.marker(guild) is None  # 2 x 16 < 48
    joined(guild, 1)
    marker = recalc_store.marker(guild)
    assert marker is not None and marker["reason"] == "board-bands"
    assert guild in recalc_store.marked_guilds()
    bands.forget()  # another container: asks again, the marker stays as it was
    joined(guild, 1)
    assert recalc_store.marker(guild) == marker

    other = new_guild_id()
    assert api.put(f"/api/xp/guilds/{other}").status == 201
    spread_bands(other)
    joined(other, 5)
    assert recalc_store.marker(other) is None  # already on the fine bands


def test_members_added_through_the_api_mark_the_guild_from_the_stream(api, guild, monkeypatch):
    """API changes are counted by the stream (one transaction: nothing handed back), which reads the shard
    it counted new members on and, past the threshold, the guild's layout, and marks the guild once."""
    from tests.support.storage import new_guild_id
    from xpshop.store import keys
    from xpshop.store import recalc as recalc_store

    monkeypatch.setattr(keys, "FINE_BANDS_FROM", 3 * keys.STATS_SHARDS)
    users = [str(730_000_000_000_000_000 + keys.STATS_SHARDS * i) for i in range(4)]  # one stats shard
    for user in users[:2]:
        assert api.put(f"/api/xp/users/{guild}/{user}", {"xp": 50}).status == 200
    api.before_read()
    assert recalc_store.marker(guild) is None  # 2 x 16 < 48
    assert api.put(f"/api/xp/users/{guild}/{users[2]}", {"xp": 50}).status == 200
    api.before_read()
    marker = recalc_store.marker(guild)
    assert marker is not None and marker["reason"] == "board-bands"
    assert api.post(f"/api/xp/users/{guild}/{users[0]}", {"amount": 5}).status == 200  # no new member
    assert api.put(f"/api/xp/users/{guild}/{users[3]}", {"xp": 50}).status == 200
    api.before_read()
    assert recalc_store.marker(guild) == marker  # never over the marker set

    other = new_guild_id()
    assert api.put(f"/api/xp/guilds/{other}").status == 201
    spread_bands(other)
    for user in users:
        assert api.put(f"/api/xp/users/{other}/{user}", {"xp": 50}).status == 200
    api.before_read()
    assert recalc_store.marker(other) is None  # already on the fine bands


def test_the_upgrade_from_fine_bands_for_every_guild_moves_a_small_guild_back_to_one_band(api, guild, monkeypatch):
    """BOARD_LAYOUT 1 wrote every guild's members on the fine bands; the first run of a release with per-guild
    layouts marks every guild, and a small guild's pass writes its members back into band 0."""
    from xpshop.levels import DEFAULT_CURVE
    from xpshop.service import recalc
    from xpshop.store import keys
    from xpshop.store import recalc as recalc_store
    from xpshop.store.table import table

    members = _guild_at_band_edges(api, guild, 740_000_000_000_000_000)
    for user, xp in members.items():  # as the release with the fine bands for every guild wrote them
        board = keys.board_of(guild, DEFAULT_CURVE.level(xp), True)
        table().update_item(
            Key=keys.member(guild, user), UpdateExpression="SET board = :b", ExpressionAttributeValues={":b": board}
        )
    assert _boards(guild, members) == _expected_boards(guild, members, True)
    table().put_item(Item={**keys.board_layout_record(), "layout": keys.BOARD_LAYOUT - 1})
    monkeypatch.setattr(recalc, "_all_guilds", lambda after=None: [guild])  # the shared table holds others
    report = recalc.run(forever)  # the schedule's run after the deploy
    assert [g["guildId"] for g in report["guilds"]] == [guild] and report["complete"]
    assert recalc_store.layout_recorded(keys.board_layout_record()) == keys.BOARD_LAYOUT
    assert not guild_curve(guild).banded
    assert _boards(guild, members) == _expected_boards(guild, members, False)
    _check(api, guild, members, limits=(10,))


def test_an_export_resumed_across_the_switch_lists_everyone_once_in_order(api, guild, monkeypatch):
    from xpshop.service import exports, recalc
    from xpshop.store import keys
    from xpshop.store import recalc as recalc_store

    members = _guild_at_band_edges(api, guild, 720_000_000_000_000_000)
    api.before_read()
    expected = [user for user, _ in sorted(members.items(), key=lambda m: (-m[1], int(m[0])))]
    first, cursor = exports.export_part(guild, 3, None)  # on the single band
    assert cursor is not None and [m["id"] for m in first] == expected[:3]

    monkeypatch.setattr(keys, "FINE_BANDS_FROM", len(members))
    recalc_store.mark(guild, "requested")
    assert recalc.run(forever, [guild])["guilds"][0]["done"]
    assert guild_curve(guild).banded

    listed = [m["id"] for m in first]
    while cursor is not None:  # resumed in the fine bands from the single band's cursor
        part, cursor = exports.export_part(guild, 3, cursor)
        listed += [m["id"] for m in part]
    assert listed == expected
