"""The boto3 handles for the single table (endpoint from AWS_ENDPOINT_URL_DYNAMODB when set).

boto3 (with botocore's client machinery, ~100 ms of a cold start) is imported when the first handle is made,
not when the store is: importing a function costs what it needs before a request reaches DynamoDB, and a
request that never does (a 404, a refused body) does not wait for it. With SnapStart the handles are made
before the snapshot (`warm`), so a restored environment has boto3 loaded. botocore's exceptions are cheap
(~3 ms) and imported here as usual."""

from __future__ import annotations

import contextlib
import functools
import os
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from .. import retry, snapstart
from ..errors import Unavailable

# The one retry policy for DynamoDB (docs/ARCHITECTURE.md, "Retries"): botocore's standard mode, 5 attempts
# in all, for throttling, 5xx answers and lost connections; its backoff (random up to 1, 2, 4, 8 s) is
# capped at MAX_BACKOFF_SECONDS so the retries of one call end well inside the 10 s function timeout
# and the caller gets a 503 with Retry-After instead of a timeout. What botocore does not retry (a
# transaction cancelled by a conflict, a refused condition) is retried once more by the store's own loops
# (xpshop.retry), never both for the same answer. Writes that a retry could apply twice carry a write id
# (store/members.py, store/stats.py, store/config.py); transactions carry botocore's ClientRequestToken.
MAX_ATTEMPTS = 5
MAX_BACKOFF_SECONDS = 1.0
# Connections kept per client (botocore keeps 10): the import's and the rank index's writer threads (16
# each, service/imports.py and store/rank_counters.py) each keep theirs instead of reconnecting.
MAX_POOL_CONNECTIONS = 32
_THROTTLE_CODES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "LimitExceededException",
}


def table_name() -> str:
    return os.environ["TABLE_NAME"]


@functools.cache
def _boto_config() -> Any:
    from botocore.config import Config

    return Config(
        retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
        connect_timeout=2,
        read_timeout=5,
        tcp_keepalive=True,
        max_pool_connections=MAX_POOL_CONNECTIONS,
    )


@functools.cache
def _deserializer() -> Any:
    from boto3.dynamodb.types import TypeDeserializer

    return TypeDeserializer()


@functools.cache
def _resource() -> Any:
    import boto3

    resource = boto3.resource("dynamodb", config=_boto_config())
    _cap_backoff(resource.meta.client)
    return resource


def _cap_backoff(client: Any) -> None:
    """botocore's standard retry handler for this client again, as botocore builds it for the Config above
    (same conditions, attempts and retry quota), with the backoff capped at MAX_BACKOFF_SECONDS."""
    from botocore.retries import quota, standard

    name = client.meta.service_model.service_id.hyphenize()
    events = client.meta.events
    events.unregister(f"needs-retry.{name}", unique_id=f"retry-config-{name}")
    retry_quota = standard.RetryQuotaChecker(quota.RetryQuota())
    handler = standard.RetryHandler(
        retry_policy=standard.RetryPolicy(
            retry_checker=standard.StandardRetryConditions(max_attempts=MAX_ATTEMPTS),
            retry_backoff=standard.ExponentialBackoff(max_backoff=MAX_BACKOFF_SECONDS),  # type: ignore[arg-type]  # a float works (min of floats); the stubs say int
        ),
        retry_event_adapter=standard.RetryEventAdapter(),
        retry_quota=retry_quota,  # type: ignore[arg-type]  # botocore passes the checker too; the stubs say RetryQuota
    )
    events.register(f"after-call.{name}", retry_quota.release_retry_quota)
    events.register(f"needs-retry.{name}", handler.needs_retry, unique_id=f"retry-config-{name}")


def resource() -> Any:
    """The boto3 DynamoDB service resource (batch operations)."""
    return _resource()


def table() -> Any:
    """The boto3 Table resource (created once per container)."""
    return _resource().Table(table_name())


def client() -> Any:
    """The low-level client behind table(): same connection pool, same endpoint."""
    return _resource().meta.client


@functools.cache
def plain_client() -> Any:
    """A DynamoDB client that takes AttributeValues as they are (the one behind the resource converts Python
    values), with the same retry policy: for libraries that build their own requests (Powertools'
    idempotency records)."""
    import boto3

    made = boto3.client("dynamodb", config=_boto_config())
    _cap_backoff(made)
    return made


@snapstart.on_snapshot
def warm() -> None:
    """Load boto3 and make the handles (the service model is read once per process): before a snapshot. A
    handle that cannot be made yet (no region in this environment) is left to the first request."""
    with contextlib.suppress(BotoCoreError):
        client()


