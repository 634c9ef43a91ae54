"""GET|HEAD /cards/{guildId}/{userId}.png: rank card images (PNG, base64 for API Gateway). The rules live in
xpshop.web.card_endpoint (visibility, signed URLs, ETag) and xpshop.web.cards (the drawing)."""

from __future__ import annotations

from xpshop import coldstart  # pauses the garbage collector until `coldstart.done()` below

# isort: split

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from xpshop.request_log import timed
from xpshop.service.rate_limits import limited_public
from xpshop.web import card_endpoint

logger = Logger()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return timed(event, "anonymous", lambda: _answer(event))  # one log line per request


def _answer(event: dict[str, Any]) -> dict[str, Any]:
    try:
        return limited_public(event, card_endpoint.handle)  # per client address (anonymous by design)
    except Exception:
        logger.exception("rank card failed")  # a bug: answered in the API's envelope, not a bare 502
        return card_endpoint.internal_error()


coldstart.done()  # the end of init
