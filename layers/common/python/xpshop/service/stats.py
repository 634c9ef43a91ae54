"""Guild statistics and service health, from counters (no guild scan)."""

from __future__ import annotations

import os
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .. import __version__
from ..clock import now_ms
from ..levels import ratio
from ..store import keys, stats
from ..store.members import Member
from ..store.table import table
from . import ranks
from .config import config_summary, merged_guild
from .curves import curve_for, levels_settled


def guild_stats(guild_id: str) -> dict[str, Any]:
    totals = stats.read(guild_id)
    # the top member: one Query of the highest band the level histogram shows members in; while a
    # recalculation is pending (bands may follow a previous curve or layout, so the highest is not the top),
    # the page read that merges every band
    curve = curve_for(guild_id)
    if levels_settled(guild_id):
        levels = [level for level, n in totals.distribution.items() if n > 0] if totals.members else []
        found = ranks.top_of_levels(guild_id, levels, 1, curve.banded)
    else:
        found = ranks.top(guild_id, 1, curve, settled=False).items
    top = [Member.from_item(item) for item in found]
    cfg = merged_guild(guild_id)
    count = totals.members
    return {
        "users": {
            "total": count,
            "topUser": {"userId": top[0].user_id, "xp": top[0].xp, "level": curve.level(top[0].xp)} if top else None,
        },
        "xp": {"total": totals.xp, "average": ratio(totals.xp, count)},
        "messages": {"total": totals.messages, "xpMessages": totals.xp_messages},
        "levels": {
            "average": ratio(totals.level_sum, count),  # 0.0 when no members: one type
            "distribution": {str(level): n for level, n in totals.distribution.items()},
        },
        "config": config_summary(cfg),
        "leaderboard": {"public": bool(cfg["leaderboard"].get("public"))},
    }


def health() -> dict[str, Any]:
    try:
        table().get_item(Key=keys.health_probe(), ProjectionExpression="PK")
        accessible = True
    except (ClientError, BotoCoreError):
        accessible = False
    return {
        "status": "healthy" if accessible else "degraded",
        "timestamp": now_ms(),
        "version": __version__,
        "storage": {"accessible": accessible},
        "discord": {"configured": bool(os.environ.get("DISCORD_PUBLIC_KEY"))},
    }
