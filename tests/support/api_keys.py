"""Helpers for API keys v2 and rate limits in tests: a request as a given key or from a given address,
run in this process or in a parallel worker (tests/support/parallel.py)."""

from __future__ import annotations

import json
import time
from typing import Any

from local.server import HttpRequest


def request_with_key(method: str, path: str, key: str) -> tuple[int, dict[str, str]]:
    """In a parallel worker: one request signed with `key`; its status and headers."""
    from tests.support import parallel

    result = parallel._client.request(method, path, key=key)
    return result.status, result.headers


def from_address(
    api: Any, method: str, path: str, address: str, key: str | None = None, accept: str | None = None
) -> Any:
    """A request from client address `address` (requestContext.http.sourceIp), as API Gateway sees it."""
    headers = [("host", "localhost")]
    if accept is not None:
        headers.append(("accept", accept))
    if key is not None:
        headers.append(("authorization", f"Bearer {key}"))
    response = api.api.handle(HttpRequest(method=method, target=path, headers=headers, source_ip=address))
    lowered = {k.lower(): v for k, v in response.headers}
    try:
        body = json.loads(response.body) if lowered.get("content-type", "").startswith("application/json") else None
    except ValueError:
        body = None
    return response.status, lowered, body


def away_from_window_end(margin: float = 8.0) -> None:
    """Wait, if needed, until the current one-minute window has `margin` seconds left, so that a burst of
    requests all land in one window (test setup, not an assertion on time)."""
    left = 60 - time.time() % 60
    if left < margin:
        time.sleep(left + 0.05)
