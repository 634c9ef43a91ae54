"""Exporting a leaderboard (issue 15): every member, XP descending (ties by user id), `{id, xp, level, messages}`
(what the importer reads), in parts of at most MAX_LIMIT with an opaque cursor to the next part."""

from __future__ import annotations

from typing import Any

from ..store import exports as store
from ..transfer import render
from .curves import curve_for

DEFAULT_LIMIT = 10_000
MAX_LIMIT = 10_000
FORMATS = ("json", "csv")


def export_part(guild_id: str, limit: int | None, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """(members of this part, cursor of the next part or None). The level is derived from XP with the guild's
    curve, as every read shows it."""
    entries, next_cursor = store.page(guild_id, min(limit or DEFAULT_LIMIT, MAX_LIMIT), cursor)
    curve = curve_for(guild_id)
    members = [{"id": e.user_id, "xp": e.xp, "level": curve.level(e.xp), "messages": e.messages} for e in entries]
    return members, next_cursor


def as_csv(members: list[dict[str, Any]]) -> str:
    return render.csv_text(members)


CSV_MEDIA_TYPE = render.CSV_MEDIA_TYPE
