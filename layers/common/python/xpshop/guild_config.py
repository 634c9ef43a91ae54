"""Guild configuration rules (pure): system defaults, merge (guild > global > system), applying a patch, and
the limits the patch model enforces (the model itself: `xpshop.api.xp.requests.config.ConfigPatch`).

Overrides hold only the fields an admin set. Dict-valued fields (leaderboard, multipliers, theme, labels)
merge one level deep, so setting `leaderboard.public` keeps the rest of `leaderboard`.
"""

from __future__ import annotations

import copy
from typing import Any

MAX_MULTIPLIERS = 250
MAX_REWARDS = 250
MAX_CREDITS_PER_LEVEL = 10_000
# Credits are one balance across servers: what a level pays is the operator's (admin key) to set, not a
# dashboard's or moderator's API key with config:write (issue 12, finding 2).
ADMIN_KEY_FIELDS = ("creditsPerLevel",)
# Where levels pay credits, how fast XP is earned (xpRate, cooldownSeconds, multipliers) is how fast credits are
# minted: from Discord those need Administrator there, not Manage Server, as does turning earning back on (removing
# a no-XP channel or role, commandXp true) (discord/dispatch.py).


def pays_level_credits(cfg: dict[str, Any]) -> bool:
    """Whether this merged config pays credits for levels (the server must also be one the shop trusts)."""
    return int(cfg.get("creditsPerLevel") or 0) > 0


SYSTEM_DEFAULTS: dict[str, Any] = {
    "cooldownSeconds": 60,
    "xpRate": 1.0,
    "noXpRoleIds": [],
    "noXpChannelIds": [],
    "roleRewards": [],
    "rewardsMode": "stack",
    "removeRewardOnXpLoss": False,
    "leaderboard": {"public": False, "indexable": False},
    "multipliers": {"server": None, "role": {}, "user": {}},
    "theme": {},
    "labels": {"xpDisplayName": "XP"},
    "curve": {"a": 5, "b": 50, "c": 100},
    "commandXp": True,
    "giveXpAmount": 50,
    "levelUpAnnouncement": {"channelId": None, "message": "GG {user}, you reached level {level}!"},
    "creditsPerLevel": 0,
    "resetOn": "none",
}

# When a member's XP goes back to 0 (POST /api/xp/ingest/members, from the relay): never, when they leave
# the server (Discord's member-remove: a leave, a kick or a ban alike), when they are banned, or either.
RESET_ON = ("none", "leave", "ban", "leaveOrBan")
RESET_TRIGGERS: dict[str, frozenset[str]] = {
    "none": frozenset(),
    "leave": frozenset({"leave"}),
    "ban": frozenset({"ban"}),
    "leaveOrBan": frozenset({"leave", "ban"}),
}


def resets_on(cfg: dict[str, Any], event_type: str) -> bool:
    """Whether a member event of this type ("leave" or "ban") resets the member's XP under this config."""
    return event_type in RESET_TRIGGERS.get(str(cfg.get("resetOn", "none")), frozenset())


FIELDS = tuple(SYSTEM_DEFAULTS)


def apply_patch(overrides: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Overrides after a patch: scalars and lists replace, dict fields merge one level deep,
    and null removes an override (the field falls back to the global/system value)."""
    result = copy.deepcopy(overrides)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            merged = {**result.get(key, {}), **value}
            result[key] = {k: v for k, v in merged.items() if v is not None}
        else:
            result[key] = copy.deepcopy(value)
    return result


def merge(*layers: dict[str, Any]) -> dict[str, Any]:
    """System defaults overlaid with each layer in order (global, then guild)."""
    merged = copy.deepcopy(SYSTEM_DEFAULTS)
    for layer in layers:
        for key, value in (layer or {}).items():
            if key not in merged:
                continue  # a field retired from the schema stays stored but is not served
            if isinstance(value, dict) and isinstance(merged[key], dict):
                merged[key] = {**merged[key], **{k: v for k, v in value.items() if v is not None}}
            elif value is not None:
                merged[key] = copy.deepcopy(value)
    return merged
