"""The relay's endpoints against a relay gone bad: what it sends is bounded so it cannot lock a member out."""

from __future__ import annotations

import json
import time
import uuid

import boto3
import pytest

from tests.support.sqs import consume, message
from tests.support.storage import member_item, new_user_id
from xpshop import message_queue
from xpshop.ids import MAX_SNOWFLAKE, snowflake_at

RELAY = "test-relay-key"


@pytest.fixture(autouse=True)
def relay_key(monkeypatch):
    monkeypatch.setenv("XPSHOP_RELAY_KEY", RELAY)


def test_a_message_id_from_the_future_is_refused_at_ingestion(api, guild, messages_queue):
    """Messages are deduplicated by a watermark on the member (the last message id): one id of year 2154
    would make every real message of that member a "duplicate" for good. An id carries its creation time,
    bounded like `timestamp` (at most INGEST_MAX_FUTURE_SECONDS ahead)."""
    now = int(time.time() * 1000)
    for future in (MAX_SNOWFLAKE, snowflake_at(now + 3_600_000)):
        r = api.post("/api/xp/ingest/messages", {"messages": [message(guild, new_user_id(), future, now)]}, key=RELAY)
        assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST")
        assert "messages.0.messageId" in r.error["message"] and "future" in r.error["message"]
    ok = message(guild, new_user_id(), snowflake_at(now), now)
    assert api.post("/api/xp/ingest/messages", {"messages": [ok]}, key=RELAY).status == 202


def test_a_queued_message_id_from_the_future_is_set_aside_and_the_member_still_earns(
    api, guild, sqs_server, monkeypatch, request
):
    """The consumer checks again (a record queued by an older ingestion): the member's watermark stays."""
    client = boto3.client("sqs", endpoint_url=sqs_server)
    dlq = client.create_queue(
        QueueName=f"dlq-{uuid.uuid4().hex[:8]}.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "false"},
    )["QueueUrl"]
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", sqs_server)
    monkeypatch.setenv("MESSAGES_DLQ_URL", dlq)
    message_queue.reset()
    request.addfinalizer(message_queue.reset)  # the client cached with this test's settings
    user, now = new_user_id(), int(time.time() * 1000)
    assert consume([message(guild, user, MAX_SNOWFLAKE, now)]) == {"batchItemFailures": []}
    set_aside = client.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])
    assert [json.loads(m["Body"])["userId"] for m in set_aside] == [user]
    assert member_item(guild, user) is None
    assert consume([message(guild, user, snowflake_at(now), now)]) == {"batchItemFailures": []}
    assert member_item(guild, user)["messages"] == 1
