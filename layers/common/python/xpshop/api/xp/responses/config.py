"""Response shapes of /api/xp/config and /api/xp/guilds (XpConfigFunction): see the package's docstring."""

from typing import Any, Literal

from pydantic import BaseModel, Field

from ._view import VIEW as _VIEW


class Reward(BaseModel):
    model_config = _VIEW
    level: int
    roleId: str


class MultiplierMaps(BaseModel):
    model_config = _VIEW
    server: float | None
    role: dict[str, float]
    user: dict[str, float]


class GuildConfigView(BaseModel):
    model_config = _VIEW
    cooldownSeconds: int
    xpRate: float
    noXpRoleIds: list[str]
    noXpChannelIds: list[str]
    roleRewards: list[Reward]
    rewardsMode: Literal["stack", "replace"]
    removeRewardOnXpLoss: bool
    leaderboard: dict[str, Any]
    multipliers: MultiplierMaps
    theme: dict[str, Any]
    labels: dict[str, Any]
    curve: dict[str, int] = Field(description="XP from level L-1 to L: a*L^2 + b*L + c")
    commandXp: bool = Field(description="Slash and context commands earn XP like messages")
    giveXpAmount: int = Field(description='XP the "Give XP" message command awards')
    levelUpAnnouncement: dict[str, Any] = Field(description="{channelId, message}: off while channelId is null")
    creditsPerLevel: int = Field(
        description="Shop credits paid once per level reached with earned XP (0: off; set with the admin key only)"
    )
    resetOn: Literal["none", "leave", "ban", "leaveOrBan"] = Field(
        description="When a member's XP goes back to 0: never, when they leave (any member-remove: leave, kick "
        "or ban), when they are banned, or either"
    )


class RewardsView(BaseModel):
    model_config = _VIEW
    rewards: list[Reward]
    mode: Literal["stack", "replace"]
    removeOnLoss: bool
    count: int


class RewardAdded(BaseModel):
    model_config = _VIEW
    rewards: list[Reward]
    added: Reward


class RewardRemoved(BaseModel):
    model_config = _VIEW
    removed: Reward
    remaining: list[Reward]


class EffectiveMultipliers(BaseModel):
    model_config = _VIEW
    serverMultiplier: float
    roleCount: int
    userCount: int
    total: int


class MultipliersView(MultiplierMaps):
    effective: EffectiveMultipliers


GUILD_SOURCES = ("api", "discord", "gateway")  # who registered it: the API, an interaction, a relayed message


class GuildView(BaseModel):
    model_config = _VIEW
    guildId: str
    name: str | None
    registeredAt: int
    source: str = Field(
        description="Who registered it: " + ", ".join(GUILD_SOURCES), json_schema_extra={"enum": list(GUILD_SOURCES)}
    )


class GuildRegistered(GuildView):
    created: bool


class GuildsPage(BaseModel):
    model_config = _VIEW
    guilds: list[GuildView]
    nextCursor: str | None
