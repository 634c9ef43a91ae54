"""Member XP use cases: read, list, add, set, remove, recalc, leaderboard and rank."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from .. import guild_config
from ..clock import now_ms
from ..errors import ErrorCode, NotFound
from ..levels import Curve
from ..store import members
from ..store.members import Change, Member, Profile
from . import ranks
from .curves import config_for, curve_for, levels_settled

if TYPE_CHECKING:
    from ..api.xp.member_events import MemberEvent

# The store's counters (`stats`), audit trail (`audit`) and marks (`markers`) are imported by the writes that
# use them: the reads (leaderboard, rank, a member) never do, and a function serving only those does not load
# them on its cold start (tests/unit/test_imports.py).

logger = Logger(child=True)


def member_view(m: Member, curve: Curve) -> dict[str, Any]:
    """A member as the API shows it. The level is derived from XP with the guild's current curve: the stored
    level is a cache that the recalculation job brings in line after a curve change."""
    return {
        "xp": m.xp,
        "level": curve.level(m.xp),
        "messages": m.messages,
        "xpMessages": m.xp_messages,
        "lastAwardedAt": m.last_awarded_at,
    }


def _require(guild_id: str, user_id: str) -> Member:
    member = members.get(guild_id, user_id)
    if member is None:
        raise _not_found(guild_id, user_id)
    return member


def _detail(guild_id: str, member: Member) -> dict[str, Any]:
    curve = curve_for(guild_id)
    progress = curve.progress(member.xp)
    return {"user": member_view(member, curve), "progress": progress.as_dict(), "percentage": progress.percentage}


def get_member(guild_id: str, user_id: str) -> dict[str, Any]:
    return _detail(guild_id, _require(guild_id, user_id))


def rank_card(guild_id: str, user_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A member's detail and rank from one read of the member (what /rank shows)."""
    detail, position, _ = rank_card_with_profile(guild_id, user_id)
    return detail, position


def rank_card_with_profile(guild_id: str, user_id: str) -> tuple[dict[str, Any], dict[str, Any], Profile]:
    """`rank_card` and the member's display data and privacy choice, from the same read (rank card images)."""
    member = _require(guild_id, user_id)
    position, total = ranks.rank(
        guild_id, user_id, member.xp, member.level, curve_for(guild_id), settled=levels_settled(guild_id)
    )
    return _detail(guild_id, member), {"rank": position, "total": total}, member.profile


def _page(guild_id: str, offset: int, limit: int) -> tuple[list[Member], bool, int]:
    """A page in leaderboard order at any depth (rank counters locate it), whether more follow, the total."""
    found = ranks.page(guild_id, offset, limit, curve_for(guild_id), settled=levels_settled(guild_id))
    page = [Member.from_item(item) for item in found.items]
    return page, offset + len(page) < found.total, found.total


def list_members(guild_id: str, offset: int, limit: int) -> dict[str, Any]:
    page, has_more, total = _page(guild_id, offset, limit)
    curve = curve_for(guild_id)
    return {
        "users": [{"userId": m.user_id, **member_view(m, curve)} for m in page],
        "pagination": {"offset": offset, "limit": limit, "total": total, "hasMore": has_more},
    }


def _logged(guild_id: str, user_id: str, change: Change, reason: str | None, source: str) -> None:
    """A level change is logged here. The audit record and the guild counters of the change follow from the
    table's stream a moment later (service/changes.py): the member write carries who and why, and is the
    request's only write."""
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


def add_xp(
    guild_id: str, user_id: str, amount: int, reason: str | None, source: str = "api", *, earned: bool = False
) -> dict[str, Any]:
    """Add XP. `earned`: the member earned it (Give XP on their message), so a level it reaches pays
    credits per level; XP an admin gives (API, /xp give) is granted and pays none (see service/effects.py)."""
    level_source = members.LEVEL_EARNED if earned else members.LEVEL_GRANTED
    note = members.Note(source, reason)
    curve = curve_for(guild_id)
    # Earned XP records its time on the member: a leave or ban stamped before it is stale (see reset_once).
    earned_at = now_ms() if earned else None
    change = members.add(guild_id, user_id, amount, curve, source=level_source, note=note, earned_at=earned_at)
    _logged(guild_id, user_id, change, reason, source)
    answer = _levels(change, curve)
    return {**answer, "leveledUp": answer["newLevel"] > answer["oldLevel"]}


