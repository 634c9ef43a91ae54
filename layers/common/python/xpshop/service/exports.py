"""Exporting a leaderboard (issue 15): every member, XP descending (ties by user id), `{id, xp, level, messages}`
(what the importer reads), in parts of at most MAX_LIMIT with an opaque cursor to the next part."""

from __future__ import annotations

import json
from typing import Any

from ..store import exports as store
from ..transfer import render
from .curves import curve_for, levels_settled

DEFAULT_LIMIT = 10_000
MAX_LIMIT = 10_000
FORMATS = ("json", "csv")


def export_part(guild_id: str, limit: int | None, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """(members of this part, cursor of the next part or None). The level is derived from XP with the guild's
    curve, as every read shows it."""
    curve = curve_for(guild_id)
    entries, next_cursor = store.page(
        guild_id,
        min(limit or DEFAULT_LIMIT, MAX_LIMIT),
        cursor,
        curve.banded,
        curve.level,
        settled=levels_settled(guild_id),  # else bands may follow an old curve: every band is read and merged
    )
    members = [{"id": e.user_id, "xp": e.xp, "level": curve.level(e.xp), "messages": e.messages} for e in entries]
    return members, next_cursor


def as_csv(members: list[dict[str, Any]]) -> str:
    return render.csv_text(members)


def as_json(guild_id: str, members: list[dict[str, Any]]) -> str:
    """The whole export as one JSON part (`next` null): what GET /api/xp/export answers, and the importer reads."""
    return json.dumps({"guildId": guild_id, "members": members, "next": None}, separators=(",", ":"))


def export_file(guild_id: str, fmt: str, max_bytes: int) -> tuple[bytes, int] | None:
    """(the whole guild's export as one file, members in it), or None when it would be larger than `max_bytes`:
    parts are read until the file is complete or too large (a huge guild is not read to the end for nothing)."""
    everyone: list[dict[str, Any]] = []
    size, cursor = 0, None
    while True:
        part, cursor = export_part(guild_id, MAX_LIMIT, cursor)
        everyone += part
        size += len(as_csv(part) if fmt == "csv" else json.dumps(part, separators=(",", ":")))
        if size > max_bytes:
            return None
        if cursor is None:
            break
    text = as_csv(everyone) if fmt == "csv" else as_json(guild_id, everyone)
    data = text.encode()
    return (data, len(everyone)) if len(data) <= max_bytes else None


CSV_MEDIA_TYPE = render.CSV_MEDIA_TYPE
