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


def _received(client, queue: str) -> list[dict]:
    got = []
    for _ in range(3):  # a FIFO group releases its next messages once the ones in flight are deleted
        received = client.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, AttributeNames=["All"])
        got += received.get("Messages", [])
        for m in received.get("Messages", []):
            client.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
    return got


def test_messages_are_queued_per_member_with_their_id(api, messages_queue, sqs_server):
    """A member's messages of a request go as one record, in order (one write and one SQS request for them);
    a member with one message gets the single-message record, deduplicated by its id."""
    other = "222222222222222225"
    batch = [message(G, U, 1_300_000_000_000_000_001 + i, T) for i in range(12)]
    batch.insert(5, message(G, other, 1_300_000_000_000_000_050, T))
    batch.append(message(G, U, 1_300_000_000_000_000_100, T, bot=True))
    r = api.post("/api/xp/ingest/messages", {"messages": batch}, key=RELAY)
    assert (r.status, r.data) == (202, {"accepted": 13, "skipped": 1})
    got = {
        m["Attributes"]["MessageGroupId"]: m
        for m in _received(boto3.client("sqs", endpoint_url=sqs_server), messages_queue)
    }
    assert set(got) == {f"{G}:{U}", f"{G}:{other}"}
    run = json.loads(got[f"{G}:{U}"]["Body"])
    assert run["kind"] == "messages"
    assert [m["messageId"] for m in run["messages"]] == [b["messageId"] for b in batch if b["userId"] == U][:12]
    assert got[f"{G}:{U}"]["Attributes"]["MessageDeduplicationId"].startswith("run-")
    single = got[f"{G}:{other}"]
    assert json.loads(single["Body"])["messageId"] == single["Attributes"]["MessageDeduplicationId"]


def test_a_relay_retry_of_a_request_is_dropped_by_the_queue(api, messages_queue, sqs_server):
    batch = [message(G, U, 1_300_000_000_000_000_201 + i, T) for i in range(3)]
    for _ in range(2):
        assert api.post("/api/xp/ingest/messages", {"messages": batch}, key=RELAY).status == 202
    got = _received(boto3.client("sqs", endpoint_url=sqs_server), messages_queue)
    assert len(got) == 1 and len(json.loads(got[0]["Body"])["messages"]) == 3


def test_a_members_records_stay_under_one_billing_chunk(api, messages_queue, sqs_server):
    """Messages with many roles: the member's messages are split into records of at most 64 KiB, in order."""
    roles = [str(400_000_000_000_000_000 + r) for r in range(250)]
    batch = [message(G, U, 1_300_000_000_000_000_301 + i, T, roles=roles) for i in range(30)]
    assert api.post("/api/xp/ingest/messages", {"messages": batch}, key=RELAY).status == 202
    client = boto3.client("sqs", endpoint_url=sqs_server)
    got = []
    for _ in range(10):
        got += _received(client, messages_queue)
    assert len(got) > 1 and all(len(m["Body"]) <= 64 * 1024 for m in got)
    ids = [m["messageId"] for g in got for m in json.loads(g["Body"]).get("messages", [json.loads(g["Body"])])]
    assert ids == [b["messageId"] for b in batch]


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
