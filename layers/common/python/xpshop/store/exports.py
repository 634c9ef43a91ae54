"""Every member of a guild in leaderboard order (XP descending, ties by user id), part by part, for the export:
`Query`s of the `Leaderboard` index (which projects xp, level and messages: no read of the member items),
resumed from an opaque cursor that names the last member of the previous part."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Key

from ..errors import ErrorCode, InvalidInput
from ..ids import is_snowflake
from . import keys
from .cursor import unpack
from .table import plain, table

QUERY_PAGE = 5_000  # items a Query asks for (DynamoDB stops at 1 MB: ~7,000 of these entries)


@dataclass(frozen=True, slots=True)
class Entry:
    user_id: str
    xp: int
    messages: int


def _bad_cursor() -> InvalidInput:
    return InvalidInput(ErrorCode.INVALID_REQUEST, "cursor is not a valid export cursor (use `next` as given)")


def encode_cursor(user_id: str, xp: int) -> str:
    raw = json.dumps({"u": user_id, "x": xp}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(guild_id: str, token: str) -> dict[str, Any]:
    """The index key to resume after; only a member of this guild can be named, so a crafted cursor can't
    reach another guild's partition."""
    try:
        value = unpack(token)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise _bad_cursor() from exc
    if not isinstance(value, dict) or set(value) != {"u", "x"}:
        raise _bad_cursor()
    user_id, xp = value["u"], value["x"]
    if not is_snowflake(user_id) or isinstance(xp, bool) or not isinstance(xp, int) or not 0 <= xp < 10**15:
        raise _bad_cursor()
    return {**keys.member(guild_id, str(user_id)), "score": Decimal(keys.score(xp, str(user_id)))}


def page(guild_id: str, limit: int, cursor: str | None) -> tuple[list[Entry], str | None]:
    """Up to `limit` members after `cursor` (from the top without one), and the cursor of what follows (None
    at the end)."""
    kwargs: dict[str, Any] = {
        "IndexName": keys.LEADERBOARD_INDEX,
        "KeyConditionExpression": Key("PK").eq(keys.guild_pk(guild_id)),
        "ScanIndexForward": False,
    }
    if cursor:
        kwargs["ExclusiveStartKey"] = _decode_cursor(guild_id, cursor)
    found: list[Entry] = []
    more = False
    while len(found) < limit:
        resp = table().query(Limit=min(QUERY_PAGE, limit - len(found)), **kwargs)
        for raw in resp.get("Items", []):
            item = plain(raw)
            user_id = str(item.get("userId") or keys.user_id_from_member_sk(item["SK"]))
            found.append(Entry(user_id, int(item.get("xp", 0)), int(item.get("messages", 0) or 0)))
        last = resp.get("LastEvaluatedKey")
        if not last:
            more = False
            break
        more = True
        kwargs["ExclusiveStartKey"] = last
    if not more or not found:
        return found, None
    tail = found[-1]
    return found, encode_cursor(tail.user_id, tail.xp)
