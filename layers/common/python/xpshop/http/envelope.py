"""Response bodies: the success envelope (/api/xp), the shop's plain shapes (/api/v1) and the error envelope
every route answers with."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types

from ..errors import ApiError


def _json(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"))


def ok(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=_json({"success": True, "data": data}),
        headers=dict(headers or {}),
    )


def plain(data: Any, status: int = 200) -> Response:
    """A success body without the envelope: the shop API (/api/v1) keeps the seed's shapes."""
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=_json(data))


def fail(error: ApiError) -> Response:
    return Response(
        status_code=error.status,
        content_type=content_types.APPLICATION_JSON,
        body=_json({"success": False, "error": {"code": str(error.code), "message": error.message}}),
        headers=dict(error.headers),
    )
