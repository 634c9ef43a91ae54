"""/api/xp/leaderboard: pages of the guild ranking and one member's rank."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from xpshop import http, views
from xpshop.errors import ApiError, ErrorCode
from xpshop.service import members

logger = Logger()
tracer = Tracer()
PAGE = "/api/xp/leaderboard/<guildId>"
RANK = "/api/xp/leaderboard/<guildId>/<userId>"
app = http.make_resolver(access={PAGE: http.Access.LEADERBOARD, RANK: http.Access.LEADERBOARD})


@app.get("/api/xp/leaderboard", include_in_schema=False)
def missing_guild():
    raise ApiError(ErrorCode.MISSING_GUILD_ID, "guildId is required: /api/xp/leaderboard/{guildId}")


@app.get(
    PAGE,
    tags=["leaderboard"],
    summary="A page of the leaderboard (XP desc, ties by user id)",
    responses=views.responses(views.LeaderboardPage),
)
def get_leaderboard(
    guildId: str,
    offset: Annotated[int | None, Query(ge=0, description="Starting position (0-based)")] = None,
    limit: Annotated[int | None, Query(ge=1, description="Max entries (default 10, max 100)")] = None,
    page: Annotated[int | None, Query(ge=1, description="1-based page, an alternative to offset")] = None,
):
    start, size = http.page_window(offset, limit, page)
    return http.ok(members.leaderboard(guildId, start, size))


@app.get(RANK, tags=["leaderboard"], summary="A member's rank", responses=views.responses(views.Rank))
def get_rank(guildId: str, userId: str):
    return http.ok(members.rank(guildId, userId))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return http.resolve(app, event, context)
