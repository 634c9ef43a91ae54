"""Request bodies of the HTTP APIs (validated by Powertools, documented in OpenAPI)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from .errors import ErrorCode
from .guild_config import ConfigPatch, PositiveMultiplier, Snowflake
from .levels import MAX_XP

_BODY = ConfigDict(extra="forbid", defer_build=True)
Reason = Annotated[str, Field(max_length=500, description="Why, kept in the audit trail")]


class AddXpBody(BaseModel):
    model_config = _BODY
    amount: int = Field(gt=0, le=MAX_XP, description="XP to add, a positive integer")
    reason: Reason | None = None


class SetXpBody(BaseModel):
    model_config = _BODY
    xp: int = Field(ge=0, le=MAX_XP, description="The member's new total XP")
    reason: Reason | None = None


class RemoveXpBody(BaseModel):
    model_config = _BODY
    amount: int = Field(gt=0, le=MAX_XP, description="XP to remove; the total never goes below 0")
    reason: Reason | None = None


class AddRewardBody(BaseModel):
    model_config = _BODY
    level: int = Field(ge=1, le=10_000)
    roleId: Snowflake


class RemoveRewardBody(BaseModel):
    model_config = _BODY
    level: int = Field(ge=1, le=10_000)


class PutMultipliersBody(BaseModel):
    model_config = _BODY
    server: PositiveMultiplier | None = None
    role: dict[Snowflake, PositiveMultiplier] = Field(default_factory=dict)
    user: dict[Snowflake, PositiveMultiplier] = Field(default_factory=dict)


class DeleteMultipliersBody(BaseModel):
    model_config = _BODY
    server: bool = False
    role: list[Snowflake] = Field(default_factory=list)
    user: list[Snowflake] = Field(default_factory=list)


class RegisterGuildBody(BaseModel):
    model_config = _BODY
    name: Annotated[str, Field(min_length=1, max_length=100)] | None = None


__all__ = ["ConfigPatch"]

# Which error code a bad body field earns (the XP seed's codes); other fields are INVALID_REQUEST.
FIELD_ERROR_CODES: dict[str, ErrorCode] = {
    "amount": ErrorCode.INVALID_AMOUNT,
    "xp": ErrorCode.INVALID_AMOUNT,
    "level": ErrorCode.INVALID_LEVEL,
    "roleId": ErrorCode.INVALID_ROLE_ID,
    "server": ErrorCode.INVALID_MULTIPLIER,
    "role": ErrorCode.INVALID_MULTIPLIER,
    "user": ErrorCode.INVALID_MULTIPLIER,
}
