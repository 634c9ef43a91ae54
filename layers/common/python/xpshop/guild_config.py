"""Guild configuration: the model, system defaults, merge (guild > global > system) and validation.

Overrides hold only the fields an admin set. Dict-valued fields (leaderboard, multipliers, theme, labels)
merge one level deep, so setting `leaderboard.public` keeps the rest of `leaderboard`.
"""

from __future__ import annotations

import copy
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    ValidationError,
    field_validator,
)

from .errors import ErrorCode, InvalidInput
from .ids import is_snowflake


def _as_snowflake(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not is_snowflake(value):
        raise ValueError("must be a Discord snowflake (17-20 digits)")
    return value


Snowflake = Annotated[str, BeforeValidator(_as_snowflake)]
# Numbers and booleans are strict: "5", true or "yes" are refused where a number or a boolean is expected.
PositiveMultiplier = Annotated[StrictFloat, Field(gt=0, le=100)]
MAX_MULTIPLIERS = 250
MAX_REWARDS = 250
MAX_CREDITS_PER_LEVEL = 10_000
_STRICT = ConfigDict(extra="forbid", defer_build=True)


class RoleReward(BaseModel):
    model_config = _STRICT
    level: StrictInt = Field(ge=1, le=10_000)
    roleId: Snowflake


class LeaderboardSettings(BaseModel):
    """`public`: the web board and anonymous API reads are open; `indexable`: search engines may list the
    web board (it carries `noindex` otherwise; link previews work either way)."""

    model_config = _STRICT
    public: StrictBool | None = None
    indexable: StrictBool | None = None


class MultiplierSettings(BaseModel):
    model_config = _STRICT
    server: PositiveMultiplier | None = None
    role: dict[Snowflake, PositiveMultiplier] | None = Field(default=None, max_length=MAX_MULTIPLIERS)
    user: dict[Snowflake, PositiveMultiplier] | None = Field(default=None, max_length=MAX_MULTIPLIERS)


class ThemeSettings(BaseModel):
    model_config = _STRICT
    embedColor: Annotated[str, Field(pattern=r"^#[0-9A-Fa-f]{6}$")] | None = None
    backgroundUrl: Annotated[str, Field(pattern=r"^https?://\S+$", max_length=2048)] | None = None


class LabelSettings(BaseModel):
    model_config = _STRICT
    xpDisplayName: Annotated[str, Field(min_length=1, max_length=32)] | None = None


class CurveSettings(BaseModel):
    """XP from level L-1 to L is a*L^2 + b*L + c. Bounded so that levels stay sane (level 100 needs at most
    ~37M XP with the maxima) and the cumulative XP stays exact within the XP cap."""

    model_config = _STRICT
    a: Annotated[StrictInt, Field(ge=1, le=100)] | None = None
    b: Annotated[StrictInt, Field(ge=0, le=1_000)] | None = None
    c: Annotated[StrictInt, Field(ge=1, le=10_000)] | None = None


class AnnouncementSettings(BaseModel):
    """Level-up announcements: off until a channel is set. The message may use {user}, {level} and {xp}."""

    model_config = _STRICT
    channelId: Snowflake | None = None
    message: Annotated[str, Field(min_length=1, max_length=1_000)] | None = None


class ConfigPatch(BaseModel):
    """A partial configuration as accepted by PUT /api/xp/config/{guildId|global}."""

    model_config = _STRICT
    cooldownSeconds: Annotated[StrictInt, Field(ge=0, le=86_400)] | None = None
    xpRate: Annotated[StrictFloat, Field(gt=0, le=100)] | None = None
    noXpRoleIds: list[Snowflake] | None = Field(default=None, max_length=250)
    noXpChannelIds: list[Snowflake] | None = Field(default=None, max_length=500)
    roleRewards: list[RoleReward] | None = Field(default=None, max_length=MAX_REWARDS)
    rewardsMode: Literal["stack", "replace"] | None = None
    removeRewardOnXpLoss: StrictBool | None = None
    leaderboard: LeaderboardSettings | None = None
    multipliers: MultiplierSettings | None = None
    theme: ThemeSettings | None = None
    labels: LabelSettings | None = None
    curve: CurveSettings | None = None
    # Discord (xpshop): XP for using commands, the "Give XP" message command, announcements, credits.
    commandXp: StrictBool | None = None
    giveXpAmount: Annotated[StrictInt, Field(ge=1, le=100_000)] | None = None
    levelUpAnnouncement: AnnouncementSettings | None = None
    # Set with the admin key only (Discord cannot): credits are one balance across servers. Each payment is
    # capped again at deploy level (LEVEL_CREDITS_MAX_PAYMENT, see service/effects.py).
    creditsPerLevel: Annotated[StrictInt, Field(ge=0, le=MAX_CREDITS_PER_LEVEL)] | None = None

    @field_validator("noXpRoleIds", "noXpChannelIds")
    @classmethod
    def _dedupe(cls, ids: list[str] | None) -> list[str] | None:
        return list(dict.fromkeys(ids)) if ids is not None else None

    @field_validator("roleRewards")
    @classmethod
    def _one_reward_per_level(cls, rewards: list[RoleReward] | None) -> list[RoleReward] | None:
        if rewards is not None:
            levels = [r.level for r in rewards]
            dupes = sorted({lv for lv in levels if levels.count(lv) > 1})
            if dupes:
                raise ValueError(f"more than one reward at level(s) {dupes}")
            rewards = sorted(rewards, key=lambda r: r.level)
        return rewards


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
}

FIELDS = tuple(SYSTEM_DEFAULTS)


def _describe(error: Any) -> str:
    loc = ".".join(str(part) for part in error["loc"] if part != "[key]")
    return f"{loc}: {error['msg']}" if loc else error["msg"]


def validate_patch(raw: Any) -> dict[str, Any]:
    """Validate a partial config; raise INVALID_CONFIG listing every problem; return the normalised patch."""
    if not isinstance(raw, dict):
        raise InvalidInput(ErrorCode.INVALID_REQUEST, "Request body must be an object")
    try:
        patch = ConfigPatch.model_validate(raw)
    except ValidationError as exc:
        problems = [_describe(e) for e in exc.errors(include_url=False)]
        raise InvalidInput(ErrorCode.INVALID_CONFIG, "Invalid configuration: " + "; ".join(problems)) from exc
    return patch.model_dump(exclude_unset=True, exclude_none=False, mode="json")


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
