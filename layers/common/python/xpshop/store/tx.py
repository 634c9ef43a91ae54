"""TransactWriteItems with the resource-level types: build items, run them, say which guard failed.

Every multi-item rule of the shop (buy, redeem, link, rename, ...) is one call to `write_guarded`, so
either all of its items are written or none is; each item is paired with the name of its guard
(store.guards), and a refusal raises GuardFailed naming the items whose condition did not hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from .. import retry
from ..errors import Unavailable
from .guards import Guard, GuardFailed
from .table import client, table_name

# An item with the guard its condition stands for (None: no condition, or one nobody needs to name).
Guarded = tuple[Guard | None, dict[str, Any]]

# The client behind the Table resource converts Python values to AttributeValues itself, so the items
# here hold plain values, like every other call in the store.


def _with_expressions(
    op: dict[str, Any], condition: str | None, names: dict[str, str] | None, values: dict[str, Any] | None
) -> dict[str, Any]:
    if condition:
        op["ConditionExpression"] = condition
    if names:
        op["ExpressionAttributeNames"] = names
    if values:
        op["ExpressionAttributeValues"] = values
    op["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    return op


def put(
    item: dict[str, Any],
    condition: str | None = None,
    names: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    op = {"TableName": table_name(), "Item": item}
    return {"Put": _with_expressions(op, condition, names, values)}


def update(
    key: dict[str, str],
    expression: str,
    condition: str | None = None,
    names: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    op = {"TableName": table_name(), "Key": key, "UpdateExpression": expression}
    return {"Update": _with_expressions(op, condition, names, values)}


def delete(
    key: dict[str, str],
    condition: str | None = None,
    names: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    op = {"TableName": table_name(), "Key": key}
    return {"Delete": _with_expressions(op, condition, names, values)}


def check(
    key: dict[str, str], condition: str, names: dict[str, str] | None = None, values: dict[str, Any] | None = None
) -> dict[str, Any]:
    op = {"TableName": table_name(), "Key": key}
    return {"ConditionCheck": _with_expressions(op, condition, names, values)}


@dataclass
class Cancelled(Exception):
    """The transaction was refused: `reasons[i]` is the code for item i ("None" when that item was fine)."""

    reasons: list[str]

    def failed(self, index: int) -> bool:
        return index < len(self.reasons) and self.reasons[index] == "ConditionalCheckFailed"


def write(items: list[dict[str, Any]], token: str | None = None) -> None:
    """Run one TransactWriteItems; retry (with jitter) only when it collided with another transaction."""
    kwargs: dict[str, Any] = {"TransactItems": items}
    if token:
        kwargs["ClientRequestToken"] = token
    for _ in retry.attempts():
        try:
            client().transact_write_items(**kwargs)
            return
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = [r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])]
            if "ConditionalCheckFailed" in reasons or not any(
                r in ("TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded") for r in reasons
            ):
                raise Cancelled(reasons) from exc
    raise Unavailable("Too many concurrent changes to the same items; retry shortly")


def write_guarded(items: Sequence[Guarded], token: str | None = None) -> None:
    """`write` the items; a refusal raises GuardFailed naming the guards of the items that failed."""
    try:
        write([item for _, item in items], token)
    except Cancelled as exc:
        raise GuardFailed(guard for i, (guard, _) in enumerate(items) if guard and exc.failed(i)) from exc
