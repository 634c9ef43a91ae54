"""Response shapes of /api/xp/stats and /api/xp/health (XpStatsFunction): see the package's docstring."""

from typing import Literal

from pydantic import BaseModel, Field

from ._view import VIEW as _VIEW


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
