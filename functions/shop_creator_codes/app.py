"""/api/v1/creatorcodes: list, supporting, create, update, delete, set."""

from __future__ import annotations

from xpshop import coldstart  # pauses the garbage collector until `coldstart.done()` below

# isort: split

from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from xpshop import http, tracing
from xpshop.api.envelope import shop_responses
from xpshop.api.shop.requests.common import CODE_PATTERN, Whole, account_param
from xpshop.api.shop.requests.creator_codes import (
    CreatorCodeCreate,
    CreatorCodeDelete,
    CreatorCodeSet,
    CreatorCodeUpdate,
)
from xpshop.api.shop.responses.common import Deleted
from xpshop.api.shop.responses.creator_codes import (
    CreatorCode,
    CreatorCodeCreated,
    CreatorCodeEdited,
    CreatorCodesPage,
    Processed,
    Supporting,
)
from xpshop.http import Access

# The routes' services, with the stores behind them: imported by the first request that uses them.
accounts = coldstart.later("xpshop.service.shop.accounts")
creators = coldstart.later("xpshop.service.shop.creators")

logger = Logger()
P = "/api/v1/creatorcodes"
app = http.make_resolver(
    http.SHOP_API,
    access={
        f"{P}/list": Access.SHOP_ADMIN,
        f"{P}/supporting": Access.OWN_ACCOUNT,
        f"{P}/create": Access.SHOP_ADMIN,
        f"{P}/update": Access.SHOP_ADMIN,
        f"{P}/delete": Access.SHOP_ADMIN,
        f"{P}/set": Access.OWN_ACCOUNT,
    },
)


@app.get(
    f"{P}/list",
    tags=["shop creator codes"],
    summary="Every creator code with its uses (admin)",
    responses=shop_responses(list[CreatorCode] | CreatorCodesPage),
)
def list_creator_codes(
    limit: Annotated[Whole | None, Query(ge=1, le=1000, description="Codes per page; without it: every code")] = None,
    cursor: Annotated[str | None, Query(max_length=2048, description="nextCursor of the previous page")] = None,
    uses_limit: Annotated[
        Whole | None, Query(ge=1, le=10_000, description="Max uses listed per code (each then says hasMoreUses)")
    ] = None,
):
    return http.plain(creators.list_creator_codes(limit, cursor, uses_limit))


@app.get(
    f"{P}/supporting",
    tags=["shop creator codes"],
    summary="Whether a user supports a creator code (own key or admin)",
    responses=shop_responses(Supporting),
)
def is_supporting(
    id: Annotated[str, Query(description="Discord ID or Minecraft UUID")],
    creator_code: Annotated[str, Query(min_length=1, max_length=32, pattern=CODE_PATTERN)],
):
    return http.plain(creators.supporting(http.caller(app), account_param(id), creator_code))


@app.post(
    f"{P}/create",
    tags=["shop creator codes"],
    summary="Create a creator code (admin)",
    responses=shop_responses(CreatorCodeCreated, statuses=(201,)),
)
def create_creator_code(body: Annotated[CreatorCodeCreate, Body()]):
    return http.once(app, lambda: (creators.create_creator_code(body.code, body.assigned_user), 201))


@app.patch(
    f"{P}/update",
    tags=["shop creator codes"],
    summary="Rename a code or change its owner (admin)",
    responses=shop_responses(CreatorCodeEdited),
)
def update_creator_code(body: Annotated[CreatorCodeUpdate, Body()]):
    return http.once(
        app,
        lambda: (creators.update_creator_code(body.original_code, body.new_code, body.new_owner), 200),
    )


@app.delete(
    f"{P}/delete",
    tags=["shop creator codes"],
    summary="Delete a creator code (admin)",
    responses=shop_responses(Deleted),
)
def delete_creator_code(body: Annotated[CreatorCodeDelete, Body()]):
    return http.once(app, lambda: (creators.delete_creator_code(body.code), 200))


@app.post(
    f"{P}/set",
    tags=["shop creator codes"],
    summary='Support a creator code, "0" to stop (own key or admin)',
    responses=shop_responses(Processed),
)
def set_creator_code(body: Annotated[CreatorCodeSet, Body()]):
    discord_id = accounts.account_for(http.caller(app), body.id)
    return http.once(app, lambda: (creators.set_creator_code(discord_id, body.code), 200))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracing.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return http.resolve(app, event, context)


coldstart.done()  # the end of init
