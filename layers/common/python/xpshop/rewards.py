"""Role rewards: which reward roles a member should hold at a level, and what to change from what they hold.

Pure functions; the effects path applies the plan through Discord's REST API.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class RolePlan:
    add: set[str] = field(default_factory=set)
    remove: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.add or self.remove)


def role_levels(rewards: Iterable[dict[str, Any]]) -> dict[str, int]:
    """roleId -> the level that grants it; a role listed at several levels counts at the highest."""
    levels: dict[str, int] = {}
    for reward in rewards:
        role, level = str(reward["roleId"]), int(reward["level"])
        levels[role] = max(level, levels.get(role, 0))
    return levels


def wanted_roles(levels: dict[str, int], mode: str, level: int) -> set[str]:
    """`stack`: every reward up to the level; `replace`: only the highest one reached."""
    reached = {role: lv for role, lv in levels.items() if lv <= level}
    if not reached:
        return set()
    if mode == "replace":
        top = max(reached.values())
        return {role for role, lv in reached.items() if lv == top}
    return set(reached)


def plan(
    rewards: Iterable[dict[str, Any]],
    *,
    mode: str,
    remove_on_loss: bool,
    old_level: int,
    new_level: int,
    held: Iterable[str],
) -> RolePlan:
    """What to add and remove for a member going from `old_level` to `new_level`, given the roles held.

    A level loss changes nothing unless `remove_on_loss`; then reward roles above the new level go (and in
    `replace` mode the highest reward still reached comes back). In `replace` mode lower rewards are removed
    as a higher one is granted. Roles that are not rewards are never touched."""
    if new_level < old_level and not remove_on_loss:
        return RolePlan()
    levels = role_levels(rewards)
    held_set = set(held)
    want = wanted_roles(levels, mode, new_level)
    remove = set()
    for role, lv in levels.items():
        if role not in held_set or role in want:
            continue
        if lv > new_level:
            if new_level < old_level:  # only a loss takes away roles above the level (remove_on_loss holds)
                remove.add(role)
        elif mode == "replace":
            remove.add(role)
    return RolePlan(add=want - held_set, remove=remove)


MESSAGE_LIMIT = 2000  # Discord's content limit
_PARTIAL_MENTION = re.compile(r"<(?:@[!&]?|#)?\d*$")  # a mention the cut left open: "<@12", "<@&", "<"


def render_announcement(template: str, user_id: str, level: int, xp: int) -> str:
    """Fill {user}, {level}, {xp}; plain replacement, so a template cannot reach str.format's attribute access.
    Cut at Discord's limit (a 1,000-character template may render longer), never inside a mention."""
    text = template.replace("{user}", f"<@{user_id}>").replace("{level}", f"{level:,}").replace("{xp}", f"{xp:,}")
    if len(text) <= MESSAGE_LIMIT:
        return text
    return _PARTIAL_MENTION.sub("", text[:MESSAGE_LIMIT])
