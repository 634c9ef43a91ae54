"""Issue 12, finding 7: relay message timestamps and numbers.

A timestamp far in the future put a member in cooldown forever; a number past DynamoDB's 38 digits made
the consumer fail with decimal.Inexact on every delivery, blocking the member's FIFO group until the
record reached the dead-letter queue. Ingestion now refuses both (400 naming the row and field), the relay
never sends them, and the consumer sets aside what it can never apply (once, to the dead-letter queue)
while still retrying what may succeed later.
"""

from __future__ import annotations

import decimal
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from relay.events import InvalidEvent, event_from_message, validate_event
from tests.support.sqs import consume, message, receive_all
from tests.support.storage import member_item, new_user_id
from xpshop.errors import Unavailable

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

    def test_an_id_much_older_than_its_timestamp_is_accepted_and_only_dedups(self, api, messages_queue):
        """No bound between the time a `messageId` carries and `timestamp` (docs/API.md, "Ingestion rules"):
        the relay takes the timestamp from the id (discord.py's created_at), XP is judged by the timestamp
        (bounded by arrival), and the id only orders the member's messages, so an old id can cost only its own
        message (below the member's last counted id: a duplicate), never XP someone else earns."""
        from xpshop.ids import DISCORD_EPOCH_MS

        t = now_ms()
        old_id = ((t - 400 * DAY_MS - DISCORD_EPOCH_MS) << 22) + 1
        user = new_user_id()
        old = message(G, user, old_id, t - 2 * MINUTE_MS)
        assert (ingest(api, old).status, receive_all(messages_queue) != []) == (202, True)
        consume([old])
        assert (member_item(G, user)["messages"], member_item(G, user)["xpMessages"]) == (1, 1)
        fresh = message(G, user, ((t - DISCORD_EPOCH_MS) << 22) + 1, t - MINUTE_MS - MINUTE_MS // 2)
        consume([fresh])  # a real id counts as usual (in cooldown: counted, no XP)
        consume([old])  # the old id again, below the watermark now: a duplicate
        assert (member_item(G, user)["messages"], member_item(G, user)["xpMessages"]) == (2, 1)

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

    @pytest.mark.parametrize("value", ["false", "true", 0, 1, None])
    def test_bot_is_a_json_boolean(self, api, messages_queue, value):
        """A bot's messages earn nothing: "false" as text (or 0) is not read as a human's message."""
        assert_refused(ingest(api, {**message(G, U, MID + 8, now_ms()), "bot": value}), "messages.0.bot")
        assert receive_all(messages_queue) == []


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
        {"timestamp": ("now", 10 * MINUTE_MS)},  # relative to when the test runs, not to collection
        {"timestamp": ("now", -8 * DAY_MS)},
        {"timestamp": "²"},  # str.isdigit() is true, int() refuses it: a ValueError submit() did not catch
        {"timestamp": "9" * 5000},
    ],
)
def test_the_relay_refuses_what_ingestion_would_refuse(change: dict[str, Any]) -> None:
    if isinstance(change.get("timestamp"), tuple):
        change = {"timestamp": now_ms() + change["timestamp"][1]}
    with pytest.raises(InvalidEvent):
        validate_event(relay_event(**change))


def test_the_relay_keeps_recent_messages() -> None:
    t = now_ms()
    assert validate_event(relay_event(timestamp=t))["timestamp"] == t
    event = event_from_message(message_id=MID, guild_id=G, channel_id=G, user_id=U, timestamp=t - 6 * DAY_MS)
    assert event["timestamp"] == t - 6 * DAY_MS


# ------------------------------------------------------------------ the consumer sets poison records aside


def _client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "UpdateItem")


@pytest.mark.parametrize(
    ("exc", "poison"),
    [
        (decimal.Inexact(), True),
        (json.JSONDecodeError("x", "", 0), True),
        (_client_error("ValidationException"), True),
        (_client_error("ProvisionedThroughputExceededException"), False),
        (_client_error("ThrottlingException"), False),
        (_client_error("InternalServerError"), False),
        (EndpointConnectionError(endpoint_url="http://localhost"), False),
        (Unavailable(), False),
        (KeyError("a bug: retried, then redriven as before"), False),
    ],
)
def test_only_deterministic_failures_are_poison(exc: BaseException, poison: bool) -> None:
    from xpshop.service.messages import is_poison

    assert is_poison(exc) is poison


@pytest.fixture
def dead_letters(sqs_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The message queue's dead-letter queue (FIFO, as in template.yaml) on the local SQS; yields its URL."""
    from xpshop import message_queue

    client = boto3.client("sqs", endpoint_url=sqs_server)
    url = client.create_queue(QueueName=f"dlq-{uuid.uuid4().hex[:8]}.fifo", Attributes={"FifoQueue": "true"})[
        "QueueUrl"
    ]
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", sqs_server)
    monkeypatch.setenv("MESSAGES_DLQ_URL", url)
    message_queue.reset()
    yield url
    message_queue.reset()


def dead_lettered(url: str) -> list[dict[str, Any]]:
    client = boto3.client("sqs")
    found: list[dict[str, Any]] = []
    while batch := client.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], MessageAttributeNames=["All"]
    ).get("Messages", []):
        found += batch
        for m in batch:  # a FIFO group hands out its next messages once these are gone
            client.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return found


