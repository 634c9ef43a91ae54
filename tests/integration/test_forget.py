"""Forgetting a member (POST /api/xp/users/{guildId}/{userId}/forget) on DynamoDB Local: no item names the
member afterwards (every key format of store/keys.py that carries a user id), the guild's counters and ranks
are exact, a second call answers zeros, and shop data is kept."""

from __future__ import annotations

from typing import Any

from tests.integration.test_ranking import _check as check_ranks
from tests.integration.test_stats_oracle import _recount
from tests.support.board import set_profile
from tests.support.sqs import consume, message
from tests.support.storage import new_user_id

T0 = 1_795_400_000_000
MID = 1_320_000_000_000_000_000
ZERO = {"member": 0, "auditRecords": 0, "rankedEntries": 0, "levelAnnouncements": 0}


def _items_naming(guild: str, user: str) -> list[dict[str, Any]]:
    """Every item whose key names the member in this guild: member (MEMBER#<u>), audit (AUDIT#<u>#...),
    level announcements (EFFECT#<u>#...) in the guild's partition, and the ranked entry's own partition."""
    from boto3.dynamodb.conditions import Key

    from xpshop.store import keys
    from xpshop.store.table import table

    found: list[dict[str, Any]] = []
    for prefix in (keys.member(guild, user)["SK"], keys.audit_prefix(user), keys.level_effect_prefix(user)):
        found += table().query(
            KeyConditionExpression=Key("PK").eq(keys.guild_pk(guild)) & Key("SK").begins_with(prefix),
            ConsistentRead=True,
        )["Items"]
    found += table().query(KeyConditionExpression=Key("PK").eq(keys.ranked(guild, user)["PK"]), ConsistentRead=True)[
        "Items"
    ]
    return found


def _whole_table_naming(user: str) -> list[dict[str, Any]]:
    """A scan of the test table (tests only) for any item with the user id in its keys or any text value."""
    from xpshop.store.table import table

    found, kwargs = [], {}
    while True:
        resp = table().scan(**kwargs)
        found += [i for i in resp["Items"] if any(isinstance(v, str) and user in v for v in i.values())]
        if "LastEvaluatedKey" not in resp:
            return found
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def test_forget_removes_every_item_of_the_member_and_keeps_counters_exact(api, guild):
    from xpshop.store import markers

    others = {new_user_id(): xp for xp in (2_000, 700, 0)}
    for user, xp in others.items():
        assert api.put(f"/api/xp/users/{guild}/{user}", {"xp": xp}).status == 200
    user = new_user_id()
    assert api.put(f"/api/xp/users/{guild}/{user}", {"xp": 1_500}).status == 200  # audit 1
    assert api.post(f"/api/xp/users/{guild}/{user}", {"amount": 30, "reason": "event"}).status == 200  # audit 2
    assert consume([message(guild, user, MID + 1, T0)]) == {"batchItemFailures": []}  # messages counted
    set_profile(guild, user, display_name="Alice", username="alice", avatar="a" * 32)
    assert api.put(f"/api/xp/users/{guild}/{user}/privacy", {"hidden": True}).status == 200
    assert markers.claim_level_effect(guild, user, 3) and markers.claim_level_effect(guild, user, 4)
    api.get(f"/api/xp/leaderboard/{guild}")  # the rank index has counted everyone
    assert len(_items_naming(guild, user)) == 1 + 2 + 2 + 1
    assert api.request("PATCH", "/api/v1/credits/modify", {"id": user, "amount": 25}).body == {
        "credits": 25
    }  # shop data

    r = api.post(f"/api/xp/users/{guild}/{user}/forget")
    assert r.status == 200
    assert r.data == {
        "guildId": guild,
        "userId": user,
        "removed": {"member": 1, "auditRecords": 2, "rankedEntries": 1, "levelAnnouncements": 2},
    }
    assert _items_naming(guild, user) == []
    left = _whole_table_naming(user)
    assert {i["PK"] for i in left} == {f"USER#{user}"}  # the shop's profile and ledger only

    # counters and ranks exact, now and after the stream has delivered the member's REMOVE
    got = api.get(f"/api/xp/stats/{guild}").data
    expected = _recount(guild)
    assert {k: got[k] for k in expected} == expected
    check_ranks(api, guild, others)
    assert _items_naming(guild, user) == []
    assert api.get(f"/api/xp/users/{guild}/{user}").status == 404
    from xpshop.store import keys
    from xpshop.store.table import table

    assert table().get_item(Key=keys.profile(user), ConsistentRead=True)["Item"]["credits"] == 25  # shop kept

    # idempotent: nothing left to remove
    again = api.post(f"/api/xp/users/{guild}/{user}/forget")
    assert (again.status, again.data["removed"]) == (200, ZERO)
    got = api.get(f"/api/xp/stats/{guild}").data
    assert {k: got[k] for k in expected} == expected


