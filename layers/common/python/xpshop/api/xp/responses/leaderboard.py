"""Response shapes of /api/xp/leaderboard (XpLeaderboardFunction): see the package's docstring."""

from pydantic import BaseModel, Field

from ._view import VIEW as _VIEW


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
