"""Which error code a bad field of an /api/xp body earns (the XP seed's codes; other fields are
INVALID_REQUEST): the XP API style's table, `http.resolver.XP_API`.

Its own module, free of models: every HTTP function's resolver needs the table, only the XP functions with
bodies need `requests`' models (importing them is a few ms of every cold start).
"""

from __future__ import annotations

from ...errors import ErrorCode

FIELD_ERROR_CODES: dict[str, ErrorCode] = {
    "amount": ErrorCode.INVALID_AMOUNT,
    "xp": ErrorCode.INVALID_AMOUNT,
    "level": ErrorCode.INVALID_LEVEL,
    "roleId": ErrorCode.INVALID_ROLE_ID,
    "server": ErrorCode.INVALID_MULTIPLIER,
    "role": ErrorCode.INVALID_MULTIPLIER,
    "user": ErrorCode.INVALID_MULTIPLIER,
}
