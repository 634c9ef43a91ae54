"""API Gateway (HTTP API, payload 2.0) responses for what is not the JSON API: binary bodies and conditional GETs.

A binary body goes back base64-encoded with `isBase64Encoded: true`; API Gateway decodes it, so clients get
the bytes (HTTP APIs need no binary media types for that). `make dev` does the same (local/server.py).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from ..errors import ErrorCode


def binary(body: bytes, content_type: str, *, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    return {
        "statusCode": 200,
        "headers": {"Content-Type": content_type, "X-Content-Type-Options": "nosniff", **(headers or {})},
        "body": base64.b64encode(body).decode("ascii"),
        "isBase64Encoded": True,
    }


def not_modified(headers: Mapping[str, str]) -> dict[str, Any]:
    """304: no body; the validators and caching headers of the 200 it stands for."""
    return {"statusCode": 304, "headers": dict(headers), "body": "", "isBase64Encoded": False}


def error(code: ErrorCode, message: str, status: int, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The API's error envelope (the same shape as /api/xp's), never cached."""
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", "Cache-Control": "no-store", **(headers or {})},
        "body": json.dumps({"success": False, "error": {"code": code.value, "message": message}}),
        "isBase64Encoded": False,
    }


def request_headers(event: Mapping[str, Any]) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an `If-None-Match` header names this ETag (weak comparison, as RFC 9110 asks for GETs)."""
    if not if_none_match:
        return False
    wanted = etag.removeprefix("W/")
    for listed in if_none_match.split(","):
        candidate = listed.strip()
        if candidate == "*" or candidate.removeprefix("W/") == wanted:
            return True
    return False
