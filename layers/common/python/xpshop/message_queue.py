"""The queue between the ingestion endpoint and the message consumer (SQS FIFO).

One message group per member (`<guild>:<user>`), so a member's messages are consumed in order, and the
Discord message id as deduplication id, so a relay retry within five minutes is dropped by SQS itself
(the consumer's `lastMessageId` guard covers any later redelivery). A record the consumer can never apply
is set aside on the dead-letter queue by the consumer itself (`dead_letter`), so it blocks its group once.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Callable, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from . import snapstart
from .errors import Unavailable

BATCH = 10  # SendMessageBatch's limit
BATCH_BYTES = 240_000  # under SendMessageBatch's 256 KiB for all its entries together
RECORD_BYTES = 60_000  # a member's messages per record: under one 64 KiB billing chunk
RUN_KIND = "messages"  # a record holding several messages of one member (api.xp.member_events.MessageRun)
MAX_REASON = 1000  # characters of the error kept with a dead-lettered record


@functools.cache
def _client() -> Any:
    import boto3  # on first use, like the table's handles (xpshop.store.table)
    from botocore.config import Config

    return boto3.client("sqs", config=Config(retries={"mode": "standard", "max_attempts": 5}))


@snapstart.on_restore
def reset() -> None:
    _client.cache_clear()


def send(events: Sequence[dict[str, Any]]) -> int:
    """Queue message events (dicts with messageId, guildId, userId, ...); returns how many were accepted.

    A member's messages of the call go as one record (in their order; several when they exceed one 64 KiB
    billing chunk), so the consumer counts them with one write and SQS bills one request for them; a member
    with one message gets the single-message record every deploy reads. The deduplication id of a record of
    several is a digest of its message ids: a relay retry of the same request is dropped by SQS again."""
    by_member: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for e in events:
        by_member.setdefault((str(e["guildId"]), str(e["userId"])), []).append(e)
    records: list[dict[str, Any]] = []
    for messages in by_member.values():
        records += _runs(messages)
    _send_fifo(records, _dedup_id)
    return len(events)


def _runs(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One member's messages as records of at most RECORD_BYTES each: a single message as itself."""
    chunks: list[list[dict[str, Any]]] = [[]]
    size = 0
    for m in messages:
        n = len(json.dumps(m, separators=(",", ":"))) + 1
        if chunks[-1] and size + n > RECORD_BYTES:
            chunks.append([])
            size = 0
        chunks[-1].append(m)
        size += n
    return [c[0] if len(c) == 1 else {"kind": RUN_KIND, "messages": c, **_member(c[0])} for c in chunks]


def _member(message: dict[str, Any]) -> dict[str, Any]:
    return {"guildId": message["guildId"], "userId": message["userId"]}  # the record's group


def _dedup_id(record: dict[str, Any]) -> str:
    if record.get("kind") != RUN_KIND:
        return str(record["messageId"])
    ids = ",".join(str(m["messageId"]) for m in record["messages"])
    return "run-" + hashlib.sha256(ids.encode()).hexdigest()[:64]


def send_member_events(events: Sequence[dict[str, Any]]) -> int:
    """Queue member events (a leave or a ban: dicts with kind, eventId, guildId, userId, ...) on the same
    queue, in the member's group (after their earlier messages), deduplicated by event id (prefixed, so an
    event id can never collide with a message id)."""
    return _send_fifo(events, lambda e: f"member-{e['eventId']}")


def _send_fifo(events: Sequence[dict[str, Any]], dedup_id: Callable[[dict[str, Any]], str]) -> int:
    queue_url = os.environ.get("MESSAGES_QUEUE_URL", "")
    if not queue_url:
        raise Unavailable("The message queue is not configured")
    bodies = [json.dumps(e, separators=(",", ":")) for e in events]
    start = 0
    while start < len(events):
        end, size = start, 0
        while end < len(events) and end - start < BATCH and (end == start or size + len(bodies[end]) <= BATCH_BYTES):
            size += len(bodies[end])
            end += 1
        entries = [
            {
                "Id": str(i),
                "MessageBody": bodies[start + i],
                "MessageGroupId": f"{e['guildId']}:{e['userId']}",
                "MessageDeduplicationId": dedup_id(e),
            }
            for i, e in enumerate(events[start:end])
        ]
        start = end
        resp = _client().send_message_batch(QueueUrl=queue_url, Entries=entries)
        if resp.get("Failed"):
            # The relay retries the whole request: what was queued already is deduplicated by its id.
            raise Unavailable(f"The queue refused {len(resp['Failed'])} message(s); retry")
    return len(events)


def dead_letter(body: str, *, group_id: str, dedup_id: str, reason: str) -> None:
    """Put a record the consumer cannot apply on the messages' dead-letter queue, unchanged (it can be
    redriven once fixed), with why. A FIFO queue gets the member's group and the SQS message id as
    deduplication id (a retry of this step is dropped). Raises Unavailable when the queue cannot take it:
    the record then fails and SQS retries it (its redrive policy still ends at the same queue)."""
    queue_url = os.environ.get("MESSAGES_DLQ_URL", "")
    if not queue_url:
        raise Unavailable("The dead-letter queue is not configured")
    text = "".join(c if c.isprintable() else "?" for c in reason)[:MAX_REASON] or "unknown"
    params: dict[str, Any] = {
        "QueueUrl": queue_url,
        "MessageBody": body,
        "MessageAttributes": {"reason": {"DataType": "String", "StringValue": text}},
    }
    if queue_url.endswith(".fifo"):
        params.update(MessageGroupId=group_id, MessageDeduplicationId=dedup_id)
    try:
        _client().send_message(**params)
    except (ClientError, BotoCoreError) as exc:
        raise Unavailable("The dead-letter queue refused the record; retry") from exc


def enqueue_import(chunks: Sequence[dict[str, Any]]) -> None:
    """Queue an import job's chunks for the import worker (standard SQS queue, one message per chunk).
    Raises Unavailable when the queue is not configured or refuses a message."""
    queue_url = os.environ.get("IMPORT_QUEUE_URL", "")
    if not queue_url:
        raise Unavailable("The import queue is not configured")
    for start in range(0, len(chunks), BATCH):
        entries = [
            {"Id": str(i), "MessageBody": json.dumps(c, separators=(",", ":"))}
            for i, c in enumerate(chunks[start : start + BATCH])
        ]
        resp = _client().send_message_batch(QueueUrl=queue_url, Entries=entries)
        if resp.get("Failed"):
            raise Unavailable(f"The import queue refused {len(resp['Failed'])} message(s); retry")


def defer_interaction(interaction: dict[str, Any]) -> None:
    """Hand a deferred interaction to the worker (standard SQS queue): the webhook has already answered
    "thinking" and the worker edits that answer. Raises Unavailable when the queue is unreachable."""
    queue_url = os.environ.get("INTERACTIONS_QUEUE_URL", "")
    if not queue_url:
        raise Unavailable("The interactions queue is not configured")
    try:
        _client().send_message(QueueUrl=queue_url, MessageBody=json.dumps(interaction, separators=(",", ":")))
    except Exception as exc:  # the webhook must still answer Discord within 3 s
        raise Unavailable("The interactions queue refused the work; retry") from exc
