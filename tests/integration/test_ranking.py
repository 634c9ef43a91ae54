"""Exact ranks and pages at any depth from the rank counters, on DynamoDB Local's real stream, against a
brute-force oracle (hypothesis): ties, members at 0 XP, XP around the thousand/million boundaries, moves
between counters, and redelivered or bisected stream batches."""

from __future__ import annotations

import collections
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.storage import new_guild_id

# with the edges of the first leaderboard bands (default curve: levels 6 and 9 start at 2,105 and 4,575 XP)
EDGE_XP = [0, 1, 5, 999, 1000, 1001, 1999, 2104, 2105, 4574, 4575, 999_999, 1_000_000, 1_000_001, 2_500_000]
xp_values = st.one_of(st.sampled_from(EDGE_XP), st.integers(0, 2500))
# user ids: some spread over the snowflake range, some packed into one 0-XP tie range (same id // 10^15)
user_ids = st.one_of(
    st.integers(10**16, 2**64 - 1),
    st.integers(0, 10**14).map(lambda n: 1_234_000_000_000_000_000 + n),
).map(str)


def _oracle(members: dict[str, int]) -> list[str]:
    return sorted(members, key=lambda u: (-members[u], int(u)))


def _check(api, guild: str, members: dict[str, int]) -> None:
    order = _oracle(members)
    for position, user in enumerate(order, start=1):
        got = api.get(f"/api/xp/leaderboard/{guild}/{user}").data
        assert got == {"rank": position, "total": len(order)}, (user, members[user], position, got)
    for limit in (1, 3, 10):
        for offset in range(0, len(order) + 2, max(1, limit - 1)):
            page = api.get(f"/api/xp/leaderboard/{guild}?offset={offset}&limit={limit}").data
            assert [e["userId"] for e in page["entries"]] == order[offset : offset + limit], (offset, limit)
            assert [e["rank"] for e in page["entries"]] == list(range(offset + 1, offset + 1 + len(page["entries"])))
            assert page["total"] == len(order)
    listed = api.get(f"/api/xp/users/{guild}?offset=0&limit=100").data
    assert [u["userId"] for u in listed["users"]] == order[:100]
    assert listed["pagination"]["total"] == len(order)


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    initial=st.dictionaries(user_ids, xp_values, min_size=1, max_size=30),
    moves=st.lists(st.tuples(st.integers(0, 29), xp_values), max_size=12),
)
def test_ranks_and_pages_match_the_oracle(api, initial, moves):
    guild = new_guild_id()
    assert api.put(f"/api/xp/guilds/{guild}").status == 201
    members = dict(initial)
    for user, xp in members.items():
        assert api.put(f"/api/xp/users/{guild}/{user}", {"xp": xp}).status == 200
    _check(api, guild, members)
    users = list(members)
    for index, xp in moves:  # moves between counters (and within one), then everything again
        user = users[index % len(users)]
        current = members[user]
        if xp >= current:
            assert api.post(f"/api/xp/users/{guild}/{user}", {"amount": xp - current}).status in (200, 400)
            members[user] = xp if xp > current else current
            if xp == current:
                continue
        else:
            assert api.delete(f"/api/xp/users/{guild}/{user}", {"amount": current - xp}).status == 200
            members[user] = xp
    _check(api, guild, members)


