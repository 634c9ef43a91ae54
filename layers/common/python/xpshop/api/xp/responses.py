"""Response shapes of /api/xp (the `data` of the envelope, `api.envelope`), for the OpenAPI document and
for contract tests.

The use cases return plain dicts; these models state what those dicts hold. A contract test validates
real responses against them (extra fields forbidden), so the document cannot drift from the API.
"""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

_VIEW = ConfigDict(extra="forbid", defer_build=True)


class MemberStats(BaseModel):
    model_config = _VIEW
    xp: int
    level: int
    messages: int
    xpMessages: int
    lastAwardedAt: int | None = Field(description="Epoch ms of the last message award, null if none")


class ListedMember(MemberStats):
    userId: str


class Progress(BaseModel):
    model_config = _VIEW
    level: int
    inLevel: int = Field(description="XP earned inside the current level")
    toNext: int = Field(description="XP still needed for the next level")


class MemberDetail(BaseModel):
    model_config = _VIEW
    user: MemberStats
    progress: Progress
    percentage: float = Field(description="inLevel / (inLevel + toNext) * 100, 2 decimals")


class Pagination(BaseModel):
    model_config = _VIEW
    offset: int
    limit: int
    total: int
    hasMore: bool


class MembersPage(BaseModel):
    model_config = _VIEW
    users: list[ListedMember]
    pagination: Pagination


class XpSet(BaseModel):
    model_config = _VIEW
    oldXp: int
    newXp: int
    oldLevel: int
    newLevel: int


class XpAdded(XpSet):
    leveledUp: bool


class XpRemoved(XpSet):
    leveledDown: bool


class Recalculated(BaseModel):
    model_config = _VIEW
    oldLevel: int
    newLevel: int
    totalXp: int
    reconciled: bool = Field(description="Whether role rewards were reconciled with Discord")


class LeaderboardEntry(BaseModel):
    model_config = _VIEW
    userId: str
    xp: int
    level: int
    rank: int


class LeaderboardPage(BaseModel):
    model_config = _VIEW
    entries: list[LeaderboardEntry]
    total: int


class PublicLeaderboardEntry(BaseModel):
    model_config = _VIEW
    userId: str | None = Field(description="null for a hidden member")
    xp: int
    level: int
    rank: int
    hidden: bool = Field(description='The member chose to be hidden: show them as "Hidden member"')
    displayName: str | None = Field(
        description="The name to show (display name, else username; untrusted text: escape it); "
        "null when hidden or not known"
    )
    avatar: str | None = Field(
        description="Discord avatar hash (CDN: avatars/{userId}/{avatar}.png); null when hidden or none known"
    )


class PublicLeaderboardPage(BaseModel):
    """The leaderboard as an anonymous caller gets it (a guild whose leaderboard is public)."""

    model_config = _VIEW
    entries: list[PublicLeaderboardEntry]
    total: int


class Rank(BaseModel):
    model_config = _VIEW
    rank: int
    total: int


class Privacy(BaseModel):
    model_config = _VIEW
    hidden: bool = Field(description='Whether public views now show the member as "Hidden member"')
    created: bool = Field(description="Whether this call created the member's record (at 0 XP; hiding only)")


class ForgottenCounts(BaseModel):
    model_config = _VIEW
    member: int = Field(description="The member's record (XP, level, message counts, display data, privacy): 0 or 1")
    auditRecords: int = Field(description="XP audit records about the member")
    rankedEntries: int = Field(description="The member's entry in the rank index (its counters adjusted): 0 or 1")
    levelAnnouncements: int = Field(description="Marks of level-ups already announced for the member")


class Forgotten(BaseModel):
    model_config = _VIEW
    guildId: str
    userId: str
    removed: ForgottenCounts = Field(description="What was removed, per kind (all 0 when nothing was left)")


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


class TopUser(BaseModel):
    model_config = _VIEW
    userId: str
    xp: int
    level: int


class UserStats(BaseModel):
    model_config = _VIEW
    total: int
    topUser: TopUser | None


class XpTotals(BaseModel):
    model_config = _VIEW
    total: int
    average: float


class MessageTotals(BaseModel):
    model_config = _VIEW
    total: int
    xpMessages: int


class LevelStats(BaseModel):
    model_config = _VIEW
    average: float
    distribution: dict[str, int] = Field(description="level -> members at that level")


class ConfigSummary(BaseModel):
    model_config = _VIEW
    cooldownSeconds: int
    xpRate: float
    rewardsCount: int
    multipliersCount: int


class GuildStats(BaseModel):
    model_config = _VIEW
    users: UserStats
    xp: XpTotals
    messages: MessageTotals
    levels: LevelStats
    config: ConfigSummary
    leaderboard: dict[str, bool]


class Health(BaseModel):
    model_config = _VIEW
    status: Literal["healthy", "degraded"]
    timestamp: int
    version: str
    storage: dict[str, bool]
    discord: dict[str, bool]


class GuildRecalc(BaseModel):
    model_config = _VIEW
    guildId: str
    members: int = Field(description="Members read so far (all of them when done)")
    releveled: int = Field(description="Stored levels that were rewritten")
    countersRewritten: int = Field(description="Counter shards that differed and were rewritten")
    rankRepaired: int = Field(description="Members moved in the rank counters (never counted, or a change lost)")
    done: bool = Field(description="False: paused before the time limit; the next run resumes")
    resumed: bool


class RecalcReport(BaseModel):
    model_config = _VIEW
    guilds: list[GuildRecalc]
    couponsDeactivated: int
    complete: bool


class GuildView(BaseModel):
    model_config = _VIEW
    guildId: str
    name: str | None
    registeredAt: int
    source: str


class GuildRegistered(GuildView):
    created: bool


class GuildsPage(BaseModel):
    model_config = _VIEW
    guilds: list[GuildView]
    nextCursor: str | None


# POST /api/xp/ingest/messages (the relay's API). Pydantic's default config, as it has always been documented
# (extra fields not forbidden): `_VIEW` would change the OpenAPI document. Built on first use like the others.
class Ingested(BaseModel):
    model_config = ConfigDict(defer_build=True)
    accepted: int
    skipped: int
