"""Message XP through the queue consumer on DynamoDB Local: once per message, cooldown, no-XP rules."""

from __future__ import annotations

from tests.support.sqs import consume, message
from tests.support.storage import member_item, new_user_id, recorded_calls

T0 = 1_795_400_000_000
MID = 1_300_000_000_000_000_000


def test_first_message_creates_the_member_with_xp(api, guild):
    user = new_user_id()
    assert consume([message(guild, user, MID, T0)]) == {"batchItemFailures": []}
    item = member_item(guild, user)
    assert 15 <= item["xp"] <= 25
    assert (item["messages"], item["xpMessages"], item["lastAwardedAt"]) == (1, 1, T0)


def test_redelivered_messages_count_once(api, guild):
    user = new_user_id()
    batch = [message(guild, user, MID + 1, T0), message(guild, user, MID + 1, T0)]
    consume(batch)
    consume(batch)  # the whole batch again, as SQS may redeliver
    item = member_item(guild, user)
    assert (item["messages"], item["xpMessages"]) == (1, 1)


def test_cooldown_counts_messages_without_xp(api, guild):
    user = new_user_id()
    consume(
        [
            message(guild, user, MID + 10, T0),
            message(guild, user, MID + 11, T0 + 5_000),
            message(guild, user, MID + 12, T0 + 59_999),
        ]
    )
    after_cooldown = member_item(guild, user)
    assert (after_cooldown["messages"], after_cooldown["xpMessages"]) == (3, 1)
    xp_once = after_cooldown["xp"]
    consume([message(guild, user, MID + 13, T0 + 60_000)])  # the cooldown (60 s) has passed
    item = member_item(guild, user)
    assert (item["messages"], item["xpMessages"]) == (4, 2)
    assert item["xp"] > xp_once


def test_no_xp_channels_and_roles(api, guild):
    channel, role = "400000000000000001", "500000000000000009"
    api.put(f"/api/xp/config/{guild}", {"noXpChannelIds": [channel], "noXpRoleIds": [role]})
    from xpshop.service import curves

    curves.forget(guild)
    quiet, muted = new_user_id(), new_user_id()
    consume(
        [
            message(guild, quiet, MID + 20, T0, channel=channel),
            message(guild, muted, MID + 21, T0, roles=["500000000000000001", role]),
        ]
    )
    for user in (quiet, muted):
        item = member_item(guild, user)
        assert (item["xp"], item["messages"], item["xpMessages"]) == (0, 1, 0)


def test_rate_and_multipliers_scale_the_award(api, guild):
    role = "500000000000000010"
    api.put(f"/api/xp/config/{guild}", {"xpRate": 2.0, "multipliers": {"server": 1.5, "role": {role: 2.0}}})
    from xpshop.service import curves

    curves.forget(guild)
    user = new_user_id()
    consume([message(guild, user, MID + 30, T0, roles=[role])])
    assert 90 <= member_item(guild, user)["xp"] <= 150  # 15..25 x 2 x 1.5 x 2


def test_level_crossing_and_counters(api, guild):
    from xpshop.levels import DEFAULT_CURVE

    user = new_user_id()
    api.put(f"/api/xp/users/{guild}/{user}", {"xp": 150})
    consume([message(guild, user, MID + 40, T0)])
    item = member_item(guild, user)
    p = DEFAULT_CURVE.progress(item["xp"])
    assert item["level"] == p.level == 1
    assert (item["inLevel"], item["toNext"]) == (p.in_level, p.to_next)
    stats = api.get(f"/api/xp/stats/{guild}").data
    assert stats["xp"]["total"] == item["xp"]
    assert stats["messages"] == {"total": 1, "xpMessages": 1}
    assert stats["levels"]["distribution"] == {"1": 1}


def test_bots_and_bad_records(api, guild):
    user = new_user_id()
    result = consume(
        [message(guild, user, MID + 50, T0, bot=True), {"messageId": "nope"}, message(guild, user, MID + 51, T0)]
    )
    assert len(result["batchItemFailures"]) == 1  # the malformed record only; its group is skipped after it
    item = member_item(guild, user)
    assert item["messages"] == 1


def test_an_award_in_level_is_one_write(api, guild):
    user = new_user_id()
    consume([message(guild, user, MID + 60, T0)])
    with recorded_calls() as calls:
        consume([message(guild, user, MID + 61, T0 + 61_000)])
    assert calls["UpdateItem"] == 2  # the member, and the counter shard once for the batch
    assert not {"GetItem", "PutItem", "Query"} & set(calls)


def test_parallel_redeliveries_count_once(api, guild, parallel):
    """The same batch processed by several consumers at once (a redelivery racing the first delivery)."""
    user = new_user_id()
    batch = [message(guild, user, MID + 70 + i, T0 + i * 61_000) for i in range(5)]
    results = parallel.call("tests.support.sqs:consume", [(batch,)] * 6)
    assert all(r == {"batchItemFailures": []} for r in results)
    item = member_item(guild, user)
    assert (item["messages"], item["xpMessages"]) == (5, 5)


def test_parallel_messages_within_one_cooldown_award_once(api, guild, parallel):
    """Messages of one member handled concurrently (different message ids, same minute): XP exactly once."""
    user = new_user_id()
    calls = [([message(guild, user, MID + 100 + i, T0 + i)],) for i in range(8)]
    parallel.call("tests.support.sqs:consume", calls)
    item = member_item(guild, user)
    assert item["xpMessages"] == 1
    assert 15 <= item["xp"] <= 25
