"""Fault injection for DynamoDB: make the store's one client get an error for chosen calls.

A `before-send` handler on the client (xpshop.store.table) answers the Nth matching request itself with
DynamoDB's error, exactly as the service would send it (status, `__type`, cancellation reasons), so
botocore's retry policy, the store and the handlers see a real failure. With `lost=True` the request is
first sent to DynamoDB Local and applied there, and only then the error is answered: the write happened,
its response was lost (a 500 or a dropped connection after the server committed), which is what makes a
retry double-apply unless the write is idempotent.

    with inject(Fault("UpdateItem", THROTTLE, times=2)) as faults:
        ...
    assert faults.injected == 2
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.httpsession import URLLib3Session

THROTTLE = "ProvisionedThroughputExceededException"
THROTTLING = "ThrottlingException"
CONFLICT = "TransactionConflict"  # TransactionCanceledException (transactions) or TransactionConflictException
INTERNAL = "InternalServerError"
KINDS = (THROTTLE, THROTTLING, CONFLICT, INTERNAL)

_PREFIX = "com.amazonaws.dynamodb.v20120810#"


@dataclass
class Fault:
    """Fail `times` calls of `operation` (after letting `skip` matching calls through) with `kind`.
    `match`: only requests whose JSON body satisfies it count (e.g. the member's key in an UpdateItem).
    `lost`: the request reaches DynamoDB and only its answer is replaced; a request DynamoDB refuses (a
    condition) gets its real answer and does not count, so the fault lands on the first write applied."""

    operation: str
    kind: str
    times: int = 1
    skip: int = 0
    lost: bool = False
    match: Callable[[dict[str, Any]], bool] | None = None
    seen: int = 0
    injected: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)  # writer threads

    def wants(self, operation: str, body: dict[str, Any]) -> bool:
        if operation != self.operation or (self.match is not None and not self.match(body)):
            return False
        with self.lock:
            self.seen += 1
            if self.seen <= self.skip or self.injected >= self.times:
                return False
            self.injected += 1
            return True


@dataclass
class Injected:
    faults: list[Fault]
    calls: list[str] = field(default_factory=list)  # every operation sent, in order (retries included)

    @property
    def injected(self) -> int:
        return sum(f.injected for f in self.faults)


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def error_body(kind: str, operation: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """The status and JSON DynamoDB answers for this fault on this operation."""
    if kind == INTERNAL:
        return 500, {"__type": _PREFIX + "InternalServerError", "message": "Internal server error (injected)"}
    if kind == CONFLICT and operation == "TransactWriteItems":
        items = body.get("TransactItems", [])
        reasons = [{"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}]
        reasons += [{"Code": "None"}] * (len(items) - 1)
        message = "Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict]"
        return 400, {
            "__type": _PREFIX + "TransactionCanceledException",
            "message": message,
            "CancellationReasons": reasons,
        }
    if kind == CONFLICT:
        return 400, {"__type": _PREFIX + "TransactionConflictException", "message": "Transaction is ongoing (injected)"}
    return 400, {"__type": _PREFIX + kind, "message": f"{kind} (injected)"}


def _operation(request: Any) -> str:
    target = request.headers.get("X-Amz-Target", b"")
    target = target.decode() if isinstance(target, bytes) else str(target)
    return target.rsplit(".", 1)[-1]


def _body(request: Any) -> dict[str, Any]:
    raw = request.body
    if hasattr(raw, "read"):  # a stream: read it and put back what was read
        data = raw.read()
        raw.seek(0)
        raw = data
    if isinstance(raw, bytes):
        raw = raw.decode()
    try:
        parsed = json.loads(raw or "{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


@contextmanager
def inject(*faults: Fault) -> Iterator[Injected]:
    """The faults, on the store's clients (the resource's and the plain one Powertools' idempotency records
    use), for the duration of the block."""
    from xpshop.store.table import client, plain_client

    state = Injected(list(faults))
    emitters = [client().meta.events, plain_client().meta.events]
    session = URLLib3Session()

    def before_send(request: Any, **_: Any) -> AWSResponse | None:
        operation = _operation(request)
        state.calls.append(operation)
        body = _body(request)
        for fault in state.faults:
            if fault.wants(operation, body):
                if fault.lost:
                    answer = session.send(request)  # DynamoDB applies it; its answer never arrives
                    if answer.status_code != 200:  # refused (a condition): nothing applied, nothing to lose
                        with fault.lock:
                            fault.injected -= 1
                        return AWSResponse(request.url, answer.status_code, answer.headers, _Raw(answer.content))
                status, payload = error_body(fault.kind, operation, body)
                return AWSResponse(
                    request.url,
                    status,
                    {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "injected"},
                    _Raw(json.dumps(payload).encode()),
                )
        return None

    for events in emitters:
        events.register_first("before-send.dynamodb", before_send)
    try:
        yield state
    finally:
        for events in emitters:
            events.unregister("before-send.dynamodb", before_send)
        session.close()


def key_is(key: dict[str, str]) -> Callable[[dict[str, Any]], bool]:
    """Match a request on the item it names (Key, or Item for PutItem): `key` as xpshop.store.keys builds it."""

    def match(body: dict[str, Any]) -> bool:
        named = body.get("Key") or body.get("Item") or {}
        return all(named.get(name, {}).get("S") == value for name, value in key.items())

    return match


def nth_item(match: Callable[[dict[str, Any]], bool], skip: int) -> Callable[[dict[str, Any]], bool]:
    """Match every try of one request: the first matching one after `skip` others (its item fixed then).
    For writes sent at once from several threads (a rank plan's), where the Nth request is not always the
    same item and the requests after it are not the retries of the one refused. Use with skip=0 in Fault."""
    lock = threading.Lock()
    seen: list[str] = []

    def matches(body: dict[str, Any]) -> bool:
        if not match(body):
            return False
        item = json.dumps(body.get("Key") or body.get("Item") or {}, sort_keys=True)
        with lock:
            if len(seen) <= skip:
                seen.append(item)
            return len(seen) == skip + 1 and item == seen[skip]

    return matches
