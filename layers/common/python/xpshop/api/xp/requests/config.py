"""Request bodies of /api/xp/config (XpConfigFunction): rewards, multipliers, guild registration and the
configuration patch (`ConfigPatch`, checked by `validate_patch`, which config writes elsewhere use too). See
the package's docstring."""

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    ValidationError,
    field_validator,
)

from ....errors import ErrorCode, InvalidInput
from ....guild_config import MAX_CREDITS_PER_LEVEL, MAX_MULTIPLIERS, MAX_REWARDS
from ...fields import (
    PATTERN_RULES,
    SNOWFLAKE_EXAMPLE,
    VISIBLE_CHAR,
    VISIBLE_NON_SPACE,
    PositiveMultiplier,
    Snowflake,
    WholeNumber,
    body_config,
    trimmed_pattern,
    unique_by,
)

_BODY = ConfigDict(extra="forbid", defer_build=True)


class AddRewardBody(BaseModel):
    model_config = body_config([{"level": 5, "roleId": SNOWFLAKE_EXAMPLE}])
    level: WholeNumber = Field(ge=1, le=10_000)
    roleId: Snowflake


class RemoveRewardBody(BaseModel):
    model_config = body_config([{"level": 5}])
    level: WholeNumber = Field(ge=1, le=10_000)


_RESETS = "null removes the guild's own {} (the inherited value applies), as null does in PUT /config"


class PutMultipliersBody(BaseModel):
    """Merged into the guild's multipliers. A field given as null resets it, like null in PUT /config (an
    absent field changes nothing); a null rate inside a map is refused, as in PUT /config."""

    model_config = body_config([{"server": 2.0, "role": {SNOWFLAKE_EXAMPLE: 1.5}}, {"server": None}])
    server: PositiveMultiplier | None = Field(default=None, description=_RESETS.format("server multiplier"))
    role: dict[Snowflake, PositiveMultiplier] | None = Field(
        default=None, max_length=MAX_MULTIPLIERS, description=_RESETS.format("role multipliers, all of them")
    )
    user: dict[Snowflake, PositiveMultiplier] | None = Field(
        default=None, max_length=MAX_MULTIPLIERS, description=_RESETS.format("user multipliers, all of them")
    )

    def resets(self) -> frozenset[str]:
        """The fields the body gave as null (absent ones are None too, but change nothing)."""
        return frozenset(name for name in self.model_fields_set if getattr(self, name) is None)


class DeleteMultipliersBody(BaseModel):
    model_config = body_config([{"server": True, "role": [SNOWFLAKE_EXAMPLE]}])
    server: StrictBool = False
    role: list[Snowflake] = Field(default_factory=list, max_length=MAX_MULTIPLIERS)
    user: list[Snowflake] = Field(default_factory=list, max_length=MAX_MULTIPLIERS)


MAX_GUILD_NAME = 100


class RegisterGuildBody(BaseModel):
    model_config = body_config([{"name": "My Server"}, {}])
    # shown on the guild's public board: visible text, like key and shop names (trimmed)
    name: (
        Annotated[
            str,
            Field(
                pattern=trimmed_pattern(MAX_GUILD_NAME, VISIBLE_CHAR, VISIBLE_NON_SPACE),
                description=f"1-{MAX_GUILD_NAME} visible characters once trimmed",
            ),
        ]
        | None
    ) = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return value.strip() if value is not None else None  # the pattern has refused blank and invisible text


# ---------------------------------------------------------------- the configuration patch


_ONE_PER_LEVEL = "One reward per level: no level appears twice in the list (400 INVALID_CONFIG naming roleRewards)"


class RoleReward(BaseModel):
    model_config = _BODY
    level: WholeNumber = Field(ge=1, le=10_000)
    roleId: Snowflake


class LeaderboardSettings(BaseModel):
    """`public`: the web board and anonymous API reads are open; `indexable`: search engines may list the
    web board (it carries `noindex` otherwise; link previews work either way)."""

    model_config = _BODY
    public: StrictBool | None = None
    indexable: StrictBool | None = None


class MultiplierSettings(BaseModel):
    model_config = _BODY
    server: PositiveMultiplier | None = None
    role: dict[Snowflake, PositiveMultiplier] | None = Field(default=None, max_length=MAX_MULTIPLIERS)
    user: dict[Snowflake, PositiveMultiplier] | None = Field(default=None, max_length=MAX_MULTIPLIERS)


