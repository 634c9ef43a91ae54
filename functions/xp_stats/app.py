"""/api/xp/stats and /api/xp/health; also answers unknown routes with the error envelope."""

from __future__ import annotations

from xpshop import coldstart  # pauses the garbage collector until `coldstart.done()` below

# isort: split

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from xpshop import http, tracing
from xpshop.api.envelope import responses
from xpshop.api.xp.responses.stats import GuildStats, Health
from xpshop.errors import ErrorCode

# The routes' services, with the stores behind them: imported by the first request that uses them.
stats = coldstart.later("xpshop.service.stats")

logger = Logger()
HEALTH = "/api/xp/health"
# Paths API Gateway sends to the catch-all because an id segment is empty.
MISSING_IDS = [
    (r"^/api/xp/(users|leaderboard|stats|config|import|export)/+$", ErrorCode.MISSING_GUILD_ID),
    (r"^/api/xp/(users|leaderboard|stats|config|import|export)//", ErrorCode.MISSING_GUILD_ID),
    (r"^/api/xp/(users|leaderboard)/[^/]+/(/.*)?$", ErrorCode.MISSING_USER_ID),
]
app = http.make_resolver(
    http.XP_API,
    access={HEALTH: http.Access.PUBLIC},
    missing_id_paths=MISSING_IDS,
    missing_guild=["/api/xp/stats"],
)


@app.get(HEALTH, tags=["health"], summary="Service health (public)", responses=responses(Health))
def get_health():
    return http.ok(stats.health())


@app.get(
    "/api/xp/stats/<guildId>",
    tags=["stats"],
    summary="Aggregate statistics from counters",
    responses=responses(GuildStats),
)
def get_stats(guildId: str):
    return http.ok(stats.guild_stats(guildId))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracing.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("rawPath") == WEB_BOARDS:  # a browser's path, not the API's: the board's own 404 page
        return _outside_boards(event)
    return http.resolve(app, event, context)


# `/leaderboard/` reaches this catch-all (no route may end in a slash, and `/leaderboard/{proxy+}` needs a
# character after it); the web board's routes answer everything else under /leaderboard.
WEB_BOARDS = "/leaderboard/"


def _outside_boards(event: dict[str, Any]) -> dict[str, Any]:
    from xpshop.request_log import timed
    from xpshop.service.rate_limits import limited_public
    from xpshop.web import leaderboard

    # as the web board's function answers its 404s: per client address, one log line per request
    return timed(
        event, "anonymous", lambda: limited_public(event, leaderboard.outside_boards, leaderboard.rate_limited)
    )


coldstart.done()  # the end of init
