"""The audit trail and the guild counters of API XP changes, written from the table's stream by the rank index
function (xpshop.service.changes), on DynamoDB Local's real stream: every change is recorded and counted
exactly once whatever Lambda does with the batches. A batch delivered twice (or bisected), a batch that
fails midway and is retried, and a member's records split over a parent shard and its children (the parent
read first, as Lambda does, the children in any order and one of them redelivered) all leave one audit
record per change and counters equal to a brute-force recount; the rank counters still match their oracle.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.test_stats_oracle import _recount
from tests.support.faults import THROTTLE, Fault, inject
from tests.support.imports import check_against_oracle
from tests.support.storage import new_guild_id, new_user_id
from xpshop.levels import DEFAULT_CURVE

Trail = Counter[tuple[str, int, int, int, str | None, str]]  # user, delta, oldXp, newXp, reason, source


def _rank_index(records: list[dict[str, Any]]) -> Any:
    """One invocation of the rank index function with these stream records, as Lambda makes it."""
    from local import REPO_ROOT
    from local.lambdas import invoke
    from local.template import functions, load_template

    return invoke(REPO_ROOT, functions(load_template())["RankIndexFunction"], {"Records": records})


def _hold(api: Any) -> list[dict[str, Any]]:
    """Keep the stream's records from the rank index: they are collected in the list returned (on drain)."""
    seen: list[dict[str, Any]] = []
    api.before_read.__self__._invoke = seen.append
    return seen


def _records(api: Any, seen: list[dict[str, Any]]) -> list[dict[str, Any]]:
    api.before_read()  # what the stream holds now, collected
    records = [r for event in seen for r in event["Records"]]
    seen.clear()
    return records


def _changes(api: Any, guild: str) -> tuple[Trail, dict[str, tuple[int, int]]]:
    """XP changes through the API in one guild (inside a level, across levels, set, remove, created by each
    path): the audit trail they should leave, and each member's (xp, messages) for the oracle."""
    a, b, c = new_user_id(), new_user_id(), new_user_id()
    steps = [
        ("POST", a, {"amount": 30, "reason": "first"}, 0, 30),  # creates the member
        ("POST", a, {"amount": 200, "reason": "crossing"}, 30, 230),  # across two levels
        ("DELETE", a, {"amount": 20}, 230, 210),  # inside the level
        ("PUT", a, {"xp": 5000, "reason": "set"}, 210, 5000),
        ("PUT", b, {"xp": 90}, 0, 90),  # created by a set
        ("POST", b, {"amount": 10, "reason": "in level"}, 90, 100),
        ("DELETE", b, {"amount": 500, "reason": "clamped"}, 100, 0),  # across a level, down to 0
        ("POST", c, {"amount": 1}, 0, 1),
        ("PUT", c, {"xp": 1}, 1, 1),  # no XP moved: still audited (somebody set it)
    ]
    trail: Trail = Counter()
    for method, user, body, old, new in steps:
        assert api.request(method, f"/api/xp/users/{guild}/{user}", body).status == 200
        trail[(user, new - old, old, new, body.get("reason"), "api")] += 1
    # Later writes that keep the last note are not XP changes: no record, no counter delta.
    from xpshop.store import members

    members.set_hidden(guild, c, True, DEFAULT_CURVE)
    return trail, {a: (5000, 0), b: (0, 0), c: (1, 0)}


def _trail(guild: str, users: list[str]) -> Trail:
    from xpshop.store import audit

    return Counter(
        (u, int(r["delta"]), int(r["oldXp"]), int(r["newXp"]), r.get("reason"), r["source"])
        for u in users
        for r in audit.history(guild, u)
    )


def _exact(api: Any, guild: str, trail: Trail, members: dict[str, tuple[int, int]]) -> None:
    assert _trail(guild, list(members)) == trail  # every change once: none lost, none doubled
    check_against_oracle(api, guild, members)  # stats and ranks
    got = api.get(f"/api/xp/stats/{guild}").data
    assert {k: got[k] for k in ("users", "xp", "levels", "messages")} == _recount(guild)


def test_an_award_is_recorded_and_counted_from_the_stream_not_by_the_request(api, guild):
    seen = _hold(api)
    trail, members = _changes(api, guild)
    assert _trail(guild, list(members)) == Counter()  # the requests wrote the members only
    assert api.get(f"/api/xp/stats/{guild}").data["users"]["total"] == 0
    _rank_index(_records(api, seen))
    _exact(api, guild, trail, members)


def test_a_batch_delivered_again_whole_or_bisected_writes_each_record_once(api, guild):
    seen = _hold(api)
    trail, members = _changes(api, guild)
    records = _records(api, seen)
    _rank_index(records)
    _rank_index(records)  # the same batch again (its checkpoint was lost)
    half = len(records) // 2
    _rank_index(records[:half])  # bisected on an error: each half again
    _rank_index(records[half:])
    _exact(api, guild, trail, members)


