"""A member's messages of one delivery counted by one write, on DynamoDB Local through the consumer handler:
the writes it takes, a merged write that fails (every record it covered retried, nothing applied twice),
parallel consumers on the same member, and records of older deploys mixed in."""

from __future__ import annotations

import contextlib
from typing import Any

from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import message_runs as runs
from tests.support.faults import KINDS, THROTTLE, Fault, inject, key_is
from tests.support.sqs import consume, message
from tests.support.storage import member_item, new_user_id, recorded_calls
from xpshop.store import keys

T0 = 1_795_400_000_000
MID = 1_330_000_000_000_000_000
MANY = 50


def _talk(guild: str, user: str, count: int, first: int = 0) -> list[dict[str, Any]]:
    """`count` messages 25 s apart (cooldown 60 s: messages 0, 3, 6, 9... earn XP)."""
    return [message(guild, user, MID + i, T0 + i * 25_000) for i in range(first, first + count)]


def _counts(guild: str, user: str) -> tuple[int, int, int, int]:
    item = member_item(guild, user) or {}
    return (item.get("messages"), item.get("xpMessages"), item.get("lastAwardedAt"), item.get("lastMessageId"))


def test_a_members_delivery_is_one_write(api, guild):
    user = new_user_id()
    consume(_talk(guild, user, 1))
    with recorded_calls() as calls:
        assert consume(_talk(guild, user, 10, first=1)) == {"batchItemFailures": []}
    assert dict(calls) == {"UpdateItem": 2}  # the member once, the counter shard once
    assert _counts(guild, user) == (11, 4, T0 + 9 * 25_000, MID + 10)
    assert 60 <= member_item(guild, user)["xp"] <= 100  # four awards of 15-25


def test_two_members_interleaved_are_a_write_each(api, guild):
    a, b = new_user_id(), new_user_id()
    batch = [m for pair in zip(_talk(guild, a, 5), _talk(guild, b, 5), strict=True) for m in pair]
    with recorded_calls() as calls:
        assert consume(batch) == {"batchItemFailures": []}
    assert calls["UpdateItem"] <= 2 + 2 + 1  # a new member: the guess fails once, then the exact write
    assert _counts(guild, a) == _counts(guild, b) == (5, 2, T0 + 75_000, MID + 4)


def test_a_merged_write_failing_fails_every_record_it_covered_and_the_redelivery_counts_once(api, guild):
    user, other = new_user_id(), new_user_id()
    consume(_talk(guild, user, 1))
    batch = [*_talk(guild, user, 5, first=1), message(guild, other, MID + 50, T0)]
    with inject(Fault("UpdateItem", THROTTLE, times=MANY, match=key_is(keys.member(guild, user)))):
        result = consume(batch)
    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    assert len(failed) == 5  # the member's five records; the other member's record went through
    assert _counts(guild, user) == (1, 1, T0, MID)  # nothing of the run was applied
    assert _counts(guild, other)[:2] == (1, 1)
    assert consume(batch) == {"batchItemFailures": []}  # the redelivery (the other's record again, too)
    assert _counts(guild, user) == (6, 2, T0 + 75_000, MID + 5)
    assert _counts(guild, other)[:2] == (1, 1)


def test_each_fault_kind_on_a_merged_write_leaves_it_all_or_nothing(api, guild):
    for kind in KINDS:
        user = new_user_id()
        consume(_talk(guild, user, 1))
        batch = _talk(guild, user, 4, first=1)
        fault = Fault("UpdateItem", kind, times=1, match=key_is(keys.member(guild, user)))
        with inject(fault), contextlib.suppress(BatchProcessingError):  # all failed: the batch comes back
            consume(batch)
        consume(batch)  # whatever the first delivery did, its redelivery
        assert _counts(guild, user) == (5, 2, T0 + 75_000, MID + 4), kind


def test_records_of_older_deploys_and_redeliveries_across_batches(api, guild):
    """Single-message records as queued before, a delivery overlapping the previous one (SQS redelivers a
    batch whose answer was lost), and a run starting with records already counted."""
    user = new_user_id()
    talk = _talk(guild, user, 9)
    assert consume(talk[:4]) == {"batchItemFailures": []}
    assert consume(talk[2:7]) == {"batchItemFailures": []}
    assert consume(talk[:9]) == {"batchItemFailures": []}
    assert _counts(guild, user) == (9, 3, T0 + 150_000, MID + 8)


def test_parallel_consumers_on_one_member_count_each_message_once(api, guild, parallel):
    """Six consumers at once, each handed a prefix of the same member's messages (the redelivery of a batch
    racing the first delivery and the next batches): the outcome of counting them once, in order."""
    user = new_user_id()
    talk = _talk(guild, user, 12)
    batches = [(talk[:k],) for k in (12, 4, 8, 12, 6, 10)]
    results = parallel.call("tests.support.sqs:consume", batches)
    assert all(r == {"batchItemFailures": []} for r in results)
    assert _counts(guild, user) == (12, 4, T0 + 225_000, MID + 11)
    assert 60 <= member_item(guild, user)["xp"] <= 100


