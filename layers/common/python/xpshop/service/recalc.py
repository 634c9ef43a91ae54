"""The recalculation job: levels after a curve change, counters rebuilt, expired coupons deactivated.

Runs on a schedule and on demand; stops well before its time runs out, checkpointing, and the next run
resumes. Idempotent: a guild already in line is read but not written, and an unmarked guild is skipped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger

from ..store import coupons, guilds, keys, members, recalc
from . import curves

logger = Logger(child=True)
SAFETY_SECONDS = 3.0
COUNTER_FIELDS = ("members", "xp", "levelSum", "messages", "xpMessages")


def _add(totals: dict[str, dict[str, int]], user_id: str, xp: int, level: int, item: dict[str, Any]) -> None:
    shard = str(int(user_id) % keys.STATS_SHARDS)
    bucket = totals.setdefault(shard, dict.fromkeys(COUNTER_FIELDS, 0))
    bucket["members"] += 1
    bucket["xp"] += xp
    bucket["levelSum"] += level
    bucket["messages"] += int(item.get("messages", 0))
    bucket["xpMessages"] += int(item.get("xpMessages", 0))
    name = keys.level_counter(level)
    bucket[name] = bucket.get(name, 0) + 1


def _rewrite_counters(guild_id: str, totals: dict[str, dict[str, int]]) -> int:
    """Write the shards whose rebuilt totals differ from what is stored; returns how many were written."""
    stored = recalc.read_shards(guild_id)
    written = 0
    for shard in range(keys.STATS_SHARDS):
        fresh = {k: v for k, v in totals.get(str(shard), {}).items() if v}
        current = {k: int(v) for k, v in stored.get(shard, {}).items() if v}
        if fresh != current:
            recalc.write_shard(guild_id, shard, fresh)
            written += 1
    return written


def recalc_guild(guild_id: str, time_left: Callable[[], float]) -> dict[str, Any]:
    marker = recalc.marker(guild_id)
    curves.forget(guild_id)
    curve = curves.curve_for(guild_id)
    state = recalc.load_progress(guild_id)
    resumed = state is not None
    state = state or {"cursor": None, "totals": {}, "members": 0, "releveled": 0}
    for page, cursor in recalc.member_pages(guild_id, state["cursor"]):
        for item in page:
            change = members.relevel_seen(guild_id, item, curve)
            if change.old_level != change.new_level or item.get("level") != change.new_level:
                state["releveled"] += 1
            user_id = str(item.get("userId") or keys.user_id_from_member_sk(item["SK"]))
            _add(state["totals"], user_id, change.new_xp, change.new_level, item)
            state["members"] += 1
        state["cursor"] = cursor
        if cursor and time_left() < SAFETY_SECONDS:
            recalc.save_progress(guild_id, state)
            logger.info("recalc paused", extra={"guildId": guild_id, "members": state["members"]})
            return {
                "guildId": guild_id,
                "members": state["members"],
                "releveled": state["releveled"],
                "countersRewritten": 0,
                "done": False,
                "resumed": resumed,
            }
    rewritten = _rewrite_counters(guild_id, state["totals"])
    if resumed:
        recalc.clear_progress(guild_id)
    if marker:
        recalc.clear_marker(guild_id, int(marker["markedAt"]))
    return {
        "guildId": guild_id,
        "members": state["members"],
        "releveled": state["releveled"],
        "countersRewritten": rewritten,
        "done": True,
        "resumed": resumed,
    }


def _all_guilds() -> list[str]:
    found: list[str] = []
    token = None
    while True:
        page, token = guilds.list_page(100, token)
        found += [g.guild_id for g in page]
        if not token:
            return found


def run(time_left: Callable[[], float], guild_ids: list[str] | None = None) -> dict[str, Any]:
    """Recalculate the given guilds, or every marked one (all guilds after a global change)."""
    global_marker = recalc.marker(None) if guild_ids is None else None
    if guild_ids is None:
        guild_ids = _all_guilds() if global_marker else recalc.marked_guilds()
    reports = []
    complete = True
    for guild_id in guild_ids:
        if time_left() < SAFETY_SECONDS:
            complete = False
            break
        report = recalc_guild(guild_id, time_left)
        reports.append(report)
        complete = complete and report["done"]
    if global_marker and complete:
        recalc.clear_marker(None, int(global_marker["markedAt"]))
    deactivated = coupons.deactivate_expired(int(time.time())) if time_left() > SAFETY_SECONDS else 0
    return {"guilds": reports, "couponsDeactivated": deactivated, "complete": complete}


def request(guild_id: str | None) -> None:
    """On-demand: mark one guild (or all) so that a run that cannot finish now is continued by the schedule."""
    recalc.mark(guild_id, "requested")
