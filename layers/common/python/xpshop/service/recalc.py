"""The recalculation job: levels after a curve change, counters repaired, expired coupons deactivated.

Runs on a schedule and on demand; stops well before its time runs out, checkpointing, and the next run
resumes. Idempotent: a guild already in line is read but not written, and an unmarked guild is skipped.

Counters beside live traffic: a level the job rewrites is applied to the counters as a delta (like any
other member change). The full rebuild of the shards from the members is written in one transaction, only
if no other write reached any shard of the guild during the pass (each shard counts its writes in `ver`);
otherwise the deltas stand. All or none: a batch's deltas sit on one shard for members of several.
Nor is any shard rebuilt while a member read has a noted XP change (API, /xp, a reset) whose deltas the
stream has not applied yet (no audit record for it): the rebuild would count it, then the stream again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger

from ..clock import now_ms
from ..store import audit, catalog, coupons, guilds, keys, members, recalc, stats
from ..store import config as config_store
from ..store.members import Change
from . import curves, ranks

logger = Logger(child=True)
SAFETY_SECONDS = 3.0
COUNTER_FIELDS = ("members", "xp", "levelSum", "messages", "xpMessages")


def _shard(user_id: str) -> str:
    return str(int(user_id) % keys.STATS_SHARDS)


def _add(totals: dict[str, dict[str, int]], user_id: str, xp: int, level: int, item: dict[str, Any]) -> None:
    bucket = totals.setdefault(_shard(user_id), dict.fromkeys(COUNTER_FIELDS, 0))
    bucket["members"] += 1
    bucket["xp"] += xp
    bucket["levelSum"] += level
    bucket["messages"] += int(item.get("messages", 0))
    bucket["xpMessages"] += int(item.get("xpMessages", 0))
    name = keys.level_counter(level)
    bucket[name] = bucket.get(name, 0) + 1


def _repair_counters(guild_id: str, state: dict[str, Any]) -> tuple[int, int]:
    """Rewrite the shards whose rebuilt totals differ, all in one transaction, if no shard was touched by
    others and nothing is still to come from the stream; (rewritten, skipped)."""
    stored = recalc.read_shards(guild_id)
    rebuilt: dict[int, dict[str, int]] = {}
    for shard in range(keys.STATS_SHARDS):
        fresh = {k: v for k, v in state["totals"].get(str(shard), {}).items() if v}
        current = {k: int(v) for k, v in stored.get(shard, {}).items() if v and k not in ("ver", "wid")}
        if fresh != current:
            rebuilt[shard] = fresh
    if not rebuilt:
        return 0, 0
    if state.get("streamPending"):
        return 0, len(rebuilt)  # deltas of changes read here are still on their way: they stand, rebuild next time
    expected = {
        shard: int(state["versions"].get(str(shard), 0)) + int(state["ownWrites"].get(str(shard), 0))
        for shard in range(keys.STATS_SHARDS)
    }
    if recalc.write_shards(guild_id, rebuilt, expected):
        return len(rebuilt), 0
    return 0, len(rebuilt)  # live traffic reached the guild's shards during the pass: its deltas stand


def _spread(guild_id: str) -> bool:
    """Switch a guild past keys.FINE_BANDS_FROM members (its stats) to the fine leaderboard bands, once.
    Writers pick the layout up with the guild's config (service.curves, within CACHE_SECONDS); this pass
    then rewrites every member's `board` (members.relevel_seen), and the guild is marked again so that one
    more pass, once every container writes the fine bands, moves whoever a writer with the old layout put
    back meanwhile. True when this call switched it."""
    if stats.read(guild_id).members < keys.FINE_BANDS_FROM or not config_store.spread_bands(guild_id):
        return False
    recalc.mark(guild_id, "board-bands")
    curves.forget(guild_id)
    logger.info("leaderboard switched to the fine bands", extra={"guildId": guild_id})
    return True


def _settled(marked_at: int | None) -> bool:
    """A marker may go once every container has dropped the curve it cached before the change."""
    return marked_at is None or now_ms() - marked_at > (curves.CACHE_SECONDS + 5) * 1000


def recalc_guild(guild_id: str, time_left: Callable[[], float], global_marked_at: int | None = None) -> dict[str, Any]:
    marker = recalc.marker(guild_id)
    marked_at = int(marker["markedAt"]) if marker else None
    asked_at = marked_at if marked_at is not None else global_marked_at  # the request this pass answers
    curves.forget(guild_id)
    curve = curves.curve_for(guild_id)
    if not curve.banded and _spread(guild_id):
        curve = curves.curve_for(guild_id)  # read again: the fine bands, which this pass moves members into
    state = recalc.load_progress(guild_id)
    if state is not None and (state.get("markedAt") != asked_at or state.get("layout") != keys.RANK_LAYOUT):
        # asked again (another curve change) since that pass started, or a deployment with another rank
        # counter layout took over (the pages already passed were repaired in the old one): start over
        state = None
    resumed = state is not None
    if state is None:
        versions = recalc.shard_versions(guild_id)  # before any member is read
        state = {
            "markedAt": asked_at,
            "layout": keys.RANK_LAYOUT,
            "cursor": None,
            "totals": {},
            "members": 0,
            "releveled": 0,
            "versions": {str(k): v for k, v in versions.items()},
            "ownWrites": {},
        }
    for page, cursor in recalc.member_pages(guild_id, state["cursor"]):
        if not state.get("streamPending") and audit.pending(guild_id, page):
            state["streamPending"] = True
        # Rank counters: members never counted (older than the rank index) or whose change was lost.
        state["rankRepaired"] = state.get("rankRepaired", 0) + ranks.repair(
            guild_id, [(int(i["xp"]), str(i.get("userId") or keys.user_id_from_member_sk(i["SK"]))) for i in page]
        )
        for item in page:
            user_id = str(item.get("userId") or keys.user_id_from_member_sk(item["SK"]))
            change = members.relevel_seen(guild_id, item, curve)
            if change.old_level != change.new_level:
                stats.apply(
                    guild_id, user_id, Change(False, change.new_xp, change.new_xp, change.old_level, change.new_level)
                )
                state["ownWrites"][_shard(user_id)] = state["ownWrites"].get(_shard(user_id), 0) + 1
                state["releveled"] += 1
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
                "rankRepaired": state.get("rankRepaired", 0),
                "done": False,
                "resumed": resumed,
            }
    rewritten, skipped = _repair_counters(guild_id, state)
    if resumed:
        recalc.clear_progress(guild_id)
    if marker and _settled(marked_at):
        recalc.clear_marker(guild_id, int(marker["markedAt"]))
    if skipped:
        logger.info("counter shards left to their deltas", extra={"guildId": guild_id, "skipped": skipped})
    return {
        "guildId": guild_id,
        "members": state["members"],
        "releveled": state["releveled"],
        "countersRewritten": rewritten,
        "rankRepaired": state.get("rankRepaired", 0),
        "done": True,
        "resumed": resumed,
    }


def _all_guilds(after: str | None = None) -> list[str]:
    """Every registered guild in id order, after `after` (where an earlier global pass stopped)."""
    found: list[str] = []
    token = None
    while True:
        page, token = guilds.list_page(100, token)
        found += [g.guild_id for g in page if after is None or g.guild_id > after]
        if not token:
            return found


def _check_layout() -> None:
    """A release with a newer rank counter layout (its counters start empty) or leaderboard band layout
    (members' `board` to write, e.g. the first release with LeaderboardBands): every guild is marked for the
    backfill (once: the layout is recorded in the same transaction). The pass rewrites the `board` of every
    member whose band differs (members.relevel_seen), which is what moves them into the index."""
    for name, record, layout in (
        ("rank counter", keys.rank_layout_record(), keys.RANK_LAYOUT),
        ("leaderboard band", keys.board_layout_record(), keys.BOARD_LAYOUT),
    ):
        recorded = recalc.layout_recorded(record)
        if recorded is not None and recorded > layout:
            logger.warning(f"the table's {name} layout is newer than this release", extra={"recorded": recorded})
        elif recorded != layout and recalc.mark_layout_change(layout, record):
            logger.info(f"{name} layout changed: every guild marked", extra={"layout": layout})


def run(time_left: Callable[[], float], guild_ids: list[str] | None = None) -> dict[str, Any]:
    """Recalculate the given guilds, or every marked one (all guilds after a global change)."""
    _check_layout()
    global_marker = recalc.marker(None) if guild_ids is None else None
    global_marked_at = int(global_marker["markedAt"]) if global_marker else None
    if guild_ids is None:
        if global_marker:
            progress = recalc.global_progress()
            after = progress["after"] if progress and progress.get("markedAt") == global_marked_at else None
            guild_ids = _all_guilds(after)
        else:
            guild_ids = recalc.marked_guilds()
    reports = []
    complete = True
    for guild_id in guild_ids:
        if time_left() < SAFETY_SECONDS:
            complete = False
            break
        report = recalc_guild(guild_id, time_left, global_marked_at)
        reports.append(report)
        if not report["done"]:
            complete = False
            break
        if global_marked_at is not None:
            recalc.save_global_progress(global_marked_at, guild_id)
    if global_marker and complete and _settled(global_marked_at):
        recalc.clear_global_progress()
        recalc.clear_marker(None, int(global_marker["markedAt"]))
    extra = time_left() > SAFETY_SECONDS
    deactivated = coupons.deactivate_expired(int(time.time())) if extra else 0
    if extra:
        catalog.finish_retypes()
    return {"guilds": reports, "couponsDeactivated": deactivated, "complete": complete}


def request(guild_id: str | None) -> None:
    """On-demand: mark one guild (or all) so that a run that cannot finish now is continued by the schedule.
    A marker already standing is kept: its pass's checkpoint is tied to it, so asking again while a pass is
    paused resumes that pass (a new marker would start it over, and a guild too big for one call would
    never finish on demand). A curve change still marks anew, and so restarts the pass."""
    recalc.mark_once(guild_id, "requested")
