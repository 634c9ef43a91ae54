"""A bad relay backdating messages: no more XP per member than real-time chat could earn.

Ingestion accepts timestamps up to 7 days old (a relay catching up after an outage), and the cooldown is
judged by the message's own timestamp. A relay that sent a member's messages one cooldown apart across the
whole window, all at once, earned every one of them XP: 10,080 awards in one request at a 60 s cooldown.
Now ingestion stamps each message with the time it arrived (`receivedAt`, which the relay cannot set), and
the consumer judges the cooldown at the message's time clamped to [arrival - INGEST_AWARD_WINDOW_SECONDS,
arrival]: a late message still earns XP as it would have on time within the window (1 hour by default),
while older ones share one award, so over any stretch of arrivals a member earns at most what real-time
chat over that stretch plus one window could. The clamp feeds the member's one guarded write, so it holds
under redeliveries and concurrency like the cooldown itself.
"""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest

from tests.support.sqs import consume, message, receive_all
from tests.support.storage import member_item, new_user_id
from xpshop.ids import snowflake_at

RELAY = "test-relay-key"
INGEST = "/api/xp/ingest/messages"
MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS


def now_ms() -> int:
    return int(time.time() * 1000)


@pytest.fixture
def relay_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XPSHOP_RELAY_KEY", RELAY)
    for name in ("INGEST_MAX_FUTURE_SECONDS", "INGEST_MAX_AGE_SECONDS", "INGEST_AWARD_WINDOW_SECONDS"):
        monkeypatch.delenv(name, raising=False)


def spaced(
    guild: str, user: str, start_ms: int, count: int, step_ms: int = 61_000, ids_from: int | None = None
) -> list[dict[str, Any]]:
    """`count` messages of one member, one cooldown (60 s by default) and a second apart, from `start_ms`; their
    ids carry their times, or count up from `ids_from` (a relay chooses ids too: above the member's last one)."""
    return [
        message(
            guild,
            user,
            snowflake_at(start_ms + i * step_ms) if ids_from is None else ids_from + i,
            start_ms + i * step_ms,
        )
        for i in range(count)
    ]


def ingest_and_consume(api: Any, queue: str, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for k in range(0, len(messages), 100):
        r = api.post(INGEST, {"messages": messages[k : k + 100]}, key=RELAY)
        assert r.status == 202, r.body
    received = receive_all(queue)
    for m in received:  # deleted, as Lambda does: a FIFO group hands out nothing more while they are in flight
        boto3.client("sqs").delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
    bodies = [json.loads(m["Body"]) for m in received]
    assert consume(bodies) == {"batchItemFailures": []}
    return bodies


@pytest.mark.integration
@pytest.mark.usefixtures("relay_key")
class TestBackdating:
    def test_a_week_of_backdated_messages_earns_one_award_not_one_per_cooldown(self, api, guild, messages_queue):
        user = new_user_id()
        ingest_and_consume(api, messages_queue, spaced(guild, user, now_ms() - 7 * DAY_MS + MINUTE_MS, 300))

        item = member_item(guild, user)
        assert item["messages"] == 300  # every message is counted
        assert item["xpMessages"] == 1  # but they all arrived now, hours late: one award between them
        assert 15 <= item["xp"] <= 25

    def test_the_whole_window_spent_at_once_leaves_nothing_to_backdate_into(self, api, guild, messages_queue):
        user = new_user_id()
        t = now_ms()
        # an hour's worth, late but inside the window: each earns its XP as on time (a relay catching up)
        ingest_and_consume(api, messages_queue, spaced(guild, user, t - HOUR_MS + 2 * MINUTE_MS, 50))
        first = member_item(guild, user)
        assert first["xpMessages"] == 50
        # a second backdated burst a moment later (ids above the last one counted): all inside the cooldown of
        # the last award
        burst = spaced(guild, user, t - 6 * DAY_MS, 50, step_ms=70_000, ids_from=snowflake_at(now_ms()))
        ingest_and_consume(api, messages_queue, burst)
        item = member_item(guild, user)
        assert (item["messages"], item["xpMessages"], item["xp"]) == (100, 50, first["xp"])

    def test_messages_on_time_earn_as_before(self, api, guild, messages_queue):
        user = new_user_id()
        t = now_ms() - 90_000
        ingest_and_consume(api, messages_queue, spaced(guild, user, t, 2))
        item = member_item(guild, user)
        assert (item["messages"], item["xpMessages"], item["lastAwardedAt"]) == (2, 2, t + 61_000)

    def test_a_timestamp_ahead_of_its_arrival_is_judged_at_its_arrival(self, api, guild, messages_queue):
        user = new_user_id()
        before = now_ms()
        ahead = message(guild, user, snowflake_at(before), before + 4 * MINUTE_MS)
        [body] = ingest_and_consume(api, messages_queue, [ahead])
        item = member_item(guild, user)
        # not four minutes of cooldown in the future for the member's real messages
        assert item["lastAwardedAt"] == body["receivedAt"] <= now_ms()

    def test_the_relay_cannot_set_the_arrival_time(self, api, guild, messages_queue):
        user = new_user_id()
        old = now_ms() - 3 * DAY_MS
        sent = [{**m, "receivedAt": m["timestamp"]} for m in spaced(guild, user, old, 3)]
        before = now_ms()
        bodies = ingest_and_consume(api, messages_queue, sent)
        for body in bodies:
            for m in body.get("messages", [body]):
                assert before <= m["receivedAt"] <= now_ms()
        assert member_item(guild, user)["xpMessages"] == 1

    def test_the_window_is_configurable(self, api, guild, messages_queue, monkeypatch):
        monkeypatch.setenv("INGEST_AWARD_WINDOW_SECONDS", str(3 * 24 * 3600))
        user = new_user_id()
        ingest_and_consume(api, messages_queue, spaced(guild, user, now_ms() - 2 * DAY_MS, 5))
        assert member_item(guild, user)["xpMessages"] == 5

    def test_a_record_queued_before_arrival_times_keeps_its_timestamp(self, api, guild):
        user = new_user_id()
        t = now_ms() - 3 * DAY_MS
        assert consume(spaced(guild, user, t, 3)) == {"batchItemFailures": []}  # no receivedAt: as before
        item = member_item(guild, user)
        assert (item["xpMessages"], item["lastAwardedAt"]) == (3, t + 2 * 61_000)


def test_the_template_sets_the_award_window_on_the_consumer() -> None:
    from local.template import functions, load_template

    consumer = functions(load_template())["XpConsumerFunction"]
    assert consumer.environment["INGEST_AWARD_WINDOW_SECONDS"] == "3600"