@pytest.mark.integration
class TestConsumer:
    def test_a_poison_record_is_dead_lettered_once_and_its_group_goes_on(
        self, api, guild, dead_letters, capsys, monkeypatch
    ):
        monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)  # the metric is printed (EMF)
        user, other = new_user_id(), new_user_id()
        t = now_ms() - MINUTE_MS
        poison = [
            message(guild, user, MID + 10, HUGE),  # queued by an older ingestion: decimal.Inexact
            message(guild, user, MID + 11, now_ms() + 365 * DAY_MS),  # a cooldown a year long
            {**message(guild, user, MID + 12, t), "userId": "not-a-snowflake"},
        ]
        batch = [message(guild, other, MID + 13, t), *poison, message(guild, user, MID + 14, t)]
        capsys.readouterr()

        assert consume(batch) == {"batchItemFailures": []}

        # the rest of the batch, the poisoned member's later message included, is applied
        for who in (user, other):
            item = member_item(guild, who)
            assert item is not None, who
            assert 15 <= item["xp"] <= 25
            assert (item["messages"], item["lastAwardedAt"]) == (1, t)
        # each poison record went to the dead-letter queue, as it was, in the member's group
        got = dead_lettered(dead_letters)
        assert sorted(json.loads(m["Body"])["messageId"] for m in got) == [str(MID + 10), str(MID + 11), str(MID + 12)]
        for m in got:
            assert m["Attributes"]["MessageGroupId"] == f"{guild}:{user}" or "not-a-snowflake" in m["Body"]
            assert m["MessageAttributes"]["reason"]["StringValue"]
        # and was counted
        emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "PoisonMessages" in line]
        values = [
            v
            for e in emitted
            for v in (e["PoisonMessages"] if isinstance(e["PoisonMessages"], list) else [e["PoisonMessages"]])
        ]
        assert sum(values) == 3

    def test_unreadable_bodies_are_dead_lettered(self, api, guild, dead_letters):
        assert consume(["not json {", {"messageId": "nope"}, [1, 2]]) == {"batchItemFailures": []}
        assert len(dead_lettered(dead_letters)) == 3

    def test_a_transient_failure_is_still_retried(self, api, guild, dead_letters, monkeypatch):
        from xpshop.store import members

        user, other = new_user_id(), new_user_id()
        real = members.count_messages

        def throttled(guild_id: str, user_id: str, *args: Any, **kwargs: Any) -> Any:
            if user_id == user:
                raise ClientError(
                    {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}, "UpdateItem"
                )
            return real(guild_id, user_id, *args, **kwargs)

        monkeypatch.setattr(members, "count_messages", throttled)
        t = now_ms() - MINUTE_MS
        result = consume([message(guild, user, MID + 20, t), message(guild, other, MID + 21, t)])

        assert len(result["batchItemFailures"]) == 1  # SQS delivers it again
        assert member_item(guild, user) is None
        assert member_item(guild, other)["messages"] == 1
        assert dead_lettered(dead_letters) == []

    def test_without_a_dead_letter_queue_a_poison_record_is_retried(self, api, guild, monkeypatch):
        monkeypatch.delenv("MESSAGES_DLQ_URL", raising=False)
        other = new_user_id()
        result = consume([message(guild, new_user_id(), MID + 30, HUGE), message(guild, other, MID + 31, now_ms())])
        assert len(result["batchItemFailures"]) == 1  # not lost: SQS's redrive policy still catches it
        assert member_item(guild, other)["messages"] == 1


@pytest.mark.integration
def test_make_dev_dead_letters_locally(api, guild, monkeypatch):
    """`make dev`'s queues (local/queue.py): the consumer's poller reaches a local dead-letter queue too."""
    from local import REPO_ROOT
    from local.queue import LocalQueue, default_queues
    from local.template import functions, load_template
    from xpshop import message_queue

    queue = LocalQueue(REPO_ROOT, None, default_queues(functions(load_template()))).start()
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", queue.endpoint)
        for name, url in queue.urls.items():
            monkeypatch.setenv(name, url)
        message_queue.reset()
        user = new_user_id()
        boto3.client("sqs").send_message(
            QueueUrl=queue.url,
            MessageBody=json.dumps(message(guild, user, MID + 40, HUGE)),
            MessageGroupId=f"{guild}:{user}",
            MessageDeduplicationId=str(MID + 40),
        )
        deadline = time.monotonic() + 20
        got: list[dict[str, Any]] = []
        while not got and time.monotonic() < deadline:
            got = dead_lettered(queue.urls["MESSAGES_DLQ_URL"])
            time.sleep(0.2)
        assert [json.loads(m["Body"])["messageId"] for m in got] == [str(MID + 40)]
    finally:
        queue.stop()
        message_queue.reset()


# ------------------------------------------------------------------ template.yaml


def test_the_template_wires_the_window_and_the_dead_letter_queue():
    from local.template import functions, load_template

    template = load_template()
    specs = functions(template)
    ingest_env, consumer = specs["XpIngestFunction"].environment, specs["XpConsumerFunction"]
    assert (ingest_env["INGEST_MAX_FUTURE_SECONDS"], ingest_env["INGEST_MAX_AGE_SECONDS"]) == ("300", "604800")
    # the consumer re-checks with the same bound: a smaller one would dead-letter what ingestion accepted
    assert consumer.environment["INGEST_MAX_FUTURE_SECONDS"] == ingest_env["INGEST_MAX_FUTURE_SECONDS"]
    assert consumer.environment["MESSAGES_DLQ_URL"] == {"Ref": "MessagesDeadLetterQueue"}
    queues = template["Resources"]
    assert queues["MessagesQueue"]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["MessagesDeadLetterQueue", "Arn"]
    }
    policies = queues["XpConsumerFunction"]["Properties"]["Policies"]
    assert {"SQSSendMessagePolicy": {"QueueName": {"Fn::GetAtt": ["MessagesDeadLetterQueue", "QueueName"]}}} in policies
