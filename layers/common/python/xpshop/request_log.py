"""One structured log line per API request: route, guild, caller, outcome and duration.

The line carries the route's template (`GET /api/xp/users/{guildId}`), never the query string, headers or
body, and the caller as `http.access` names it ("admin", "key:<id>", "user", "relay", "anonymous"): no key,
secret or token reaches a log. The correlation id (the API Gateway request id) is added by the function's
`inject_lambda_context`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools import Logger

from . import ids

logger = Logger(child=True)


def _error_code(result: Mapping[str, Any]) -> str | None:
    """An error answer's code, from our error envelope (small bodies only; others have none)."""
    body = result.get("body")
    if not isinstance(body, str) or len(body) > 4096 or result.get("isBase64Encoded"):
        return None
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    error = parsed.get("error") if isinstance(parsed, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else None


def logged(
    event: Mapping[str, Any],
    result: Mapping[str, Any],
    started: float,
    caller: str | None,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Log the request's one line (INFO; level WARNING for 5xx). `extra`: more fields of the caller's choosing
    (the Discord command's name), never a secret or a member id."""
    status = int(result.get("statusCode") or 0)
    guild = (event.get("pathParameters") or {}).get("guildId")
    method = ((event.get("requestContext") or {}).get("http") or {}).get("method")
    route = str(event.get("routeKey") or "").rpartition(" ")[2]  # "ANY /api/xp/users/{guildId}": the path
    line: dict[str, Any] = {
        "route": f"{method} {route}",
        "status": status,
        "durationMs": round((time.perf_counter() - started) * 1000, 1),
        "caller": caller or "none",
        # only a well-formed id: a path segment is the caller's text
        "guildId": guild if isinstance(guild, str) and ids.is_snowflake(guild) else None,
    }
    if extra:
        line.update(extra)
    if status >= 400:
        line["errorCode"] = _error_code(result)
    if status >= 500:
        logger.warning("request", extra=line)
    else:
        logger.info("request", extra=line)


def timed(
    event: Mapping[str, Any], caller: str, answer: Callable[[], dict[str, Any]], extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """`answer()`, and its request's one line: for the handlers outside the API resolvers (web board, rank
    cards, Discord interactions)."""
    started = time.perf_counter()
    result = answer()
    logged(event, result, started, caller, extra)
    return result
