"""Member XP use cases: read, list, add, set, remove, recalc, leaderboard and rank."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from ..errors import ErrorCode, NotFound
from ..levels import DEFAULT_CURVE, Curve
from ..store import audit, members, stats
from ..store.members import Change, Member

logger = Logger(child=True)


def curve_for(guild_id: str) -> Curve:
    """The level curve of a guild (per-guild curves are a later feature; all use the default today)."""
    return DEFAULT_CURVE


def member_view(m: Member) -> dict[str, Any]:
    return {
        "xp": m.xp,
        "level": m.level,
        "messages": m.messages,
        "xpMessages": m.xp_messages,
        "lastAwardedAt": m.last_awarded_at,
    }


def get_member(guild_id: str, user_id: str) -> dict[str, Any]:
    member = members.get(guild_id, user_id)
    if member is None:
        raise NotFound(ErrorCode.USER_NOT_FOUND, f"User {user_id} has no XP record in guild {guild_id}")
    progress = curve_for(guild_id).progress(member.xp)
    return {"user": member_view(member), "progress": progress.as_dict(), "percentage": progress.percentage}


def list_members(guild_id: str, offset: int, limit: int) -> dict[str, Any]:
    total = stats.read(guild_id).members
    page = members.page(guild_id, offset, limit) if offset < total or total == 0 else []
    return {
        "users": [{"userId": m.user_id, **member_view(m)} for m in page],
        "pagination": {"offset": offset, "limit": limit, "total": total, "hasMore": offset + len(page) < total},
    }


def _after_write(guild_id: str, user_id: str, change: Change, reason: str | None, source: str) -> None:
    """Counters and audit follow the member write. The member item is the truth: if these fail after
    retries the change stands, and the recalculation job rebuilds counters from members."""
    try:
        stats.apply(guild_id, user_id, change)
    except ClientError:
        logger.exception("stats counter update failed", extra={"guildId": guild_id, "userId": user_id})
    try:
        audit.record(guild_id, user_id, change, reason, source)
    except ClientError:
        logger.exception("audit record failed", extra={"guildId": guild_id, "userId": user_id})
    if change.old_level != change.new_level:
        logger.info(
            "level changed",
            extra={
                "guildId": guild_id,
                "userId": user_id,
                "oldLevel": change.old_level,
                "newLevel": change.new_level,
                "reason": reason,
                "source": source,
            },
        )


def add_xp(guild_id: str, user_id: str, amount: int, reason: str | None, source: str = "api") -> dict[str, Any]:
    change = members.add(guild_id, user_id, amount, curve_for(guild_id))
    _after_write(guild_id, user_id, change, reason, source)
    return {
        "oldXp": change.old_xp,
        "newXp": change.new_xp,
        "oldLevel": change.old_level,
        "newLevel": change.new_level,
        "leveledUp": change.new_level > change.old_level,
    }


def set_xp(guild_id: str, user_id: str, xp: int, reason: str | None, source: str = "api") -> dict[str, Any]:
    change = members.set_xp(guild_id, user_id, xp, curve_for(guild_id))
    _after_write(guild_id, user_id, change, reason, source)
    return {"oldXp": change.old_xp, "newXp": change.new_xp, "oldLevel": change.old_level, "newLevel": change.new_level}


def remove_xp(guild_id: str, user_id: str, amount: int, reason: str | None, source: str = "api") -> dict[str, Any]:
    change = members.remove(guild_id, user_id, amount, curve_for(guild_id))
    _after_write(guild_id, user_id, change, reason, source)
    return {
        "oldXp": change.old_xp,
        "newXp": change.new_xp,
        "oldLevel": change.old_level,
        "newLevel": change.new_level,
        "leveledDown": change.new_level < change.old_level,
    }


def recalc_member(guild_id: str, user_id: str) -> dict[str, Any]:
    change = members.relevel(guild_id, user_id, curve_for(guild_id))
    if change.old_level != change.new_level:
        stats.apply(guild_id, user_id, change)
    # Role rewards are reconciled by the Discord effects path, which is not deployed yet.
    return {"oldLevel": change.old_level, "newLevel": change.new_level, "totalXp": change.new_xp, "reconciled": False}


def leaderboard(guild_id: str, offset: int, limit: int) -> dict[str, Any]:
    total = stats.read(guild_id).members
    page = members.page(guild_id, offset, limit) if offset < total or total == 0 else []
    entries = [{"userId": m.user_id, "xp": m.xp, "level": m.level, "rank": offset + i + 1} for i, m in enumerate(page)]
    return {"entries": entries, "total": total}


def rank(guild_id: str, user_id: str) -> dict[str, Any]:
    member = members.get(guild_id, user_id)
    if member is None:
        raise NotFound(ErrorCode.USER_NOT_FOUND, f"User {user_id} has no XP record in guild {guild_id}")
    ahead = members.count_ahead(guild_id, user_id, member.xp)
    return {"rank": ahead + 1, "total": stats.read(guild_id).members}
