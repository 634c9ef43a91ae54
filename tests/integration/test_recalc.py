"""The recalculation job on DynamoDB Local: curve changes, resumable runs, idempotence, live traffic."""

from __future__ import annotations

import threading

import pytest

from tests.support.storage import half_up, member_item, new_user_id, recorded_calls


@pytest.fixture(autouse=True)
def settled_at_once(monkeypatch):
    """Markers normally stay until every container's cached curve has expired (30 s); not in these tests."""
    from xpshop.service import curves

    monkeypatch.setattr(curves, "CACHE_SECONDS", -10.0)


def forever() -> float:
    return 1e9


def seed(api, guild: str, count: int, base: int) -> list[str]:
    users = [str(base + i) for i in range(count)]
    for i, user in enumerate(users):
        api.put(f"/api/xp/users/{guild}/{user}", {"xp": 37 * i * i % 20_000})
    return users


def assert_in_line(guild: str, users: list[str], curve) -> None:
    from xpshop.store import keys

    for user in users:
        item = member_item(guild, user)
        p = curve.progress(item["xp"])
        assert (item["level"], item["inLevel"], item["toNext"]) == (p.level, p.in_level, p.to_next), user
        assert item["score"] == keys.score(item["xp"], user)


def test_curve_change_then_recalc_brings_levels_in_line(api, guild):
    from xpshop.levels import Curve

    users = seed(api, guild, 40, 810000000000000000)
    steep = {"a": 20, "b": 100, "c": 300}
    api.put(f"/api/xp/config/{guild}", {"curve": steep})
    top = max(users, key=lambda u: member_item(guild, u)["xp"])
    # reads already follow the new curve, before any recalculation
    shown = api.get(f"/api/xp/users/{guild}/{top}").data
    assert shown["user"]["level"] == Curve(**steep).level(shown["user"]["xp"])
    from xpshop.service import recalc

    report = recalc.run(forever)
    mine = next(g for g in report["guilds"] if g["guildId"] == guild)
    assert mine["done"] is True
    assert mine["members"] == 40
    assert mine["releveled"] > 0
    assert_in_line(guild, users, Curve(**steep))
    stats = api.get(f"/api/xp/stats/{guild}").data
    assert stats["users"]["total"] == 40
    expected_levels = [Curve(**steep).level(member_item(guild, u)["xp"]) for u in users]
    assert sum(stats["levels"]["distribution"].values()) == 40
    assert stats["levels"]["average"] == half_up(sum(expected_levels), 40)