def set_xp(guild_id: str, user_id: str, xp: int, reason: str | None, source: str = "api") -> dict[str, Any]:
    curve = curve_for(guild_id)
    change = members.set_xp(guild_id, user_id, xp, curve, note=members.Note(source, reason))
    _logged(guild_id, user_id, change, reason, source)
    return _levels(change, curve)


def remove_xp(guild_id: str, user_id: str, amount: int, reason: str | None, source: str = "api") -> dict[str, Any]:
    curve = curve_for(guild_id)
    change = members.remove(guild_id, user_id, amount, curve, note=members.Note(source, reason))
    _logged(guild_id, user_id, change, reason, source)
    answer = _levels(change, curve)
    return {**answer, "leveledDown": answer["newLevel"] < answer["oldLevel"]}


def _levels(change: Change, curve: Curve) -> dict[str, int]:
    """The XP and levels of a change as every read shows them: levels derived from XP on the guild's curve.
    The same as the stored levels, except after a curve change, until the recalculation job relevels the
    member (a write within a level keeps the stored one)."""
    return {
        "oldXp": change.old_xp,
        "newXp": change.new_xp,
        "oldLevel": curve.level(change.old_xp),
        "newLevel": curve.level(change.new_xp),
    }


def recalc_member(guild_id: str, user_id: str) -> dict[str, Any]:
    from ..store import stats

    change = members.relevel(guild_id, user_id, curve_for(guild_id))
    if change.old_level != change.new_level:
        try:
            stats.apply(guild_id, user_id, change)
        except Exception:
            logger.exception("stats counter update failed", extra={"guildId": guild_id, "userId": user_id})
    # Role rewards follow asynchronously: the level change reaches the effects function through the stream.
    return {"oldLevel": change.old_level, "newLevel": change.new_level, "totalXp": change.new_xp, "reconciled": False}


def leaderboard(guild_id: str, offset: int, limit: int) -> dict[str, Any]:
    page, _, total = _page(guild_id, offset, limit)
    curve = curve_for(guild_id)
    entries = [
        {"userId": m.user_id, "xp": m.xp, "level": curve.level(m.xp), "rank": offset + i + 1}
        for i, m in enumerate(page)
    ]
    return {"entries": entries, "total": total}


def leaderboard_with_profiles(guild_id: str, offset: int, limit: int) -> tuple[dict[str, Any], dict[str, Profile]]:
    """The leaderboard page and its members' display data and privacy choice (one more read per page).
    Public views must show a hidden member as "Hidden member": no name, avatar, id or card."""
    board = leaderboard(guild_id, offset, limit)
    return board, members.profiles(guild_id, [e["userId"] for e in board["entries"]])


def rank(guild_id: str, user_id: str) -> dict[str, Any]:
    member = _require(guild_id, user_id)
    position, total = ranks.rank(
        guild_id, user_id, member.xp, member.level, curve_for(guild_id), settled=levels_settled(guild_id)
    )
    return {"rank": position, "total": total}


# ---------------------------------------------------------------- privacy and public views

HIDDEN_MEMBER = "Hidden member"


def _not_found(guild_id: str, user_id: str) -> NotFound:
    return NotFound(ErrorCode.USER_NOT_FOUND, f"User {user_id} has no XP record in guild {guild_id}")


def public_entry(entry: dict[str, Any], profile: Profile | None) -> dict[str, Any]:
    """A leaderboard entry as anonymous callers see it: a hidden member keeps their rank, XP and level (so
    everyone else's rank stays true) but shows no id, name or avatar."""
    if profile is not None and profile.hidden:
        return {**entry, "userId": None, "hidden": True, "displayName": None, "avatar": None}
    shown = (profile.display_name or profile.username) if profile else None
    return {**entry, "hidden": False, "displayName": shown, "avatar": profile.avatar if profile else None}


def public_leaderboard(guild_id: str, offset: int, limit: int) -> dict[str, Any]:
    """The leaderboard for anonymous callers (a guild with `leaderboard.public`): hidden members masked."""
    board, profiles = leaderboard_with_profiles(guild_id, offset, limit)
    entries = [public_entry(e, profiles.get(e["userId"])) for e in board["entries"]]
    return {"entries": entries, "total": board["total"]}


def public_rank(guild_id: str, user_id: str) -> dict[str, Any]:
    """A member's rank for anonymous callers: a hidden member answers exactly like one without a record."""
    member = members.get(guild_id, user_id)
    if member is None or member.profile.hidden:
        raise _not_found(guild_id, user_id)
    position, total = ranks.rank(
        guild_id, user_id, member.xp, member.level, curve_for(guild_id), settled=levels_settled(guild_id)
    )
    return {"rank": position, "total": total}


