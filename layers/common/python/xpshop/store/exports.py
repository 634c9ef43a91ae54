"""Every member of a guild in leaderboard order (XP descending, ties by user id), part by part, for the export:
`Query`s of the `LeaderboardBands` index (which projects xp, level and messages: no read of the member items),
band by band, resumed from an opaque cursor that names the last member of the previous part, its band and the
guild's band layout then (a part resumed after the guild switched layouts starts from that member's band in
the new layout: nobody skipped)."""

from __future__ import annotations

import base64
import binascii
import heapq
import itertools
import json
from collections.abc import Callable, Iterator
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


def _entry(raw: dict[str, Any]) -> Entry:
    item = plain(raw)
    user_id = str(item.get("userId") or keys.user_id_from_member_sk(item["SK"]))
    return Entry(user_id, int(item.get("xp", 0)), int(item.get("messages", 0) or 0))


def _band_from(guild_id: str, band: int, below_score: int | None, wanted: int) -> Iterator[tuple[int, Entry]]:
    """(score, entry) of one band from the top, or below `below_score`, in score order, read lazily: a first
    small Query, then larger ones only as the merge consumes it."""
    board = Key("board").eq(keys.board(guild_id, band))
    condition = board if below_score is None else board & Key("score").lt(below_score)
    kwargs: dict[str, Any] = {"IndexName": keys.LEADERBOARD_INDEX, "KeyConditionExpression": condition}
    step = min(100, wanted)
    while True:
        resp = table().query(ScanIndexForward=False, Limit=step, **kwargs)
        for raw in resp.get("Items", []):
            yield -int(raw["score"]), _entry(raw)
        if "LastEvaluatedKey" not in resp:
            return
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
        step = min(QUERY_PAGE, step * 4)


def _page_over_every_band(
    guild_id: str, limit: int, cursor: str | None, fine: bool, level_of: Callable[[int], int]
) -> tuple[list[Entry], str | None]:
    """`page` while a recalculation is pending: stored levels, so bands, may follow a previous curve (or band
    layout), and bands are then not in XP order. Every band of the fine layout is read below the cursor's
    score and merged, as pages and ranks do meanwhile (ranks._read_every_band)."""
    below = None
    if cursor:
        _, key = _decode_cursor(guild_id, cursor, fine, level_of)
        below = int(key["score"])
    wanted = limit + 1  # the look-ahead, as in `page`
    merged = heapq.merge(*(_band_from(guild_id, band, below, wanted) for band in range(keys.BANDS)))
    found = [entry for _, entry in itertools.islice(merged, wanted)]
    part = found[:limit]
    if len(found) <= limit:
        return part, None
    tail = found[limit - 1]
    # the band its XP is in by the curve now: where a part read once the levels are settled resumes
    return part, encode_cursor(guild_id, tail.user_id, tail.xp, keys.band(level_of(tail.xp), fine), fine)


def page(
    guild_id: str,
    limit: int,
    cursor: str | None,
    fine: bool,
    level_of: Callable[[int], int],
    *,
    settled: bool = True,
) -> tuple[list[Entry], str | None]:
    """Up to `limit` members after `cursor` (from the top without one), and the cursor of what follows (None
    when nobody follows), in the guild's band layout (`fine`: Curve.banded; `level_of`: its curve's level of an XP).
    The index is read band by band from the
    highest (a band nobody is in costs one small Query: at most keys.BANDS a whole export; one band on the
    single band). Unless `settled` (curves.levels_settled): every band, merged (`_page_over_every_band`)."""
    if not settled:
        return _page_over_every_band(guild_id, limit, cursor, fine, level_of)
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
        found += [(_entry(raw), band) for raw in resp.get("Items", [])]
        start = resp.get("LastEvaluatedKey")
        if not start:
            band -= 1  # this band is read to its end: the next one down, from its top
    part = [entry for entry, _ in found[:limit]]
    if len(found) <= limit:
        return part, None  # nobody after this part
    tail, tail_band = found[limit - 1]
    return part, encode_cursor(guild_id, tail.user_id, tail.xp, tail_band, fine)
