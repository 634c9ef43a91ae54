"""A member's own data in a guild, as one JSON document (`/privacy export`): their XP record with the display
data and privacy choice kept on it, their rank, and the XP audit records about them in this guild."""

from __future__ import annotations

from typing import Any

from ..clock import now_ms
from ..store import audit, members
from . import ranks
from .curves import curve_for, levels_settled

FORMAT = "xpshop-member-data/1"
# What the member record shows, in this order; an attribute never written is null.
RECORD_FIELDS = (
    "xp",
    "level",
    "messages",
    "xpMessages",
    "lastAwardedAt",
    "createdAt",
    "levelSource",
    "importRun",
    "hidden",
    "displayName",
    "username",
    "avatar",
)
AUDIT_FIELDS = ("at", "delta", "oldXp", "newXp", "oldLevel", "newLevel", "reason", "source")


def export(guild_id: str, user_id: str) -> dict[str, Any]:
    """The document (JSON-ready). `member` and `rank` are null for someone without a record here."""
    stored = members.stored(guild_id, user_id)
    record: dict[str, Any] | None = None
    rank: dict[str, int] | None = None
    if stored is not None:
        record = {name: stored.get(name) for name in RECORD_FIELDS}
        xp = int(stored.get("xp") or 0)
        record["level"] = curve_for(guild_id).level(xp)  # as every read shows it (the guild's curve)
        record["hidden"] = stored.get("hidden") is True
        position, total = ranks.rank(
            guild_id,
            user_id,
            xp,
            int(stored.get("level") or 0),
            curve_for(guild_id),
            settled=levels_settled(guild_id),
        )
        rank = {"rank": position, "total": total}
    history = [{name: entry.get(name) for name in AUDIT_FIELDS} for entry in audit.history(guild_id, user_id)]
    return {
        "format": FORMAT,
        "guildId": guild_id,
        "userId": user_id,
        "exportedAt": now_ms(),
        "member": record,
        "rank": rank,
        "audit": history,
    }
