"""Lambda events as AWS delivers them, built in one place for `local/`, `tests/` and `bench/`: API Gateway
HTTP API (payload 2.0) requests, signed Discord interaction requests, SQS records and DynamoDB stream records.
"""

from __future__ import annotations

import base64
import json
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nacl.signing import SigningKey

from local.lambdas import ACCOUNT_ID, REGION

STAGE = "$default"
INTERACTIONS_PATH = "/discord/interactions"

Event = dict[str, Any]


# ---------------------------------------------------------------- API Gateway HTTP API (payload 2.0)


def http_api_event(
    method: str,
    path: str,
    *,
    headers: dict[str, str],
    body: str | bytes | None = None,
    base64_body: bool = False,
    route_key: str | None = None,
    raw_query: str = "",
    query: dict[str, str] | None = None,
    cookies: list[str] | None = None,
    path_parameters: dict[str, str] | None = None,
    http: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
) -> Event:
    """An HTTP API request event. `route_key` defaults to "<METHOD> <path>"; `http` adds to
    requestContext.http (protocol, sourceIp...), `context` to requestContext (requestId, time...). A bytes
    body is sent as text, or base64-encoded when `base64_body`."""
    route_key = route_key or f"{method} {path}"
    event: Event = {"version": "2.0", "routeKey": route_key, "rawPath": path, "rawQueryString": raw_query}
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = {
        **(context or {}),
        "http": {"method": method, "path": path, **(http or {})},
        "routeKey": route_key,
        "stage": STAGE,
    }
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body is not None:
        if isinstance(body, bytes):
            body = base64.b64encode(body).decode("ascii") if base64_body else body.decode("utf-8")
        event["body"] = body
    event["isBase64Encoded"] = base64_body
    return event


def signature_headers(key: SigningKey, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """Discord's request signature headers: Ed25519 over timestamp + body (`timestamp` defaults to now)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = key.sign(ts.encode() + body).signature.hex()
    return {"x-signature-ed25519": signature, "x-signature-timestamp": ts}


def interaction_event(
    body: bytes, headers: dict[str, str], *, base64_body: bool = False, source_ip: str | None = None
) -> Event:
    """POST /discord/interactions as the webhook receives it (`headers` carry the signature)."""
    http = {"sourceIp": source_ip} if source_ip else None
    return http_api_event("POST", INTERACTIONS_PATH, headers=headers, body=body, base64_body=base64_body, http=http)


def signed_interaction_event(key: SigningKey, payload: dict[str, Any], timestamp: int | None = None) -> Event:
    """An interaction payload sent compact, as Discord does, signed by `key` at `timestamp` (default now)."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = {"content-type": "application/json", **signature_headers(key, body, timestamp), "host": "localhost"}
    return interaction_event(body, headers, source_ip="127.0.0.1")


# ---------------------------------------------------------------- SQS


def queue_arn(queue: str) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{queue}"


def sqs_record(
    body: str, *, queue: str, message_id: str, receipt_handle: str, attributes: dict[str, str], md5: str = ""
) -> Event:
    """One record of an SQS event."""
    return {
        "messageId": message_id,
        "receiptHandle": receipt_handle,
        "body": body,
        "attributes": attributes,
        "messageAttributes": {},
        "md5OfBody": md5,
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn(queue),
        "awsRegion": REGION,
    }


def received_record(message: dict[str, Any], *, queue: str, attributes: dict[str, str] | None = None) -> Event:
    """The record for a message as boto3's ReceiveMessage returns it (`attributes`: in place of its own)."""
    return sqs_record(
        message["Body"],
        queue=queue,
        message_id=message["MessageId"],
        receipt_handle=message["ReceiptHandle"],
        attributes=message.get("Attributes", {}) if attributes is None else attributes,
        md5=message.get("MD5OfBody", ""),
    )


def records_event(records: list[Event]) -> Event:
    """What a queue or stream consumer receives: {"Records": [...]}."""
    return {"Records": records}


# ---------------------------------------------------------------- DynamoDB streams


def stream_arn(table: str, label: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{table}/stream/{label}"


def stream_record(
    event_name: str | None,
    dynamodb: dict[str, Any],
    *,
    event_id: str | None,
    table: str,
    label: str,
    event_version: str = "1.1",
    region: str = REGION,
) -> Event:
    """One record of a DynamoDB stream event (`dynamodb`: Keys, images, SequenceNumber...)."""
    return {
        "eventID": event_id,
        "eventName": event_name,
        "eventVersion": event_version,
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn(table, label),
    }
