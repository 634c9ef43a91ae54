"""The boto3 handles for the single table (endpoint from AWS_ENDPOINT_URL_DYNAMODB when set)."""

from __future__ import annotations

import functools
import os
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer
from botocore.config import Config
from botocore.exceptions import ClientError

_BOTO_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5},
    connect_timeout=2,
    read_timeout=5,
    tcp_keepalive=True,
)
_THROTTLE_CODES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "LimitExceededException",
}
_deserializer = TypeDeserializer()


def table_name() -> str:
    return os.environ["TABLE_NAME"]


@functools.cache
def _resource() -> Any:
    return boto3.resource("dynamodb", config=_BOTO_CONFIG)


def resource() -> Any:
    """The boto3 DynamoDB service resource (batch operations)."""
    return _resource()


def table() -> Any:
    """The boto3 Table resource (created once per container)."""
    return _resource().Table(table_name())


def client() -> Any:
    """The low-level client behind table(): same connection pool, same endpoint."""
    return _resource().meta.client


def reset() -> None:
    """Forget cached handles (tests switch endpoints and tables)."""
    _resource.cache_clear()


def is_throttle(exc: BaseException) -> bool:
    return isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in _THROTTLE_CODES


def is_condition_failure(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def failed_item(exc: ClientError) -> dict[str, Any] | None:
    """The item returned by ReturnValuesOnConditionCheckFailure=ALL_OLD (low-level format on the wire)."""
    raw: Any = exc.response.get("Item")
    if not isinstance(raw, dict) or not raw:
        return None
    return {k: _deserializer.deserialize(v) for k, v in raw.items()}


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