def test_a_second_run_writes_nothing(api, guild):
    from xpshop.service import recalc

    seed(api, guild, 10, 820000000000000000)
    api.put(f"/api/xp/config/{guild}", {"curve": {"a": 7}})
    recalc.run(forever)
    with recorded_calls() as calls:
        report = recalc.run(forever)
    assert guild not in [g["guildId"] for g in report["guilds"]]
    assert not {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems"} & set(calls)
    with recorded_calls() as calls:  # even when asked for explicitly, an in-line guild is only read
        report = recalc.run(forever, [guild])
    assert report["guilds"][0]["releveled"] == 0
    assert report["guilds"][0]["countersRewritten"] == 0
    assert not {"PutItem", "UpdateItem", "TransactWriteItems"} & set(calls)


def test_interrupted_and_resumed_equals_one_run(api, guild, monkeypatch):
    from xpshop.levels import Curve
    from xpshop.service import recalc
    from xpshop.store import recalc as recalc_store

    monkeypatch.setattr(recalc_store, "PAGE_SIZE", 7)
    users = seed(api, guild, 30, 830000000000000000)
    api.put(f"/api/xp/config/{guild}", {"curve": {"a": 9, "b": 10, "c": 50}})
    pages_allowed = iter([10.0, 10.0, 0.0])  # two pages, then "out of time"
    first = recalc.run(lambda: next(pages_allowed, 0.0), [guild])
    assert first["guilds"][0]["done"] is False
    assert recalc_store.load_progress(guild) is not None
    second = recalc.run(forever, [guild])
    assert second["guilds"][0] == {**second["guilds"][0], "done": True, "resumed": True, "members": 30}
    assert recalc_store.load_progress(guild) is None
    assert_in_line(guild, users, Curve(a=9, b=10, c=50))
    stats = api.get(f"/api/xp/stats/{guild}").data
    assert stats["users"]["total"] == 30
    assert stats["xp"]["total"] == sum(member_item(guild, u)["xp"] for u in users)


def test_awards_during_a_run_are_not_lost(api, guild, parallel):
    from xpshop.levels import Curve
    from xpshop.service import recalc

    users = seed(api, guild, 60, 840000000000000000)
    api.put(f"/api/xp/config/{guild}", {"curve": {"a": 3, "b": 20, "c": 80}})
    before = {u: member_item(guild, u)["xp"] for u in users}
    awarded = {user: 11 + i for i, user in enumerate(users[::3])}

    def award() -> None:  # from worker processes (this thread only waits for them), while the job runs here
        requests = [
            ("POST", f"/api/xp/users/{guild}/{user}", {"amount": amount}, None) for user, amount in awarded.items()
        ]
        assert all(status == 200 for status, _ in parallel.run(requests))

    worker = threading.Thread(target=award)
    worker.start()
    recalc.run(forever, [guild])
    worker.join()
    for user in users:
        assert member_item(guild, user)["xp"] == before[user] + awarded.get(user, 0)
    recalc.run(forever, [guild])
    assert_in_line(guild, users, Curve(a=3, b=20, c=80))


def test_global_curve_change_marks_every_guild(api_own_table):
    from xpshop.levels import Curve
    from xpshop.service import recalc

    api = api_own_table  # a table of its own: the run visits every guild, and the global config is shared
    guilds = [str(870000000000000000 + g) for g in range(3)]
    users = {}
    for n, guild in enumerate(guilds):
        assert api.put(f"/api/xp/guilds/{guild}").status == 201
        users[guild] = seed(api, guild, 3, 850000000000000000 + 10 * n)
    api.put("/api/xp/config/global", {"curve": {"c": 120}})
    report = recalc.run(forever)
    assert sorted(g["guildId"] for g in report["guilds"]) == guilds
    assert report["complete"] is True
    assert recalc.run(forever)["guilds"] == []
    for guild in guilds:
        assert_in_line(guild, users[guild], Curve(c=120))


def test_recalc_endpoints(api, guild):
    seed(api, guild, 5, 860000000000000000)
    r = api.post(f"/api/xp/recalc/{guild}")
    assert r.status == 200
    assert r.data["guilds"][0]["guildId"] == guild
    assert r.data["guilds"][0]["done"] is True
    assert api.post("/api/xp/recalc/999999999999999999").error["code"] == "GUILD_NOT_FOUND"
    assert api.post(f"/api/xp/recalc/{guild}", key=None).status == 401


def test_the_global_recalc_endpoint_visits_every_guild(api_own_table):
    """On a table of its own: a global run over the session's table visits every guild earlier tests made and
    may stop at its time budget (complete: false) on a slow machine."""
    guilds = []
    for n in range(2):
        guild = f"86100000000000000{n}"
        assert api_own_table.put(f"/api/xp/guilds/{guild}").status == 201
        seed(api_own_table, guild, 3, 861000000000000000 + 100 * n)
        guilds.append(guild)
    done = api_own_table.post("/api/xp/recalc").data
    assert done["complete"] is True
    assert sorted(g["guildId"] for g in done["guilds"]) == guilds


def test_expired_coupons_are_deactivated(api):
    from xpshop.service import recalc

    code = f"EXP{new_user_id()[-6:]}"
    api.post("/api/v1/coupons/create", {"code": code, "credit_grant": 1, "expires": 1000})
    report = recalc.run(forever, [])
    assert report["couponsDeactivated"] >= 1
    listed = {c["code"]: c for c in api.get("/api/v1/coupons/list").body}
    assert listed[code]["active"] is False


def test_curve_validation(api, guild):
    for bad in ({"a": 0}, {"b": -1}, {"c": 0}, {"a": 1000}, {"a": "5"}, {"d": 1}):
        r = api.put(f"/api/xp/config/{guild}", {"curve": bad})
        assert (r.status, r.error["code"]) == (400, "INVALID_CONFIG"), bad


def test_counters_stay_exact_with_awards_while_paused(api, guild, monkeypatch):
    from xpshop.service import recalc
    from xpshop.store import recalc as recalc_store

    monkeypatch.setattr(recalc_store, "PAGE_SIZE", 5)
    users = seed(api, guild, 12, 870000000000000000)
    api.put(f"/api/xp/config/{guild}", {"curve": {"a": 9}})
    budget = iter([10.0, 10.0, 0.0])
    assert recalc.run(lambda: next(budget, 0.0), [guild])["guilds"][0]["done"] is False
    assert api.post(f"/api/xp/users/{guild}/{users[0]}", {"amount": 500}).status == 200  # already summed
    assert api.post(f"/api/xp/users/{guild}/869999999999999999", {"amount": 50}).status == 200  # a newcomer
    recalc.run(forever, [guild])
    stats = api.get(f"/api/xp/stats/{guild}").data
    everyone = [*users, "869999999999999999"]
    assert stats["users"]["total"] == 13
    assert stats["xp"]["total"] == sum(member_item(guild, u)["xp"] for u in everyone)


def test_counter_drift_is_repaired_when_quiet(api, guild):
    from xpshop.service import recalc
    from xpshop.store import stats

    users = seed(api, guild, 6, 875000000000000000)
    from xpshop.store.members import Change

    stats.apply(guild, users[0], Change(False, 0, 999, 0, 0))  # a lost or doubled delta
    assert api.get(f"/api/xp/stats/{guild}").data["xp"]["total"] != sum(member_item(guild, u)["xp"] for u in users)
    report = recalc.run(forever, [guild])
    assert report["guilds"][0]["countersRewritten"] >= 1
    assert api.get(f"/api/xp/stats/{guild}").data["xp"]["total"] == sum(member_item(guild, u)["xp"] for u in users)


def test_a_second_curve_change_while_paused_restarts_the_pass(api, guild, monkeypatch):
    from xpshop.levels import Curve
    from xpshop.service import recalc
    from xpshop.store import recalc as recalc_store

    monkeypatch.setattr(recalc_store, "PAGE_SIZE", 5)
    users = seed(api, guild, 12, 872000000000000000)
    api.put(f"/api/xp/config/{guild}", {"curve": {"a": 9}})
    budget = iter([10.0, 0.0])
    recalc.run(lambda: next(budget, 0.0), [guild])
    api.put(f"/api/xp/config/{guild}", {"curve": {"a": 40, "b": 200, "c": 400}})
    recalc.run(forever)
    assert_in_line(guild, users, Curve(a=40, b=200, c=400))


def test_a_global_pass_longer_than_one_run_finishes(api, monkeypatch):
    from tests.support.storage import new_guild_id
    from xpshop.service import recalc
    from xpshop.store import recalc as recalc_store

    monkeypatch.setattr(recalc_store, "PAGE_SIZE", 2)
    guilds = []
    for g in range(3):
        gid = new_guild_id()
        assert api.put(f"/api/xp/guilds/{gid}").status == 201
        seed(api, gid, 6, 876000000000000000 + g * 100)
        guilds.append(gid)
    monkeypatch.setattr(recalc, "_all_guilds", lambda after=None: [g for g in guilds if after is None or g > after])
    recalc_store.mark(None, "test")

    def pages(n: int):
        calls = {"n": 0}

        def left() -> float:
            calls["n"] += 1
            return 10.0 if calls["n"] <= n else 0.0

        return left

    for _ in range(10):
        if recalc.run(pages(5))["complete"]:
            break
    else:
        pytest.fail("the global pass never completed")
    assert recalc_store.marker(None) is None


def test_two_overlapping_runs_count_each_level_change_once(api, guild, monkeypatch):
    """The schedule and an on-demand run (or two clicks) on the same guild at once: both read a member at its
    old level; the second write must not count the level change again in the guild's level statistics
    (the shards then differ from their rebuild, but both runs see the other's writes and leave the deltas)."""
    from collections import Counter

    from xpshop.levels import Curve
    from xpshop.service import recalc
    from xpshop.store import members

    users = seed(api, guild, 12, 850000000000000000)
    steep = {"a": 20, "b": 100, "c": 300}
    api.put(f"/api/xp/config/{guild}", {"curve": steep})
    relevel_seen = members.relevel_seen
    other_run: list[dict] = []
    started: list[bool] = []

    def overlapped(guild_id, seen, curve):
        if not started:  # the other run goes right after this one read its first page
            started.append(True)
            other_run.append(recalc.recalc_guild(guild_id, forever))
        return relevel_seen(guild_id, seen, curve)

    monkeypatch.setattr(recalc.members, "relevel_seen", overlapped)
    recalc.recalc_guild(guild, forever)
    assert other_run and other_run[0]["releveled"] > 0
    assert_in_line(guild, users, Curve(**steep))
    levels = [Curve(**steep).level(member_item(guild, u)["xp"]) for u in users]
    stats = api.get(f"/api/xp/stats/{guild}").data
    assert stats["levels"]["average"] == half_up(sum(levels), len(levels))
    assert {int(k): v for k, v in stats["levels"]["distribution"].items() if v} == dict(Counter(levels))


def test_a_rebuild_beside_live_traffic_rewrites_every_shard_or_none(api, guild, monkeypatch):
    """A batch's counter deltas sit on one shard (an import's on its first row's member, a stream batch's on
    its first change's): if live traffic reaches that shard during a pass, rewriting only the others (where
    the batch's members belong) counts those members twice until the next quiet pass."""
    from xpshop.service import recalc

    users = [str(881000000000000000 + i) for i in range(3)]  # three members, three shards
    rows = [{"id": u, "xp": 100 * (i + 1), "messages": 5} for i, u in enumerate(users)]
    assert api.post(f"/api/xp/import/{guild}?mode=add", rows).status == 200  # summed onto users[0]'s shard
    write_shards = recalc.recalc.write_shards
    traffic: list[int] = []

    def traffic_first(*args, **kwargs):
        if not traffic:  # an award to users[0] lands on its shard (from the stream) before the rewrite
            traffic.append(api.post(f"/api/xp/users/{guild}/{users[0]}", {"amount": 7}).status)
            api.get(f"/api/xp/stats/{guild}")  # the stream delivered
        return write_shards(*args, **kwargs)

    monkeypatch.setattr(recalc.recalc, "write_shards", traffic_first)
    recalc.recalc_guild(guild, forever)
    assert traffic == [200]
    stats = api.get(f"/api/xp/stats/{guild}").data
    assert stats["users"]["total"] == 3
    assert stats["xp"]["total"] == sum(member_item(guild, u)["xp"] for u in users) == 607
    assert stats["messages"]["total"] == 15


def test_asking_again_resumes_a_paused_on_demand_pass(api, guild, monkeypatch):
    """`POST /api/xp/recalc/{guildId}` answers `done: false` when the guild does not fit in the call's time; asking
    again continues that pass from its checkpoint (`resumed: true`, members counted across both calls) instead of
    starting over, which never finished a guild too big to be read in one call."""
    from xpshop.levels import Curve
    from xpshop.service import recalc
    from xpshop.store import recalc as recalc_store

    monkeypatch.setattr(recalc_store, "PAGE_SIZE", 5)
    users = seed(api, guild, 12, 877000000000000000)
    api.put(f"/api/xp/config/{guild}", {"curve": {"a": 11, "b": 30, "c": 60}})
    run = recalc.run

    def one_page_per_call(time_left, guild_ids=None):
        budget = iter([10.0])  # time for the guild's first page; out of time after it
        return run(lambda: next(budget, 0.0), guild_ids)

    monkeypatch.setattr(recalc, "run", one_page_per_call)
    first = api.post(f"/api/xp/recalc/{guild}").data["guilds"][0]
    assert (first["members"], first["done"], first["resumed"]) == (5, False, False)
    second = api.post(f"/api/xp/recalc/{guild}").data["guilds"][0]
    assert (second["members"], second["done"], second["resumed"]) == (10, False, True)
    third = api.post(f"/api/xp/recalc/{guild}").data["guilds"][0]
    assert (third["members"], third["done"], third["resumed"]) == (12, True, True)
    assert first["releveled"] <= second["releveled"] <= third["releveled"]
    assert recalc_store.load_progress(guild) is None
    assert_in_line(guild, users, Curve(a=11, b=30, c=60))


def test_asking_again_resumes_a_paused_global_pass(api, monkeypatch):
    """The same for `POST /api/xp/recalc`: a second call goes on from the guild the first stopped in."""
    from tests.support.storage import new_guild_id
    from xpshop.service import recalc
    from xpshop.store import recalc as recalc_store

    monkeypatch.setattr(recalc_store, "PAGE_SIZE", 4)
    guilds = []
    for g in range(2):
        gid = new_guild_id()
        assert api.put(f"/api/xp/guilds/{gid}").status == 201
        seed(api, gid, 6, 878000000000000000 + g * 100)
        guilds.append(gid)
    guilds.sort()
    monkeypatch.setattr(recalc, "_all_guilds", lambda after=None: [g for g in guilds if after is None or g > after])
    run = recalc.run

    def one_page_per_call(time_left, guild_ids=None):
        budget = iter([10.0])
        return run(lambda: next(budget, 0.0), guild_ids)

    monkeypatch.setattr(recalc, "run", one_page_per_call)
    reports = [api.post("/api/xp/recalc").data for _ in range(4)]
    assert [(r["guilds"][0]["guildId"], r["guilds"][0]["members"], r["guilds"][0]["done"]) for r in reports] == [
        (guilds[0], 4, False),
        (guilds[0], 6, True),
        (guilds[1], 4, False),
        (guilds[1], 6, True),
    ]
    assert recalc_store.marker(None) is None
