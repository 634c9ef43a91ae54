"""Reset on leave or ban on DynamoDB Local: member events (from the relay, through the messages' queue and its
consumer) applied once per event id under each `resetOn`; counters, ranks and the audit trail exact
afterwards; a member who comes back earns from 0."""

from __future__ import annotations

import time

import pytest

from tests.integration.test_ranking import _check as check_ranks
from tests.integration.test_stats_oracle import _recount
from tests.support.sqs import consume, message
from tests.support.storage import member_item, new_user_id

T0 = 1_795_400_000_000
MID = 1_310_000_000_000_000_000

# resetOn -> the event types that reset under it (Discord sends a member-remove for a ban too: "leave" then
# resets a banned member through that member-remove, "ban" only through the ban itself)
RESETS = {
    "none": set(),
    "leave": {"leave"},
    "ban": {"ban"},
    "leaveOrBan": {"leave", "ban"},
}


def member_event(guild: str, user: str, event_id: str, kind: str, at: int | None = None) -> dict:
    return {
        "kind": "member",
        "eventId": event_id,
        "type": kind,
        "guildId": guild,
        "userId": user,
        "at": at or int(time.time() * 1000),
    }


def _audit(api, guild: str, user: str) -> list[dict]:
    """The member's audit records once the stream is delivered (the rank index function writes them)."""
    from boto3.dynamodb.conditions import Key

    api.before_read()
    from xpshop.store.table import plain, table

    found = table().query(
        KeyConditionExpression=Key("PK").eq(f"GUILD#{guild}") & Key("SK").begins_with(f"AUDIT#{user}#")
    )["Items"]
    return [plain(i) for i in found]


def _stats_exact(api, guild: str) -> None:
    got = api.get(f"/api/xp/stats/{guild}").data
    expected = _recount(guild)
    assert {k: got[k] for k in expected} == expected


def _setup(api, guild: str, reset_on: str) -> dict[str, int]:
    assert api.put(f"/api/xp/config/{guild}", {"resetOn": reset_on}).status == 200
    members: dict[str, int] = {}
    for xp in [5_000, 1_200, 300, 40, 0]:
        user = new_user_id()
        assert api.put(f"/api/xp/users/{guild}/{user}", {"xp": xp}).status == 200
        members[user] = xp
    return members


@pytest.mark.parametrize("reset_on", list(RESETS))
@pytest.mark.parametrize("kind", ["leave", "ban"])
def test_an_event_resets_once_when_reset_on_covers_it(api, guild, reset_on, kind):
    members = _setup(api, guild, reset_on)
    user = next(iter(members))  # 5,000 XP
    event = member_event(guild, user, f"{kind}-{user}-1", kind)

    assert consume([event]) == {"batchItemFailures": []}
    assert consume([event, event]) == {"batchItemFailures": []}  # redelivered, twice in one batch

    resets = kind in RESETS[reset_on]
    item = member_item(guild, user)
    assert (item["xp"], item["level"]) == ((0, 0) if resets else (5_000, item["level"]))
    if resets:
        members[user] = 0
        assert (item["inLevel"], item["toNext"]) == (0, 155)  # 5 + 50 + 100 XP to level 1
        trail = [a for a in _audit(api, guild, user) if a.get("reason") == kind]
        assert [(a["oldXp"], a["newXp"], a["delta"], a["source"]) for a in trail] == [(5_000, 0, -5_000, "relay")]
    else:
        assert not [a for a in _audit(api, guild, user) if a.get("reason") in ("leave", "ban")]
    _stats_exact(api, guild)
    check_ranks(api, guild, members)

    # the event id is recorded as seen either way: its redelivery after a config change applies nothing
    assert api.put(f"/api/xp/config/{guild}", {"resetOn": "leaveOrBan"}).status == 200
    from xpshop.service import curves

    curves.forget(guild)  # the consumer's 30 s cache, as another container would have read it
    consume([event])
    assert member_item(guild, user)["xp"] == (0 if resets else 5_000)