class ThemeSettings(BaseModel):
    model_config = _BODY
    embedColor: Annotated[str, Field(pattern=r"^#[0-9A-Fa-f]{6}$")] | None = None
    backgroundUrl: Annotated[str, Field(pattern=r"^https?://\S+$", max_length=2048)] | None = None


# Shown in Discord messages and on rank cards: blank text is refused here, not by Discord when it is shown (an
# announcement of only whitespace is "Cannot send an empty message"). Kept as given, spaces around included.
MAX_LABEL, MAX_TEMPLATE = 32, 1_000


class LabelSettings(BaseModel):
    model_config = _BODY
    xpDisplayName: (
        Annotated[str, Field(min_length=1, max_length=MAX_LABEL, pattern=trimmed_pattern(MAX_LABEL))] | None
    ) = None


class CurveSettings(BaseModel):
    """XP from level L-1 to L is a*L^2 + b*L + c. Bounded so that levels stay sane (level 100 needs at most
    ~37M XP with the maxima) and the cumulative XP stays exact within the XP cap."""

    model_config = _BODY
    a: Annotated[WholeNumber, Field(ge=1, le=100)] | None = None
    b: Annotated[WholeNumber, Field(ge=0, le=1_000)] | None = None
    c: Annotated[WholeNumber, Field(ge=1, le=10_000)] | None = None


class AnnouncementSettings(BaseModel):
    """Level-up announcements: off until a channel is set. The message may use {user}, {level} and {xp}."""

    model_config = _BODY
    channelId: Snowflake | None = None
    message: (
        Annotated[
            str,
            Field(
                min_length=1,
                max_length=MAX_TEMPLATE,
                pattern=trimmed_pattern(MAX_TEMPLATE),
                description=f"1-{MAX_TEMPLATE} characters, not only whitespace",
            ),
        ]
        | None
    ) = None


class ConfigPatch(BaseModel):
    """A partial configuration as accepted by PUT /api/xp/config/{guildId|global}."""

    model_config = body_config([{"cooldownSeconds": 45, "xpRate": 1.5}, {"leaderboard": {"public": True}}])
    cooldownSeconds: Annotated[WholeNumber, Field(ge=0, le=86_400)] | None = None
    xpRate: Annotated[StrictFloat, Field(gt=0, le=100)] | None = None
    noXpRoleIds: list[Snowflake] | None = Field(default=None, max_length=250)
    noXpChannelIds: list[Snowflake] | None = Field(default=None, max_length=500)
    roleRewards: list[RoleReward] | None = Field(
        default=None,
        max_length=MAX_REWARDS,
        description=f"{_ONE_PER_LEVEL}; at most {MAX_REWARDS}",
        json_schema_extra=unique_by("level", _ONE_PER_LEVEL),
    )
    rewardsMode: Literal["stack", "replace"] | None = None
    removeRewardOnXpLoss: StrictBool | None = None
    leaderboard: LeaderboardSettings | None = None
    multipliers: MultiplierSettings | None = None
    theme: ThemeSettings | None = None
    labels: LabelSettings | None = None
    curve: CurveSettings | None = None
    # Discord (xpshop): XP for using commands, the "Give XP" message command, announcements, credits.
    commandXp: StrictBool | None = None
    giveXpAmount: Annotated[WholeNumber, Field(ge=1, le=100_000)] | None = None
    levelUpAnnouncement: AnnouncementSettings | None = None
    # Set with the admin key only (Discord cannot): credits are one balance across servers. Each payment is
    # capped again at deploy level (LEVEL_CREDITS_MAX_PAYMENT, see service/effects.py).
    creditsPerLevel: Annotated[WholeNumber, Field(ge=0, le=MAX_CREDITS_PER_LEVEL)] | None = None
    # Members reset to 0 XP when they leave and/or are banned (events forwarded by the relay).
    resetOn: Literal["none", "leave", "ban", "leaveOrBan"] | None = None

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


def _describe(error: Any) -> str:
    loc = ".".join(str(part) for part in error["loc"] if part != "[key]")
    message = error["msg"]
    if error.get("type") == "string_pattern_mismatch":  # the rule in words, not a regular expression
        rule = PATTERN_RULES.get(str((error.get("ctx") or {}).get("pattern")))
        message = f"must be {rule}" if rule else message
    return f"{loc}: {message}" if loc else message


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
