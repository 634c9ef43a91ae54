"""POST /api/xp/ingest/messages: relay key, validation, and what lands on the FIFO queue."""

from __future__ import annotations

import json
import time

import boto3
import pytest

from tests.support.sqs import message

RELAY = "test-relay-key"
G, U = "111111111111111112", "222222222222222224"
T = int(time.time() * 1000)  # ingestion accepts timestamps from 7 days ago to 5 minutes ahead


@pytest.fixture(autouse=True)
def relay_key(monkeypatch):
    monkeypatch.setenv("XPSHOP_RELAY_KEY", RELAY)


def test_messages_are_queued_per_member_with_their_id(api, messages_queue, sqs_server):
    batch = [message(G, U, 1_300_000_000_000_000_001 + i, T) for i in range(12)]
    batch.append(message(G, U, 1_300_000_000_000_000_100, T, bot=True))
    r = api.post("/api/xp/ingest/messages", {"messages": batch}, key=RELAY)
    assert (r.status, r.data) == (202, {"accepted": 12, "skipped": 1})
    client = boto3.client("sqs", endpoint_url=sqs_server)
    got = []
    for _ in range(3):  # a FIFO group releases its next messages once the ones in flight are deleted
        received = client.receive_message(QueueUrl=messages_queue, MaxNumberOfMessages=10, AttributeNames=["All"])
        got += received.get("Messages", [])
        for m in received.get("Messages", []):
            client.delete_message(QueueUrl=messages_queue, ReceiptHandle=m["ReceiptHandle"])
    assert len(got) == 12
    assert [json.loads(m["Body"])["messageId"] for m in got] == [b["messageId"] for b in batch[:12]]  # in order
    first = got[0]
    assert first["Attributes"]["MessageGroupId"] == f"{G}:{U}"
    assert first["Attributes"]["MessageDeduplicationId"] == json.loads(first["Body"])["messageId"]


def test_relay_key_only(api, messages_queue):
    body = {"messages": [message(G, U, 1_300_000_000_000_000_001, T)]}
    assert api.post("/api/xp/ingest/messages", body, key=None).status == 401
    assert api.post("/api/xp/ingest/messages", body).status == 401  # the admin key is not the relay's
    assert api.post("/api/xp/ingest/messages", body, key="wrong").status == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"messages": []}, "messages"),
        ({"messages": [message(G, U, 1_300_000_000_000_000_001, T)] * 101}, "messages"),
        ({"messages": [{**message(G, U, 1, T)}]}, "messageId"),
        ({"messages": [{**message(G, "abc", 1_300_000_000_000_000_001, T)}]}, "userId"),
        ({"messages": [{**message(G, U, 1_300_000_000_000_000_001, 5)}]}, "timestamp"),
        (
            {"messages": [{k: v for k, v in message(G, U, 1_300_000_000_000_000_001, 1).items() if k != "guildId"}]},
            "guildId",
        ),
    ],
)
def test_validation(api, messages_queue, body, field):
    r = api.post("/api/xp/ingest/messages", body, key=RELAY)
    assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST")
    assert field in r.error["message"]


def test_iso_timestamps_are_accepted(api, messages_queue):
    iso = time.strftime("%Y-%m-%dT%H:%M:%S.000+00:00", time.gmtime())
    event = {**message(G, U, 1_300_000_000_000_000_002, 0), "timestamp": iso}
    assert api.post("/api/xp/ingest/messages", {"messages": [event]}, key=RELAY).status == 202


def test_queue_unavailable_is_503(api, monkeypatch):
    monkeypatch.setenv("MESSAGES_QUEUE_URL", "")
    r = api.post(
        "/api/xp/ingest/messages",
        {"messages": [message(G, U, 1_300_000_000_000_000_003, T)]},
        key=RELAY,
    )
    assert (r.status, r.error["code"]) == (503, "SERVICE_UNAVAILABLE")
