"""/api/v1/credits: modify (signed change, never below 0) and set."""

from __future__ import annotations

from xpshop import coldstart  # pauses the garbage collector until `coldstart.done()` below

# isort: split

from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from xpshop import http, tracing
from xpshop.api.envelope import shop_responses
from xpshop.api.shop.requests.credits import CreditsModify, CreditsSet
from xpshop.api.shop.responses.credits import Credits
from xpshop.http import Access

# The routes' services, with the stores behind them: imported by the first request that uses them.
accounts = coldstart.later("xpshop.service.shop.accounts")
credits = coldstart.later("xpshop.service.shop.credits")

logger = Logger()
P = "/api/v1/credits"
app = http.make_resolver(http.SHOP_API, access={f"{P}/modify": Access.SHOP_ADMIN, f"{P}/set": Access.SHOP_ADMIN})


@app.patch(
    f"{P}/modify",
    tags=["shop credits"],
    summary="Add or remove credits; never below 0 (admin)",
    responses=shop_responses(Credits),
)
def modify_credits(body: Annotated[CreditsModify, Body()]):
    discord_id = accounts.account_for(http.caller(app), body.id)
    return http.once(app, lambda: (credits.modify_credits(discord_id, body.amount), 200))


@app.patch(f"{P}/set", tags=["shop credits"], summary="Set a balance (admin)", responses=shop_responses(Credits))
def set_credits(body: Annotated[CreditsSet, Body()]):
    discord_id = accounts.account_for(http.caller(app), body.id)
    return http.once(app, lambda: (credits.set_credits(discord_id, body.new_amount), 200))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracing.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return http.resolve(app, event, context)


coldstart.done()  # the end of init
