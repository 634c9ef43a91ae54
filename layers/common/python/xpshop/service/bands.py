"""When a guild's leaderboard outgrows its single band (store.keys.FINE_BANDS_FROM).

Every guild starts on one index partition (store.keys.SINGLE_BAND). The writers that count new members
(the message consumer, imports) learn from their own stats write how many members that shard counts (no
request of its own); a guild whose estimate (shard x keys.STATS_SHARDS) reaches FINE_BANDS_FROM is marked
for the recalculation, which reads its stats, switches it to the fine bands and moves its members
(service.recalc). Once per guild per container, and never over a marker already set (a pass under way).
"""

from __future__ import annotations

from aws_lambda_powertools import Logger

from ..store import keys, recalc
from . import curves

logger = Logger(child=True)
_asked: set[str] = set()


def outgrown(shard_members: int | None) -> bool:
    """Whether a stats shard counting this many members says its guild is past the single band's size."""
    return shard_members is not None and shard_members * keys.STATS_SHARDS >= keys.FINE_BANDS_FROM


def counted(guild_id: str, shard_members: int | None) -> None:
    """After a stats write that counted new members: mark the guild for the switch when it has outgrown its
    single band (a failure is logged: the write it follows stands, and the next new member asks again)."""
    if not outgrown(shard_members) or guild_id in _asked:
        return
    try:
        if curves.curve_for(guild_id).banded:
            _asked.add(guild_id)  # switched already
            return
        if recalc.mark_once(guild_id, "board-bands"):
            logger.info("guild outgrew its single leaderboard band", extra={"guildId": guild_id})
        _asked.add(guild_id)
    except Exception:
        logger.exception("could not mark the guild for the fine bands", extra={"guildId": guild_id})


def forget() -> None:
    """Drop what this container asked (tests)."""
    _asked.clear()
