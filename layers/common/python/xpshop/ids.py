"""Identifier formats: Discord snowflakes."""

from __future__ import annotations

import re
from typing import Any

from .errors import ErrorCode, InvalidInput

# Discord snowflakes are 17-19 digits today; 20 leaves room until 2090 (max uint64 has 20 digits).
_SNOWFLAKE = re.compile(r"^[1-9][0-9]{16,19}$")
MAX_SNOWFLAKE = 2**64 - 1


def is_snowflake(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        value = str(value)
    return isinstance(value, str) and bool(_SNOWFLAKE.match(value)) and int(value) <= MAX_SNOWFLAKE


def snowflake(value: Any, field: str, code: ErrorCode = ErrorCode.INVALID_REQUEST) -> str:
    """Normalise a snowflake given as string or integer to its string form, or raise naming the field."""
    if not is_snowflake(value):
        raise InvalidInput(code, f"{field} must be a Discord snowflake (17-20 digits), got {value!r}")
    return str(value)
