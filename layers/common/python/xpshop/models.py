"""Request bodies of the HTTP APIs (validated by Powertools, documented in OpenAPI)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from .errors import ErrorCode
from .guild_config import MAX_MULTIPLIERS, PositiveMultiplier, Snowflake
from .levels import MAX_XP

_BODY = ConfigDict(extra="forbid", defer_build=True)
Reason = Annotated[str, Field(max_length=500, description="Why, kept in the audit trail")]


class AddXpBody(BaseModel):
    model_config = _BODY
    amount: StrictInt = Field(gt=0, le=MAX_XP, description="XP to add, a positive integer")
    reason: Reason | None = None


class SetXpBody(BaseModel):
    model_config = _BODY
    xp: StrictInt = Field(ge=0, le=MAX_XP, description="The member's new total XP")
    reason: Reason | None = None


class RemoveXpBody(BaseModel):
    model_config = _BODY
    amount: StrictInt = Field(gt=0, le=MAX_XP, description="XP to remove; the total never goes below 0")
    reason: Reason | None = None


class PrivacyBody(BaseModel):
    model_config = _BODY
    hidden: StrictBool = Field(description='true: public views show the member as "Hidden member"; false: shown')


class AddRewardBody(BaseModel):
    model_config = _BODY
    level: StrictInt = Field(ge=1, le=10_000)
    roleId: Snowflake


class RemoveRewardBody(BaseModel):
    model_config = _BODY
    level: StrictInt = Field(ge=1, le=10_000)


class PutMultipliersBody(BaseModel):
    model_config = _BODY
    server: PositiveMultiplier | None = None
    role: dict[Snowflake, PositiveMultiplier] = Field(default_factory=dict, max_length=MAX_MULTIPLIERS)
    user: dict[Snowflake, PositiveMultiplier] = Field(default_factory=dict, max_length=MAX_MULTIPLIERS)


class DeleteMultipliersBody(BaseModel):
    model_config = _BODY
    server: StrictBool = False
    role: list[Snowflake] = Field(default_factory=list, max_length=MAX_MULTIPLIERS)
    user: list[Snowflake] = Field(default_factory=list, max_length=MAX_MULTIPLIERS)


class RegisterGuildBody(BaseModel):
    model_config = _BODY
    name: Annotated[str, Field(min_length=1, max_length=100)] | None = None


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