def test_a_redelivered_or_bisected_batch_counts_once(api, guild):
    """The rank index takes a batch's deltas once: a retry (whole, or in halves) changes nothing more."""
    from local.stream import StreamPoller

    poller: StreamPoller = api.before_read.__self__
    seen: list[dict] = []
    deliver = poller._invoke
    poller._invoke = lambda event: seen.append(event) or deliver(event)
    users = [str(300_000_000_000_000_000 + i) for i in range(6)]
    for n, user in enumerate(users):
        api.put(f"/api/xp/users/{guild}/{user}", {"xp": 100 * n})
    members = {u: 100 * n for n, u in enumerate(users)}
    _check(api, guild, members)
    for event in seen:  # the whole batch again, then each half, as a bisecting retry would
        records = event["Records"]
        deliver(event)
        deliver({"Records": records[: len(records) // 2]})
        deliver({"Records": records[len(records) // 2 :]})
    _check(api, guild, members)


def test_a_page_deep_in_a_big_zero_xp_crowd(api, guild):
    """Members at 0 XP rank by user id; their tie ranges keep deep pages and ranks exact."""
    from xpshop.levels import DEFAULT_CURVE
    from xpshop.store import members as store

    users = [str(1_234_000_000_000_000_000 + i * 7_919_000_000_000) for i in range(300)]  # ~3 per tie range
    for user in users:
        store.set_xp(guild, user, 0, DEFAULT_CURVE)
    top = str(999_999_999_999_999_999)
    store.set_xp(guild, top, 10, DEFAULT_CURVE)
    members = {**dict.fromkeys(users, 0), top: 10}
    order = _oracle(members)
    page = api.get(f"/api/xp/leaderboard/{guild}?offset=250&limit=10").data
    assert [e["userId"] for e in page["entries"]] == order[250:260]
    for user in (users[0], users[123], users[-1]):
        assert api.get(f"/api/xp/leaderboard/{guild}/{user}").data["rank"] == order.index(user) + 1


def test_requests_per_rank_and_page_do_not_grow_with_depth(api, guild):
    from tests.support.storage import recorded_calls
    from xpshop.levels import DEFAULT_CURVE
    from xpshop.store import members as store

    users = [str(400_000_000_000_000_000 + i) for i in range(400)]
    for n, user in enumerate(users):
        store.set_xp(guild, user, 5 + (n * 37) % 3000, DEFAULT_CURVE)
    api.rank_ready = api.before_read()
    for offset in (0, 200, 390):
        with recorded_calls() as calls:
            api.api.handle(_get(f"/api/xp/leaderboard/{guild}?offset={offset}&limit=10", api.admin_key))
        assert sum(calls.values()) <= 5, calls
    for user in (users[0], users[200], users[399]):
        with recorded_calls() as calls:
            api.api.handle(_get(f"/api/xp/leaderboard/{guild}/{user}", api.admin_key))
        assert sum(calls.values()) <= 5, calls


def test_a_crowd_at_one_message_worth_of_xp(api, guild):
    """Most members of a big guild sit at 15-25 XP (one message): ranks and pages inside that crowd are
    exact and stay within five requests, because each exact XP below 1000 has its own user-id ranges."""
    from tests.support.storage import recorded_calls
    from xpshop.levels import DEFAULT_CURVE
    from xpshop.store import members as store

    # 330 members over 11 XP values and ~30 tie ranges (several members per range and value), 10 regulars
    users = [str(1_100_000_000_000_000_000 + i * 91_000_000_000_000) for i in range(330)]
    members = {user: 15 + n % 11 for n, user in enumerate(users)}
    members |= {str(900_000_000_000_000_000 + n): 2000 + n for n in range(10)}
    for user, xp in members.items():
        store.set_xp(guild, user, xp, DEFAULT_CURVE)
    order = _oracle(members)
    api.rank_ready = api.before_read()
    for user in order[::7]:
        with recorded_calls() as calls:
            got = api.api.handle(_get(f"/api/xp/leaderboard/{guild}/{user}", api.admin_key))
        assert sum(calls.values()) <= 5, calls
        assert json.loads(got.body)["data"]["rank"] == order.index(user) + 1, (user, members[user])
    for offset in (0, 9, 10, 41, 170, 333, 339):
        with recorded_calls() as calls:
            got = api.api.handle(_get(f"/api/xp/leaderboard/{guild}?offset={offset}&limit=10", api.admin_key))
        assert sum(calls.values()) <= 5, calls
        assert [e["userId"] for e in json.loads(got.body)["data"]["entries"]] == order[offset : offset + 10], offset


def _get(path: str, key: str):
    from local.server import HttpRequest

    return HttpRequest(method="GET", target=path, headers=[("host", "t"), ("x-api-key", key)], body=b"")


def test_members_never_seen_by_the_rank_index_are_counted_by_the_recalculation(api, guild):
    """Members older than the rank index (or whose stream records were lost) are repaired by a recalc pass."""
    from xpshop.levels import DEFAULT_CURVE
    from xpshop.store import members as store

    users = [str(500_000_000_000_000_000 + i) for i in range(30)]
    for n, user in enumerate(users):
        store.set_xp(guild, user, (n * 97) % 700, DEFAULT_CURVE)
    api.before_read.__self__.start_from_now()  # their records are skipped: the counters know nothing
    assert api.get(f"/api/xp/leaderboard/{guild}").data["total"] == 0
    report = api.post(f"/api/xp/recalc/{guild}").data
    assert report["guilds"][0]["rankRepaired"] == 30
    _check(api, guild, {u: (n * 97) % 700 for n, u in enumerate(users)})
    assert api.post(f"/api/xp/recalc/{guild}").data["guilds"][0]["rankRepaired"] == 0  # nothing left to fix


def test_an_upgrade_to_a_new_counter_layout_is_backfilled_by_the_recalculation(api, guild, monkeypatch):
    """Counters of the previous layout are never mixed with the new one: the new layout starts empty, the
    stream counts changed members from nothing, and a recalc pass counts the rest exactly once."""
    from xpshop.store import keys

    users = [str(510_000_000_000_000_000 + i) for i in range(12)]
    monkeypatch.setattr(keys, "RANK_LAYOUT", keys.RANK_LAYOUT - 1)  # the deployment before the upgrade
    for n, user in enumerate(users):
        assert api.put(f"/api/xp/users/{guild}/{user}", {"xp": 10 * n}).status == 200
    assert api.get(f"/api/xp/leaderboard/{guild}").data["total"] == 12
    monkeypatch.undo()  # upgraded: nothing counted in the new layout yet
    assert api.get(f"/api/xp/leaderboard/{guild}").data["total"] == 0
    assert api.post(f"/api/xp/users/{guild}/{users[3]}", {"amount": 1000}).status == 200  # live traffic
    assert api.get(f"/api/xp/leaderboard/{guild}").data["total"] == 1
    assert api.post(f"/api/xp/recalc/{guild}").data["guilds"][0]["rankRepaired"] == 11
    members = {u: 10 * n for n, u in enumerate(users)} | {users[3]: 1030}
    _check(api, guild, members)


def test_a_repair_racing_records_in_flight_counts_each_member_once(api, guild):
    """The recalculation repairs a member while its stream records are still on their way."""
    from xpshop.levels import DEFAULT_CURVE
    from xpshop.service import ranks
    from xpshop.store import members as store

    user = str(600_000_000_000_000_001)
    store.set_xp(guild, user, 100, DEFAULT_CURVE)
    store.set_xp(guild, user, 250, DEFAULT_CURVE)
    ranks.repair(guild, [(250, user)])  # the repair got there first (records not delivered yet)
    _check(api, guild, {user: 250})  # now the two records arrive: the member is still counted once
    store.set_xp(guild, user, 30, DEFAULT_CURVE)
    _check(api, guild, {user: 30})


def test_batches_of_different_members_in_any_order(api, guild):
    """Records of different members may come from different stream shards, in any order between them."""
    from local.stream import StreamPoller

    poller: StreamPoller = api.before_read.__self__
    seen: list[dict] = []
    poller._invoke = seen.append  # hold the records back
    a, b = str(700_000_000_000_000_001), str(700_000_000_000_000_002)
    for xp in (10, 20, 30):
        api.put(f"/api/xp/users/{guild}/{a}", {"xp": xp})
        api.put(f"/api/xp/users/{guild}/{b}", {"xp": xp + 1000})
    poller.drain()
    records = [r for event in seen for r in event["Records"]]
    from local import REPO_ROOT
    from local.lambdas import invoke
    from local.template import functions, load_template

    spec = functions(load_template())["RankIndexFunction"]
    # all of b's records first, then a's; then everything again (redelivery)
    ordered = [r for r in records if b in str(r["dynamodb"]["Keys"])] + [
        r for r in records if a in str(r["dynamodb"]["Keys"])
    ]
    for record in ordered + records:
        invoke(REPO_ROOT, spec, {"Records": [record]})
    poller._invoke = lambda event: None
    _check(api, guild, {a: 30, b: 1030})


def test_a_deployment_with_a_new_layout_marks_every_guild_on_its_first_recalculation(api, guild, monkeypatch):
    """No one has to remember `POST /api/xp/recalc` after an upgrade: the first run (scheduled or on demand)
    sees that the table's counters were built in another layout, marks every guild, and backfills them."""
    from xpshop.service import recalc
    from xpshop.store import keys, table
    from xpshop.store import recalc as recalc_store

    users = [str(520_000_000_000_000_000 + i) for i in range(8)]
    monkeypatch.setattr(keys, "RANK_LAYOUT", keys.RANK_LAYOUT - 1)  # the deployment before the upgrade
    for n, user in enumerate(users):
        assert api.put(f"/api/xp/users/{guild}/{user}", {"xp": 3 * n}).status == 200
    assert api.get(f"/api/xp/leaderboard/{guild}").data["total"] == 8
    table.table().put_item(Item={**keys.rank_layout_record(), "layout": keys.RANK_LAYOUT})
    monkeypatch.setattr(recalc, "_all_guilds", lambda after=None: [guild])  # the shared table holds others
    monkeypatch.setattr(recalc, "_settled", lambda marked_at: True)
    monkeypatch.setattr(keys, "RANK_LAYOUT", keys.RANK_LAYOUT + 1)  # upgraded
    assert api.get(f"/api/xp/leaderboard/{guild}").data["total"] == 0

    report = recalc.run(lambda: 1e9)  # the schedule's run: no guild asked for
    assert [g["guildId"] for g in report["guilds"]] == [guild]
    assert report["guilds"][0]["rankRepaired"] == 8
    _check(api, guild, {u: 3 * n for n, u in enumerate(users)})
    assert recalc_store.layout_recorded() == keys.RANK_LAYOUT
    assert recalc_store.marker(None) is None  # the pass completed
    again = recalc.run(lambda: 1e9)  # not repeated (other tests' guilds may still be marked in this table)
    assert guild not in [g["guildId"] for g in again["guilds"]]
    assert recalc_store.marker(None) is None


def test_a_paused_pass_restarts_when_the_layout_changes(api, guild, monkeypatch):
    """A checkpoint from a deployment with another layout is not resumed: the pages it passed were
    repaired in the old layout's counters."""
    from xpshop.service import recalc
    from xpshop.store import keys
    from xpshop.store import recalc as recalc_store

    monkeypatch.setattr(recalc_store, "PAGE_SIZE", 3)
    users = [str(530_000_000_000_000_000 + i) for i in range(9)]
    for n, user in enumerate(users):
        assert api.put(f"/api/xp/users/{guild}/{user}", {"xp": 7 * n}).status == 200
    api.get(f"/api/xp/leaderboard/{guild}")  # counted in the current layout
    budget = iter([10.0, 0.0])
    assert recalc.recalc_guild(guild, lambda: next(budget, 0.0))["done"] is False  # paused after 2 pages
    monkeypatch.setattr(keys, "RANK_LAYOUT", keys.RANK_LAYOUT + 1)
    report = recalc.recalc_guild(guild, lambda: 1e9)
    assert report["resumed"] is False and report["members"] == 9 and report["rankRepaired"] == 9
    _check(api, guild, {u: 7 * n for n, u in enumerate(users)})


def test_a_repair_does_not_undo_a_change_the_stream_applied_after_the_member_was_read(api, guild):
    """The recalculation read the member at 40 XP; before its repair the member moved to 90 and the stream
    applied that. The repair must not move the member's counted position back to 40."""
    from xpshop.service import ranks

    user = str(540_000_000_000_000_001)
    assert api.put(f"/api/xp/users/{guild}/{user}", {"xp": 40}).status == 200
    api.get(f"/api/xp/leaderboard/{guild}")
    assert api.put(f"/api/xp/users/{guild}/{user}", {"xp": 90}).status == 200
    api.get(f"/api/xp/leaderboard/{guild}")  # the stream applied 40 -> 90
    assert ranks.repair(guild, [(40, user)]) == 0  # as read by a page fetched before the change
    _check(api, guild, {user: 90})


def test_two_repairs_of_one_stale_view_move_the_member_once(api, guild, monkeypatch):
    """Two recalculations (the schedule and an on-demand run) read the same ranked item and both repair it.
    A repair keeps the sequence number and moves the XP, so the second must be refused by the XP it read,
    not only by the sequence number: else it takes the member out of where it no longer is and counts it
    again (one member counted twice, a counter of another member's bucket one short)."""
    from xpshop.levels import DEFAULT_CURVE
    from xpshop.service import ranks
    from xpshop.store import rank_counters

    a, b = str(545_000_000_000_000_001), str(545_000_000_000_000_002)
    assert api.put(f"/api/xp/users/{guild}/{a}", {"xp": 40}).status == 200
    assert api.put(f"/api/xp/users/{guild}/{b}", {"xp": 1261}).status == 200
    assert api.get(f"/api/xp/leaderboard/{guild}").data["total"] == 2  # both counted
    from xpshop.store import members as store

    store.set_xp(guild, a, 3233, DEFAULT_CURVE)  # its record held back: no API read until the end
    stale = rank_counters._ranked_items(guild, [a])  # what both runs read: a counted at 40
    monkeypatch.setattr(rank_counters, "_ranked_items", lambda g, users: {u: stale[u] for u in users if u in stale})
    assert ranks.repair(guild, [(3233, a)]) == 1
    assert ranks.repair(guild, [(3233, a)]) == 0  # the second run's view is stale: nothing to move
    monkeypatch.undo()
    assert ranks.total(guild) == 2
    _check(api, guild, {a: 3233, b: 1261})  # now the held-back record arrives, and ranks are exact


def test_a_record_beside_a_repair_moves_the_member_from_where_it_is_counted(api, guild, monkeypatch):
    """A stream record's plan reads the ranked item, then takes the plan item; a repair that moved the XP
    (keeping the sequence number) between that read and the take must make the take fail (the repair
    bumped the plan item's version), and the plan read again: else it moves the member out of a bucket it
    has left (counted twice)."""
    from xpshop.store import rank_counters

    a, b = str(546_000_000_000_000_001), str(546_000_000_000_000_002)
    assert api.put(f"/api/xp/users/{guild}/{a}", {"xp": 40}).status == 200
    assert api.put(f"/api/xp/users/{guild}/{b}", {"xp": 500}).status == 200
    assert api.get(f"/api/xp/leaderboard/{guild}").data["total"] == 2
    real_read = rank_counters._ranked_items
    repaired: list[bool] = []

    def read_then_repair(guild_id: str, users: list[str]):
        found = real_read(guild_id, users)
        if not repaired:  # a repair (40 -> 700, same sequence number) lands right after the plan's read
            item = found[a]
            repaired.append(
                rank_counters._try(
                    guild, a, ((40, a), (700, a)), str(item["seq"]), ("seq = :seen", {":seen": item["seq"]})
                )
            )
        return found

    monkeypatch.setattr(rank_counters, "_ranked_items", read_then_repair)
    # a record claiming a was at 10, moving it to 90
    assert rank_counters.move(guild, a, (10, a), (90, a), "9" * 30)
    monkeypatch.undo()
    assert repaired == [True]
    from xpshop.levels import DEFAULT_CURVE
    from xpshop.store import members as store

    store.set_xp(guild, a, 90, DEFAULT_CURVE)  # the member as the record said (for the pages)
    _check(api, guild, {a: 90, b: 500})


def test_a_member_back_before_its_forget_reaches_the_rank_index_stays_counted(api, guild, monkeypatch):
    """Forget deletes the member, then takes its ranked item out. A write that brings the member back in
    between (an award, a set, an import) has its records - the removal, then the return - applied by the
    stream before that second step: the ranked item then counts the member as it is now, and forget must
    leave it (the member is there again), or the member is counted nowhere until a recalculation."""
    from xpshop.service import members as service
    from xpshop.store import audit

    a, b = str(547_000_000_000_000_001), str(547_000_000_000_000_002)
    assert api.put(f"/api/xp/users/{guild}/{a}", {"xp": 699}).status == 200
    assert api.put(f"/api/xp/users/{guild}/{b}", {"xp": 3233}).status == 200
    assert api.get(f"/api/xp/leaderboard/{guild}").data["total"] == 2
    real_forget = audit.forget

    def member_back_meanwhile(guild_id: str, user_id: str) -> int:
        # between the member's deletion and the rank index step: the member is set again, and the stream
        # applies both records (an API read drains it)
        assert api.put(f"/api/xp/users/{guild}/{a}", {"xp": 1500}).status == 200
        assert api.get(f"/api/xp/users/{guild}/{a}").status == 200
        return real_forget(guild_id, user_id)

    monkeypatch.setattr(audit, "forget", member_back_meanwhile)
    assert service.forget(guild, a)["removed"]["member"] == 1
    monkeypatch.undo()
    _check(api, guild, {a: 1500, b: 3233})


def test_a_repair_of_a_member_gone_since_the_page_was_read_uncounts_it(api, guild):
    """The page said 40 XP, the ranked item says 30 (the stream is behind), and the member is gone by the
    time the repair looks again: the repair takes it out; the records in flight then leave it out."""
    from xpshop.levels import DEFAULT_CURVE
    from xpshop.service import ranks
    from xpshop.store import keys, table
    from xpshop.store import members as store

    user = str(550_000_000_000_000_001)
    assert api.put(f"/api/xp/users/{guild}/{user}", {"xp": 30}).status == 200
    assert api.get(f"/api/xp/leaderboard/{guild}").data["total"] == 1  # counted at 30
    store.set_xp(guild, user, 40, DEFAULT_CURVE)  # records held back: no API read until the end
    table.table().delete_item(Key=keys.member(guild, user))
    assert ranks.repair(guild, [(40, user)]) == 1
    assert ranks.total(guild) == 0
    _check(api, guild, {})  # now the 30 -> 40 and removal records arrive


# ---------------------------------------------------------------- counted per hundred from 1000 XP on


def _rank_index_state(guild: str, users: list[str]) -> dict:
    """Every rank index item of these members (XP below 10,000): their ranked items and the A, B, C counters
    (C by thousand: C(0, 0) holds the exact XP below 1000, C(0, b) the hundreds of thousand b)."""
    from xpshop.store import keys
    from xpshop.store import rank_counters as counters
    from xpshop.store.table import plain, table

    ranked = {u: table().get_item(Key=keys.ranked(guild, u), ConsistentRead=True).get("Item") for u in users}
    return {
        "ranked": {u: plain(item) if item else None for u, item in ranked.items()},
        "A": counters.counts(guild, "A"),
        "B": counters.counts(guild, "B", (0,)),
        "C": {b: counters.counts(guild, "C", (0, b)) for b in range(10)},
    }


def test_an_award_inside_a_hundred_writes_nothing_in_the_rank_index(api, guild):
    """From 1000 XP on a member is counted at its hundred: awards that stay inside it leave the ranked item
    (XP and sequence number) and every counter as they were, and ranks stay exact; leaving it moves both."""
    users = [str(560_000_000_000_000_000 + i) for i in range(5)]
    members = dict(zip(users, [1234, 1250, 1299, 1300, 990], strict=True))
    for user, xp in members.items():
        assert api.put(f"/api/xp/users/{guild}/{user}", {"xp": xp}).status == 200
    _check(api, guild, members)
    before = _rank_index_state(guild, users)
    assert before["ranked"][users[0]]["xp"] == 1200 and before["ranked"][users[3]]["xp"] == 1300
    assert before["C"][1] == {200: 3, 300: 1} and before["C"][0] == {990: 1}

    for user, amount in ((users[0], 20), (users[0], 25), (users[1], 49), (users[3], 99)):  # inside their hundreds
        assert api.post(f"/api/xp/users/{guild}/{user}", {"amount": amount}).status == 200
        members[user] += amount
    _check(api, guild, members)  # the stream delivered: 1299 (users[1]) and 1299 (users[2]) tie
    assert _rank_index_state(guild, users) == before

    assert api.post(f"/api/xp/users/{guild}/{users[0]}", {"amount": 30}).status == 200  # 1279 -> 1309
    assert api.post(f"/api/xp/users/{guild}/{users[4]}", {"amount": 10}).status == 200  # 990 -> 1000
    members[users[0]] += 30
    members[users[4]] += 10
    _check(api, guild, members)
    after = _rank_index_state(guild, users)
    assert after["ranked"][users[0]]["xp"] == 1300 and after["ranked"][users[4]]["xp"] == 1000
    assert after["C"][1] == {0: 1, 200: 2, 300: 2} and after["C"][0] == {}


@pytest.mark.parametrize("thin_thousand", [100, 0], ids=["count-the-thousand", "count-the-bucket"])
def test_ranks_and_pages_when_many_members_share_one_hundred_and_tie(api, guild, monkeypatch, thin_thousand):
    """40 members in 1200-1299 (ties of up to 4 at one XP), others around it: a rank counts the members of
    its bucket ahead of it on the index, a page skips into the bucket. Both ways of counting (the whole
    thousand's range at once in a thin thousand, or the C counters and the bucket's range)."""
    from xpshop.levels import DEFAULT_CURVE
    from xpshop.service import ranks
    from xpshop.store import members as store

    monkeypatch.setattr(ranks, "COUNT_THOUSAND_UP_TO", thin_thousand)
    members = {str(570_000_000_000_000_000 + i * 9_999_999): 1200 + (i * 29) % 11 * 9 for i in range(40)}
    members |= {str(571_000_000_000_000_000 + i): xp for i, xp in enumerate([1199, 1300, 1100, 2250, 999, 40])}
    for user, xp in members.items():
        store.set_xp(guild, user, xp, DEFAULT_CURVE)
    assert max(collections.Counter(members.values()).values()) >= 4
    _check(api, guild, members)


def test_redelivered_and_reordered_records_across_hundreds_count_once(api, guild):
    """One member's records moving in and out of hundreds (and across 999/1000), held back and then
    delivered newest first, in order, again in order and bisected: the ranked item ends at the last
    record's hundred, counted once."""
    from local import REPO_ROOT
    from local.lambdas import invoke
    from local.stream import StreamPoller
    from local.template import functions, load_template

    poller: StreamPoller = api.before_read.__self__
    seen: list[dict] = []
    poller._invoke = seen.append  # hold the records back
    a, b = str(580_000_000_000_000_001), str(580_000_000_000_000_002)
    path_a = [950, 1010, 1090, 1120, 1080, 1199, 1200, 999, 1050]
    for n, xp in enumerate(path_a):
        api.put(f"/api/xp/users/{guild}/{a}", {"xp": xp})
        api.put(f"/api/xp/users/{guild}/{b}", {"xp": 1000 + 30 * n})
    poller.drain()
    records = [r for event in seen for r in event["Records"]]
    spec = functions(load_template())["RankIndexFunction"]
    for record in reversed(records):  # newest first: older ones are refused by the sequence number
        invoke(REPO_ROOT, spec, {"Records": [record]})
    for record in records:  # redelivered one by one
        invoke(REPO_ROOT, spec, {"Records": [record]})
    half = len(records) // 2
    for batch in (records, records[:half], records[half:]):  # whole, then bisected
        invoke(REPO_ROOT, spec, {"Records": batch})
    poller._invoke = lambda event: None
    members = {a: 1050, b: 1240}
    _check(api, guild, members)
    state = _rank_index_state(guild, [a, b])
    assert state["ranked"][a]["xp"] == 1000 and state["ranked"][b]["xp"] == 1200
    assert state["A"] == {0: 2} and state["B"] == {1: 2} and state["C"][1] == {0: 1, 200: 1}


def test_an_upgrade_from_exact_xp_counters_counts_members_at_their_hundred(api, guild, monkeypatch):
    """Layout 2 counted every exact XP: after the upgrade its items are left alone, an award inside a hundred
    does not count a member the new layout has not seen (nothing is written), one that leaves its hundred
    does, and the recalculation counts the rest at their hundreds."""
    from xpshop import rank_tree
    from xpshop.store import keys
    from xpshop.store import rank_counters as counters

    users = [str(590_000_000_000_000_000 + i) for i in range(5)]
    members = dict(zip(users, [1234, 1250, 1999, 2105, 500], strict=True))
    # the deployment before the upgrade: layout 2, a C bucket per exact XP
    monkeypatch.setattr(keys, "RANK_LAYOUT", 2)
    monkeypatch.setattr(rank_tree, "counted", lambda xp: xp)
    monkeypatch.setattr(rank_tree, "bucket_top", lambda xp: xp)
    for user, xp in members.items():
        assert api.put(f"/api/xp/users/{guild}/{user}", {"xp": xp}).status == 200
    assert api.get(f"/api/xp/leaderboard/{guild}").data["total"] == 5
    assert counters.counts(guild, "C", (0, 1)) == {234: 1, 250: 1, 999: 1}  # exact XP
    monkeypatch.undo()
    assert keys.RANK_LAYOUT == 3
    assert api.post(f"/api/xp/users/{guild}/{users[0]}", {"amount": 20}).status == 200  # inside 1200-1299
    assert api.post(f"/api/xp/users/{guild}/{users[1]}", {"amount": 60}).status == 200  # 1250 -> 1310
    members[users[0]] += 20
    members[users[1]] += 60
    assert api.get(f"/api/xp/leaderboard/{guild}").data["total"] == 1
    assert api.post(f"/api/xp/recalc/{guild}").data["guilds"][0]["rankRepaired"] == 4
    _check(api, guild, members)
    assert counters.counts(guild, "C", (0, 1)) == {200: 1, 300: 1, 900: 1}
    assert counters.counts(guild, "C", (0, 2)) == {100: 1}
    monkeypatch.setattr(keys, "RANK_LAYOUT", 2)  # the old layout's items: as the upgrade left them
    assert counters.counts(guild, "C", (0, 1)) == {234: 1, 250: 1, 999: 1}
