"""Message XP rules: who earns what for a message (pure; the store applies it in one guarded write)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .multipliers import effective_multiplier, exact

BASE_MIN, BASE_MAX = 15, 25


@dataclass(frozen=True, slots=True)
class MessageAward:
    """What a message is worth before the cooldown: `xp` None means it earns nothing (no-XP rule)."""

    xp: int | None
    cooldown_ms: int


def message_award(
    cfg: dict[str, Any],
    user_id: str,
    channel_id: str,
    role_ids: Sequence[str],
    rng: random.Random | None = None,
    *,
    guild_id: str | None = None,
) -> MessageAward:
    """Base 15-25 x xpRate x (server x best role x user multiplier), rounded down; nothing in a no-XP channel
    or for a member holding any no-XP role. The cooldown (per member, all channels) is applied by the store.
    Every member holds @everyone (its id is the guild's), which neither Discord's `member.roles` nor the relay
    lists: with `guild_id`, a no-XP rule or multiplier set on @everyone applies to everyone, as it says."""
    if guild_id is not None and guild_id not in role_ids:
        role_ids = [*role_ids, guild_id]
    cooldown_ms = int(cfg["cooldownSeconds"]) * 1000
    if channel_id in cfg["noXpChannelIds"] or any(r in cfg["noXpRoleIds"] for r in role_ids):
        return MessageAward(None, cooldown_ms)
    m = cfg["multipliers"]
    multiplier = effective_multiplier(m.get("server"), m.get("role"), m.get("user"), role_ids, user_id)
    base = (rng or random).randint(BASE_MIN, BASE_MAX)
    # in decimals: the float product floors a whole award to the XP below it (15 x 8.2 = 122.99999999999999)
    return MessageAward(int(base * exact(cfg["xpRate"]) * exact(multiplier)), cooldown_ms)
