"""GET/HEAD /leaderboard/{guildId}: the public web leaderboard (HTML; xpshop.web.leaderboard).

A plain handler, not a Powertools resolver: one route, an HTML answer, and it stays out of the JSON API's
OpenAPI document.
"""

from __future__ import annotations

from xpshop import coldstart  # pauses the garbage collector until `coldstart.done()` below

# isort: split

from typing import Any

from aws_lambda_powertools import Logger

from xpshop.request_log import timed
from xpshop.service.rate_limits import limited_public
from xpshop.web import leaderboard

logger = Logger()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # per client address (anonymous by design); one log line per request
    # over the limit, a browser gets a page like the board's 404, a script the API's JSON refusal
    return timed(event, "anonymous", lambda: limited_public(event, leaderboard.respond, leaderboard.rate_limited))


coldstart.done()  # the end of init
