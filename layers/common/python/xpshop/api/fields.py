"""Field types several XP models share: Discord snowflakes (request bodies, the config patch, message
events) and multipliers (multiplier bodies and the config patch). The shop states its own (`shop.requests`),
with the shop seed's wording."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, StrictFloat

from ..ids import is_snowflake


def _as_snowflake(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not is_snowflake(value):
        raise ValueError("must be a Discord snowflake (17-20 digits)")
    return value


Snowflake = Annotated[str, BeforeValidator(_as_snowflake)]
# Numbers and booleans are strict: "5", true or "yes" are refused where a number or a boolean is expected.
PositiveMultiplier = Annotated[StrictFloat, Field(gt=0, le=100)]