def set_privacy(guild_id: str, user_id: str, hidden: bool) -> dict[str, Any]:
    """Hide a member from public views, or show them again (one write). Hiding a member without a record
    creates it at 0 XP so the choice holds once they earn XP; showing one never creates a record."""
    from ..store import stats

    created = members.set_hidden(guild_id, user_id, hidden, curve_for(guild_id))
    if created:  # a new member at 0 XP: the counters count them like any other (no XP, so no audit record)
        try:
            stats.apply(guild_id, user_id, Change(True, 0, 0, 0, 0))
        except Exception:
            logger.exception("stats counter update failed", extra={"guildId": guild_id, "userId": user_id})
    logger.info("privacy changed", extra={"guildId": guild_id, "userId": user_id, "hidden": hidden})
    return {"hidden": hidden, "created": created}


def profile_of(guild_id: str, user_id: str) -> Profile | None:
    """What is kept to show a member (display data and privacy choice), or None without a record."""
    member = members.get(guild_id, user_id)
    return member.profile if member else None


# ---------------------------------------------------------------- reset on leave or ban, forgetting


def apply_member_event(event: MemberEvent) -> dict[str, Any]:
    """A member left or was banned (from the relay, through the messages' queue): applied once per event id.
    When the guild's `resetOn` covers the event's type, the member's XP goes to 0 (audited with the type as
    reason; audit record and counters follow through the stream); otherwise the event is only recorded as
    seen. Raises what a retry may fix (the queue tries again: the marker is written with the reset, so a
    retry never applies it twice)."""
    cfg = config_for(event.guildId)
    reset = guild_config.resets_on(cfg, event.type)
    outcome = members.reset_once(
        event.guildId,
        event.userId,
        event.eventId,
        event.type,
        curve_for(event.guildId),
        at_ms=event.at,
        reset=reset,
        note=members.Note("relay", event.type),
    )
    if not outcome.first:
        return {"applied": False, "reason": "duplicate"}
    if outcome.stale:
        # Delivered late: the member came back and earned XP after it (or a later reset covered it). Resetting
        # now would take XP earned after the event, so it changes nothing (its id is recorded as seen).
        logger.info(
            "member event stale",
            extra={"guildId": event.guildId, "userId": event.userId, "type": event.type, "eventId": event.eventId},
        )
        return {"applied": False, "reset": False, "reason": "stale"}
    if outcome.change is None:
        return {"applied": True, "reset": False, "reason": "resetOn" if not reset else "noXp"}
    _logged(event.guildId, event.userId, outcome.change, event.type, "relay")
    logger.info(
        "member reset",
        extra={"guildId": event.guildId, "userId": event.userId, "type": event.type, "eventId": event.eventId},
    )
    return {"applied": True, "reset": True, "oldXp": outcome.change.old_xp}


def forget(guild_id: str, user_id: str) -> dict[str, Any]:
    """Remove what xpshop keeps about a member in a guild as XP data: the member item (XP, level, message
    counts, display names and avatar, privacy choice), their XP audit records, their ranked entry (and the
    rank counters it sat in) and their level-up announcement marks; the guild's counters lose exactly what
    the member item held. Answers how many of each were removed: a second call answers zeros. Shop data
    (profile, credits, cosmetics, the level-credits mark) is not XP data and is kept."""
    from ..store import audit, markers, stats

    removed = members.delete(guild_id, user_id)
    if removed is not None:
        totals = stats.Totals(
            members=-1,
            xp=-removed.xp,
            level_sum=-removed.level,
            messages=-removed.messages,
            xp_messages=-removed.xp_messages,
            distribution={removed.level: -1},
        )
        try:
            stats.apply_totals(guild_id, user_id, totals)  # the member's own shard
        except Exception:
            logger.exception("stats counter update failed", extra={"guildId": guild_id, "userId": user_id})
    audits = audit.forget(guild_id, user_id)
    ranked = ranks.forget(guild_id, user_id)
    effects = markers.forget_level_effects(guild_id, user_id)
    logger.info("member forgotten", extra={"guildId": guild_id, "userId": user_id, "member": removed is not None})
    return {
        "guildId": guild_id,
        "userId": user_id,
        "removed": {
            "member": 1 if removed is not None else 0,
            "auditRecords": audits,
            "rankedEntries": 1 if ranked else 0,
            "levelAnnouncements": effects,
        },
    }
