"""Role rewards from an import file, merged into the guild's: levels the guild has no reward at get the
file's; at a level both have, the guild's reward stays unless `replace` is asked (one reward per level)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .rows import MAX_ERRORS, Reward, SkippedReward


@dataclass
class Merged:
    rewards: list[dict[str, Any]]  # {level, roleId}, sorted by level: the guild's list after the import
    added: int = 0
    replaced: int = 0
    kept: int = 0  # the file's reward at a level where the guild keeps its own (or already had the same)
    changed: bool = False
    levels: list[int] = field(default_factory=list)  # levels that changed

    def counts(self, received: int, skipped: Sequence[SkippedReward] = ()) -> dict[str, Any]:
        """`received`: the file's distinct rewards, `skipped` (another role at a level already given in the
        file) included; `errors` lists the first MAX_ERRORS of those, as an answer lists rejected rows."""
        return {
            "received": received + len(skipped),
            "added": self.added,
            "replaced": self.replaced,
            "kept": self.kept,
            "skipped": len(skipped),
            "errors": [s.as_dict() for s in skipped[:MAX_ERRORS]],
        }


def merge(current: list[dict[str, Any]], imported: list[Reward], *, replace: bool) -> Merged:
    by_level = {int(r["level"]): dict(r) for r in current}
    result = Merged(rewards=[])
    for reward in imported:
        held = by_level.get(reward.level)
        wanted = {"level": reward.level, "roleId": reward.role_id}
        if held is None:
            by_level[reward.level] = wanted
            result.added += 1
        elif held["roleId"] != reward.role_id and replace:
            by_level[reward.level] = wanted
            result.replaced += 1
        else:
            result.kept += 1
            continue
        result.levels.append(reward.level)
    result.changed = bool(result.levels)
    result.rewards = [by_level[level] for level in sorted(by_level)]
    return result
