"""The table's stream locally: read DynamoDB Local's stream and hand batches to a function, as Lambda's
event source mapping does: template.yaml's filter criteria applied, failed records retried as its
`MaximumRetryAttempts` says (-1 holds the shard at the failing record until it succeeds, as Lambda does;
a finite count drops the records after it).

    poller = StreamPoller(endpoint, table_name, effects_spec, repo_root).start()   # background thread
    poller.drain()                                                                  # or: deliver what's there now
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from local import events, lambdas
from local.template import FunctionSpec

logger = logging.getLogger("local.stream")
EFFECTS = "EffectsFunction"
RANK_INDEX = "RankIndexFunction"
RETRIES = 3  # attempts per drain: a finite template count is capped here to keep local drains quick
DISCOVERY_SECONDS = 5.0


# ---------------------------------------------------------------- filter criteria (the subset we use)


def matches(pattern: Any, value: Any) -> bool:
    """EventBridge-style pattern matching as Lambda filters use it: dicts nest, lists are alternatives,
    and `prefix`, `exists`, `anything-but` rules."""
    if isinstance(pattern, dict):
        if not isinstance(value, dict):
            return False
        for key, sub in pattern.items():
            if isinstance(sub, list) and any(isinstance(r, dict) and "exists" in r for r in sub):
                wanted = next(r["exists"] for r in sub if isinstance(r, dict) and "exists" in r)
                if (key in value) != wanted:
                    return False
                continue
            if key not in value or not matches(sub, value[key]):
                return False
        return True
    if isinstance(pattern, list):
        return any(_rule(rule, value) for rule in pattern)
    return bool(pattern == value)


def _rule(rule: Any, value: Any) -> bool:
    if isinstance(rule, dict):
        if "prefix" in rule:
            return isinstance(value, str) and value.startswith(rule["prefix"])
        if "anything-but" in rule:
            banned = rule["anything-but"]
            return value not in (banned if isinstance(banned, list) else [banned])
        return matches(rule, value)
    return bool(rule == value)


def retries_of(spec: FunctionSpec, template: dict[str, Any]) -> int:
    """The mapping's `MaximumRetryAttempts` (-1: until the record succeeds, Lambda's default)."""
    return int(_stream_event(spec, template).get("MaximumRetryAttempts", -1))


def filters_of(spec: FunctionSpec, template: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """The DynamoDB event's filter patterns and batch size, from the function's template properties."""
    p = _stream_event(spec, template)
    filters = (p.get("FilterCriteria") or {}).get("Filters") or []
    return [json.loads(f["Pattern"]) for f in filters], int(p.get("BatchSize", 100))


def _stream_event(spec: FunctionSpec, template: dict[str, Any]) -> dict[str, Any]:
    props = template["Resources"][spec.logical_id]["Properties"]
    for event in (props.get("Events") or {}).values():
        if event.get("Type") == "DynamoDB":
            return dict(event.get("Properties", {}))
    return {}


def poller_for(
    logical_id: str,
    template: dict[str, Any],
    endpoint: str | None,
    table_name: str,
    repo_root: Path,
    *,
    invoke: Callable[[dict[str, Any]], Any] | None = None,
) -> StreamPoller:
    """A poller configured like the function's event source mapping in template.yaml (`invoke`: hand the
    batches to this instead of the function, e.g. to measure its parts)."""
    from local.template import functions

    spec = functions(template)[logical_id]
    patterns, batch_size = filters_of(spec, template)
    start = str(_stream_event(spec, template).get("StartingPosition", "LATEST"))
    return StreamPoller(
        endpoint,
        table_name,
        spec,
        repo_root,
        patterns=patterns,
        batch_size=batch_size,
        starting_position=start,
        max_retries=retries_of(spec, template),
        invoke=invoke,
    )


# ---------------------------------------------------------------- poller


class StreamPoller:
    def __init__(
        self,
        endpoint: str | None,
        table_name: str,
        consumer: FunctionSpec,
        repo_root: Path,
        *,
        patterns: list[dict[str, Any]] | None = None,
        batch_size: int = 100,
        invoke: Callable[[dict[str, Any]], Any] | None = None,
        starting_position: str = "LATEST",
        max_retries: int = RETRIES,
    ) -> None:
        self.endpoint = endpoint
        self.table_name = table_name
        self.consumer = consumer
        self.repo_root = repo_root
        self.patterns = patterns or []
        self.batch_size = batch_size
        self.max_retries = max_retries  # -1: never drop, hold the shard (next drain tries again)
        self._invoke = invoke or (lambda event: lambdas.invoke(repo_root, consumer, event))
        self._iterators: dict[str, str | None] = {}  # shard id -> next iterator (None: shard closed and read)
        self._parents: dict[str, str] = {}  # shard id -> the shard it split from (read that one first)
        self._resume: dict[str, tuple[str, str]] = {}  # shard id -> (iterator type, sequence number) to rebuild
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._next_discovery = 0.0
        self.delivered = 0
        self.dropped = 0
        self.held = 0  # records waiting behind a failing one on a shard whose mapping never drops
        client = self._client("dynamodb")
        self.stream_arn = client.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        self._discover(start=starting_position)  # LATEST: from now on; TRIM_HORIZON: all the stream holds

    def _client(self, service: str) -> Any:
        if self.endpoint is None:  # moto's in-process mock (unit tests)
            # botocore >= 1.44 sends DynamoDB Streams calls to an account endpoint taken from the stream ARN
            # (<account>.streams-ddb.<region>.amazonaws.com), which moto (5.2.5) does not route: the regional one
            return boto3.client(service, region_name="us-east-1", config=Config(account_id_endpoint_mode="disabled"))
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def _discover(self, start: str = "TRIM_HORIZON") -> None:
        streams = self._client("dynamodbstreams")
        shards = streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"].get("Shards", [])
        # parents before children: a shard's records come before those of the shards it split into
        shards.sort(key=lambda sh: int(sh.get("SequenceNumberRange", {}).get("StartingSequenceNumber", "0")))
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id in self._iterators:
                continue
            if shard.get("ParentShardId"):
                self._parents[shard_id] = shard["ParentShardId"]
            closed = "EndingSequenceNumber" in shard.get("SequenceNumberRange", {})
            self._resume[shard_id] = (start, "")  # until a record is read from it
            if start == "LATEST" and closed:
                self._iterators[shard_id] = None  # history from before we started: not ours to deliver
                continue
            self._iterators[shard_id] = streams.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType=start
            )["ShardIterator"]

    def start_from_now(self) -> None:
        """Skip what the stream holds so far (whatever the starting position): deliver only what follows."""
        with self._lock:
            self._iterators.clear()
            self._discover(start="LATEST")

    def drain(self, *, rediscover: bool = True) -> int:
        """Deliver every record available now; returns how many reached the function. The background loop
        looks for new shards only every few seconds (`rediscover=False`): they appear rarely."""
        with self._lock:
            streams = self._client("dynamodbstreams")
            if rediscover or time.monotonic() >= self._next_discovery:
                self._discover()
                self._next_discovery = time.monotonic() + DISCOVERY_SECONDS
            delivered = 0
            self.held = 0
            for shard_id, first in list(self._iterators.items()):
                if self._iterators.get(self._parents.get(shard_id, "")) is not None:
                    continue  # its parent is still being read (or held): a split shard's records come after
                position = first
                rebuilt = False
                while position:
                    try:
                        resp = streams.get_records(ShardIterator=position, Limit=1000)
                    except streams.exceptions.ExpiredIteratorException:
                        if rebuilt:  # a fresh one expired too: leave the shard to the next drain
                            logger.error("stream iterator expired again", extra={"shard": shard_id})
                            break
                        position, rebuilt = self._rebuild(streams, shard_id), True  # they last 15 minutes
                        continue
                    records = resp.get("Records", [])
                    position = resp.get("NextShardIterator")
                    if not records:
                        break
                    count, stuck = self._deliver([_plain(r) for r in records])
                    delivered += count
                    if stuck is not None:  # hold the shard here: the next drain starts at the failing record
                        self._resume[shard_id] = ("AT_SEQUENCE_NUMBER", stuck)
                        position = self._rebuild(streams, shard_id)
                        break
                    self._resume[shard_id] = ("AFTER_SEQUENCE_NUMBER", records[-1]["dynamodb"]["SequenceNumber"])
                self._iterators[shard_id] = position
            return delivered

    def _rebuild(self, streams: Any, shard_id: str) -> str:
        """A fresh iterator where the shard was left: at the held record, after the last one read, or, when
        nothing was read from the shard yet, where the poller started (LATEST then skips what was written
        while the iterator lay unused: a gap the background loop's 0.25 s polls never leave open)."""
        kind, seq = self._resume.get(shard_id, ("TRIM_HORIZON", ""))
        params = {"StreamArn": self.stream_arn, "ShardId": shard_id, "ShardIteratorType": kind}
        if seq:
            params["SequenceNumber"] = seq
        return str(streams.get_shard_iterator(**params)["ShardIterator"])

    def _deliver(self, records: list[dict[str, Any]]) -> tuple[int, str | None]:
        """Deliver in batches; returns how many were handed over (dropped ones included: they were tried)
        and, when the mapping never drops, the sequence number of the record the shard must wait at (None
        when all went through)."""
        wanted = [r for r in records if not self.patterns or any(matches(p, r) for p in self.patterns)]
        attempts = RETRIES if self.max_retries < 0 else min(self.max_retries, RETRIES)
        for start in range(0, len(wanted), self.batch_size):
            batch = wanted[start : start + self.batch_size]
            for attempt in range(attempts + 1):
                try:
                    result = self._invoke({"Records": batch}) or {}
                    failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
                except Exception:  # the invocation failed as a whole: Lambda retries the whole batch
                    logger.exception("stream batch failed")
                    failed = {r["dynamodb"]["SequenceNumber"] for r in batch}
                if not failed:
                    break
                # Lambda retries from the first failed record on; so do we (after a pause).
                first = next(i for i, r in enumerate(batch) if r["dynamodb"]["SequenceNumber"] in failed)
                batch = batch[first:]
                if attempt < attempts:
                    time.sleep(0.2 * (attempt + 1))
                elif self.max_retries < 0:
                    done = start + len(wanted[start : start + self.batch_size]) - len(batch)
                    self.held += len(wanted) - done
                    logger.error("stream records held after failures", extra={"count": self.held})
                    self.delivered += done
                    return done, batch[0]["dynamodb"]["SequenceNumber"]
                else:
                    logger.error("stream records dropped after retries", extra={"count": len(batch)})
                    self.dropped += len(batch)
        self.delivered += len(wanted)
        return len(wanted), None

    def start(self) -> StreamPoller:
        self._thread = threading.Thread(target=self._run, name="local-stream-poller", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if not self.drain(rediscover=False):
                    self._stop.wait(0.25)
            except Exception:
                if self._stop.is_set():  # stopping: Ctrl-C stops DynamoDB Local too, maybe mid-drain
                    return
                logger.exception("local stream delivery failed")
                self._stop.wait(1)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def _plain(record: dict[str, Any]) -> dict[str, Any]:
    """A record as Lambda delivers it: JSON-safe (boto3 gives datetimes) with the event source fields."""
    dynamodb = dict(record["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        dynamodb["ApproximateCreationDateTime"] = created.timestamp()
    return events.stream_record(
        record.get("eventName"),
        dynamodb,
        event_id=record.get("eventID"),
        table="local",
        label="local",
        event_version=record.get("eventVersion", "1.1"),
        region=record.get("awsRegion", events.REGION),
    )