@snapstart.on_restore  # connections from before a snapshot are long dead when a copy resumes
def reset() -> None:
    """Forget cached handles (tests switch endpoints and tables)."""
    _resource.cache_clear()
    plain_client.cache_clear()


BATCH_GET_LIMIT = 100  # keys per BatchGetItem request
BATCH_GET_ATTEMPTS = 6  # unprocessed keys: up to 1.6 s of pauses in all, then 503


def batch_get(
    wanted: Sequence[dict[str, str]],
    *,
    consistent: bool,
    projection: str | None = None,
    names: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The items found under these keys (raw, in no particular order): one BatchGetItem per 100 keys,
    unprocessed keys retried with backoff, then 503 (storage busy) rather than a silently short answer."""
    found: list[dict[str, Any]] = []
    for start in range(0, len(wanted), BATCH_GET_LIMIT):
        spec: dict[str, Any] = {"Keys": list(wanted[start : start + BATCH_GET_LIMIT]), "ConsistentRead": consistent}
        if projection:
            spec["ProjectionExpression"] = projection
        if names:
            spec["ExpressionAttributeNames"] = names
        request: dict[str, Any] = {table_name(): spec}
        for _ in retry.attempts(BATCH_GET_ATTEMPTS, base=0.05, cap=0.8):
            resp = resource().batch_get_item(RequestItems=request)
            found += resp.get("Responses", {}).get(table_name(), [])
            request = resp.get("UnprocessedKeys") or {}
            if not request:
                break
        else:
            raise Unavailable()
    return found


def write_id() -> str:
    """A fresh id for one write: stored with it, so a retry of that same request can tell it already landed."""
    return uuid.uuid4().hex[:16]


def is_throttle(exc: BaseException) -> bool:
    return isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in _THROTTLE_CODES


# Answers worth trying again later (after botocore's own retries gave up): capacity, a conflicting
# transaction, a fault on AWS's side.
_TRANSIENT_CODES = _THROTTLE_CODES | {
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionConflictException",
    "TransactionInProgressException",
}


# A transaction's cancellation reasons name these codes for items that were not refused by a condition.
_TRANSIENT_REASONS = _TRANSIENT_CODES | {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}


def is_transient(exc: BaseException) -> bool:
    """A DynamoDB failure that a later attempt may not meet: throttling, 5xx, a conflicting transaction, a
    lost connection or timeout, or the store's own Unavailable."""
    if isinstance(exc, Unavailable | BotoConnectionError | HTTPClientError):
        return True
    if not isinstance(exc, ClientError):
        return False
    error = exc.response.get("Error", {})
    if error.get("Code") in _TRANSIENT_CODES:
        return True
    reasons = exc.response.get("CancellationReasons") or []
    return error.get("Code") == "TransactionCanceledException" and any(
        r.get("Code") in _TRANSIENT_REASONS for r in reasons
    )


def is_condition_failure(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def failed_item(exc: ClientError) -> dict[str, Any] | None:
    """The item returned by ReturnValuesOnConditionCheckFailure=ALL_OLD (low-level format on the wire)."""
    raw: Any = exc.response.get("Item")
    if not isinstance(raw, dict) or not raw:
        return None
    return {k: _deserializer().deserialize(v) for k, v in raw.items()}


def plain(value: Any) -> Any:
    """DynamoDB numbers back to int/float, recursively."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | set):
        return [plain(v) for v in value]
    return value


def to_dynamo(value: Any) -> Any:
    """Python values to what boto3 accepts (floats as Decimal), recursively."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_dynamo(v) for v in value]
    return value


def delete_prefix(partition: str, sort_prefix: str) -> int:
    """Delete every item of one partition whose sort key starts with `sort_prefix` (a Query of keys only,
    page by page, then one DeleteItem each: no function holds BatchWriteItem). Returns how many were deleted.
    Safe to run again: a second run finds nothing."""
    from .conditions import Key

    kwargs: dict[str, Any] = {
        "KeyConditionExpression": Key("PK").eq(partition) & Key("SK").begins_with(sort_prefix),
        "ProjectionExpression": "PK, SK",
    }
    deleted = 0
    while True:
        resp = table().query(**kwargs)
        for item in resp.get("Items", []):
            try:  # conditional: of two runs racing, only the one that deletes an item counts it
                table().delete_item(
                    Key={"PK": item["PK"], "SK": item["SK"]}, ConditionExpression="attribute_exists(PK)"
                )
            except ClientError as exc:
                if not is_condition_failure(exc):
                    raise
                continue
            deleted += 1
        if "LastEvaluatedKey" not in resp:
            return deleted
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
