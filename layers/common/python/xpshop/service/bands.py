"""When a guild's leaderboard outgrows its single band (store.keys.FINE_BANDS_FROM).

Every guild starts on one index partition (store.keys.SINGLE_BAND). The writers that count new members
(the message consumer, imports) learn from their own stats write how many members that shard counts (no
request of its own); the stream, which counts members added through the API in a transaction (no values
handed back), reads that shard (one GetItem per batch of a guild with new members). A guild whose estimate
(shard x keys.STATS_SHARDS) reaches FINE_BANDS_FROM is marked for the recalculation, which reads its
stats, switches it to the fine bands and moves its members (service.recalc). Once per guild per
container, and never over a marker already set (a pass under way).
"""

from __future__ import annotations

from collections.abc import Callable

from aws_lambda_powertools import Logger

from ..store import config as config_store
from ..store import keys, recalc, stats

logger = Logger(child=True)
_asked: set[str] = set()


def outgrown(shard_members: int | None) -> bool:
    """Whether a stats shard counting this many members says its guild is past the single band's size."""
    return shard_members is not None and shard_members * keys.STATS_SHARDS >= keys.FINE_BANDS_FROM


def _cached_layout(guild_id: str) -> bool:
    from . import curves  # the functions that count members read the guild's config anyway (cached)

    return curves.curve_for(guild_id).banded


def counted(guild_id: str, shard_members: int | None, fine: Callable[[str], bool] = _cached_layout) -> None:
    """After a stats write that counted new members: mark the guild for the switch when it has outgrown its
    single band (a failure is logged: the write it follows stands, and the next new member asks again).
    `fine`: how this function learns the guild's layout (its cached config by default)."""
    if not outgrown(shard_members) or guild_id in _asked:
        return
    try:
        if fine(guild_id):
            _asked.add(guild_id)  # switched already
            return
        if recalc.mark_once(guild_id, "board-bands"):
            logger.info("guild outgrew its single leaderboard band", extra={"guildId": guild_id})
        _asked.add(guild_id)
    except Exception:
        logger.exception("could not mark the guild for the fine bands", extra={"guildId": guild_id})


def counted_by_stream(guild_id: str, shard_user_id: str) -> None:
    """After the stream counted new members of a guild on the shard of `shard_user_id`: that shard's count
    (one GetItem) and, past the threshold, the guild's layout (one GetItem of its CONFIG item: the stream's
    function does not read configs otherwise), then as `counted`."""
    if guild_id in _asked:
        return
    try:
        shard_members = stats.members_on_shard(guild_id, shard_user_id)
    except Exception:
        logger.exception("could not read the stats shard", extra={"guildId": guild_id})
        return
    counted(guild_id, shard_members, config_store.fine_bands_of)


def forget() -> None:
    """Drop what this container asked (tests)."""
    _asked.clear()
