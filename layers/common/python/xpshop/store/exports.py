"""Every member of a guild in leaderboard order (XP descending, ties by user id), part by part, for the export:
`Query`s of the `LeaderboardBands` index (which projects xp, level and messages: no read of the member items),
band by band, resumed from an opaque cursor that names the last member of the previous part, its band and the
guild's band layout then (a part resumed after the guild switched layouts starts from that member's band in
the new layout: nobody skipped)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..errors import ErrorCode, InvalidInput
from ..ids import is_snowflake
from . import keys
from .conditions import Key
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


def encode_cursor(guild_id: str, user_id: str, xp: int, band: int, fine: bool) -> str:
    raw = json.dumps({"g": guild_id, "u": user_id, "x": xp, "b": band, "f": int(fine)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(guild_id: str, token: str, fine: bool, level_of: Callable[[int], int]) -> tuple[int, dict[str, Any]]:
    """(band, index key to resume after); only a member of this guild can be named, so a crafted cursor
    can't reach another guild's partition, and a cursor another guild's export gave is refused (it would
    resume this guild's export at a position of that one's, silently leaving members out). Only a band of
    the layout it was issued in (`f`); a cursor issued in the other layout (the guild switched between two
    parts) resumes in the band its member's XP is in now (`level_of`: the guild's curve)."""
    try:
        value = unpack(token)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise _bad_cursor() from exc
    if not isinstance(value, dict) or set(value) != {"g", "u", "x", "b", "f"} or value["g"] != guild_id:
        raise _bad_cursor()
    user_id, xp, band, issued_fine = value["u"], value["x"], value["b"], value["f"]
    if not is_snowflake(user_id) or isinstance(xp, bool) or not isinstance(xp, int) or not 0 <= xp < 10**15:
        raise _bad_cursor()
    if isinstance(issued_fine, bool) or issued_fine not in (0, 1):
        raise _bad_cursor()
    if isinstance(band, bool) or not isinstance(band, int) or not 0 <= band < keys.bands(bool(issued_fine)):
        raise _bad_cursor()
    if bool(issued_fine) != fine:
        band = keys.band(level_of(xp), fine)
    key = {
        **keys.member(guild_id, str(user_id)),
        "board": keys.board(guild_id, band),
        "score": Decimal(keys.score(xp, str(user_id))),
    }
    return band, key


def page(
    guild_id: str, limit: int, cursor: str | None, fine: bool, level_of: Callable[[int], int]
) -> tuple[list[Entry], str | None]:
    """Up to `limit` members after `cursor` (from the top without one), and the cursor of what follows (None
    when nobody follows), in the guild's band layout (`fine`: Curve.banded; `level_of`: its curve's level of an XP).
    The index is read band by band from the
    highest (a band nobody is in costs one small Query: at most keys.BANDS a whole export; one band on the
    single band)."""
    band, start = _decode_cursor(guild_id, cursor, fine, level_of) if cursor else (keys.bands(fine) - 1, None)
    # One member past the part is read (look-ahead): a part that ends at the guild's last member then says so
    # (no cursor) instead of naming a next part that would be empty.
    wanted = limit + 1
    found: list[tuple[Entry, int]] = []  # with the band each member was read in
    while len(found) < wanted and band >= 0:
        kwargs: dict[str, Any] = {
            "IndexName": keys.LEADERBOARD_INDEX,
            "KeyConditionExpression": Key("board").eq(keys.board(guild_id, band)),
            "ScanIndexForward": False,
            "Limit": min(QUERY_PAGE, wanted - len(found)),
        }
        if start:
            kwargs["ExclusiveStartKey"] = start
        resp = table().query(**kwargs)
        for raw in resp.get("Items", []):
            item = plain(raw)
            user_id = str(item.get("userId") or keys.user_id_from_member_sk(item["SK"]))
            found.append((Entry(user_id, int(item.get("xp", 0)), int(item.get("messages", 0) or 0)), band))
        start = resp.get("LastEvaluatedKey")
        if not start:
            band -= 1  # this band is read to its end: the next one down, from its top
    part = [entry for entry, _ in found[:limit]]
    if len(found) <= limit:
        return part, None  # nobody after this part
    tail, tail_band = found[limit - 1]
    return part, encode_cursor(guild_id, tail.user_id, tail.xp, tail_band, fine)
