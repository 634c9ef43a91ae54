"""SQS FIFO events as Lambda receives them, and the consumer handler loaded like Lambda loads it."""

from __future__ import annotations

import itertools
import json
from typing import Any

from local import REPO_ROOT, events
from local.lambdas import FakeLambdaContext, load_handler
from local.template import functions, load_template

_ids = itertools.count(1)


def message(
    guild: str,
    user: str,
    message_id: int,
    at_ms: int,
    channel: str = "300000000000000001",
    roles: list[str] | None = None,
    bot: bool = False,
) -> dict[str, Any]:
    return {
        "messageId": str(message_id),
        "guildId": guild,
        "channelId": channel,
        "userId": user,
        "roleIds": roles or [],
        "timestamp": at_ms,
        "bot": bot,
    }


def sqs_event(bodies: list[Any]) -> dict[str, Any]:
    """The ingestion FIFO queue's event for these message bodies (a body that is not a dict is sent as is)."""
    records = []
    for body in bodies:
        n = next(_ids)
        group = f"{body.get('guildId')}:{body.get('userId')}" if isinstance(body, dict) else "bad"
        attributes = {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1795400000000",
            "MessageGroupId": group,
            "MessageDeduplicationId": str(body.get("messageId")) if isinstance(body, dict) else "x",
            "SequenceNumber": str(n),
        }
        records.append(
            events.sqs_record(
                json.dumps(body),
                queue="xpshop-messages.fifo",
                message_id=f"sqs-{n}",
                receipt_handle=f"rh-{n}",
                attributes=attributes,
            )
        )
    return events.records_event(records)


def consume(bodies: list[Any]) -> dict[str, Any]:
    spec = functions(load_template())["XpConsumerFunction"]
    return load_handler(REPO_ROOT, spec)(sqs_event(bodies), FakeLambdaContext.for_function(spec))


def receive_all(queue_url: str) -> list[dict[str, Any]]:
    """Every message waiting on a (local) queue, as SQS hands them to Lambda; they are not deleted."""
    import boto3

    client = boto3.client("sqs")
    found: list[dict[str, Any]] = []
    while True:
        batch = client.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
            "Messages", []
        )
        if not batch:
            return found
        found += batch


def run_worker(received: list[dict[str, Any]], *, receive_count: int = 1) -> dict[str, Any]:
    """Deliver received messages to the Discord worker function as an SQS event (`receive_count`: which
    delivery of them this is)."""
    spec = functions(load_template())["DiscordWorkerFunction"]
    attributes = {"ApproximateReceiveCount": str(receive_count), "SentTimestamp": "1795400000000"}
    event = events.records_event(
        [events.received_record(m, queue="xpshop-interactions", attributes=attributes) for m in received]
    )
    return load_handler(REPO_ROOT, spec)(event, FakeLambdaContext.for_function(spec))
