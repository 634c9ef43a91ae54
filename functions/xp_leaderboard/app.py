"""/api/xp/leaderboard: pages of the guild ranking and one member's rank."""

from __future__ import annotations

from xpshop import coldstart  # pauses the garbage collector until `coldstart.done()` below

# isort: split

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from xpshop import http, tracing
from xpshop.api.envelope import responses
from xpshop.api.xp.responses.leaderboard import LeaderboardPage, PublicLeaderboardPage, Rank

# The routes' services, with the stores behind them: imported by the first request that uses them.
members = coldstart.later("xpshop.service.members")

logger = Logger()
PAGE = "/api/xp/leaderboard/<guildId>"
RANK = "/api/xp/leaderboard/<guildId>/<userId>"
app = http.make_resolver(
    http.XP_API,
    access={PAGE: http.Access.LEADERBOARD, RANK: http.Access.LEADERBOARD},
    missing_guild=["/api/xp/leaderboard"],
)


@app.get(
    PAGE,
    tags=["leaderboard"],
    summary="A page of the leaderboard (XP desc, ties by user id)",
    description="With the admin key: entries {userId, xp, level, rank}. Without a key (only when the guild's "
    "leaderboard.public is true): public entries, where a hidden member has userId null and hidden true.",
    responses=responses(LeaderboardPage | PublicLeaderboardPage),
)
def get_leaderboard(
    guildId: str,
    offset: http.Offset = None,
    limit: http.Limit = None,
    page: http.Page = None,
):
    start, size = http.page_window(offset, limit, page)
    if http.anonymous(app):
        return http.ok(members.public_leaderboard(guildId, start, size))
    return http.ok(members.leaderboard(guildId, start, size))


@app.get(
    RANK,
    tags=["leaderboard"],
    summary="A member's rank",
    description="Without a key (public leaderboard), a hidden member answers 404 USER_NOT_FOUND like an unknown one.",
    responses=responses(Rank),
)
def get_rank(guildId: str, userId: str):
    if http.anonymous(app):
        return http.ok(members.public_rank(guildId, userId))
    return http.ok(members.rank(guildId, userId))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracing.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return http.resolve(app, event, context)


coldstart.done()  # the end of init
