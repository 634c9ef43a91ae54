"""Configuration use cases: merged guild/global config, role rewards, multipliers."""

from __future__ import annotations

from typing import Any

from ..errors import ErrorCode, InvalidInput, NotFound
from ..guild_config import apply_patch, merge, validate_patch
from ..multipliers import multiplier_count
from ..store import config as store


def merged_guild(guild_id: str) -> dict[str, Any]:
    global_overrides, guild_overrides = store.read_layers(guild_id)
    return merge(global_overrides, guild_overrides)


def merged_global() -> dict[str, Any]:
    global_overrides, _ = store.read_layers(None)
    return merge(global_overrides)


def update_guild(guild_id: str, raw: Any) -> dict[str, Any]:
    patch = validate_patch(raw)
    store.update(guild_id, lambda current: apply_patch(current, patch))
    return merged_guild(guild_id)


def update_global(raw: Any) -> dict[str, Any]:
    patch = validate_patch(raw)
    store.update(None, lambda current: apply_patch(current, patch))
    return merged_global()


def rewards(guild_id: str) -> dict[str, Any]:
    cfg = merged_guild(guild_id)
    listed = sorted(cfg["roleRewards"], key=lambda r: r["level"])
    return {
        "rewards": listed,
        "mode": cfg["rewardsMode"],
        "removeOnLoss": cfg["removeRewardOnXpLoss"],
        "count": len(listed),
    }


def _effective_rewards(guild_id: str, overrides: dict[str, Any]) -> list[dict[str, Any]]:
    """The rewards an edit starts from: the guild's own list, else the inherited one."""
    if "roleRewards" in overrides:
        return list(overrides["roleRewards"])
    global_overrides, _ = store.read_layers(None)
    return list(merge(global_overrides)["roleRewards"])


def add_reward(guild_id: str, level: int, role_id: str) -> dict[str, Any]:
    added = {"level": level, "roleId": role_id}
    result: dict[str, Any] = {}

    def mutate(current: dict[str, Any]) -> dict[str, Any]:
        listed = _effective_rewards(guild_id, current)
        if any(r["level"] == level for r in listed):
            raise InvalidInput(ErrorCode.DUPLICATE_REWARD, f"Role reward already exists at level {level}")
        listed = sorted([*listed, added], key=lambda r: r["level"])
        result["rewards"] = listed
        return apply_patch(current, {"roleRewards": listed})

    store.update(guild_id, mutate)
    return {"rewards": result["rewards"], "added": added}


def remove_reward(guild_id: str, level: int) -> dict[str, Any]:
    result: dict[str, Any] = {}

    def mutate(current: dict[str, Any]) -> dict[str, Any]:
        listed = _effective_rewards(guild_id, current)
        found = next((r for r in listed if r["level"] == level), None)
        if found is None:
            raise NotFound(ErrorCode.REWARD_NOT_FOUND, f"No role reward found at level {level}")
        remaining = [r for r in listed if r["level"] != level]
        result.update(removed=found, remaining=remaining)
        return apply_patch(current, {"roleRewards": remaining})

    store.update(guild_id, mutate)
    return result


def _multiplier_view(cfg: dict[str, Any]) -> dict[str, Any]:
    m = cfg["multipliers"]
    return {"server": m.get("server"), "role": dict(m.get("role") or {}), "user": dict(m.get("user") or {})}


def multipliers(guild_id: str) -> dict[str, Any]:
    view = _multiplier_view(merged_guild(guild_id))
    server = view["server"]
    return {
        **view,
        "effective": {
            "serverMultiplier": server if server is not None else 1.0,
            "roleCount": len(view["role"]),
            "userCount": len(view["user"]),
            "total": multiplier_count(server, view["role"], view["user"]),
        },
    }


def _current_multipliers(guild_id: str, overrides: dict[str, Any]) -> dict[str, Any]:
    global_overrides, _ = store.read_layers(None)
    return _multiplier_view(merge(global_overrides, overrides))


def put_multipliers(
    guild_id: str, server: float | None, role: dict[str, float], user: dict[str, float]
) -> dict[str, Any]:
    result: dict[str, Any] = {}

    def mutate(current: dict[str, Any]) -> dict[str, Any]:
        view = _current_multipliers(guild_id, current)
        if server is not None:
            view["server"] = server
        view["role"].update(role)
        view["user"].update(user)
        result.update(view)
        return {**current, "multipliers": view}

    store.update(guild_id, mutate)
    return result


def delete_multipliers(guild_id: str, server: bool, role: list[str], user: list[str]) -> dict[str, Any]:
    result: dict[str, Any] = {}

    def mutate(current: dict[str, Any]) -> dict[str, Any]:
        view = _current_multipliers(guild_id, current)
        if server:
            view["server"] = None
        for rid in role:
            view["role"].pop(rid, None)
        for uid in user:
            view["user"].pop(uid, None)
        result.update(view)
        return {**current, "multipliers": view}

    store.update(guild_id, mutate)
    return result


def config_summary(cfg: dict[str, Any]) -> dict[str, Any]:
    m = cfg["multipliers"]
    return {
        "cooldownSeconds": cfg["cooldownSeconds"],
        "xpRate": cfg["xpRate"],
        "rewardsCount": len(cfg["roleRewards"]),
        "multipliersCount": multiplier_count(m.get("server"), m.get("role"), m.get("user")),
    }
