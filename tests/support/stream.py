"""A stream consumer for poller tests: fails one record a number of times (as a batch item failure)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def by_sequence(record: dict[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


def by_pk(record: dict[str, Any]) -> str:
    return str(record["dynamodb"]["Keys"]["PK"]["S"])


class FailingOn:
    """Fails the record named `bad` (by `name`) `times` times; `seen` lists what went through, in order."""

    def __init__(self, bad: str, times: int, name: Callable[[dict[str, Any]], str] = by_pk) -> None:
        self.bad, self.left, self.name = bad, times, name
        self.seen: list[str] = []

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        for record in event["Records"]:
            if self.name(record) == self.bad and self.left > 0:
                self.left -= 1
                return {"batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]}
            self.seen.append(self.name(record))
        return {"batchItemFailures": []}
