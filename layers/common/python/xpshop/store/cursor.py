"""Opaque pagination cursors: url-safe base64 of DynamoDB's LastEvaluatedKey."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from typing import Any

from ..errors import ErrorCode, InvalidInput
from . import keys

# What every cursor is made of (url-safe base64, unpadded): the OpenAPI document states it on each `cursor`.
CURSOR_PATTERN = "^[A-Za-z0-9_-]*$"
_CURSOR = re.compile(CURSOR_PATTERN)


def unpack(token: str) -> Any:
    """The JSON value a cursor carries; ValueError when it is not one (b64decode alone would skip stray
    characters)."""
    if not _CURSOR.fullmatch(token):
        raise ValueError("not url-safe base64")
    return json.loads(base64.urlsafe_b64decode((token + "=" * (-len(token) % 4)).encode()))


def encode(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    raw = json.dumps(last_key, separators=(",", ":"), sort_keys=True, default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(
    token: str | None, allowed_keys: set[str], belongs: Callable[[dict[str, str]], bool] | None = None
) -> dict[str, Any] | None:
    """A cursor back to an ExclusiveStartKey; anything that isn't one we issued for this listing is a 400
    (`belongs` checks the key points into the same partition, so a crafted cursor cannot reach DynamoDB)."""
    if not token:
        return None
    try:
        key = unpack(token)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(ErrorCode.INVALID_REQUEST, "cursor is not a valid pagination cursor") from exc
    # keys.fits: the values go back to DynamoDB as a key, which refuses (500) any over its size limit
    if not isinstance(key, dict) or set(key) != allowed_keys or not keys.fits(key):
        raise InvalidInput(ErrorCode.INVALID_REQUEST, "cursor is not a valid pagination cursor")
    if belongs is not None and not belongs(key):
        raise InvalidInput(ErrorCode.INVALID_REQUEST, "cursor does not belong to this listing")
    return key
