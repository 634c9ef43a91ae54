"""Real parallel requests: each worker process is its own "execution environment" with its own handlers,
like concurrent Lambda invocations, all hitting the same DynamoDB Local table."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any

Request = tuple[str, str, Any, dict[str, str] | None]
_client: Any = None


def _start_worker(env: dict[str, str], admin_key: str) -> None:
    global _client  # noqa: PLW0603 - one client per worker process
    os.environ.clear()
    os.environ.update(env)
    from tests.support.client import ApiClient

    _client = ApiClient(admin_key)


def _call(request: Request) -> tuple[int, Any]:
    method, path, body, headers = request
    result = _client.request(method, path, body, headers=headers)
    return result.status, result.body


def _call_function(job: tuple[str, tuple[Any, ...]]) -> Any:
    import importlib

    target, args = job
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)(*args)


def _ready(_: int) -> int:
    return os.getpid()


class ParallelClient:
    """A pool of worker processes (spawned once per test session) that send requests concurrently."""

    def __init__(self, env: dict[str, str], admin_key: str, workers: int = 8) -> None:
        context = multiprocessing.get_context("spawn")
        self.pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=_start_worker, initargs=(env, admin_key)
        )
        self.workers = workers
        list(self.pool.map(_ready, range(workers * 4)))  # warm every worker before a test measures anything

    def run(self, requests: list[Request]) -> list[tuple[int, Any]]:
        return list(self.pool.map(_call, requests))

    def call(self, target: str, calls: list[tuple[Any, ...]]) -> list[Any]:
        """Run `module:function(*args)` once per args tuple, in parallel across the worker processes."""
        return list(self.pool.map(_call_function, [(target, args) for args in calls]))

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)
