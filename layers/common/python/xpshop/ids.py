"""Identifier formats: Discord snowflakes, Minecraft UUIDs, short random ids."""

from __future__ import annotations

import functools
import re
import string
from typing import Any

from .errors import ErrorCode, InvalidInput


def digits_at_most(limit: int, min_digits: int = 1) -> str:
    """A regular expression (no anchors) for the decimal numbers from 10^(min_digits-1) (0 when min_digits
    is 1) to `limit`, written without leading zeros: numeric bounds a JSON Schema `pattern` can state."""
    text = str(limit)
    width = len(text)
    if width < min_digits:
        raise ValueError(f"{limit} has fewer than {min_digits} digits")
    parts = ["0"] if min_digits == 1 else []
    if width - 1 >= max(min_digits, 1):  # every number with fewer digits than the limit
        low, high = max(min_digits, 1) - 1, width - 2
        parts.append(f"[1-9][0-9]{{{low},{high}}}" if low != high else f"[1-9][0-9]{{{low}}}")
    for i, char in enumerate(text):  # as many digits as the limit: a smaller digit at position i, any after
        floor = 1 if i == 0 else 0
        if int(char) > floor:
            rest = width - i - 1
            digit = f"[{floor}-{int(char) - 1}]" if int(char) - 1 > floor else str(floor)
            parts.append(text[:i] + digit + (f"[0-9]{{{rest}}}" if rest else ""))
    parts.append(text)
    return "|".join(dict.fromkeys(parts))


# Discord snowflakes are unsigned 64-bit integers: 17-19 digits today, 20 from about 2090, never above
# 2^64-1. The pattern states both bounds exactly (it is published in the OpenAPI document).
MAX_SNOWFLAKE = 2**64 - 1
SNOWFLAKE_PATTERN = f"^(?:{digits_at_most(MAX_SNOWFLAKE, 17)})$"
# 2015-01-01T00:00:00Z: the zero of a snowflake's 42 bits of milliseconds (the relay keeps a copy, tested equal)
DISCORD_EPOCH_MS = 1_420_070_400_000


def is_snowflake(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        value = str(value)
    # fullmatch, not match: "$" lets a trailing newline through
    return isinstance(value, str) and bool(_snowflake().fullmatch(value)) and int(value) <= MAX_SNOWFLAKE


@functools.cache
def _snowflake() -> re.Pattern[str]:
    return re.compile(SNOWFLAKE_PATTERN)  # on first use: compiling it is a good part of this module's import


def snowflake(value: Any, field: str, code: ErrorCode = ErrorCode.INVALID_REQUEST) -> str:
    """Normalise a snowflake given as string or integer to its string form, or raise naming the field."""
    if not is_snowflake(value):
        raise InvalidInput(code, f"{field} must be a Discord snowflake (17-20 digits, at most 2^64-1), got {value!r}")
    return str(value)


def snowflake_ms(snowflake: str | int) -> int:
    """The creation time a Discord id carries (ms since the Unix epoch)."""
    return (int(snowflake) >> 22) + DISCORD_EPOCH_MS


def snowflake_at(ms: int) -> int:
    """The smallest snowflake created at `ms` (ms since the Unix epoch): time-ordered ids for tests and demos."""
    return (ms - DISCORD_EPOCH_MS) << 22


# A Minecraft UUID as text: 32 hex digits, or the standard 8-4-4-4-12 dashed form; any case, nothing around
# it (no spaces: a Discord ID is not trimmed either). The one rule every API reads an account id with.
_HEX = "[0-9A-Fa-f]"
UUID_PATTERN = f"^(?:{_HEX}{{32}}|{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}})$"
_UUID = re.compile(UUID_PATTERN)
_ALPHABET = string.ascii_letters + string.digits


def minecraft_uuid(value: Any) -> str | None:
    """A Minecraft UUID in its 32-hex lowercase form, or None if it isn't one (see UUID_PATTERN)."""
    if not isinstance(value, str) or not _UUID.fullmatch(value):  # fullmatch: "$" lets a newline through
        return None
    return value.replace("-", "").lower()


def short_id(length: int = 8) -> str:
    """A random alphanumeric id (cosmetics, categories, coupons, creator codes): 62^8 ~ 2e14 values."""
    import secrets  # with hmac and hashlib: only where an id is made

    return "".join(secrets.choice(_ALPHABET) for _ in range(length))