def test_a_batch_failing_midway_is_retried_and_writes_each_record_once(api, guild):
    """Two guilds in one batch: the first guild's records are written, the second's transaction fails on
    every try, the invocation fails; Lambda delivers the whole batch again and only what was missing is
    written."""
    other = new_guild_id()
    assert api.put(f"/api/xp/guilds/{other}").status == 201
    seen = _hold(api)
    trail, members = _changes(api, guild)
    other_trail, other_members = _changes(api, other)
    records = _records(api, seen)
    audits = Fault("TransactWriteItems", THROTTLE, times=5, skip=1, match=_writes_audit)
    with inject(audits) as injected, pytest.raises(ClientError):
        _rank_index(records)
    assert injected.injected == 5  # botocore's tries, all refused
    assert _trail(guild, list(members)) == trail  # the first guild's transaction went in
    assert _trail(other, list(other_members)) == Counter()  # the second's did not, nor any half of it
    _rank_index(records)  # the retry
    _exact(api, guild, trail, members)
    _exact(api, other, other_trail, other_members)


def test_a_members_records_split_over_a_parent_shard_and_its_children(api, guild):
    """A partition split mid-stream: the parent shard holds the first records (one member's among them), its
    two children the rest, each member's later records in one child. Lambda reads the parent to its end
    first (here in two batches, the second failing once and retried), then the children in parallel: any
    order between them, and one child's batch delivered again."""
    seen = _hold(api)
    trail, members = _changes(api, guild)
    records = _records(api, seen)
    split = 3  # the first member's first three changes are in the parent, its fourth in a child
    parent, rest = records[:split], records[split:]
    users = list(members)
    child_a = [r for r in rest if users[0] in str(r["dynamodb"]["Keys"])]
    child_b = [r for r in rest if r not in child_a]
    assert parent and child_a and child_b
    _rank_index(parent[:2])
    with inject(Fault("TransactWriteItems", THROTTLE, times=5, match=_writes_audit)), pytest.raises(ClientError):
        _rank_index(parent[2:])
    _rank_index(parent[2:])
    _rank_index(child_b)
    _rank_index(child_a)
    _rank_index(child_a)  # redelivered
    _exact(api, guild, trail, members)


def test_a_member_event_reset_is_recorded_once_from_the_stream(api, guild):
    """A reset on leave is a noted change too: its record (reason: the event's type, source: relay) and its
    counter deltas come from the stream, once, however often the event and the batch are delivered."""
    from tests.integration.test_member_events import member_event
    from tests.support.sqs import consume

    user = new_user_id()
    assert api.put(f"/api/xp/config/{guild}", {"resetOn": "leave"}).status == 200
    assert api.put(f"/api/xp/users/{guild}/{user}", {"xp": 400, "reason": "start"}).status == 200
    seen = _hold(api)
    event = member_event(guild, user, "leave-1", "leave")
    consume([event, event])
    records = _records(api, seen)
    _rank_index(records)
    _rank_index(records)
    trail: Trail = Counter({(user, 400, 0, 400, "start", "api"): 1, (user, -400, 400, 0, "leave", "relay"): 1})
    _exact(api, guild, trail, {user: (0, 0)})


def test_a_member_forgotten_before_the_stream_caught_up_keeps_no_record_and_exact_counters(api, guild):
    """An award, then the member forgotten before the stream delivered the award: the record the stream
    writes after the forget is removed when the member's REMOVE record follows; the counters come out exact
    (the forget took the member's whole item out, the award's delta comes in after), also when the batch is
    delivered again (the record stripped to a tombstone still refuses the change). A member who comes back
    afterwards keeps the records of their new changes."""
    user, stays = new_user_id(), new_user_id()
    assert api.put(f"/api/xp/users/{guild}/{stays}", {"xp": 70}).status == 200
    assert api.put(f"/api/xp/users/{guild}/{user}", {"xp": 300, "reason": "before"}).status == 200
    api.before_read()  # delivered
    seen = _hold(api)
    assert api.post(f"/api/xp/users/{guild}/{user}", {"amount": 5, "reason": "in flight"}).status == 200
    r = api.post(f"/api/xp/users/{guild}/{user}/forget")
    assert r.status == 200 and r.data["removed"]["member"] == 1
    assert api.post(f"/api/xp/users/{guild}/{user}", {"amount": 9, "reason": "back"}).status == 200
    records = _records(api, seen)
    _rank_index(records[:2])  # the award in flight and the REMOVE: the record written, then removed
    _rank_index(records[2:])  # the member comes back
    _rank_index(records)  # and everything again
    trail: Trail = Counter({(stays, 70, 0, 70, None, "api"): 1, (user, 9, 0, 9, "back", "api"): 1})
    _exact(api, guild, trail, {stays: (70, 0), user: (9, 0)})


def _writes_audit(body: dict[str, Any]) -> bool:
    """A TransactWriteItems that writes audit records (the stream's transaction, not a rank move)."""
    return any(
        str(i.get("Put", {}).get("Item", {}).get("SK", {}).get("S", "")).startswith("AUDIT#")
        for i in body.get("TransactItems", [])
    )
