"""Response shapes of /api/xp/users (XpUsersFunction): see the package's docstring."""

from pydantic import BaseModel, Field

from ._view import VIEW as _VIEW


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
    reconciled: bool = Field(
        description="Whether role rewards were reconciled with Discord within this call: false, they follow a "
        "moment later from the table's stream when the level changed"
    )


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
