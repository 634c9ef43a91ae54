"""Rate limits: fixed one-minute windows counted in the table, one conditional UpdateItem per request.

Who is limited, and by what (environment from template.yaml's parameters):
- an API key (v2): its rateLimitPerMinute, else RATE_LIMIT_PER_MINUTE (RateLimitPerMinute, 1,500);
- a shop user key (`/apikey`): RATE_LIMIT_PER_MINUTE, per user;
- an anonymous caller of a public route (the public leaderboard JSON, health, the web leaderboard, rank
  cards): RATE_LIMIT_ANONYMOUS_PER_MINUTE per client address (AnonymousRateLimitPerMinute, 600);
- the admin key: RATE_LIMIT_ADMIN_PER_MINUTE (AdminRateLimitPerMinute), 0 by default: not limited, no
  counter write (the operator's own key, used by the soak and end-to-end tests). API Gateway's throttling
  (100/s, burst 200) stays the outer guard for everyone.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ApiError, ErrorCode
from ..store import rate_limits as store
from ..store.table import is_transient

WINDOW_SECONDS = 60
DEFAULT_ANONYMOUS_LIMIT = 600


def _env_int(name: str, default: int) -> int:
    try:
        return max(0, int(os.environ.get(name) or default))
    except ValueError:
        return default


def anonymous_limit() -> int:
    return _env_int("RATE_LIMIT_ANONYMOUS_PER_MINUTE", DEFAULT_ANONYMOUS_LIMIT)


def admin_limit() -> int:
    """0: the admin key is not limited."""
    return _env_int("RATE_LIMIT_ADMIN_PER_MINUTE", 0)


@dataclass(frozen=True, slots=True)
class Verdict:
    limit: int
    remaining: int
    reset: int  # epoch seconds the window ends
    allowed: bool

    def headers(self) -> dict[str, str]:
        found = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }
        if not self.allowed:
            found["Retry-After"] = str(max(1, self.reset - int(time.time())))
        return found

    def refusal(self) -> ApiError:
        return ApiError(
            ErrorCode.RATE_LIMITED,
            f"Rate limit of {self.limit} requests per minute reached; retry after {self.headers()['Retry-After']} s",
            self.headers(),
        )


def count(subject: str, limit: int, now: float | None = None) -> Verdict:
    """Count one request of `subject` against `limit` per minute (one UpdateItem)."""
    now = time.time() if now is None else now
    start = int(now) - int(now) % WINDOW_SECONDS
    reset = start + WINDOW_SECONDS
    seen = store.hit(subject, start, WINDOW_SECONDS, limit)
    if seen is None:
        return Verdict(limit, 0, reset, allowed=False)
    return Verdict(limit, max(0, limit - seen), reset, allowed=True)


def ip_subject(event: Mapping[str, Any]) -> str:
    """An anonymous caller's subject: its address as API Gateway saw it (requestContext.http.sourceIp)."""
    source = ((event.get("requestContext") or {}).get("http") or {}).get("sourceIp")
    return f"ip:{source or 'unknown'}"


def limited_public(
    event: dict[str, Any],
    respond: Callable[[dict[str, Any]], dict[str, Any]],
    refuse: Callable[[dict[str, Any], int, dict[str, str]], dict[str, Any] | None] | None = None,
) -> dict[str, Any]:
    """A public route outside the resolvers (web leaderboard, rank cards): the per-address limit, then
    `respond`, with the X-RateLimit-* headers; over the limit, 429 in the API's error envelope, unless
    `refuse` (the route's own refusal: given the event, status and headers) answers otherwise (the web
    board's page for a browser)."""
    limit = anonymous_limit()
    if limit <= 0:
        return respond(event)
    try:
        verdict = count(ip_subject(event), limit)
    except Exception as exc:
        if not is_transient(exc):
            raise
        return respond(event)  # storage busy: the page's own reads answer for it (503 page), not the limiter
    if not verdict.allowed:
        error = verdict.refusal()
        own = refuse(event, error.status, dict(error.headers)) if refuse is not None else None
        if own is not None:
            return own
        body = {"success": False, "error": {"code": str(error.code), "message": error.message}}
        return {
            "statusCode": error.status,
            "headers": {"Content-Type": "application/json", "Cache-Control": "no-store", **error.headers},
            "body": json.dumps(body, separators=(",", ":")),
            "isBase64Encoded": False,
        }
    result = respond(event)
    result["headers"] = {**(result.get("headers") or {}), **verdict.headers()}
    return result