def test_a_ban_and_its_member_remove_reset_once_under_leave_or_ban(api, guild):
    members = _setup(api, guild, "leaveOrBan")
    user = list(members)[1]  # 1,200 XP
    consume([member_event(guild, user, "ban-1", "ban"), member_event(guild, user, "remove-1", "leave")])
    assert member_item(guild, user)["xp"] == 0
    trail = [a for a in _audit(api, guild, user) if a.get("reason") in ("leave", "ban")]
    assert [(a["reason"], a["oldXp"]) for a in trail] == [("ban", 1_200)]  # the member-remove found 0: no write
    members[user] = 0
    _stats_exact(api, guild)
    check_ranks(api, guild, members)


def test_a_batch_with_duplicates_and_several_members(api, guild):
    members = _setup(api, guild, "leave")
    users = list(members)
    batch = [member_event(guild, u, f"e-{u}", "leave") for u in users[:3]]
    batch += [batch[0], batch[2], member_event(guild, users[3], f"b-{users[3]}", "ban")]  # the ban: no reset
    assert consume(batch) == {"batchItemFailures": []}
    for u in users[:3]:
        members[u] = 0
        assert member_item(guild, u)["xp"] == 0
    assert member_item(guild, users[3])["xp"] == 40
    _stats_exact(api, guild)
    check_ranks(api, guild, members)


def test_a_member_who_comes_back_earns_from_zero(api, guild):
    members = _setup(api, guild, "leave")
    user = next(iter(members))
    consume([message(guild, user, MID + 1, T0)])  # counted before leaving (cooldown irrelevant: 5,000 XP)
    consume([member_event(guild, user, "left-once", "leave")])
    before = member_item(guild, user)
    assert (before["xp"], before["messages"]) == (0, 1)  # XP gone, the message count kept
    consume([message(guild, user, MID + 2, T0 + 120_000)])  # back, after the cooldown
    after = member_item(guild, user)
    assert 15 <= after["xp"] <= 25
    assert after["messages"] == 2
    members[user] = after["xp"]
    _stats_exact(api, guild)
    check_ranks(api, guild, members)


def test_an_event_for_a_member_without_a_record_writes_only_its_mark(api, guild):
    assert api.put(f"/api/xp/config/{guild}", {"resetOn": "leaveOrBan"}).status == 200
    user = new_user_id()
    consume([member_event(guild, user, "nobody", "ban")])
    assert member_item(guild, user) is None
    assert api.get(f"/api/xp/stats/{guild}").data["users"]["total"] == 0


def test_a_bad_record_is_set_aside_not_retried(api, guild, monkeypatch):
    sent = []
    from xpshop import message_queue

    monkeypatch.setattr(message_queue, "dead_letter", lambda body, **kw: sent.append(body))
    bad = {**member_event(guild, new_user_id(), "bad", "kick")}
    assert consume([bad]) == {"batchItemFailures": []}
    assert len(sent) == 1


def _award_or_reset(job: str, guild: str, user: str, event: dict) -> object:
    """One job of a parallel run (in a worker process): the member event through the consumer, or an award."""
    if job == "reset":
        return consume([event])
    from tests.support import parallel

    return parallel._client.request("POST", f"/api/xp/users/{guild}/{user}", {"amount": 10}).status


def test_parallel_deliveries_reset_once_and_awards_racing_a_reset_are_never_lost(api, guild, parallel):
    """The same event consumed by six consumers at once resets once; awards racing it are either before the
    reset (taken back by it) or after (kept): the audit trail adds up to the XP, and the counters are exact."""
    members = _setup(api, guild, "leaveOrBan")
    user = next(iter(members))
    event = member_event(guild, user, "raced-1", "leave")
    jobs = [("reset", guild, user, event)] * 6 + [("award", guild, user, event)] * 12
    results = parallel.call("tests.integration.test_member_events:_award_or_reset", jobs)
    assert results.count({"batchItemFailures": []}) == 6 and results.count(200) == 12
    trail = _audit(api, guild, user)
    resets = [a for a in trail if a.get("reason") == "leave"]
    assert len(resets) == 1 and resets[0]["newXp"] == 0
    final = member_item(guild, user)["xp"]
    assert final == sum(int(a["delta"]) for a in trail)  # every change audited, none lost
    assert final % 10 == 0 and final <= 120
    members[user] = final
    _stats_exact(api, guild)
    check_ranks(api, guild, members)
