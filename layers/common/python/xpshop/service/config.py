"""Configuration use cases: merged guild/global config, role rewards, multipliers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import ErrorCode, InvalidInput, NotFound
from ..guild_config import MAX_MULTIPLIERS, MAX_REWARDS, apply_patch, merge
from ..multipliers import multiplier_count
from ..store import config as store
from ..store import recalc as recalc_store
from . import curves


def validate_patch(raw: Any) -> dict[str, Any]:
    """`api.xp.requests.config.validate_patch`, imported on the first config write: the patch's models are the config
    function's and the commands', not the cost of every function that reads a config (stats, effects)."""
    from ..api.xp.requests.config import validate_patch as validate

    return validate(raw)


def merged_guild(guild_id: str) -> dict[str, Any]:
    global_overrides, guild_overrides = store.read_layers(guild_id)
    return merge(global_overrides, guild_overrides)


def pays_level_credits(guild_id: str) -> bool:
    """Whether this server's levels pay shop credits: one the shop trusts (SHOP_GUILD_IDS) with creditsPerLevel
    set. Read when a setting that changes how fast XP is earned is asked for from Discord."""
    from ..auth import shop_guild_ids
    from ..guild_config import pays_level_credits as pays

    return guild_id in shop_guild_ids() and pays(merged_guild(guild_id))


def merged_global() -> dict[str, Any]:
    global_overrides, _ = store.read_layers(None)
    return merge(global_overrides)


def update_guild(guild_id: str, raw: Any) -> dict[str, Any]:
    patch = validate_patch(raw)
    store.update(guild_id, lambda current: apply_patch(current, patch))
    curves.forget(guild_id)  # this container sees the change at once; others within curves.CACHE_SECONDS
    if "curve" in patch:  # stored levels follow the old curve until the recalculation job runs
        recalc_store.mark(guild_id, "curve changed")
    return merged_guild(guild_id)


def edit_guild(guild_id: str, change: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    """Patch derived from the current merged config (e.g. add one channel to a list), applied under the
    config item's version guard: two admins editing at once both land, neither overwrites the other."""

    def mutate(current: dict[str, Any]) -> dict[str, Any]:
        global_overrides, _ = store.read_layers(None)
        patch = validate_patch(change(merge(global_overrides, current)))
        return apply_patch(current, patch)

    store.update(guild_id, mutate)
    curves.forget(guild_id)
    return merged_guild(guild_id)


def update_global(raw: Any) -> dict[str, Any]:
    patch = validate_patch(raw)
    store.update(None, lambda current: apply_patch(current, patch))
    if "curve" in patch:
        curves.forget()
        recalc_store.mark(None, "global curve changed")
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
        if len(listed) >= MAX_REWARDS:
            raise InvalidInput(ErrorCode.INVALID_LEVEL, f"A guild can have at most {MAX_REWARDS} role rewards")
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


def _own_multipliers(overrides: dict[str, Any]) -> dict[str, Any]:
    """The guild's own multiplier overrides, ready to edit: a role or user map is None while the guild has
    none of its own (the inherited one applies), and may be {} (the guild removed every one it had)."""
    own = dict(overrides.get("multipliers") or {})
    maps = {kind: (None if own.get(kind) is None else dict(own[kind])) for kind in ("role", "user")}
    return {"server": own.get("server"), **maps}


def _inherited_multipliers() -> dict[str, Any]:
    """The multipliers a guild without its own would have: system defaults overlaid with global."""
    global_overrides, _ = store.read_layers(None)
    return _multiplier_view(merge(global_overrides))


def _with_multipliers(overrides: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """Overrides holding only the multipliers the guild set itself (a server value or map left None falls
    back to global; an empty map stays: it hides the inherited one)."""
    kept = {k: v for k, v in own.items() if v is not None}
    result = {k: v for k, v in overrides.items() if k != "multipliers"}
    if kept:
        result["multipliers"] = kept
    return result


def _check_sizes(view: dict[str, Any]) -> None:
    for kind in ("role", "user"):
        if len(view[kind] or ()) > MAX_MULTIPLIERS:
            raise InvalidInput(
                ErrorCode.INVALID_MULTIPLIER, f"{kind}: at most {MAX_MULTIPLIERS} {kind} multipliers per guild"
            )


def put_multipliers(
    guild_id: str,
    server: float | None,
    role: dict[str, float] | None,
    user: dict[str, float] | None,
    *,
    resets: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Merge into the multipliers the guild has now, as GET shows them: a role or user map the guild does
    not have yet starts from the inherited (global) one, as the reference merges into its merged config
    (otherwise the guild's map would replace the inherited one and its entries would vanish). The server
    value stays inherited until set. `resets` names the fields given as null: the guild's own server value,
    or its whole role or user map, are removed (the inherited ones apply), as null does in PUT /config."""

    def mutate(current: dict[str, Any]) -> dict[str, Any]:
        own = _own_multipliers(current)
        for kind in resets:
            own[kind] = None
        if server is not None:
            own["server"] = server
        for kind, given in (("role", role), ("user", user)):
            if given:
                if own[kind] is None:
                    own[kind] = _inherited_multipliers()[kind]
                own[kind].update(given)
        _check_sizes(own)
        return _with_multipliers(current, own)

    store.update(guild_id, mutate)
    return _multiplier_view(merged_guild(guild_id))


def delete_multipliers(guild_id: str, server: bool, role: list[str], user: list[str]) -> dict[str, Any]:
    """Remove multipliers the guild has now, inherited ones included (the guild's map then starts from the
    inherited one without them); a removed server multiplier falls back to the global one. Ids the guild
    has no multiplier for change nothing (an inherited map is not copied for them)."""

    def mutate(current: dict[str, Any]) -> dict[str, Any]:
        own = _own_multipliers(current)
        if server:
            own["server"] = None
        for kind, ids in (("role", role), ("user", user)):
            shown = own[kind] if own[kind] is not None else _inherited_multipliers()[kind] if ids else {}
            if any(i in shown for i in ids):
                own[kind] = {k: v for k, v in shown.items() if k not in ids}
        return _with_multipliers(current, own)

    store.update(guild_id, mutate)
    return _multiplier_view(merged_guild(guild_id))


def config_summary(cfg: dict[str, Any]) -> dict[str, Any]:
    m = cfg["multipliers"]
    return {
        "cooldownSeconds": cfg["cooldownSeconds"],
        "xpRate": cfg["xpRate"],
        "rewardsCount": len(cfg["roleRewards"]),
        "multipliersCount": multiplier_count(m.get("server"), m.get("role"), m.get("user")),
    }
