"""/api/v1/coupons: list, create, edit, delete, redeem."""

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
from xpshop.api.shop.requests.common import Whole
from xpshop.api.shop.requests.coupons import CouponCreate, CouponDelete, CouponEdit, RedeemBody
from xpshop.api.shop.responses.common import Deleted
from xpshop.api.shop.responses.coupons import Coupon, CouponCreated, CouponEdited, CouponsPage, Redeemed
from xpshop.http import Access

# The routes' services, with the stores behind them: imported by the first request that uses them.
accounts = coldstart.later("xpshop.service.shop.accounts")
coupons = coldstart.later("xpshop.service.shop.coupons")

logger = Logger()
P = "/api/v1/coupons"
app = http.make_resolver(
    http.SHOP_API,
    access={
        f"{P}/list": Access.SHOP_ADMIN,
        f"{P}/create": Access.SHOP_ADMIN,
        f"{P}/edit": Access.SHOP_ADMIN,
        f"{P}/delete": Access.SHOP_ADMIN,
        f"{P}/redeem": Access.OWN_ACCOUNT,
    },
)


@app.get(
    f"{P}/list",
    tags=["shop coupons"],
    summary="Every coupon, active or not (admin)",
    responses=shop_responses(list[Coupon] | CouponsPage),
)
def list_coupons(
    limit: Annotated[Whole | None, Query(ge=1, le=1000, description="Page size; without it: every coupon")] = None,
    cursor: Annotated[str | None, Query(max_length=2048, description="nextCursor of the previous page")] = None,
):
    return http.plain(coupons.list_coupons(limit, cursor))


@app.post(
    f"{P}/create",
    tags=["shop coupons"],
    summary="Create a coupon (admin)",
    responses=shop_responses(CouponCreated, statuses=(201,)),
)
def create_coupon(body: Annotated[CouponCreate, Body()]):
    return http.once(app, lambda: (coupons.create_coupon(body.model_dump(exclude_unset=True)), 201))


@app.patch(
    f"{P}/edit",
    tags=["shop coupons"],
    summary="Edit a coupon found by original_code (admin)",
    responses=shop_responses(CouponEdited),
)
def edit_coupon(body: Annotated[CouponEdit, Body()]):
    changes = body.model_dump(exclude_unset=True, exclude={"original_code", "original_name"})
    return http.once(app, lambda: (coupons.edit_coupon(body.target, changes), 200))


@app.delete(
    f"{P}/delete",
    tags=["shop coupons"],
    summary="Delete a coupon (deactivating keeps its history) (admin)",
    responses=shop_responses(Deleted),
)
def delete_coupon(body: Annotated[CouponDelete, Body()]):
    return http.once(app, lambda: (coupons.delete_coupon(body.code), 200))


@app.post(
    f"{P}/redeem",
    tags=["shop coupons"],
    summary="Redeem a coupon (own key or admin)",
    responses=shop_responses(Redeemed),
)
def redeem_coupon(body: Annotated[RedeemBody, Body()]):
    discord_id = accounts.account_for(http.caller(app), body.id)
    return http.once(app, lambda: (coupons.redeem(discord_id, body.code), 200))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracing.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return http.resolve(app, event, context)


coldstart.done()  # the end of init
