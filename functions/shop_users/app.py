"""/api/v1/users (info, transactions, list, link, unlink) and /api/v1/keys (user API keys)."""

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
from xpshop.api.shop.requests.common import Whole, account_param
from xpshop.api.shop.requests.users import Account, LinkBody
from xpshop.api.shop.responses.users import (
    IssuedKey,
    Linked,
    LinksPage,
    RevokedKey,
    Unlinked,
    UserInfo,
    UserTransactions,
)
from xpshop.errors import ApiError, ErrorCode
from xpshop.http import Access

# The routes' services, with the stores behind them: imported by the first request that uses them.
accounts = coldstart.later("xpshop.service.shop.accounts")

logger = Logger()
INFO, TRANSACTIONS, LIST = "/api/v1/users/info", "/api/v1/users/transactions", "/api/v1/users/list"
LINK, UNLINK, KEYS = "/api/v1/users/link", "/api/v1/users/unlink", "/api/v1/keys"
app = http.make_resolver(
    http.SHOP_API,
    access={
        INFO: Access.OWN_ACCOUNT,
        TRANSACTIONS: Access.SHOP_ADMIN,
        LIST: Access.SHOP_ADMIN,
        LINK: Access.SHOP_ADMIN,
        UNLINK: Access.SHOP_ADMIN,
        KEYS: Access.SHOP_ADMIN,
    },
)
Limit = Annotated[Whole | None, Query(ge=1, le=1000, description="Page size; without limit/cursor: everything")]
Cursor = Annotated[str | None, Query(max_length=2048, description="nextCursor of the previous page")]


@app.get(
    INFO,
    tags=["shop users"],
    summary="A user's credits, equipped cosmetics and locker (own key or admin)",
    responses=shop_responses(UserInfo),
)
def user_info(id: Annotated[str, Query(description="Discord ID or Minecraft UUID")]):
    discord_id = accounts.account_for(http.caller(app), account_param(id))
    return http.plain(accounts.user_info(discord_id))


@app.get(
    TRANSACTIONS,
    tags=["shop users"],
    summary="A user's ledger: purchases, grants, credit changes (admin)",
    responses=shop_responses(UserTransactions),
)
def user_transactions(
    id: Annotated[str, Query(description="Discord ID or Minecraft UUID")], limit: Limit = None, cursor: Cursor = None
):
    discord_id = accounts.account_for(http.caller(app), account_param(id))
    return http.plain(accounts.transactions(discord_id, limit, cursor))


@app.get(
    LIST,
    tags=["shop users"],
    summary="Linked accounts {discordId: uuid} (admin)",
    responses=shop_responses(dict[str, str] | LinksPage),
)
def linked_accounts(limit: Limit = None, cursor: Cursor = None):
    return http.plain(accounts.linked_accounts(limit, cursor))


@app.post(
    LINK,
    tags=["shop users"],
    summary="Link a Discord account to a Minecraft account (admin)",
    responses=shop_responses(Linked),
)
def link_account(body: Annotated[LinkBody, Body()]):
    return http.once(app, lambda: (accounts.link(body.discordid, body.minecraft_username), 200))


@app.delete(
    UNLINK,
    tags=["shop users"],
    summary="Unlink a Discord account and its Minecraft account (admin)",
    responses=shop_responses(Unlinked),
)
def unlink_account(body: Annotated[Account, Body()]):
    discord_id = accounts.account_for(http.caller(app), body.id)
    return http.once(app, lambda: (accounts.unlink(discord_id), 200))


@app.post(
    KEYS,
    tags=["shop keys"],
    summary="Issue a user API key (shown once; replaces the previous one) (admin)",
    description="With an Idempotency-Key, a retry of the same request issues no second key (which would replace "
    "the first): it is answered 409 KEY_ALREADY_CREATED naming the account (the secret is never stored, so never "
    "replayed).",
    responses=shop_responses(IssuedKey, statuses=(201,)),
)
def issue_key(body: Annotated[Account, Body()]):
    discord_id = accounts.account_for(http.caller(app), body.id)
    # as POST /api/keys: a retry with the same Idempotency-Key keeps the first key; its secret is not replayed
    return http.once(app, lambda: (accounts.issue_key(discord_id), 201), secret=("key", _issued_already))


def _issued_already(first: dict[str, Any]) -> ApiError:
    account = first.get("discord_id")
    return ApiError(
        ErrorCode.KEY_ALREADY_CREATED,
        f"This Idempotency-Key already issued the API key of account {account}; its secret is shown only in that "
        "first answer. If it was lost, issue another (POST /api/v1/keys without this Idempotency-Key), which "
        "replaces it",
    )


@app.delete(KEYS, tags=["shop keys"], summary="Revoke a user's API key (admin)", responses=shop_responses(RevokedKey))
def revoke_key(body: Annotated[Account, Body()]):
    discord_id = accounts.account_for(http.caller(app), body.id)
    return http.once(app, lambda: (accounts.revoke_key(discord_id), 200))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracing.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return http.resolve(app, event, context)


coldstart.done()  # the end of init
