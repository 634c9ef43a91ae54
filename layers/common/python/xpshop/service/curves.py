"""The level curve of each guild (config `curve`), cached briefly per container.

Awards and reads need the curve on every request; the guild's config changes rarely, so a container
keeps it for CACHE_SECONDS. A change made elsewhere is picked up within that time, and the
recalculation job repairs any level written with the previous curve meanwhile.
"""

from __future__ import annotations

import time

from ..guild_config import merge
from ..levels import Curve
from ..store import config as config_store

CACHE_SECONDS = 30.0
_cache: dict[str, tuple[float, Curve]] = {}


def curve_for(guild_id: str) -> Curve:
    hit = _cache.get(guild_id)
    now = time.monotonic()
    if hit and hit[0] > now:
        return hit[1]
    global_overrides, guild_overrides = config_store.read_layers(guild_id)
    curve = Curve.from_config(merge(global_overrides, guild_overrides)["curve"])
    _cache[guild_id] = (now + CACHE_SECONDS, curve)
    return curve


def forget(guild_id: str | None = None) -> None:
    """Drop cached curves (one guild, or all after a global change)."""
    if guild_id is None:
        _cache.clear()
    else:
        _cache.pop(guild_id, None)
