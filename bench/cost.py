"""What it costs to run: dollars per million relayed messages and per million API calls, from MEASURED
request counts.

The real code paths run in-process against DynamoDB Local and a local SQS FIFO queue (moto), the way the
deployed stack chains them:

- messages: the relay's `POST /api/xp/ingest/messages` (ingest function, one `SendMessageBatch` per 10) ->
  the queue -> the consumer, fed like Lambda's SQS event source does it (`ReceiveMessage` of up to 10, the
  invocation, `DeleteMessageBatch` of what succeeded) -> the member writes -> the table's stream -> the rank
  index and the level-up effects functions, in batches as template.yaml's event source mappings cut them;
- API calls: a stated mix (award, member read, leaderboard page, rank, shop buy), each through the local API
  Gateway emulation, plus whatever the stream functions do after it.

Every DynamoDB request and its consumed capacity is counted with botocore hooks the way bench's `Meter` does it
(asking for the capacity by table and index), every SQS
request with its payload (billed per 64 KB chunk), every Lambda invocation with its thread CPU time, DynamoDB
and SQS requests and log bytes. Nothing is hard-coded about how many requests an operation makes: rerun after a
change and the model follows. Then `PRICES` (dated, editable, sources in `SOURCES`) turns the counts into
dollars. Lambda duration cannot be measured here (no Lambda): it is estimated per invocation from the measured
CPU time scaled to the function's memory share of a vCPU, plus a stated latency per AWS request
(`DurationModel`), and billed rounded up to 1 ms.

    python -m bench.cost [--members 10000] [--messages 600] [--repeat 20] [--no-write]

A benchmark, not a test: nothing here asserts anything. The arithmetic is tested in tests/unit/test_cost.py.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import math
import os
import random
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from local import REPO_ROOT

HEADING = "## Cost to run"
OUTPUT = REPO_ROOT / "docs" / "PERFORMANCE.md"
GUILD = "900000000000000777"
FIRST_USER = 910000000000000000
MILLION = 1_000_000


# ---------------------------------------------------------------- prices (editable, dated, sourced)


@dataclass(frozen=True)
class Prices:
    """AWS list prices, us-east-1, on-demand, without free tiers. Believed current as of `as_of`; edit here."""

    as_of: str = "2025-01 (after DynamoDB's 2024-11-01 on-demand price cut); checked 2026-12-01 where noted"
    http_api_per_million: float = 1.00  # first 300M requests/month; $0.90 above
    http_api_increment_bytes: int = 512 * 1024  # an HTTP API request is metered per 512 KB
    lambda_requests_per_million: float = 0.20
    lambda_arm_gb_second: float = 0.0000133334  # first 7.5B GB-s/month
    lambda_x86_gb_second: float = 0.0000166667
    sqs_fifo_per_million: float = 0.50  # send, receive, delete, change visibility
    sqs_standard_per_million: float = 0.40
    sqs_chunk_bytes: int = 64 * 1024  # each 64 KB chunk of a request's payload is billed as one request
    ddb_write_unit_per_million: float = 0.625
    ddb_read_unit_per_million: float = 0.125
    ddb_storage_gb_month: float = 0.25
    ddb_pitr_gb_month: float = 0.20
    logs_ingest_gb: float = 0.50
    alarm_month: float = 0.10  # standard-resolution metric alarm
    dashboard_month: float = 3.00  # beyond the 3 the always-free tier covers


PRICES = Prices()

# (what, figure, source, checked how)
SOURCES: list[tuple[str, str, str, str]] = [
    (
        "API Gateway HTTP API",
        "$1.00 per million (first 300M), metered per 512 KB",
        "aws.amazon.com/api-gateway/pricing",
        "verified: AWS whitepaper 'Best Practices for API Gateway Private APIs', cost optimization table",
    ),
    (
        "Lambda arm64 duration",
        "$0.0000133334 per GB-s",
        "aws.amazon.com/lambda/pricing",
        "verified against a third-party price table citing it (artillery lambda prices.js: arm64 1333340e-11)",
    ),
    (
        "Lambda requests",
        "$0.20 per million",
        "aws.amazon.com/lambda/pricing",
        "partly: the pricing page's Managed Instances request charge reads $0.20/M; the Functions line not seen",
    ),
    (
        "SQS FIFO requests",
        "$0.50 per million, 64 KB chunks",
        "aws.amazon.com/sqs/pricing",
        "third-party pages only (2026 SQS pricing guides); not on an AWS page",
    ),
    (
        "DynamoDB on-demand",
        "$0.625 per million WRU, $0.125 per million RRU",
        "aws.amazon.com/dynamodb/pricing/on-demand",
        "third-party pages only (the 2024-11 50% cut); the AWS page's numbers are not in its text",
    ),
    (
        "DynamoDB Streams read by Lambda triggers",
        "free (GetRecords by a Lambda event source mapping)",
        "aws.amazon.com/dynamodb/pricing/on-demand",
        "not verified here",
    ),
    (
        "CloudWatch Logs ingestion",
        "$0.50 per GB (standard class)",
        "aws.amazon.com/cloudwatch/pricing",
        "third-party pages only",
    ),
    (
        "CloudWatch alarms, dashboards",
        "$0.10 per alarm-month, $3 per dashboard-month beyond 3",
        "aws.amazon.com/cloudwatch/pricing",
        "not verified here",
    ),
    (
        "DynamoDB storage, PITR",
        "$0.25 and $0.20 per GB-month",
        "aws.amazon.com/dynamodb/pricing/on-demand",
        "not verified here",
    ),
]


# ---------------------------------------------------------------- the arithmetic (tests/unit/test_cost.py)

TRANSACTIONAL = frozenset({"TransactWriteItems", "TransactGetItems"})
READS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"})


def billed_ms(duration_ms: float) -> int:
    """Lambda bills duration rounded up to the next millisecond (at least 1)."""
    return max(1, math.ceil(duration_ms - 1e-9))


def gb_seconds(memory_mb: int, duration_ms: float) -> float:
    """GB-seconds of one invocation: configured memory (MB / 1024) x billed duration."""
    return memory_mb / 1024 * billed_ms(duration_ms) / 1000


def lambda_dollars(
    memory_mb: int, architecture: str, duration_ms: float, prices: Prices = PRICES
) -> tuple[float, float]:
    """(request, compute) dollars of one invocation."""
    rate = prices.lambda_arm_gb_second if architecture == "arm64" else prices.lambda_x86_gb_second
    return prices.lambda_requests_per_million / MILLION, gb_seconds(memory_mb, duration_ms) * rate


def sqs_billed_requests(payload_bytes: int, prices: Prices = PRICES) -> int:
    """An SQS request is billed once per 64 KB chunk of its payload (at least once)."""
    return max(1, math.ceil(payload_bytes / prices.sqs_chunk_bytes))


def http_api_billed_requests(payload_bytes: int, prices: Prices = PRICES) -> int:
    """An HTTP API request is metered per 512 KB of request and response (at least once)."""
    return max(1, math.ceil(payload_bytes / prices.http_api_increment_bytes))


def request_units(api: str, table_units: float | None, index_units: float, items: int) -> float:
    """The write or read request units DynamoDB bills for one request, from the capacity the endpoint reported
    (ReturnConsumedCapacity=INDEXES: the table's part and the indexes' part) and the request's item count.

    Transactions bill two units per item (1 KB writes, 4 KB reads). DynamoDB Local is not consistent about it
    (measured, 3.x: a TransactWriteItems of two new 1 KB puts reports 2.0 where AWS bills 4; one of an update
    reports it doubled), so a transaction's table part is at least 2 per item. Any other request bills at
    least `request_floor`: a failed conditional write reports nothing but AWS bills the write, and a
    BatchGetItem of missing keys reports 0.5 for the request where AWS bills 0.5 per key. Index writes are
    billed as reported (Local doubles those made by a transaction)."""
    table = float(table_units or 0.0)
    floor = 2.0 * items if api in TRANSACTIONAL else request_floor(api, items)
    return max(table, floor) + index_units


def request_floor(api: str, items: int, *, consistent: bool = False) -> float:
    """The least a non-transactional request is billed: a read 0.5 RRU per item (1 when strongly consistent),
    a write 1 WRU per item."""
    if api in ("GetItem", "BatchGetItem", "Query", "Scan"):
        return (1.0 if consistent else 0.5) * max(1, items)
    if api in ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"):
        return 1.0 * max(1, items)
    return 0.0


def request_items(api: str, params: dict[str, Any]) -> int:
    """How many items a request reads or writes (keys of a batch, actions of a transaction; 1 otherwise)."""
    if api in TRANSACTIONAL:
        return len(params.get("TransactItems", []))
    if api == "BatchGetItem":
        return sum(len(spec.get("Keys", [])) for spec in params.get("RequestItems", {}).values())
    if api == "BatchWriteItem":
        return sum(len(items) for items in params.get("RequestItems", {}).values())
    return 1


@dataclass
class Usage:
    """Billable quantities of some work (a message, an API call, a month): add, scale, price."""

    api_requests: float = 0.0  # billed HTTP API requests
    lambda_requests: float = 0.0
    gb_s_arm: float = 0.0
    gb_s_x86: float = 0.0
    sqs_fifo: float = 0.0  # billed SQS FIFO requests (64 KB chunks)
    sqs_standard: float = 0.0
    rru: float = 0.0
    wru: float = 0.0
    log_bytes: float = 0.0

    def add_invocation(self, memory_mb: int, architecture: str, duration_ms: float) -> None:
        self.lambda_requests += 1
        if architecture == "arm64":
            self.gb_s_arm += gb_seconds(memory_mb, duration_ms)
        else:
            self.gb_s_x86 += gb_seconds(memory_mb, duration_ms)

    def __add__(self, other: Usage) -> Usage:
        return Usage(**{k: getattr(self, k) + getattr(other, k) for k in self.__dataclass_fields__})

    def scaled(self, factor: float) -> Usage:
        return Usage(**{k: getattr(self, k) * factor for k in self.__dataclass_fields__})


SERVICES = (
    "API Gateway",
    "Lambda requests",
    "Lambda compute",
    "SQS",
    "DynamoDB writes",
    "DynamoDB reads",
    "DynamoDB Streams",
    "CloudWatch Logs",
)


def dollars(usage: Usage, prices: Prices = PRICES) -> dict[str, float]:
    """Dollars by service. Stream reads by the Lambda triggers are free (GetRecords from an event source
    mapping is not billed), so DynamoDB Streams is always 0 here."""
    return {
        "API Gateway": usage.api_requests * prices.http_api_per_million / MILLION,
        "Lambda requests": usage.lambda_requests * prices.lambda_requests_per_million / MILLION,
        "Lambda compute": usage.gb_s_arm * prices.lambda_arm_gb_second + usage.gb_s_x86 * prices.lambda_x86_gb_second,
        "SQS": (usage.sqs_fifo * prices.sqs_fifo_per_million + usage.sqs_standard * prices.sqs_standard_per_million)
        / MILLION,
        "DynamoDB writes": usage.wru * prices.ddb_write_unit_per_million / MILLION,
        "DynamoDB reads": usage.rru * prices.ddb_read_unit_per_million / MILLION,
        "DynamoDB Streams": 0.0,
        "CloudWatch Logs": usage.log_bytes / 1e9 * prices.logs_ingest_gb,
    }


@dataclass(frozen=True)
class DurationModel:
    """How long an invocation would run on Lambda, from what it did here (stated assumptions, editable).

    CPU: Lambda gives a function a share of a vCPU proportional to its memory (a full vCPU at 1,769 MB), so
    CPU time measured on one core here is stretched by 1769 / memory below that; `cpu_speed` is Lambda's arm64
    core against this machine's (assumed equal). Waiting: each DynamoDB request `ddb_ms`, each SQS request
    `sqs_ms` (same-region round trips, typical single-digit / low double-digit ms), plus `overhead_ms` per
    invocation (runtime API, event parsing outside the handler)."""

    ddb_ms: float = 6.0
    sqs_ms: float = 12.0
    overhead_ms: float = 2.0
    full_vcpu_mb: int = 1769
    cpu_speed: float = 1.0

    def duration_ms(self, memory_mb: int, cpu_ms: float, ddb_requests: int, sqs_requests: int) -> float:
        stretch = max(1.0, self.full_vcpu_mb / memory_mb) / self.cpu_speed
        return cpu_ms * stretch + ddb_requests * self.ddb_ms + sqs_requests * self.sqs_ms + self.overhead_ms


DURATION = DurationModel()

# Log lines that are not the handler's own (stated, not measured): Lambda's START/END/REPORT platform lines
# (text format, ~350 bytes an invocation) and the HTTP API's access log line (the template's JSON format,
# ~260 bytes a request).
PLATFORM_LOG_BYTES = 350
ACCESS_LOG_BYTES = 260


# ---------------------------------------------------------------- counting


class CapacityMeter:
    """DynamoDB requests by API and the request units AWS would bill (see `request_units`), via botocore hooks
    as bench's `Meter` counts them, but asking for the capacity by table and index (INDEXES) so index writes
    and transactions can be told apart."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.rru = 0.0
        self.wru = 0.0
        self.index_wru = 0.0

    def attach(self, client: Any) -> None:
        client.meta.events.register("provide-client-params.dynamodb.*", self._ask)
        client.meta.events.register("after-call.dynamodb.*", self._capacity)

    @staticmethod
    def _ask(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if "ReturnConsumedCapacity" in model.input_shape.members:
            params["ReturnConsumedCapacity"] = "INDEXES"
        context["cost_items"] = request_items(model.name, params)
        context["cost_consistent"] = bool(params.get("ConsistentRead"))

    def _capacity(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        self.calls[model.name] += 1
        consumed = parsed.get("ConsumedCapacity")
        entries = consumed if isinstance(consumed, list) else [consumed] if consumed else []
        table = sum(float((e.get("Table") or {}).get("CapacityUnits", e.get("CapacityUnits", 0)) or 0) for e in entries)
        indexes = sum(
            float(i.get("CapacityUnits", 0) or 0)
            for e in entries
            for group in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes")
            for i in (e.get(group) or {}).values()
        )
        items = int(context.get("cost_items", 1))
        if model.name not in TRANSACTIONAL and context.get("cost_consistent") and model.name in READS:
            table = max(table, request_floor(model.name, items, consistent=True))
        units = request_units(model.name, table if entries else None, indexes, items)
        if model.name in READS:
            self.rru += units
        else:
            self.wru += units
            self.index_wru += indexes

    def total(self) -> int:
        return sum(self.calls.values())


class QueueMeter:
    """SQS requests by API, billed per 64 KB chunk of payload. Empty receives are left out: they are the
    event source's idle polling, priced once a month in the fixed costs."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.fifo = 0.0
        self.standard = 0.0

    def attach(self, client: Any) -> None:
        client.meta.events.register("provide-client-params.sqs.*", self._payload)
        client.meta.events.register("after-call.sqs.*", self._count)

    @staticmethod
    def _payload(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        entries = params.get("Entries") or ([params] if "MessageBody" in params else [])
        size = 0
        for e in entries:
            size += len(str(e.get("MessageBody", "")).encode())
            for name, attr in (e.get("MessageAttributes") or {}).items():
                size += len(name) + len(str(attr.get("DataType", ""))) + len(str(attr.get("StringValue", "")).encode())
        context["cost_payload"] = size
        context["cost_fifo"] = str(params.get("QueueUrl", "")).endswith(".fifo")

    def _count(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        size = int(context.get("cost_payload", 0))
        if model.name == "ReceiveMessage":
            messages = parsed.get("Messages") or []
            if not messages:
                return
            size = sum(len(str(m.get("Body", "")).encode()) for m in messages)
        self.calls[model.name] += 1
        if context.get("cost_fifo"):
            self.fifo += sqs_billed_requests(size)
        else:
            self.standard += sqs_billed_requests(size)

    def total(self) -> int:
        return sum(self.calls.values())


class CountingStream(io.TextIOBase):
    """Stands in for stdout while handlers run: counts the bytes they log (Powertools JSON lines, EMF metric
    lines) and drops them."""

    def __init__(self) -> None:
        self.bytes = 0

    def write(self, text: str) -> int:
        self.bytes += len(text.encode())
        return len(text)

    def writable(self) -> bool:
        return True


@dataclass
class Invocation:
    function: str
    memory_mb: int
    architecture: str
    cpu_ms: float
    wall_ms: float
    ddb_requests: int
    sqs_requests: int
    log_bytes: int
    records: int
    wru: float
    rru: float
    level_ups: int = 0  # stream records in the event that changed a member's level

    @property
    def duration_ms(self) -> float:
        return DURATION.duration_ms(self.memory_mb, self.cpu_ms, self.ddb_requests, self.sqs_requests)


@dataclass
class Recorder:
    """Calls handlers like Lambda does (lambdas.invoke) and records what each invocation did."""

    specs: dict[str, Any]
    architectures: dict[str, str]
    ddb: CapacityMeter
    sqs: QueueMeter
    logs: CountingStream
    invocations: list[Invocation] = field(default_factory=list)
    api_requests: float = 0.0

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        from local import lambdas

        spec = self.specs[logical_id]
        before = (self.ddb.total(), self.sqs.total(), self.logs.bytes, self.ddb.wru, self.ddb.rru)
        cpu, wall = time.thread_time(), time.perf_counter()
        result = lambdas.invoke(REPO_ROOT, spec, event)
        cpu, wall = (time.thread_time() - cpu) * 1000, (time.perf_counter() - wall) * 1000
        self.invocations.append(
            Invocation(
                logical_id,
                spec.memory_size,
                self.architectures.get(logical_id, "x86_64"),
                cpu,
                wall,
                self.ddb.total() - before[0],
                self.sqs.total() - before[1],
                self.logs.bytes - before[2],
                len(event.get("Records", [])) if isinstance(event.get("Records"), list) else 0,
                self.ddb.wru - before[3],
                self.ddb.rru - before[4],
                level_ups(event) if logical_id == "EffectsFunction" else 0,
            )
        )
        return result

    def snapshot(self) -> Usage:
        """Everything recorded so far, as billable usage."""
        usage = Usage(
            api_requests=self.api_requests,
            sqs_fifo=self.sqs.fifo,
            sqs_standard=self.sqs.standard,
            rru=self.ddb.rru,
            wru=self.ddb.wru,
            log_bytes=self.api_requests * ACCESS_LOG_BYTES,
        )
        for inv in self.invocations:
            usage.add_invocation(inv.memory_mb, inv.architecture, inv.duration_ms)
            usage.log_bytes += inv.log_bytes + PLATFORM_LOG_BYTES
        return usage

    def reset(self) -> None:
        self.invocations.clear()
        self.api_requests = 0.0
        self.ddb.calls.clear()
        self.ddb.rru = self.ddb.wru = self.ddb.index_wru = 0.0
        self.sqs.calls.clear()
        self.sqs.fifo = self.sqs.standard = 0.0


def level_ups(event: dict[str, Any]) -> int:
    """Stream records of a batch whose member level changed (what the effects function acts on)."""
    changed = 0
    for record in event.get("Records") or []:
        images = record.get("dynamodb") or {}
        old = ((images.get("OldImage") or {}).get("level") or {}).get("N")
        new = ((images.get("NewImage") or {}).get("level") or {}).get("N")
        changed += old is not None and new is not None and old != new
    return changed


def architectures(template: dict[str, Any]) -> dict[str, str]:
    """Each function's architecture (Globals, then its own `Architectures`)."""
    default = ((template.get("Globals") or {}).get("Function") or {}).get("Architectures") or ["x86_64"]
    out = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        if resource.get("Type") == "AWS::Serverless::Function":
            own = (resource.get("Properties") or {}).get("Architectures") or default
            out[logical_id] = str(own[0])
    return out


def event_batch(template: dict[str, Any], logical_id: str, kind: str) -> dict[str, Any]:
    """The properties of a function's event source of `kind` (SQS, DynamoDB) in template.yaml."""
    props = template["Resources"][logical_id]["Properties"]
    for event in (props.get("Events") or {}).values():
        if event.get("Type") == kind:
            return dict(event.get("Properties") or {})
    return {}


# ---------------------------------------------------------------- the stack


@dataclass
class Stack:
    api: Any
    recorder: Recorder
    pollers: list[Any]
    queue_client: Any
    queue_url: str
    template: dict[str, Any]
    ddb_endpoint: str


@contextmanager
def local_stack(template: dict[str, Any]) -> Iterator[Stack]:
    """DynamoDB Local with the table, the message queue on a local SQS server (no poller: this module feeds the
    consumer itself), the API emulation and the stream pollers, every handler call going through a Recorder."""
    from bench.__main__ import ADMIN_KEY, TABLE
    from local.ddb import DynamoDBLocal
    from local.dev import configure_environment
    from local.queue import DEAD_LETTER_QUEUE_NAME, QUEUE_NAME, LocalQueue, QueueSpec
    from local.server import LocalApi
    from local.stream import EFFECTS, RANK_INDEX, StreamPoller, filters_of, retries_of
    from local.template import cors_configuration, create_table, functions, http_routes

    logs = CountingStream()
    saved_stdout = sys.stdout
    with DynamoDBLocal() as ddb:
        create_table(ddb.client(), template, TABLE)
        configure_environment(ddb.endpoint, TABLE, ADMIN_KEY, template=template)
        # what the deployed functions print: the template's log level and the EMF metric lines
        os.environ["POWERTOOLS_METRICS_DISABLED"] = "false"
        # The simulated traffic is a stretch of the past (hours, for the quiet guild) replayed at once, as if
        # each message arrived on time: its awards must not be bounded by the replay's arrival.
        os.environ["INGEST_AWARD_WINDOW_SECONDS"] = str(7 * 24 * 3600)
        queue = LocalQueue(
            REPO_ROOT,
            None,
            [
                QueueSpec(QUEUE_NAME, {"FifoQueue": "true", "VisibilityTimeout": "30"}, None, "MESSAGES_QUEUE_URL"),
                QueueSpec(DEAD_LETTER_QUEUE_NAME, {"FifoQueue": "true"}, None, "MESSAGES_DLQ_URL"),
            ],
        ).start()
        try:
            os.environ.update({"AWS_ENDPOINT_URL_SQS": queue.endpoint, **queue.urls})
            layer = str(REPO_ROOT / "layers" / "common" / "python")
            if layer not in sys.path:
                sys.path.insert(0, layer)
            sys.stdout = logs  # before any handler creates its Logger (it keeps the stream it found)
            from xpshop import message_queue
            from xpshop.store import table

            ddb_meter, sqs_meter = CapacityMeter(), QueueMeter()
            ddb_meter.attach(table.client())
            ddb_meter.attach(table.plain_client())
            sqs_meter.attach(message_queue._client())
            specs = functions(template)
            recorder = Recorder(specs, architectures(template), ddb_meter, sqs_meter, logs)
            api = LocalApi(http_routes(template), recorder.invoke, cors_configuration(template))
            import boto3

            queue_client = boto3.client(
                "sqs",
                endpoint_url=queue.endpoint,
                region_name="us-east-1",
                aws_access_key_id="local",
                aws_secret_access_key="local",
            )
            sqs_meter.attach(queue_client)  # the event source's receives and deletes
            pollers = []
            for logical_id in (RANK_INDEX, EFFECTS):
                spec = specs[logical_id]
                patterns, batch_size = filters_of(spec, template)
                poller = StreamPoller(
                    ddb.endpoint,
                    TABLE,
                    spec,
                    REPO_ROOT,
                    patterns=patterns,
                    batch_size=batch_size,
                    invoke=lambda event, lid=logical_id: recorder.invoke(lid, event),
                    starting_position="LATEST",
                    max_retries=retries_of(spec, template),
                )
                pollers.append(poller)
            yield Stack(api, recorder, pollers, queue_client, queue.url, template, ddb.endpoint)
        finally:
            sys.stdout = saved_stdout
            queue.stop()


def counted_call(
    stack: Stack, method: str, path: str, body: Any = None, *, headers: dict[str, str] | None = None
) -> Any:
    """One API request (counted as billed HTTP API requests) through the local API Gateway emulation."""
    from bench.__main__ import ADMIN_KEY
    from local.server import HttpRequest

    payload = json.dumps(body).encode() if body is not None else b""
    sent = [("host", "bench"), ("content-type", "application/json")]
    sent += list((headers or {"x-api-key": ADMIN_KEY}).items())
    response = stack.api.handle(HttpRequest(method, path, sent, payload))
    stack.recorder.api_requests += http_api_billed_requests(len(payload) + len(response.body))
    if response.status >= 300:
        raise RuntimeError(f"{method} {path} -> {response.status} {response.body[:300]!r}")
    return json.loads(response.body) if response.body else None


def drain_streams(stack: Stack) -> int:
    return sum(p.drain() for p in stack.pollers)


def consume_once(stack: Stack) -> int:
    """What Lambda's SQS event source does once: receive up to BatchSize (10), invoke, delete what succeeded;
    how many chat messages the records held."""
    from local import events
    from local.queue import CONSUMER, QUEUE_NAME

    batch_size = int(event_batch(stack.template, CONSUMER, "SQS").get("BatchSize", 10))
    received = stack.queue_client.receive_message(
        QueueUrl=stack.queue_url, MaxNumberOfMessages=min(10, batch_size), AttributeNames=["All"]
    ).get("Messages", [])
    if not received:
        return 0
    records = [events.received_record(m, queue=QUEUE_NAME) for m in received]
    result = stack.recorder.invoke(CONSUMER, events.records_event(records)) or {}
    failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
    done = [
        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
        for i, m in enumerate(received)
        if m["MessageId"] not in failed
    ]
    if done:
        stack.queue_client.delete_message_batch(QueueUrl=stack.queue_url, Entries=done)
    return sum(_messages_in(m["Body"]) for m in received)


def _messages_in(body: str) -> int:
    """Chat messages a queue record holds: one, or a member's several (xpshop.message_queue.send)."""
    data = json.loads(body)
    return len(data["messages"]) if isinstance(data, dict) and data.get("kind") == "messages" else 1


# ---------------------------------------------------------------- message traffic


CHANNEL = "300000000000000001"
NO_XP_CHANNEL = "300000000000000009"  # set as a no-XP channel for the share measurement


@dataclass(frozen=True)
class Scenario:
    """A shape of message traffic: how the relay, the queue's event source and the stream batch it."""

    name: str
    rate_per_s: float  # messages per second in the guild (sets timestamps, hence cooldowns, and stream batches)
    relay_batch: float  # mean messages per ingest request (the relay sends up to 100, or what its window gathered)
    authors: int  # active members writing, Zipf-distributed (a few talk a lot)
    first_author: int  # index of the first author among the loaded members (scenarios use distinct members)
    spread: bool = False  # each message by the next author (no member twice): no two share a write
    channel: str = CHANNEL
    relay_window_s: float | None = None  # the relay's RELAY_MAX_DELAY that set relay_batch (None: full batches)
    member_window_s: float = 0.0  # the relay's RELAY_MEMBER_WINDOW (0: off, its default)
    # Traffic relayed before the measurement, unrecorded, so members' cooldowns are as traffic that has been
    # going on leaves them (not every author out of cooldown at the first message, which overstates awards).
    warmup_s: float = 0.0
    measure_s: float = 0.0  # measure at least this much traffic (a member window needs several windows)

    @property
    def relay_delay_s(self) -> float:
        """The RELAY_MAX_DELAY the relay runs with here."""
        from relay.forwarder import DEFAULT_MAX_DELAY

        return DEFAULT_MAX_DELAY if self.relay_window_s is None else self.relay_window_s

    @property
    def tail_s(self) -> float:
        """Traffic generated after the measured messages, relayed only as far as they need: so the last
        measured member groups fill as under steady traffic (the relay's windows see messages after them)."""
        return self.member_window_s + self.relay_delay_s + 5.0

    def sizes(self, count: int) -> tuple[int, int, int]:
        """Messages of the warm-up, the measurement and the tail."""
        return round(self.rate_per_s * self.warmup_s), count, round(self.rate_per_s * self.tail_s)

    def messages(self, count: int) -> int:
        """Messages to measure: `count`, or more when `measure_s` of traffic needs more."""
        return max(count, math.ceil(self.rate_per_s * self.measure_s))


# The relay's window before it became 5 s: measured beside the default, so the trade-off stays visible.
FORMER_RELAY_WINDOW_S = 1.0


def windowed(name: str, rate_per_s: float, window_s: float, authors: int, first_author: int) -> Scenario:
    """Traffic too thin to fill the relay's requests: each carries what one window gathers, the message that
    opened it and the Poisson arrivals while it waited (1 + rate x window on average)."""
    return Scenario(name, rate_per_s, 1 + rate_per_s * window_s, authors, first_author, relay_window_s=window_s)


BUSY_RATE = 50.0  # messages/s: the relay's requests are full (100)
QUIET_RATE = MILLION / (30 * 86400)  # 1M messages a month


def message_scenarios(members: int, window_s: float | None = None) -> list[Scenario]:
    """Busy guild, then the quiet guild under the relay's former window (when it differs), then under the
    relay's default window (`relay.forwarder.DEFAULT_MAX_DELAY`, or `window_s`): the last is the one priced."""
    if window_s is None:
        from relay.forwarder import DEFAULT_MAX_DELAY  # the window a relay runs with unless RELAY_MAX_DELAY says

        window_s = DEFAULT_MAX_DELAY
    quiet = "quiet guild (1M messages a month)"
    authors = min(2000, members // 2)
    # a minute measured at least: 600 messages (12 s) are too few for the share of them that earn XP
    busy = Scenario("busy guild", BUSY_RATE, 100, authors, 0, warmup_s=WARMUP_S, measure_s=60.0)
    scenarios = [busy]
    for held in MEMBER_WINDOWS_S:  # the same members, carried on: each run starts where the last left them
        scenarios.append(
            replace(
                busy,
                name=f"busy guild, member window {held:g} s",
                member_window_s=held,
                warmup_s=WARMUP_S + held,
                measure_s=2 * held,
            )
        )
    if window_s != FORMER_RELAY_WINDOW_S:  # its own members: a member's last message and cooldown would carry over
        former = f"{quiet[:-1]}, relay window {FORMER_RELAY_WINDOW_S:g} s)"
        scenarios.append(windowed(former, QUIET_RATE, FORMER_RELAY_WINDOW_S, 300, members // 2 + 300))
    scenarios.append(windowed(quiet, QUIET_RATE, window_s, 300, members // 2))
    return scenarios


MIN_AUTHOR_GAP_MS = 1000  # one message a second at most per author (Discord: 5 per 5 s per channel)
# Seconds of traffic relayed before measuring: the default cooldown (60 s) and some, so each author's last
# award is where steady traffic leaves it.
WARMUP_S = 80.0
# RELAY_MEMBER_WINDOW values measured beside the default (off): longer than the 60 s cooldown, so one write
# can carry several awards of a member.
MEMBER_WINDOWS_S = (60.0, 120.0)


def relay_requests(
    messages: list[dict[str, Any]], *, max_delay: float, member_window: float = 0.0, max_batch: int = 100
) -> list[list[dict[str, Any]]]:
    """The requests the relay sends for `messages` arriving at their own timestamps, by its rules
    (relay/forwarder.py: a request when 100 are queued or the oldest queued has waited `max_delay`; with a
    member window, relay/hold.py's `MemberHold` itself decides when each member's group is queued). Delivery is
    taken as instant; after the last message time runs on until everything is sent."""
    from relay.hold import MemberHold

    hold = MemberHold(member_window, max_group=max_batch) if member_window > 0 else None
    queue: deque[tuple[float, dict[str, Any]]] = deque()
    out: list[list[dict[str, Any]]] = []

    def send(n: int) -> None:
        out.append([queue.popleft()[1] for _ in range(n)])

    def enqueue(events: list[dict[str, Any]], at: float) -> None:
        queue.extend((at, e) for e in events)
        while len(queue) >= max_batch:
            send(max_batch)

    def advance(now: float) -> None:  # the timers that go off up to `now`, in their order
        while True:
            held = hold.next_due() if hold is not None else None
            flush = queue[0][0] + max_delay if queue else None
            due = [t for t in (held, flush) if t is not None and t <= now]
            if not due:
                return
            at = min(due)
            if hold is not None and at == held:
                enqueue(hold.due(at), at)
            else:
                send(min(max_batch, len(queue)))

    for message in messages:
        now = message["timestamp"] / 1000
        advance(now)
        enqueue(hold.add(message, now) if hold is not None else [message], now)
    advance(math.inf)
    return out


def batch_sizes(total: int, mean: float) -> list[int]:
    """Batch sizes adding up to `total` whose average is `mean` (floors and ceilings mixed evenly)."""
    sizes: list[int] = []
    done, exact = 0, 0.0
    while done < total:
        exact += mean
        size = max(1, min(total - done, round(exact) - done))
        sizes.append(size)
        done += size
    return sizes


def traffic(scenario: Scenario, count: int, seed: int = 18, start_ms: int | None = None) -> list[dict[str, Any]]:
    """`count` messages at `rate_per_s` (exponential gaps), authors drawn Zipf-like, the last one a minute
    ago (or the first just after `start_ms`), each with the author's display data as the relay sends it."""
    from xpshop.ids import snowflake_at

    rng = random.Random(seed)
    cum = list(itertools.accumulate(1 / (i + 1) ** 1.1 for i in range(scenario.authors)))
    gaps = [rng.expovariate(scenario.rate_per_s) * 1000 for _ in range(count)]
    now = int(time.time() * 1000)
    t = now - 60_000 - int(sum(gaps)) - count if start_ms is None else start_ms
    out = []
    last: dict[int, int] = {}
    for i, gap in enumerate(gaps):
        t += int(gap) + 1
        if scenario.spread:
            author = i % scenario.authors
        else:
            # Zipf-like, but nobody above Discord's rate limit for a member in a channel (5 messages in 5 s):
            # an author who wrote within the last second is drawn again
            for _ in range(50):
                author = rng.choices(range(scenario.authors), cum_weights=cum)[0]
                if t - last.get(author, -(10**15)) >= MIN_AUTHOR_GAP_MS:
                    break
            last[author] = t
        user = FIRST_USER + scenario.first_author + author
        out.append(
            {
                "messageId": str(snowflake_at(t) + i % 4096),
                "guildId": GUILD,
                "channelId": scenario.channel,
                "userId": str(user),
                "roleIds": [],
                "timestamp": t,
                "bot": False,
                "displayName": f"Member {author}",
                "username": f"member{author}",
                "avatar": f"{user:032x}"[-32:],
            }
        )
    return out


def timeline(runs: list[tuple[Scenario, int]], seed: int = 18) -> list[list[dict[str, Any]]]:
    """Traffic for scenarios that share their members, one after the other in time (a member's messages
    keep their order across runs: the backend counts a message only after the member's last), the last one a
    minute ago. Each run holds its warm-up, its `count` messages and its tail."""
    sizes = [sum(s.sizes(n)) for s, n in runs]
    span = sum(traffic(s, k, seed, start_ms=0)[-1]["timestamp"] + 1 for (s, _), k in zip(runs, sizes, strict=True))
    t = int(time.time() * 1000) - 60_000 - span
    out = []
    for (scenario, _), size in zip(runs, sizes, strict=True):
        messages = traffic(scenario, size, seed, start_ms=t)
        out.append(messages)
        t = messages[-1]["timestamp"] + 1
    return out


@dataclass
class MessageRun:
    scenario: Scenario
    messages: int
    usage: Usage  # per message
    invocations: list[Invocation]
    ddb_calls: Counter[str]
    stream_batch: float  # messages the stream functions were handed at a time
    index_wru: float  # per message, the part of `usage.wru` written to the table's indexes
    xp_share: float = 0.0  # messages that earned XP, of all relayed (the guild's stats, before and after)
    per_request: float = 0.0  # messages a relay request carried, measured


def stream_window_s(template: dict[str, Any]) -> float:
    """The stream mappings' batching window (the longest of them)."""
    from local.stream import EFFECTS, RANK_INDEX

    return max(
        float(event_batch(template, fn, "DynamoDB").get("MaximumBatchingWindowInSeconds", 0))
        for fn in (RANK_INDEX, EFFECTS)
    )


def run_messages(
    stack: Stack, scenario: Scenario, count: int, *, seed: int = 18, messages: list[dict[str, Any]] | None = None
) -> MessageRun:
    """Relay `count` messages end to end, after `scenario.warmup_s` of the same traffic unrecorded (and up to
    the first request boundary past them: the relay's windows also gather later messages, `tail_s`), and record
    everything, per message: the requests as the relay forms them (`relay_requests`), each consumed as the
    event source would (batches of up to 10), and the stream read whenever a batching window's worth of
    messages (rate x window, at least one consumer batch) has been consumed."""
    relay_key = os.environ["XPSHOP_RELAY_KEY"]
    warm, _, tail = scenario.sizes(count)
    if messages is None:
        messages = traffic(scenario, warm + count + tail, seed)
    assert len(messages) == warm + count + tail, "the traffic holds the warm-up, the measured messages and the tail"
    requests = relay_requests(messages, max_delay=scenario.relay_delay_s, member_window=scenario.member_window_s)
    authors = sorted({m["userId"] for m in messages})
    stream_batch = max(1.0, scenario.rate_per_s * stream_window_s(stack.template))
    posted = consumed = since_drain = 0
    measured_from: int | None = None
    measured_requests = 0
    before = (0, 0)
    for batch in requests:
        if measured_from is None and posted >= warm:
            drain_streams(stack)  # the warm-up's stream work, unrecorded
            before = _message_counts(authors)
            stack.recorder.reset()
            measured_from = posted
            since_drain = 0
        if measured_from is not None and posted >= warm + count:
            break  # measured: the tail only filled the last groups as steady traffic would
        measured_requests += measured_from is not None
        counted_call(
            stack,
            "POST",
            "/api/xp/ingest/messages",
            {"messages": batch},
            headers={"authorization": f"Bearer {relay_key}"},
        )
        posted += len(batch)
        for _ in range(4 * len(batch) + 4):
            if consumed >= posted:
                break
            got = consume_once(stack)
            if not got:
                time.sleep(0.02)
            consumed += got
            since_drain += got
            if since_drain >= stream_batch:
                drain_streams(stack)
                since_drain = 0
    drain_streams(stack)
    if consumed < posted:
        print(f"warning: {posted - consumed} message(s) were not consumed", file=sys.stderr)
    if measured_from is None:
        raise RuntimeError("the warm-up took every message: nothing was measured")
    measured = posted - measured_from
    run = MessageRun(
        scenario,
        measured,
        stack.recorder.snapshot().scaled(1 / measured),
        list(stack.recorder.invocations),
        Counter(stack.recorder.ddb.calls),
        stream_batch,
        stack.recorder.ddb.index_wru / measured,
        per_request=measured / max(1, measured_requests),
    )
    after = _message_counts(authors)  # read after the snapshot: not part of the figures
    run.xp_share = (after[1] - before[1]) / measured
    if after[0] - before[0] != measured:
        print(f"warning: {after[0] - before[0]} message(s) counted of {measured}", file=sys.stderr)
    return run


def _message_counts(users: list[str]) -> tuple[int, int]:
    """Messages and XP messages these members have, summed (one BatchGetItem per 100)."""
    from xpshop.store import keys
    from xpshop.store.table import batch_get

    items = batch_get([keys.member(GUILD, u) for u in users], consistent=True, projection="messages, xpMessages")
    return sum(int(i.get("messages", 0)) for i in items), sum(int(i.get("xpMessages", 0)) for i in items)


def run_share(stack: Stack, members: int, count: int, rate: float) -> tuple[MessageRun, MessageRun]:
    """The two ends of the cost by share of messages that earn XP, on the busy guild's relay batches and
    rate: every message by a different member (so none shares a write with another), first in a no-XP
    channel (counted, no XP: what a message inside the cooldown costs too), then in an ordinary one by members
    out of cooldown (every message an award)."""
    from xpshop.service import curves

    counted_call(stack, "PUT", f"/api/xp/config/{GUILD}", {"noXpChannelIds": [NO_XP_CHANNEL]})
    curves.forget()  # the consumer's config cache (in this process)
    start = min(2000, members // 2) + 300
    none = Scenario("no message earns XP", rate, 100, count, start, spread=True, channel=NO_XP_CHANNEL)
    every = Scenario("every message earns XP", rate, 100, count, start + count, spread=True)
    return run_messages(stack, none, count, seed=31), run_messages(stack, every, count, seed=32)


# ---------------------------------------------------------------- API calls


API_MIX: dict[str, float] = {
    "award (POST add XP)": 0.15,
    "member read (GET member)": 0.30,
    "leaderboard page (10 rows)": 0.25,
    "rank of a member": 0.20,
    "shop buy": 0.10,
}


@dataclass
class ApiRun:
    name: str
    calls: int
    usage: Usage  # per call
    invocations: list[Invocation]
    ddb_calls: Counter[str]


def run_api(stack: Stack, members: int, repeat: int) -> list[ApiRun]:
    """Each operation of API_MIX `repeat` times, with what the stream functions do after it."""
    category = counted_call(stack, "POST", "/api/v1/categories/create", {"name": "Cost"})["id"]
    items = [
        counted_call(
            stack,
            "POST",
            "/api/v1/cosmetics/create",
            {
                "name": f"Cost hat {i}",
                "type": "hat",
                "description": "d",
                "categoryid": category,
                "cost": 10,
                "showcase_image_url": "https://x/s.png",
                "model_source_url": "https://x/m.cfg",
                "texture_source_url": "https://x/t.png",
            },
        )["id"]
        for i in range(repeat + 1)
    ]
    buyer = "920000000000000077"
    counted_call(stack, "PATCH", "/api/v1/credits/set", {"id": buyer, "new_amount": 10**6})
    drain_streams(stack)
    base = members // 2 + 1000 if members > 4000 else 0  # clear of the message scenarios' authors
    user = lambda i: FIRST_USER + base + (i * 37) % max(1, members - base)  # noqa: E731
    ops: dict[str, Callable[[int], tuple[str, str, Any]]] = {
        "award (POST add XP)": lambda i: ("POST", f"/api/xp/users/{GUILD}/{user(i)}", {"amount": 20}),
        "member read (GET member)": lambda i: ("GET", f"/api/xp/users/{GUILD}/{user(i)}", None),
        "leaderboard page (10 rows)": lambda i: ("GET", f"/api/xp/leaderboard/{GUILD}?offset=0&limit=10", None),
        "rank of a member": lambda i: ("GET", f"/api/xp/leaderboard/{GUILD}/{user(i)}", None),
        "shop buy": lambda i: ("POST", "/api/v1/cosmetics/buy", {"id": buyer, "cosmeticid": items[i + 1]}),
    }
    counted_call(stack, "POST", "/api/v1/cosmetics/buy", {"id": buyer, "cosmeticid": items[0]})  # warm
    for op in ops.values():  # warm every handler once (imports, caches) before counting
        if op is not ops["shop buy"]:
            counted_call(stack, *op(repeat + 7))
    drain_streams(stack)
    runs = []
    for name, op in ops.items():
        stack.recorder.reset()
        for i in range(repeat):
            counted_call(stack, *op(i))
            drain_streams(stack)
        runs.append(
            ApiRun(
                name,
                repeat,
                stack.recorder.snapshot().scaled(1 / repeat),
                list(stack.recorder.invocations),
                Counter(stack.recorder.ddb.calls),
            )
        )
    return runs


def mix_usage(runs: list[ApiRun], mix: dict[str, float] = API_MIX) -> Usage:
    total = Usage()
    for run in runs:
        total = total + run.usage.scaled(mix.get(run.name, 0.0))
    return total


# ---------------------------------------------------------------- fixed monthly costs


@dataclass(frozen=True)
class Fixed:
    what: str
    dollars: float
    note: str


SQS_IDLE_POLLERS = 5  # Lambda's SQS event source long-polls with about 5 pollers per mapping when idle
SQS_IDLE_RECEIVES_PER_MINUTE = 3  # 20 s long polls


def fixed_monthly(template: dict[str, Any], members: int, prices: Prices = PRICES) -> list[Fixed]:
    """What runs whatever the traffic, from template.yaml (alarms, dashboards, schedules, queues' event
    sources) and the stored data."""
    resources = template.get("Resources") or {}
    types = Counter(r.get("Type") for r in resources.values())
    alarms = types["AWS::CloudWatch::Alarm"]
    dashboards = types["AWS::CloudWatch::Dashboard"]
    sqs_mappings = [
        (logical_id, event.get("Properties", {}).get("Queue"))
        for logical_id, r in resources.items()
        if r.get("Type") == "AWS::Serverless::Function"
        for event in ((r.get("Properties") or {}).get("Events") or {}).values()
        if event.get("Type") == "SQS"
    ]
    fifo_queues = {
        name
        for name, r in resources.items()
        if r.get("Type") == "AWS::SQS::Queue" and (r.get("Properties") or {}).get("FifoQueue")
    }
    idle = 0.0
    for _fn, queue in sqs_mappings:
        queue_name = queue.get("Fn::GetAtt", [""])[0] if isinstance(queue, dict) else str(queue).split(".")[0]
        per_million = prices.sqs_fifo_per_million if queue_name in fifo_queues else prices.sqs_standard_per_million
        idle += SQS_IDLE_POLLERS * SQS_IDLE_RECEIVES_PER_MINUTE * 60 * 24 * 30 * per_million / MILLION
    storage_gb = members * 1.5 / 1e6  # member item + its index entry + rank counters, ~1.5 KB a member
    return [
        Fixed(f"CloudWatch alarms ({alarms})", alarms * prices.alarm_month, "$0.10 each; 10 free per account"),
        Fixed(
            f"CloudWatch dashboards ({dashboards})",
            0.0,
            f"${prices.dashboard_month:.0f} each beyond the 3 free per account",
        ),
        Fixed(
            f"SQS idle long polls ({len(sqs_mappings)} event sources)",
            idle,
            f"~{SQS_IDLE_POLLERS} pollers x {SQS_IDLE_RECEIVES_PER_MINUTE} receives/min each (assumed);"
            " 1M requests free",
        ),
        Fixed(
            f"DynamoDB storage + PITR ({members:,} members, ~1.5 KB each)",
            storage_gb * (prices.ddb_storage_gb_month + prices.ddb_pitr_gb_month),
            "25 GB storage free",
        ),
        Fixed(
            "Recalculation schedule (rate(15 minutes): 2,880 runs, ~200 ms each assumed)",
            2880 * (prices.lambda_requests_per_million / MILLION + gb_seconds(512, 200) * prices.lambda_arm_gb_second),
            "",
        ),
    ]


# ---------------------------------------------------------------- report


def _money(x: float) -> str:
    if x == 0:
        return "$0"
    if x < 0.01:
        return f"${x:.4f}"
    return f"${x:,.2f}"


def _breakdown_row(name: str, usage: Usage, scale: float) -> str:
    d = dollars(usage.scaled(scale))
    return f"| {name} | " + " | ".join(_money(d[s]) for s in SERVICES) + f" | **{_money(sum(d.values()))}** |"


def _per_function(invocations: list[Invocation], per: int) -> list[str]:
    by: dict[str, list[Invocation]] = {}
    for inv in invocations:
        by.setdefault(inv.function, []).append(inv)
    lines = [
        "| function | memory, arch | invocations per 1,000 | records per invocation | CPU ms here | DynamoDB / SQS"
        " requests per invocation | WRU / RRU per invocation | estimated billed ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for fn, invs in sorted(by.items()):
        n = len(invs)
        lines.append(
            f"| {fn} | {invs[0].memory_mb} MB, {invs[0].architecture} | {n * 1000 / per:.1f}"
            f" | {sum(i.records for i in invs) / n:.1f} | {sum(i.cpu_ms for i in invs) / n:.1f}"
            f" | {sum(i.ddb_requests for i in invs) / n:.1f} / {sum(i.sqs_requests for i in invs) / n:.1f}"
            f" | {sum(i.wru for i in invs) / n:.1f} / {sum(i.rru for i in invs) / n:.1f}"
            f" | {sum(billed_ms(i.duration_ms) for i in invs) / n:.0f} |"
        )
    return lines


def _total(usage: Usage) -> float:
    return sum(dollars(usage.scaled(MILLION)).values())


def _where(usage: Usage) -> str:
    d = dollars(usage.scaled(MILLION))
    top = sorted(d.items(), key=lambda kv: -kv[1])[:3]
    total = sum(d.values()) or 1
    return ", ".join(f"{k} {v / total:.0%}" for k, v in top)


@dataclass
class Report:
    members: int
    runs: list[MessageRun]
    api: list[ApiRun]
    fixed: list[Fixed]
    stamp: str
    share: tuple[MessageRun, MessageRun] | None = None  # run_share: no message earns XP, every message does
    monthly_messages: int = MILLION
    monthly_api_calls: int = 100_000

    def month_usage(self) -> Usage:
        return self.runs[-1].usage.scaled(self.monthly_messages) + mix_usage(self.api).scaled(self.monthly_api_calls)

    def monthly(self) -> tuple[dict[str, float], float]:
        return dollars(self.month_usage()), sum(f.dollars for f in self.fixed)


def always_free(usage: Usage, fixed: list[Fixed], prices: Prices = PRICES) -> float:
    """What the always-free tiers take off a month (not the 12-month ones, e.g. API Gateway's): Lambda 1M
    requests and 400,000 GB-s, SQS 1M requests, CloudWatch 10 alarms and 5 GB of logs. One account, one
    deployment: anything else in the account shares them."""
    sqs_idle = sum(f.dollars for f in fixed if f.what.startswith("SQS idle"))
    alarms = sum(f.dollars for f in fixed if f.what.startswith("CloudWatch alarms"))
    sqs_dollars = usage.sqs_fifo * prices.sqs_fifo_per_million / MILLION + sqs_idle
    sqs_requests = usage.sqs_fifo + sqs_idle / prices.sqs_fifo_per_million * MILLION
    return (
        min(usage.lambda_requests, MILLION) * prices.lambda_requests_per_million / MILLION
        + min(usage.gb_s_arm, 400_000) * prices.lambda_arm_gb_second
        + (sqs_dollars * min(1.0, MILLION / sqs_requests) if sqs_requests else 0.0)
        + min(alarms, 10 * prices.alarm_month)
        + min(usage.log_bytes / 1e9, 5.0) * prices.logs_ingest_gb
    )


def section(report: Report) -> list[str]:
    busy, quiet = report.runs[0], report.runs[-1]
    mix = ", ".join(f"{name} {share:.0%}" for name, share in API_MIX.items())
    lines = [
        HEADING,
        "",
        f"{report.stamp}. Prices: `bench/cost.py` `PRICES` (us-east-1 list prices, {PRICES.as_of}), sources and",
        "what could be verified in the table at the end. Request counts and request units are measured (DynamoDB",
        "Local, a local SQS FIFO queue, the handlers in-process); Lambda durations are estimated (below).",
        "",
        "### Per million relayed messages (end to end)",
        "",
        "| traffic | " + " | ".join(SERVICES) + " | total |",
        "|---|" + "---:|" * (len(SERVICES) + 1),
    ]
    for run in report.runs:
        lines.append(_breakdown_row(run.scenario.name, run.usage, MILLION))
    lines += [
        "",
        f"Target: ≤ $1 per million messages. Busy guild: **{_money(_total(busy.usage))}**"
        f" (most of it: {_where(busy.usage)}){_member_window_note(report)}; quiet guild:"
        f" **{_money(_total(quiet.usage))}** ({_where(quiet.usage)}).{_window_note(report)}",
        "",
        "What one message costs in requests, measured (per message):",
        "",
        "| traffic | messages | HTTP API requests | Lambda invocations | SQS requests (billed) | DynamoDB requests"
        " by API | WRU (of which index writes) | RRU | log bytes |",
        "|---|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for run in report.runs:
        u = run.usage
        by_api = ", ".join(f"{k} {v / run.messages:.2f}" for k, v in sorted(run.ddb_calls.items()))
        lines.append(
            f"| {run.scenario.name} | {run.messages} | {u.api_requests:.3f} | {u.lambda_requests:.3f}"
            f" | {u.sqs_fifo + u.sqs_standard:.3f} | {by_api} | {u.wru:.2f} ({run.index_wru:.2f}) | {u.rru:.2f}"
            f" | {u.log_bytes:.0f} |"
        )
    for run in report.runs:
        lines += ["", f"Functions, {run.scenario.name}:", "", *_per_function(run.invocations, run.messages)]
    lines += [
        "",
        "### Per million API calls",
        "",
        "| call | " + " | ".join(SERVICES) + " | total |",
        "|---|" + "---:|" * (len(SERVICES) + 1),
    ]
    for api_run in report.api:
        lines.append(_breakdown_row(api_run.name, api_run.usage, MILLION))
    lines.append(_breakdown_row(f"**the mix** ({mix})", mix_usage(report.api), MILLION))
    lines += ["", "DynamoDB requests per call (measured, including the stream functions' work after it):", ""]
    for r in report.api:
        by_api = ", ".join(f"{k} {v / r.calls:.2f}" for k, v in sorted(r.ddb_calls.items())) or "none"
        invoked = Counter(i.function for i in r.invocations)
        functions = ", ".join(f"{k} {v / r.calls:.2f}" for k, v in sorted(invoked.items()))
        lines.append(f"- {r.name}: {by_api}; {r.usage.wru:.2f} WRU, {r.usage.rru:.2f} RRU; invocations: {functions}")
    lines += ["", "### Where the money goes, and what would bring it down", "", *levers(report)]
    if report.share:
        lines += ["", "### Cost by the share of messages that earn XP", "", *share_model(report)]
    usage_dollars, fixed = report.monthly()
    variable = sum(usage_dollars.values())
    lines += [
        "",
        f"### A month of a {report.members:,}-member guild: {report.monthly_messages:,} messages,"
        f" {report.monthly_api_calls:,} API calls",
        "",
        f"Messages priced as the quiet guild above (~{report.monthly_messages / (30 * 86400):.2f} messages/s on"
        " average);"
        f" API calls as the mix. List prices, before the always-free tiers.",
        "",
        "| item | per month |",
        "|---|---:|",
    ]
    lines += [f"| {s} | {_money(v)} |" for s, v in usage_dollars.items()]
    lines += [
        f"| {f.what} ({f.note}) |" + f" {_money(f.dollars)} |" if f.note else f"| {f.what} | {_money(f.dollars)} |"
        for f in report.fixed
    ]
    free = always_free(report.month_usage(), report.fixed)
    lines += [
        f"| **total** | **{_money(variable + fixed)}** (traffic {_money(variable)}, fixed {_money(fixed)}) |",
        "| always-free tiers, if this is the account's only use (Lambda 1M requests + 400,000 GB-s, SQS 1M"
        f" requests, CloudWatch 10 alarms + 5 GB of logs) | -{_money(free)} |",
        f"| **total after the always-free tiers** | **{_money(variable + fixed - free)}** |",
        "",
        "### Assumptions",
        "",
        f"- Busy guild: {busy.scenario.rate_per_s:g} messages/s, relay requests of {busy.per_request:.0f}"
        " messages"
        " (its maximum), measured after"
        f" {busy.scenario.warmup_s:g} s of the same traffic relayed unrecorded (so each author's cooldown is where"
        " steady traffic leaves it; the runs with a member window after their window too, and over two windows at"
        " least), consumer batches of up to the template's `BatchSize` (10) as the queue gives them, the"
        f" stream read every {busy.stream_batch:g} messages (rate x the mappings' 1 s batching window).",
        f"- Quiet guild: {quiet.scenario.rate_per_s:.3f} messages/s (1M a month), so the relay's"
        f" {_window(quiet)} window (`RELAY_MAX_DELAY`'s default, counted from the oldest waiting message) gathered"
        f" {quiet.per_request:.2f} messages a request (Poisson expectation: 1 + rate x {_window(quiet)} ="
        f" {quiet.scenario.relay_batch:.2f})"
        + "".join(f"; at {_window(r)} (measured beside it) {r.per_request:.2f}" for r in _other_windows(report))
        + "; each relay request"
        " is consumed on its own and the stream read after each consumer invocation. Real chat is burstier (batches"
        " larger, cost lower): this is the expensive end for that volume.",
        f"- Authors: Zipf-distributed over {busy.scenario.authors} (busy) / {quiet.scenario.authors} (quiet) members"
        f" of a {report.members:,}-member guild loaded with spread XP (bench's `bulk_load`), none above one message"
        " a second (Discord's limit for a member in a channel, 5 in 5 s: an author who wrote within the last second"
        " is drawn again); every message carries"
        " the author's display data as the relay sends it. Cooldowns and level-ups happen as they fall:"
        f" {_share(busy, 'level_ups'):.1%} (busy) / {_share(quiet, 'level_ups'):.1%} (quiet) of messages crossed a"
        " level. The guild has no reward roles or announcement channel, so the effects function's Discord calls"
        " (free on AWS's side, but Lambda time spent waiting on them) are not in the figures.",
        f"- Lambda duration per invocation = CPU time measured here x max(1, 1769 MB / memory) / {DURATION.cpu_speed:g}"
        f" (arm64 core assumed as fast as this machine's) + {DURATION.ddb_ms:g} ms per DynamoDB request +"
        f" {DURATION.sqs_ms:g} ms per SQS request + {DURATION.overhead_ms:g} ms, rounded up to 1 ms; memory and"
        " architecture from template.yaml. Cold starts are left out of the per-message figures (the init phase is"
        " billed since 2025-08: ~1 s at the function's memory per new environment, a few a day per busy function).",
        "- DynamoDB: the consumed capacity each request reports (ReturnConsumedCapacity=INDEXES: the table's part"
        " and each index's), so index writes are included; a transaction's table part at least 2 units per item"
        " (DynamoDB Local reports some transactions single: a TransactWriteItems of two new items says 2.0 where"
        " AWS bills 4); failed conditional writes and reads of missing keys at the minimum AWS bills.",
        "- SQS: every send, receive and delete the ingest function and the event source make, each billed per"
        " 64 KB chunk (a batch of 10 messages is one); empty receives of the idle event sources are in the fixed"
        " costs. Streams: GetRecords by Lambda triggers is free; filtered-out records invoke nothing.",
        "- CloudWatch Logs: what the handlers print, measured (log level"
        f" {os.environ.get('POWERTOOLS_LOG_LEVEL', '?')},"
        f" EMF metric lines on; at INFO every queue and stream record logs one line, xpshop/record_log.py, about"
        " 130-190 bytes: up to three a message, consumer, rank index and effects, fewer where a member's"
        " messages share one write),"
        f" + {PLATFORM_LOG_BYTES} bytes of Lambda platform lines per invocation"
        f" + {ACCESS_LOG_BYTES} bytes of HTTP API access log per request (assumed).",
        "",
        "### Prices and sources",
        "",
        "| item | price | source | checked |",
        "|---|---|---|---|",
    ]
    lines += [f"| {what} | {figure} | {src} | {how} |" for what, figure, src, how in SOURCES]
    return lines


def _share(run: MessageRun, attr: str) -> float:
    return sum(getattr(i, attr) for i in run.invocations) / run.messages


def _per_message(run: MessageRun, function: str, attr: str) -> float:
    return sum(getattr(i, attr) for i in run.invocations if i.function == function) / run.messages


def share_model(report: Report, prices: Prices = PRICES) -> list[str]:
    """Cost per million messages as a line in the share of messages that earn XP, from the two measured ends."""
    assert report.share
    none, every = report.share
    c0, c1 = _total(none.usage), _total(every.usage)
    award = c1 - c0
    wru = prices.ddb_write_unit_per_million
    lines = [
        f"Measured on the busy guild's relay batches and rate, {none.messages} messages at each end, every message by"
        " a different member (so no two share a write): in a no-XP channel (counted, no XP; a message inside the"
        f" cooldown takes the same write) **${c0:.2f}** per million ({none.usage.wru:.2f} WRU a message, of which"
        f" {none.index_wru:.2f} index writes; {none.xp_share:.0%} earned XP), and by members out of cooldown"
        f" **${c1:.2f}** per million ({every.usage.wru:.2f} WRU, {every.index_wru:.2f} index;"
        f" {every.xp_share:.0%} earned XP). So, per million messages of which a share *s* earn XP:",
        "",
        f"cost(*s*) = ${c0:.2f} + *s* x ${award:.2f}",
        "",
        "| share earning XP | per million messages |",
        "|---:|---:|",
    ]
    lines += [f"| {s:.0%} | ${c0 + s * award:.2f} |" for s in (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0)]
    extra_wru = every.usage.wru - none.usage.wru
    by_fn: dict[str, float] = {}
    for inv in every.invocations:
        by_fn[inv.function] = by_fn.get(inv.function, 0.0) + inv.wru / every.messages
    for inv in none.invocations:
        by_fn[inv.function] = by_fn.get(inv.function, 0.0) - inv.wru / none.messages
    ranked = sorted(by_fn.items(), key=lambda kv: -abs(kv[1]))
    extra = ", ".join(f"{fn} {units:+.2f} WRU" for fn, units in ranked if abs(units) >= 0.005)
    lines += [
        "",
        f"An award costs ${award:.2f} per million more than a message without XP:"
        f" {extra_wru:.2f} WRU (${extra_wru * wru:.2f}) by function: {extra}.",
    ]
    if c0 >= 1.0:
        lines.append(
            f"- **$1 per million is not met at any share**: a message earning nothing already costs ${c0:.2f}."
        )
    else:
        share = (1.0 - c0) / award if award > 0 else 1.0
        lines.append(
            f"- **$1 per million is met while at most {min(share, 1.0):.0%} of messages earn XP** (messages"
            " standing alone; messages that share a write with the same member's cost less, see the busy guild)."
        )
    for run in report.runs:
        lines.append(
            f"- {run.scenario.name}: {run.xp_share:.0%} of its messages earned XP; the line gives"
            f" ${c0 + run.xp_share * award:.2f}, measured ${_total(run.usage):.2f} (the difference: members' messages"
            " sharing a write, and batching of the per-request charges)."
        )
    return lines


def levers(report: Report, prices: Prices = PRICES) -> list[str]:
    """The largest lines of the message bill and the changes that would shrink them, with measured figures."""
    busy, quiet = report.runs[0], report.runs[-1]
    wru = prices.ddb_write_unit_per_million
    lines = []
    for run in (busy, quiet):
        by_fn: dict[str, float] = {}
        for inv in run.invocations:
            by_fn[inv.function] = by_fn.get(inv.function, 0.0) + inv.wru / run.messages
        parts = ", ".join(
            f"{fn} {units:.2f} WRU (${units * wru:.2f}/M)"
            for fn, units in sorted(by_fn.items(), key=lambda kv: -kv[1])
            if units
        )
        lines.append(
            f"- {run.scenario.name}: {run.usage.wru:.2f} WRU a message = ${run.usage.wru * wru:.2f} per million;"
            f" by function: {parts}."
        )
    consumer = _per_message(busy, "XpConsumerFunction", "wru")
    # the consumer's own requests (the rank index's plans are UpdateItems too)
    member_updates = _per_message(busy, "XpConsumerFunction", "ddb_requests")
    rank = _per_message(busy, "RankIndexFunction", "wru")
    lines += [
        f"- The consumer's {consumer:.2f} WRU a message (busy guild) come from"
        f" {member_updates:.2f} `UpdateItem`s a message: one guarded write per member per delivery (ingestion"
        " queues a member's messages of a relay request as one record, and the consumer merges a member's"
        " consecutive records), the stats shard once a batch, and a second write only when the first one's"
        " guess was wrong (a member this container has not"
        " written lately and that turns out to be new or in cooldown, or one another container changed). Of all"
        f" writes, {busy.index_wru:.2f} WRU a message are index writes: each member write rewrites its"
        " `LeaderboardBands` entry, 2 more WRU when the score moves (delete + put), 1 when only a projected"
        " attribute moves (`messages`, `xpMessages`, `lastAwardedAt` are projected for the pages, so a message"
        " inside the cooldown writes the index too). A member write is therefore 2 WRU at least, 3 with an award.",
        f"- The rank index's {rank:.2f} WRU a message: the XP moves that change a member's counters (below 1,000"
        " XP every award, a C counter per exact XP and its tie ranges; from 1,000 XP on, counted per hundred of XP,"
        " only the awards that leave their hundred, about one in five) are applied per stream batch and guild as"
        " one plan of plain conditional writes, 1 WRU an item (a transaction bills two): the guild's plan item"
        " taken and released (~80 bytes a member moved), each member's ranked item, and each counter the batch"
        " moves once with its net delta (members of a batch sharing a counter share its write). The plan item is"
        " what makes plain writes exact: a batch that fails between two of them is finished by its redelivery"
        ' (docs/ARCHITECTURE.md, "Plans"). Left: a ranked item and two to four counter writes per member moved;'
        " fewer only with coarser counters (more members per counter, more index reads per rank).",
    ]
    compared = "".join(
        f"; at {_window(r)} ({r.per_request:.2f} a request): {_request_charges(r)}, {_money(_total(r.usage))} in all"
        for r in _other_windows(report)
    )
    lines += [
        f"- Per-request charges at {quiet.per_request:.2f} messages a request (quiet guild, the relay's"
        f" {_window(quiet)} window): {_request_charges(quiet)} per million messages"
        f" ({_money(_total(quiet.usage))} in all)"
        f"{compared}. They fall with the batch, which the window (`RELAY_MAX_DELAY`) sets at this rate:"
        " cooldowns are judged by message time, so XP does not change, only the delay before it shows"
        " (relay/README.md); busy guilds fill their requests anyway. One stream function instead of two (rank"
        " index and"
        " effects both read every member write; the effects function drops writes that kept the level) would"
        " halve the stream invocations, and log level WARNING the per-invocation INFO lines.",
    ]
    total = sum(dollars(busy.usage.scaled(MILLION)).values())
    held = _member_windows(report)
    # the shortest window that meets the target (XP shows soonest), else the cheapest measured
    meeting = [r for r in held if _total(r.usage) <= 1.0]
    best = (
        min(meeting, key=lambda r: r.scenario.member_window_s)
        if meeting
        else min(held, key=lambda r: _total(r.usage))
        if held
        else None
    )
    share = busy.xp_share
    award_floor = 3 * share  # the member item + its index entry's delete and put, per message
    per_request = sum(dollars(busy.usage.scaled(MILLION))[k] for k in _PER_REQUEST)
    if total <= 1.0:
        lines.append(f"- The target of $1 per million messages is met by the busy guild (${total:.2f}).")
    else:
        lines.append(
            f"- With the relay's defaults the busy guild costs ${total:.2f}: a member write is 2 WRU (the item and"
            f" its index entry, ${2 * wru:.2f} per million) even for a message earning nothing, and an award 3"
            f" (the entry moves). At its traffic {share:.0%} of messages earn XP and with XP shown within seconds"
            f" every award is its own member write: {award_floor:.2f} WRU a message (${award_floor * wru:.2f} per"
            f" million) before the rank index ({rank:.2f} WRU a message), the writes of messages inside the"
            f" cooldown and the per-request charges (${per_request:.2f})."
        )
    if best is not None:
        window = best.scenario.member_window_s
        verdict = "meets" if _total(best.usage) <= 1.0 else "does not meet"
        lines.append(
            f"- **The member window** (`RELAY_MEMBER_WINDOW`, relay/hold.py) is the write-behind that takes awards"
            " below one write each: the relay holds each member's messages together for the window, then sends"
            " them as one group, which the backend counts with one member write however many cooldowns they span"
            " (cooldowns go by message time: XP is unchanged, it shows up to the window later, level-up"
            f" announcements too). At {window:g} s the busy guild {verdict} the target:"
            f" **${_total(best.usage):.2f}** per million ({best.usage.wru:.2f} WRU a message, of which"
            f" {_per_message(best, 'XpConsumerFunction', 'wru'):.2f} the consumer's and"
            f" {_per_message(best, 'RankIndexFunction', 'wru'):.2f} the rank index's; {best.per_request:.0f}"
            f" messages a request, {best.usage.lambda_requests:.3f} invocations a message)"
            + "".join(f"; at {r.scenario.member_window_s:g} s ${_total(r.usage):.2f}" for r in held if r is not best)
            + ". It is off by default: a community that wants level-ups announced within seconds keeps it off and"
            " pays the figure above."
        )
    return lines


_PER_REQUEST = ("API Gateway", "Lambda requests", "SQS", "CloudWatch Logs")  # charged per request, whatever it carries


def _request_charges(run: MessageRun) -> str:
    """The charges that come per request, whatever it carries, per million messages."""
    charges = dollars(run.usage.scaled(MILLION))
    return ", ".join(f"{k} ${charges[k]:.2f}" for k in _PER_REQUEST)


def _window(run: MessageRun) -> str:
    return f"{run.scenario.relay_window_s:g} s"


def _member_windows(report: Report) -> list[MessageRun]:
    """The busy guild's runs with the relay's member window on."""
    return [r for r in report.runs if r.scenario.member_window_s > 0]


def _member_window_note(report: Report) -> str:
    held = _member_windows(report)
    if not held:
        return ""
    figures = ", ".join(
        f"{r.scenario.member_window_s:g} s **{_money(_total(r.usage))}**"
        f" ({r.usage.wru:.2f} WRU, {r.per_request:.0f} messages a request)"
        for r in held
    )
    return f"; with the relay's member window (`RELAY_MEMBER_WINDOW`, off by default): {figures}"


def _other_windows(report: Report) -> list[MessageRun]:
    """Runs of the quiet guild's traffic under another relay window than the priced (last) run's."""
    quiet = report.runs[-1].scenario
    return [
        r
        for r in report.runs[:-1]
        if r.scenario.relay_window_s is not None
        and r.scenario.rate_per_s == quiet.rate_per_s
        and r.scenario.relay_window_s != quiet.relay_window_s
    ]


def _window_note(report: Report) -> str:
    """Which relay window the quiet guild is priced at, and what the other measured windows cost."""
    quiet = report.runs[-1]
    if quiet.scenario.relay_window_s is None:
        return ""
    others = "".join(
        f"; at {_window(r)} ({r.per_request:.2f} messages a request) it measured {_money(_total(r.usage))}"
        for r in _other_windows(report)
    )
    return (
        f" The quiet guild is priced at the relay's default window, `RELAY_MAX_DELAY` {_window(quiet)}"
        f" ({quiet.per_request:.2f} messages a request){others}."
    )


def place(document: str, lines: list[str]) -> str:
    """`document` with this section replaced, or added at the end."""
    block = "\n".join(lines).strip("\n") + "\n"
    start = document.find(HEADING + "\n")
    if start < 0:
        return document.rstrip("\n") + "\n\n" + block
    following = document.find("\n## ", start + len(HEADING))
    rest = document[following + 1 :] if following >= 0 else ""
    return document[:start] + block + ("\n" + rest if rest else "")


def keep_section(previous: str, document: str) -> str:
    """`document` (a fresh `make bench` page) with this section of `previous` carried over, at the end."""
    start = previous.find(HEADING + "\n")
    if start < 0:
        return document
    following = previous.find("\n## ", start + len(HEADING))
    return place(document, previous[start : following if following >= 0 else len(previous)].split("\n"))


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cost")
    parser.add_argument("--members", type=int, default=10_000, help="members loaded in the guild")
    parser.add_argument("--messages", type=int, default=600, help="messages relayed per traffic shape")
    parser.add_argument("--repeat", type=int, default=20, help="calls per API operation")
    parser.add_argument("--no-write", action="store_true", help="print the section, do not write PERFORMANCE.md")
    args = parser.parse_args(argv)
    out = sys.stdout
    from bench.__main__ import bulk_load
    from local.template import load_template

    template = load_template()
    scenarios = message_scenarios(args.members)
    started = time.perf_counter()
    with local_stack(template) as stack:
        counted_call(stack, "PUT", f"/api/xp/guilds/{GUILD}")
        print(f"loading {args.members:,} members...", file=sys.stderr)
        bulk_load(GUILD, args.members)
        for poller in stack.pollers:
            poller.start_from_now()
        # warm every function on the message path (imports, caches), then measure
        warm = Scenario("warm", 1.0, 5, 5, args.members - 10)
        run_messages(stack, warm, 10, seed=1)
        runs = []
        # the busy guild's runs share their members (there are not enough for three sets of 2,000): their
        # traffic is one timeline, each run after the other
        busy = [(s, s.messages(args.messages)) for s in scenarios if s.rate_per_s == BUSY_RATE]
        planned = dict(zip([s.name for s, _ in busy], timeline(busy), strict=True))
        for scenario in scenarios:
            count = scenario.messages(args.messages)
            warmup = round(scenario.rate_per_s * scenario.warmup_s)
            print(f"relaying {warmup} + {count} messages: {scenario.name}...", file=sys.stderr)
            runs.append(run_messages(stack, scenario, count, messages=planned.get(scenario.name)))
        share_count = max(100, args.messages // 2)
        print(f"relaying 2 x {share_count} messages: the cost by share of messages earning XP...", file=sys.stderr)
        share = run_share(stack, args.members, share_count, BUSY_RATE)
        print(f"API calls x {args.repeat}...", file=sys.stderr)
        api_runs = run_api(stack, args.members, args.repeat)
    load = os.getloadavg()[0]
    stamp = (
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC in {time.perf_counter() - started:.0f} s (load average"
        f" {load:.1f}) with `make cost` (`python -m bench.cost --members {args.members} --messages {args.messages}"
        f" --repeat {args.repeat}`)"
    )
    report = Report(args.members, runs, api_runs, fixed_monthly(template, args.members), stamp, share)
    lines = section(report)
    out.write("\n".join(lines) + "\n")
    if not args.no_write:
        OUTPUT.write_text(place(OUTPUT.read_text(encoding="utf-8"), lines), encoding="utf-8")
        print(f"updated the cost section of {OUTPUT.relative_to(REPO_ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
