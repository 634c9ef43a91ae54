"""XP multipliers: server x max(role multipliers the member holds) x user."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal


def effective_multiplier(
    server: float | None,
    roles: Mapping[str, float] | None,
    users: Mapping[str, float] | None,
    member_role_ids: Iterable[str],
    user_id: str,
) -> float:
    """The multiplier applied to a member's award, rounded to 3 decimals (halves up)."""
    role_map = roles or {}
    held = [exact(role_map[r]) for r in member_role_ids if r in role_map]
    role_factor = max(held) if held else Decimal(1)
    user_factor = exact((users or {}).get(user_id, 1))
    product = exact(server if server is not None else 1) * role_factor * user_factor
    return float(product.quantize(_THOUSANDTH, rounding=ROUND_HALF_UP))


_THOUSANDTH = Decimal("0.001")


def exact(value: float | int | Decimal | str) -> Decimal:
    """A configured number as the decimal it was written as: the product of binary floats is off by a hair
    (25 x 1.16 = 28.999999999999996), which rounding, or an award rounded down, then turns into a whole step."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


def multiplier_count(server: float | None, roles: Mapping[str, float] | None, users: Mapping[str, float] | None) -> int:
    """How many multipliers a guild has configured (a server multiplier counts when set)."""
    return (1 if server is not None else 0) + len(roles or {}) + len(users or {})
