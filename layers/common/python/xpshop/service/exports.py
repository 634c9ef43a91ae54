"""Exporting a leaderboard (issue 15): every member, XP descending (ties by user id), `{id, xp, level, messages,
hidden}` (what the importer reads), in parts of at most MAX_LIMIT with an opaque cursor to the next part.

`hidden` is the member's privacy choice: a guild moved by export and import keeps its hidden members hidden."""

from __future__ import annotations

import contextvars
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..store import exports as store
from ..store import members as member_store
from ..transfer import render
from .curves import curve_for, levels_settled

DEFAULT_LIMIT = 10_000
MAX_LIMIT = 10_000
FORMATS = ("json", "csv")
HIDDEN_READ_IDS = 1_000  # members a thread reads the privacy flag of (ten BatchGetItem)
HIDDEN_THREADS = 10  # a full part: ten threads of ten reads each, not a hundred reads in a row


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
    hidden = _hidden(guild_id, [e.user_id for e in entries])
    members = [
        {"id": e.user_id, "xp": e.xp, "level": curve.level(e.xp), "messages": e.messages, "hidden": e.user_id in hidden}
        for e in entries
    ]
    return members, next_cursor


def _hidden(guild_id: str, user_ids: list[str]) -> set[str]:
    """The members of a part who chose to be hidden (the index does not project the flag: the items are read)."""
    parts = [user_ids[i : i + HIDDEN_READ_IDS] for i in range(0, len(user_ids), HIDDEN_READ_IDS)]
    if len(parts) <= 1:
        return member_store.hidden_among(guild_id, user_ids)
    found: set[str] = set()
    with ThreadPoolExecutor(max_workers=HIDDEN_THREADS, thread_name_prefix="export-hidden") as pool:
        # each read runs in a copy of this context (the logger's keys; in tests, the calls' attribution)
        reads = pool.map(lambda ids: contextvars.copy_context().run(member_store.hidden_among, guild_id, ids), parts)
        for hidden in reads:
            found |= hidden
    return found


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