def test_a_forgotten_member_who_comes_back_starts_afresh(api, guild):
    user = new_user_id()
    assert api.put(f"/api/xp/users/{guild}/{user}", {"xp": 900}).status == 200
    api.get(f"/api/xp/leaderboard/{guild}")
    assert api.post(f"/api/xp/users/{guild}/{user}/forget").status == 200
    assert consume([message(guild, user, MID + 50, T0)]) == {"batchItemFailures": []}
    member = api.get(f"/api/xp/users/{guild}/{user}").data["user"]
    assert 15 <= member["xp"] <= 25 and member["messages"] == 1
    check_ranks(api, guild, {user: member["xp"]})
    got = api.get(f"/api/xp/stats/{guild}").data
    expected = _recount(guild)
    assert {k: got[k] for k in expected} == expected


def test_forget_needs_the_admin_key_and_a_known_guild(api, guild):
    user = new_user_id()
    assert api.post(f"/api/xp/users/{guild}/{user}/forget", key=None).status == 401
    assert api.post(f"/api/xp/users/{guild}/{user}/forget", key="wrong").status == 401
    unknown = api.post(f"/api/xp/users/199999999999999999/{user}/forget")
    assert (unknown.status, unknown.error["code"]) == (404, "GUILD_NOT_FOUND")
    bad = api.post(f"/api/xp/users/{guild}/abc/forget")
    assert bad.status == 400
    assert api.get(f"/api/xp/users/{guild}/{user}/forget").status == 405
    never = api.post(f"/api/xp/users/{guild}/{user}/forget")  # never seen: zeros, not an error
    assert (never.status, never.data["removed"]) == (200, ZERO)


def _forget_or_award(job: str, guild: str, user: str) -> object:
    """One job of a parallel run (in a worker process)."""
    from tests.support import parallel

    if job == "forget":
        return parallel._client.request("POST", f"/api/xp/users/{guild}/{user}/forget").body["data"]["removed"]
    return parallel._client.request("POST", f"/api/xp/users/{guild}/{user}", {"amount": 10}).status


def test_parallel_forgets_and_awards_leave_counters_and_ranks_exact(api, guild, parallel):
    """Four forgets of one member racing eight awards to them: exactly one forget finds the record that existed
    before, awards after it start a new one, and the statistics and ranks match the members left."""
    others = {new_user_id(): 300}
    user = new_user_id()
    for who, xp in [*others.items(), (user, 1_000)]:
        assert api.put(f"/api/xp/users/{guild}/{who}", {"xp": xp}).status == 200
    api.get(f"/api/xp/leaderboard/{guild}")
    jobs = [("forget", guild, user)] * 4 + [("award", guild, user)] * 8
    results = parallel.call("tests.integration.test_forget:_forget_or_award", jobs)
    assert results.count(200) == 8
    assert sum(r["member"] for r in results if isinstance(r, dict)) >= 1
    got = api.get(f"/api/xp/stats/{guild}").data
    expected = _recount(guild)
    assert {k: got[k] for k in expected} == expected
    left = dict(others)
    item = api.get(f"/api/xp/users/{guild}/{user}")
    if item.status == 200:
        left[user] = item.data["user"]["xp"]
    check_ranks(api, guild, left)
