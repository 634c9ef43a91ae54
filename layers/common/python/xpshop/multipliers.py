"""XP multipliers: server x max(role multipliers the member holds) x user."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def effective_multiplier(
    server: float | None,
    roles: Mapping[str, float] | None,
    users: Mapping[str, float] | None,
    member_role_ids: Iterable[str],
    user_id: str,
) -> float:
    """The multiplier applied to a member's award, rounded to 3 decimals."""
    role_map = roles or {}
    held = [float(role_map[r]) for r in member_role_ids if r in role_map]
    role_factor = max(held) if held else 1.0
    user_factor = float((users or {}).get(user_id, 1.0))
    return round(float(server if server is not None else 1.0) * role_factor * user_factor, 3)


def multiplier_count(server: float | None, roles: Mapping[str, float] | None, users: Mapping[str, float] | None) -> int:
    """How many multipliers a guild has configured (a server multiplier counts when set)."""
    return (1 if server is not None else 0) + len(roles or {}) + len(users or {})
