"""/api/v1/cosmetics: catalog (list, shop, create, update, delete) and ownership (buy, grant, revoke, equip)."""

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
from xpshop.api.shop.requests.cosmetics import (
    CosmeticCreate,
    CosmeticDelete,
    CosmeticUpdate,
    EquipBody,
    OwnershipBody,
    UnequipBody,
)
from xpshop.api.shop.responses.common import Deleted
from xpshop.api.shop.responses.cosmetics import (
    Bought,
    Cosmetic,
    CosmeticEdited,
    EquippedResult,
    Granted,
    RevokedCosmetic,
    Unequipped,
)
from xpshop.http import Access

# The routes' services, with the stores behind them: imported by the first request that uses them.
accounts = coldstart.later("xpshop.service.shop.accounts")
catalog = coldstart.later("xpshop.service.shop.catalog")
purchases = coldstart.later("xpshop.service.shop.purchases")

logger = Logger()
P = "/api/v1/cosmetics"
app = http.make_resolver(
    http.SHOP_API,
    access={
        f"{P}/list": Access.ANY_KEY,
        f"{P}/shop": Access.ANY_KEY,
        f"{P}/create": Access.SHOP_ADMIN,
        f"{P}/update": Access.SHOP_ADMIN,
        f"{P}/delete": Access.SHOP_ADMIN,
        f"{P}/buy": Access.OWN_ACCOUNT,
        f"{P}/grant": Access.SHOP_ADMIN,
        f"{P}/revoke": Access.SHOP_ADMIN,
        f"{P}/equip": Access.OWN_ACCOUNT,
        f"{P}/unequip": Access.OWN_ACCOUNT,
    },
)


@app.get(
    f"{P}/list",
    tags=["shop cosmetics"],
    summary="Every cosmetic (any key)",
    responses=shop_responses(list[Cosmetic]),
)
def list_cosmetics():
    return http.plain(catalog.list_cosmetics())


@app.get(
    f"{P}/shop",
    tags=["shop cosmetics"],
    summary="Cosmetics for sale (cost > 0) (any key)",
    responses=shop_responses(list[Cosmetic]),
)
def list_shop():
    return http.plain(catalog.list_cosmetics(buyable_only=True))


@app.post(
    f"{P}/create",
    tags=["shop cosmetics"],
    summary="Create a cosmetic; answers it with its new id (admin)",
    responses=shop_responses(Cosmetic, statuses=(201,)),
)
def create_cosmetic(body: Annotated[CosmeticCreate, Body()]):
    return http.once(app, lambda: (catalog.create_cosmetic(body.model_dump()), 201))


@app.patch(
    f"{P}/update",
    tags=["shop cosmetics"],
    summary="Edit a cosmetic found by original_name (admin)",
    responses=shop_responses(CosmeticEdited),
)
def update_cosmetic(body: Annotated[CosmeticUpdate, Body()]):
    changes = body.model_dump(exclude_unset=True, exclude={"original_name"})
    return http.once(app, lambda: (catalog.update_cosmetic(body.original_name, changes), 200))


@app.delete(
    f"{P}/delete",
    tags=["shop cosmetics"],
    summary="Delete a cosmetic by name; lockers are cleaned (admin)",
    responses=shop_responses(Deleted),
)
def delete_cosmetic(body: Annotated[CosmeticDelete, Body()]):
    return http.once(app, lambda: (catalog.delete_cosmetic(body.cosmetic), 200))


@app.post(
    f"{P}/buy",
    tags=["shop cosmetics"],
    summary="Buy a cosmetic (own key or admin)",
    responses=shop_responses(Bought),
)
def buy_cosmetic(body: Annotated[OwnershipBody, Body()]):
    discord_id = accounts.account_for(http.caller(app), body.id)
    return http.once(app, lambda: (purchases.buy(discord_id, body.cosmeticid), 200))


@app.post(
    f"{P}/grant",
    tags=["shop cosmetics"],
    summary="Give a cosmetic without charge (admin)",
    responses=shop_responses(Granted),
)
def grant_cosmetic(body: Annotated[OwnershipBody, Body()]):
    discord_id = accounts.account_for(http.caller(app), body.id)
    return http.once(app, lambda: (purchases.grant(discord_id, body.cosmeticid), 200))


@app.delete(
    f"{P}/revoke",
    tags=["shop cosmetics"],
    summary="Take a cosmetic away (and unequip it) (admin)",
    responses=shop_responses(RevokedCosmetic),
)
def revoke_cosmetic(body: Annotated[OwnershipBody, Body()]):
    discord_id = accounts.account_for(http.caller(app), body.id)
    return http.once(app, lambda: (purchases.revoke(discord_id, body.cosmeticid), 200))


@app.post(
    f"{P}/equip",
    tags=["shop cosmetics"],
    summary="Equip an owned cosmetic in its slot (own key or admin)",
    responses=shop_responses(EquippedResult),
)
def equip_cosmetic(body: Annotated[EquipBody, Body()]):
    discord_id = accounts.account_for(http.caller(app), body.id)
    return http.once(app, lambda: (purchases.equip(discord_id, body.cosmetictype, body.cosmeticid), 200))


@app.delete(
    f"{P}/unequip",
    tags=["shop cosmetics"],
    summary="Empty a slot (own key or admin)",
    responses=shop_responses(Unequipped),
)
def unequip_cosmetic(body: Annotated[UnequipBody, Body()]):
    discord_id = accounts.account_for(http.caller(app), body.id)
    return http.once(app, lambda: (purchases.unequip(discord_id, body.cosmetictype), 200))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracing.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return http.resolve(app, event, context)


coldstart.done()  # the end of init
