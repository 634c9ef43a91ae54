"""Response shapes of /api/xp/recalc (RecalcFunction): see the package's docstring."""

from pydantic import BaseModel, Field

from ._view import VIEW as _VIEW


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
