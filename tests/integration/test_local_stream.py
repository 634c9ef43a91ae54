"""The local stream poller on DynamoDB Local's real stream: the template's retry policy is honoured, so a
mapping that never drops (the rank index) holds its shard at a failing record instead of skipping it."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from tests.conftest import TABLE_NAME
from tests.support.stream import FailingOn


@pytest.fixture(autouse=True)
def _on_dynamodb_local(ddb_local: str) -> str:  # every test here reads DynamoDB Local's real stream
    return ddb_local


def _poller(endpoint: str, invoke: Any, *, max_retries: int, batch_size: int = 100):  # -> StreamPoller
    from local import REPO_ROOT
    from local.stream import StreamPoller
    from local.template import functions, load_template

    spec = functions(load_template())["RankIndexFunction"]
    poller = StreamPoller(
        endpoint,
        TABLE_NAME,
        spec,
        REPO_ROOT,
        patterns=[{"dynamodb": {"Keys": {"PK": {"S": [{"prefix": "POLLERTEST#"}]}}}}],
        batch_size=batch_size,
        invoke=invoke,
        max_retries=max_retries,
    )
    poller.start_from_now()
    return poller


def _put(endpoint: str, tag: str, count: int) -> list[str]:
    table = boto3.resource("dynamodb", endpoint_url=endpoint).Table(TABLE_NAME)
    names = [f"POLLERTEST#{tag}#{i}" for i in range(count)]
    for name in names:
        table.put_item(Item={"PK": name, "SK": "X"})
    return names


def test_never_dropping_mapping_holds_the_shard_until_the_record_succeeds(ddb_local: str) -> None:
    consumer = FailingOn("", 0)
    poller = _poller(ddb_local, consumer, max_retries=-1, batch_size=2)
    names = _put(ddb_local, "hold", 6)
    consumer.bad, consumer.left = names[3], 5  # fails more often than one drain retries (1 + 3 attempts)

    assert poller.drain() == 3  # 0, 1, 2 went through; 3 holds the shard
    assert consumer.seen == names[:3]
    assert poller.held == 3 and poller.dropped == 0

    assert poller.drain() == 3  # the next drain starts at the failing record: it succeeds now, in order
    assert consumer.seen == names
    assert poller.held == 0 and poller.dropped == 0
    assert poller.drain() == 0  # nothing delivered twice


def test_finite_retries_drop_after_the_last_attempt(ddb_local: str) -> None:
    consumer = FailingOn("", 0)
    poller = _poller(ddb_local, consumer, max_retries=1, batch_size=10)
    names = _put(ddb_local, "drop", 4)
    consumer.bad, consumer.left = names[1], 99

    assert poller.drain() == 4
    # Lambda retries from the first failed record on: 0 once, then 1 fails twice and 1..3 are dropped
    assert consumer.seen == names[:1]
    assert poller.dropped == 3 and poller.held == 0
    assert poller.drain() == 0


def test_template_retry_policies_reach_the_pollers() -> None:
    from local.stream import EFFECTS, RANK_INDEX, retries_of
    from local.template import functions, load_template

    template = load_template()
    specs = functions(template)
    assert retries_of(specs[RANK_INDEX], template) == -1
    assert retries_of(specs[EFFECTS], template) == 10


def test_an_expired_iterator_is_rebuilt_after_the_last_record_read(ddb_local: str) -> None:
    """DynamoDB Streams iterators expire after 15 minutes unused (a laptop asleep under `make dev`)."""
    consumer = FailingOn("", 0)
    poller = _poller(ddb_local, consumer, max_retries=-1)
    first = _put(ddb_local, "expire", 3)
    assert poller.drain() == 3

    real = poller._client

    class Expiring:
        """The real stream client, whose first GetRecords says the iterator expired."""

        def __init__(self, inner: Any) -> None:
            self.inner, self.exceptions, self.expired = inner, inner.exceptions, False

        def get_records(self, **kwargs: Any) -> Any:
            if not self.expired:
                self.expired = True
                error = {"Error": {"Code": "ExpiredIteratorException", "Message": "Iterator expired"}}
                raise self.inner.exceptions.ExpiredIteratorException(error, "GetRecords")
            return self.inner.get_records(**kwargs)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

    expired = {"left": 1}

    def client(service: str) -> Any:
        inner = real(service)
        if service == "dynamodbstreams" and expired["left"]:
            expired["left"] -= 1
            return Expiring(inner)
        return inner

    poller._client = client  # type: ignore[method-assign]
    second = _put(ddb_local, "expire2", 2)
    # the drain's first GetRecords fails as expired; the rebuilt iterator starts after the last record read
    assert poller.drain() == 2
    assert consumer.seen == first + second
