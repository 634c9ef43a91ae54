"""Deterministic races: run another request (a real one, in a worker process) at the exact moment a request
under test is between what it read and the write that acts on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def before_first(operation: str, action: Callable[[], Any]) -> Iterator[list[Any]]:
    """Run `action` once, just before this process's store client sends its first `operation` (e.g.
    "TransactWriteItems"); yields a list that then holds what `action` returned."""
    from xpshop.store.table import client, plain_client

    done: list[Any] = []
    emitters = [client().meta.events, plain_client().meta.events]

    def before_send(request: Any, **_: Any) -> None:
        target = request.headers.get("X-Amz-Target", b"")
        target = target.decode() if isinstance(target, bytes) else str(target)
        if not done and target.rsplit(".", 1)[-1] == operation:
            done.append(action())

    for events in emitters:
        events.register_first("before-send.dynamodb", before_send)
    try:
        yield done
    finally:
        for events in emitters:
            events.unregister("before-send.dynamodb", before_send)
