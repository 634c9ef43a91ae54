"""The local stream poller's shard bookkeeping on a small in-memory stream (DynamoDB Local never splits a
shard, so a parent/child pair is only reachable this way): a child is read only after its parent, also
when the parent is held at a failing record."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from local.stream import StreamPoller
from local.template import functions, load_template
from tests.support.stream import FailingOn, by_sequence


class Streams:
    """DynamoDB Streams for two shards: `parent` (closed) split into `child`."""

    def __init__(self, shards: dict[str, list[str]], parents: dict[str, str]) -> None:
        self.shards, self.parents = shards, parents

    def describe_table(self, TableName: str) -> dict[str, Any]:
        return {"Table": {"LatestStreamArn": "arn:stream"}}

    def describe_stream(self, StreamArn: str) -> dict[str, Any]:
        out = []
        for shard_id, seqs in self.shards.items():
            rng = {"StartingSequenceNumber": seqs[0]}
            if shard_id in self.parents.values():
                rng["EndingSequenceNumber"] = seqs[-1]  # a parent is closed
            entry: dict[str, Any] = {"ShardId": shard_id, "SequenceNumberRange": rng}
            if shard_id in self.parents:
                entry["ParentShardId"] = self.parents[shard_id]
            out.append(entry)
        return {"StreamDescription": {"Shards": out}}

    def get_shard_iterator(self, StreamArn: str, ShardId: str, ShardIteratorType: str, **kw: Any) -> dict[str, Any]:
        seqs = self.shards[ShardId]
        at = {
            "TRIM_HORIZON": 0,
            "LATEST": len(seqs),
            "AT_SEQUENCE_NUMBER": seqs.index(kw.get("SequenceNumber", seqs[0])),
            "AFTER_SEQUENCE_NUMBER": seqs.index(kw.get("SequenceNumber", seqs[0])) + 1,
        }[ShardIteratorType]
        return {"ShardIterator": f"{ShardId}:{at}"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        shard_id, at = ShardIterator.split(":")
        seqs = self.shards[shard_id][int(at) :][:Limit]
        records = [{"eventName": "INSERT", "dynamodb": {"SequenceNumber": s, "Keys": {}}} for s in seqs]
        end = int(at) + len(seqs)
        closed = shard_id in self.parents.values()
        resp: dict[str, Any] = {"Records": records}
        if not (closed and end >= len(self.shards[shard_id])):
            resp["NextShardIterator"] = f"{shard_id}:{end}"
        return resp


def _poller(streams: Streams, consumer: FailingOn) -> StreamPoller:
    class Poller(StreamPoller):
        def _client(self, service: str) -> Any:
            return streams

    spec = functions(load_template())["RankIndexFunction"]
    return Poller(
        None, "t", spec, Path("."), invoke=consumer, max_retries=-1, batch_size=10, starting_position="TRIM_HORIZON"
    )


def test_a_child_shard_waits_for_its_held_parent() -> None:
    streams = Streams({"parent": ["100", "101", "102"], "child": ["200", "201"]}, {"child": "parent"})
    consumer = FailingOn("101", 5, by_sequence)  # more failures than one drain retries: the parent holds at 101
    poller = _poller(streams, consumer)

    poller.drain()
    assert consumer.seen == ["100"]  # not the child's 200, 201: they come after the parent's records

    poller.drain()
    assert consumer.seen == ["100", "101", "102", "200", "201"]
    assert poller.drain() == 0


def test_a_child_shard_is_read_in_the_same_drain_once_its_parent_is_done() -> None:
    streams = Streams({"parent": ["100"], "child": ["200"]}, {"child": "parent"})
    consumer = FailingOn("", 0, by_sequence)
    poller = _poller(streams, consumer)

    assert poller.drain() == 2
    assert consumer.seen == ["100", "200"]


def test_storage_gone_while_stopping_is_not_reported_as_a_failure(caplog) -> None:
    # Ctrl-C on `make dev` reaches DynamoDB Local too: it may die while the poller is mid-drain.
    streams = Streams({"only": ["100"]}, {})
    poller = _poller(streams, FailingOn("none", 0, by_sequence))

    def gone(**kw: Any) -> dict[str, Any]:
        poller._stop.set()  # the server is stopping (dev.Stack.stop sets it) when the connection is refused
        raise ConnectionRefusedError("DynamoDB Local stopped")

    streams.get_records = gone  # type: ignore[method-assign]
    with caplog.at_level("ERROR"):
        poller._run()  # returns once stopped
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
