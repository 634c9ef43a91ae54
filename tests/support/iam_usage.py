"""Which AWS actions each function really uses, recorded while the tests run its handler.

Every botocore call made while a handler loaded by `local.lambdas` runs is recorded as (function, IAM
action, partition key). At the end of the session `tests/conftest.py` checks what was seen against the
policies kept in `tests/security/iam_policies.json` (which `tests/security/test_iam_policies.py` checks
against template.yaml), so a function that starts using an action its role lacks fails the tests here,
not with AccessDenied after a deploy. Calls outside a handler (test setup) are not attributed.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from typing import Any

# Operations whose IAM action is not their own name. A transaction is authorised item by item.
_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}
_SQS_ACTIONS = {"SendMessageBatch": "SendMessage"}

_lock = threading.Lock()
# function -> action -> partition keys seen (DynamoDB; "" where a call names no partition)
seen: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
_installed = False


def install() -> None:
    """Patch botocore's client once for the process (cheap: a dict update per call)."""
    global _installed  # noqa: PLW0603 - one patch per process
    if _installed:
        return
    from botocore.client import BaseClient

    from local.lambdas import CURRENT_FUNCTION

    original = BaseClient._make_api_call

    def recording(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        function = CURRENT_FUNCTION.get()
        if function is not None:
            prefix = self.meta.service_model.endpoint_prefix
            try:
                found = _actions(prefix, operation_name, api_params)
            except Exception as exc:  # recording must never change what the call does
                found = [(f"{prefix}:{operation_name}", f"<unrecorded: {exc!r}>")]
            with _lock:
                for action, partition in found:
                    seen[function][action].add(partition)
        return original(self, operation_name, api_params)

    BaseClient._make_api_call = recording  # type: ignore[method-assign]
    _installed = True


def _actions(service: str, operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    if service == "dynamodb":
        return _dynamodb_actions(operation, params)
    if service == "sqs":
        return [(f"sqs:{_SQS_ACTIONS.get(operation, operation)}", "")]
    return [(f"{service}:{operation}", "")]


def _dynamodb_actions(operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    if operation == "TransactWriteItems":
        found = []
        for entry in params.get("TransactItems", []):
            for kind, body in entry.items():
                found.append((f"dynamodb:{_TRANSACT_ACTIONS[kind]}", _pk(body.get("Key") or body.get("Item"))))
        return found
    if operation == "TransactGetItems":
        return [("dynamodb:GetItem", _pk(entry["Get"]["Key"])) for entry in params.get("TransactItems", [])]
    if operation == "BatchGetItem":
        return [
            ("dynamodb:BatchGetItem", _pk(key))
            for request in params.get("RequestItems", {}).values()
            for key in request.get("Keys", [])
        ]
    if operation == "BatchWriteItem":
        return [
            ("dynamodb:BatchWriteItem", _pk((w.get("PutRequest") or {}).get("Item") or w["DeleteRequest"]["Key"]))
            for writes in params.get("RequestItems", {}).values()
            for w in writes
        ]
    if operation == "Query":
        return [(f"dynamodb:{operation}", _query_partition(params))]
    return [(f"dynamodb:{operation}", _pk(params.get("Key") or params.get("Item")))]


def _pk(key: dict[str, Any] | None) -> str:
    value = (key or {}).get("PK")
    if isinstance(value, dict):  # the client's wire shape {"S": "..."}
        value = value.get("S")
    return str(value or "")


_EQUALS = re.compile(r"(#?\w+)\s*=\s*(:\w+)")


INDEX_PREFIX = "index:"


def _query_partition(params: dict[str, Any]) -> str:
    """The partition a Query reads; on an index `index:<index>:<its partition value>` (the policies grant
    index queries in a statement of their own, without a LeadingKeys condition)."""
    condition = params.get("KeyConditionExpression", "")
    text = ""
    if not isinstance(condition, str):  # a boto3 condition (Key("PK").eq(...)), built into text later
        text = _condition_partition(condition)[1]
    else:
        names = params.get("ExpressionAttributeNames", {})
        values = params.get("ExpressionAttributeValues", {})
        for name, value in _EQUALS.findall(condition):
            if names.get(name, name) in ("PK", "GSI1PK"):
                raw = values.get(value)
                text = str(raw.get("S") if isinstance(raw, dict) else raw)
                break
    return f"{INDEX_PREFIX}{params['IndexName']}:{text}" if "IndexName" in params else text


def _condition_partition(condition: Any) -> tuple[str, str]:
    expression = condition.get_expression()
    if expression["operator"] == "=":
        key, value = expression["values"]
        if key.name in ("PK", "GSI1PK"):
            return key.name, str(value)
    for part in expression["values"]:
        if hasattr(part, "get_expression"):
            found = _condition_partition(part)
            if found[0]:
                return found
    return "", ""


def snapshot() -> dict[str, dict[str, set[str]]]:
    with _lock:
        return {function: {a: set(p) for a, p in actions.items()} for function, actions in seen.items()}
