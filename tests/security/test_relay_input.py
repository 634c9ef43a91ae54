"""Issue 12, finding 7: relay message timestamps and numbers.

A timestamp far in the future put a member in cooldown forever; a number past DynamoDB's 38 digits made
the consumer fail with decimal.Inexact on every delivery, blocking the member's FIFO group until the
record reached the dead-letter queue. Ingestion now refuses both (400 naming the row and field), the relay
never sends them, and the consumer sets aside what it can never apply (once, to the dead-letter queue)
while still retrying what may succeed later.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from relay.events import InvalidEvent, event_from_message, validate_event
from tests.support.sqs import message, receive_all

RELAY = "test-relay-key"
INGEST = "/api/xp/ingest/messages"
G, U = "111111111111111113", "222222222222222225"
MID = 1_300_000_000_000_000_500
MINUTE_MS = 60_000
DAY_MS = 24 * 60 * MINUTE_MS
HUGE = 10**40 + 1  # past the 38 significant digits DynamoDB numbers hold: decimal.Inexact in boto3


def now_ms() -> int:
    return int(time.time() * 1000)


# ------------------------------------------------------------------ ingestion: POST /api/xp/ingest/messages


@pytest.fixture
def relay_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XPSHOP_RELAY_KEY", RELAY)
    monkeypatch.delenv("INGEST_MAX_FUTURE_SECONDS", raising=False)
    monkeypatch.delenv("INGEST_MAX_AGE_SECONDS", raising=False)


def ingest(api: Any, *events: dict[str, Any]) -> Any:
    return api.post(INGEST, {"messages": list(events)}, key=RELAY)


def assert_refused(r: Any, *fragments: str) -> None:
    assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST"), r.body
    for fragment in fragments:
        assert fragment in r.error["message"], r.error["message"]


@pytest.mark.integration
@pytest.mark.usefixtures("relay_key")
class TestIngestion:
    def test_a_timestamp_more_than_five_minutes_ahead_is_refused_naming_the_field(self, api, messages_queue):
        r = ingest(api, message(G, U, MID, now_ms() + 6 * MINUTE_MS))
        assert_refused(r, "messages.0.timestamp", "future")
        r = ingest(api, {**message(G, U, MID, 0), "timestamp": "2100-01-01T00:00:00Z"})
        assert_refused(r, "messages.0.timestamp")
        assert receive_all(messages_queue) == []

    def test_an_eight_day_old_timestamp_is_refused(self, api, messages_queue):
        assert_refused(ingest(api, message(G, U, MID, now_ms() - 8 * DAY_MS)), "messages.0.timestamp", "old")

    def test_one_bad_row_refuses_the_batch_naming_the_row(self, api, messages_queue):
        good = message(G, U, MID, now_ms())
        bad = message(G, U, MID + 1, now_ms() + DAY_MS)
        assert_refused(ingest(api, good, bad), "messages.1.timestamp")
        assert receive_all(messages_queue) == []  # the whole batch, as for any other invalid event

    def test_in_bounds_timestamps_are_queued_as_before(self, api, messages_queue):
        t = now_ms()
        r = ingest(
            api,
            message(G, U, MID + 2, t - 6 * DAY_MS),
            message(G, U, MID + 3, t),
            message(G, U, MID + 4, t + 4 * MINUTE_MS),
        )
        assert (r.status, r.data) == (202, {"accepted": 3, "skipped": 0})

    def test_the_window_is_configurable(self, api, messages_queue, monkeypatch):
        monkeypatch.setenv("INGEST_MAX_FUTURE_SECONDS", "3600")
        monkeypatch.setenv("INGEST_MAX_AGE_SECONDS", "60")
        assert ingest(api, message(G, U, MID + 5, now_ms() + 30 * MINUTE_MS)).status == 202
        assert_refused(ingest(api, message(G, U, MID + 6, now_ms() - 5 * MINUTE_MS)), "messages.0.timestamp")

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("timestamp", HUGE),
            ("timestamp", str(HUGE)),
            ("messageId", HUGE),
            ("userId", str(2**64)),  # 20 digits, but not a 64-bit snowflake
            ("guildId", "111111111111111113\n"),
            ("roleIds", [HUGE]),
        ],
    )
    def test_numbers_out_of_bounds_are_refused_naming_the_field(self, api, messages_queue, field, value):
        assert_refused(ingest(api, {**message(G, U, MID + 7, now_ms()), field: value}), f"messages.0.{field}")


# ------------------------------------------------------------------ the relay sends only what ingestion accepts


def relay_event(**change: Any) -> dict[str, Any]:
    return {**message(G, U, MID, now_ms()), **change}


@pytest.mark.parametrize(
    "change",
    [
        {"messageId": f"{MID}\n"},  # "$" matched before a trailing newline
        {"guildId": f"{G}\n"},
        {"roleIds": ["444444444444444444\n"]},
        {"timestamp": HUGE},
        {"timestamp": "2100-01-01T00:00:00Z"},
        {"timestamp": now_ms() + 10 * MINUTE_MS},
        {"timestamp": now_ms() - 8 * DAY_MS},
        {"timestamp": "²"},  # str.isdigit() is true, int() refuses it: a ValueError submit() did not catch
        {"timestamp": "9" * 5000},
    ],
)
def test_the_relay_refuses_what_ingestion_would_refuse(change: dict[str, Any]) -> None:
    with pytest.raises(InvalidEvent):
        validate_event(relay_event(**change))


def test_the_relay_keeps_recent_messages() -> None:
    t = now_ms()
    assert validate_event(relay_event(timestamp=t))["timestamp"] == t
    event = event_from_message(message_id=MID, guild_id=G, channel_id=G, user_id=U, timestamp=t - 6 * DAY_MS)
    assert event["timestamp"] == t - 6 * DAY_MS


# ------------------------------------------------------------------ template.yaml


def test_the_template_sets_the_ingestion_window():
    from local.template import functions, load_template

    template = load_template()
    specs = functions(template)
    ingest_env = specs["XpIngestFunction"].environment
    assert (ingest_env["INGEST_MAX_FUTURE_SECONDS"], ingest_env["INGEST_MAX_AGE_SECONDS"]) == ("300", "604800")