def test_a_poison_record_inside_a_run_is_set_aside_and_the_rest_counted(api, guild, monkeypatch):
    """A record that cannot be written (a number DynamoDB cannot hold, queued by an older ingestion) in the
    middle of a member's run: the run is applied again one record at a time, so only that one is set aside."""
    from xpshop import message_queue

    set_aside: list[str] = []
    monkeypatch.setattr(message_queue, "dead_letter", lambda body, **_: set_aside.append(body))
    user = new_user_id()
    talk = _talk(guild, user, 5)
    poison = message(guild, user, MID + 2, 10**40 + 1)  # decimal.Inexact when written
    batch = [*talk[:2], poison, *talk[3:]]
    assert consume(batch) == {"batchItemFailures": []}
    assert len(set_aside) == 1 and str(MID + 2) in set_aside[0]
    assert _counts(guild, user) == (4, 2, T0 + 75_000, MID + 4)


def _record(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """A member's messages as ingestion queues them now: one record."""
    return {
        "kind": "messages",
        "messages": messages,
        "guildId": messages[0]["guildId"],
        "userId": messages[0]["userId"],
    }


def test_run_records_and_single_records_of_older_deploys_mix(api, guild):
    """Records holding several messages (this deploy's ingestion) and single-message records (queued by an
    older one) in one delivery, the same member's: one write, each message counted once, in order."""
    user = new_user_id()
    talk = _talk(guild, user, 10)
    batch = [talk[0], _record(talk[1:4]), talk[4], _record(talk[5:10])]
    with recorded_calls() as calls:
        result = consume(batch)
    assert result == {"batchItemFailures": []}
    assert calls["UpdateItem"] <= 3  # the guess for a new member, the exact write, the counter shard
    assert _counts(guild, user) == (10, 4, T0 + 225_000, MID + 9)
    assert consume([_record(talk[3:8])]) == {"batchItemFailures": []}  # a redelivery: counted before
    assert _counts(guild, user) == (10, 4, T0 + 225_000, MID + 9)


def test_a_run_record_failing_is_retried_whole(api, guild):
    user = new_user_id()
    consume(_talk(guild, user, 1))
    batch = [_record(_talk(guild, user, 3, first=1)), *_talk(guild, user, 2, first=4)]
    fault = Fault("UpdateItem", THROTTLE, times=MANY, match=key_is(keys.member(guild, user)))
    with inject(fault), contextlib.suppress(BatchProcessingError):  # every record failed: the batch comes back
        consume(batch)
    assert _counts(guild, user) == (1, 1, T0, MID)
    assert consume(batch) == {"batchItemFailures": []}
    assert _counts(guild, user) == (6, 2, T0 + 75_000, MID + 5)


def test_a_run_record_of_two_members_is_set_aside(api, guild, monkeypatch):
    from xpshop import message_queue

    set_aside: list[str] = []
    monkeypatch.setattr(message_queue, "dead_letter", lambda body, **_: set_aside.append(body))
    user, other = new_user_id(), new_user_id()
    bad = _record([*_talk(guild, user, 2), message(guild, other, MID + 9, T0)])
    assert consume([bad, *_talk(guild, user, 1, first=3)]) == {"batchItemFailures": []}
    assert len(set_aside) == 1
    assert _counts(guild, user) == (1, 1, T0 + 75_000, MID + 3)


# ---------------------------------------------------------------- the store on DynamoDB Local


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(runs.seed_xp_st, runs.messages_st, runs.cuts_st, runs.flags_st, runs.flags_st, st.booleans())
def test_runs_equal_one_message_at_a_time(api, seed_xp, events, cuts, forget, elsewhere, replay):
    """The property of tests/unit/test_message_runs.py on DynamoDB Local (fewer examples: the engine's
    conditions, ReturnValuesOnConditionCheckFailure and number handling are what this adds)."""
    runs.check_runs_equal_one_by_one(seed_xp, events, cuts, forget, elsewhere, replay)


def test_the_guess_right_is_one_write_and_wrong_is_two(api):
    from xpshop.store import members

    user = runs.new_user()
    runs.as_run(user, [runs.chat(MID, T0, 20, 60_000, None)])
    known = dict(members._known)
    with recorded_calls() as calls:  # right: known, in cooldown: the count-only write alone
        (in_cooldown,) = runs.as_run(user, [runs.chat(MID + 1, T0 + 1_000, 20, 60_000, None)])
    assert dict(calls) == {"UpdateItem": 1} and (in_cooldown.counted, in_cooldown.awarded) == (True, 0)
    runs.as_run(user, [runs.chat(MID + 2, T0 + 61_000, 20, 60_000, None)])  # an award
    members._known.clear()
    members._known.update(known)  # stale: as after the first message (award due at T0 + 62 s)
    with recorded_calls() as calls:  # wrong: tried as an award, refused, counted in cooldown
        (wrong,) = runs.as_run(user, [runs.chat(MID + 3, T0 + 62_000, 20, 60_000, None)])
    assert dict(calls) == {"UpdateItem": 2} and (wrong.counted, wrong.awarded) == (True, 0)
    item = member_item(runs.G, user)
    assert (item["messages"], item["xpMessages"], item["xp"], item["lastAwardedAt"]) == (4, 2, 40, T0 + 61_000)
