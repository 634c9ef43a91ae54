"""Each guild's merged configuration and level curve, cached briefly per container.

Awards and reads need the curve on every request; the guild's config changes rarely, so a container
keeps it for CACHE_SECONDS. A change made elsewhere is picked up within that time, and the
recalculation job repairs any level written with the previous curve meanwhile.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from .. import snapstart
from ..guild_config import merge
from ..levels import Curve
from ..store import config as config_store

CACHE_SECONDS = 30.0
# guild id -> (deadline, merged config, curve, whether stored levels may still follow another curve)
_cache: dict[str, tuple[float, dict[str, Any], Curve, bool]] = {}


def _load(guild_id: str) -> tuple[dict[str, Any], Curve]:
    hit = cached(guild_id)
    if hit is not None:
        return hit
    return reload(guild_id)


def reload(guild_id: str) -> tuple[dict[str, Any], Curve]:
    """The merged config and curve read now (and cached again), whatever this container holds."""
    global_overrides, guild_overrides, fine, pending = config_store.read_layers_for_curve(guild_id)
    return remember(guild_id, global_overrides, guild_overrides, fine, recalc_pending=pending)


def cached(guild_id: str) -> tuple[dict[str, Any], Curve] | None:
    """The merged config and curve when this container read them less than CACHE_SECONDS ago."""
    hit = _cache.get(guild_id)
    if hit and hit[0] > time.monotonic():
        return hit[1], hit[2]
    return None


def remember(
    guild_id: str,
    global_overrides: dict[str, Any],
    guild_overrides: dict[str, Any],
    fine_bands: bool = False,
    *,
    recalc_pending: bool,
) -> tuple[dict[str, Any], Curve]:
    """Merge and cache config layers read by the caller (the web board reads them with the guild registry
    in one request). `fine_bands`: the guild's leaderboard band layout, read with its config layer
    (store.config.fine_bands), carried by the curve (Curve.banded) to every writer and reader of a level;
    `recalc_pending`: whether a recalculation of the guild was pending when they were read."""
    config = merge(global_overrides, guild_overrides)
    curve = replace(Curve.from_config(config["curve"]), banded=fine_bands)
    _cache[guild_id] = (time.monotonic() + CACHE_SECONDS, config, curve, recalc_pending)
    return config, curve


def levels_settled(guild_id: str) -> bool:
    """Whether the guild's stored levels follow its curve (no recalculation pending), so its leaderboard
    bands follow XP order: after a curve change, members keep the band of their old level until the
    recalculation job relevels them, and pages read every band meanwhile (service/ranks.py)."""
    _load(guild_id)
    return not _cache[guild_id][3]


def curve_for(guild_id: str) -> Curve:
    return _load(guild_id)[1]


def config_for(guild_id: str) -> dict[str, Any]:
    """The merged config as of at most CACHE_SECONDS ago (for the message path; the API reads it fresh)."""
    return _load(guild_id)[0]


def forget(guild_id: str | None = None) -> None:
    """Drop cached curves (one guild, or all after a global change)."""
    if guild_id is None:
        _cache.clear()
    else:
        _cache.pop(guild_id, None)


snapstart.on_restore(forget)  # cached with monotonic deadlines, which a restored copy cannot trust
