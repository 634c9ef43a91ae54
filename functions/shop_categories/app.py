"""/api/v1/categories: list, create, rename, delete."""

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
from xpshop.api.shop.requests.categories import CategoryCreate, CategoryDelete, CategoryRename
from xpshop.api.shop.responses.categories import Category, CategoryDeleted
from xpshop.http import Access

# The routes' services, with the stores behind them: imported by the first request that uses them.
catalog = coldstart.later("xpshop.service.shop.catalog")

logger = Logger()
P = "/api/v1/categories"
app = http.make_resolver(
    http.SHOP_API,
    access={
        f"{P}/list": Access.ANY_KEY,
        f"{P}/create": Access.SHOP_ADMIN,
        f"{P}/rename": Access.SHOP_ADMIN,
        f"{P}/delete": Access.SHOP_ADMIN,
    },
)


@app.get(
    f"{P}/list",
    tags=["shop categories"],
    summary="Every category (any key)",
    responses=shop_responses(list[Category]),
)
def list_categories():
    return http.plain(catalog.list_categories())


@app.post(
    f"{P}/create",
    tags=["shop categories"],
    summary="Create a category (admin)",
    responses=shop_responses(Category, statuses=(201,)),
)
def create_category(body: Annotated[CategoryCreate, Body()]):
    return http.once(app, lambda: (catalog.create_category(body.name), 201))


@app.patch(
    f"{P}/rename",
    tags=["shop categories"],
    summary="Rename a category found by old_name (admin)",
    responses=shop_responses(Category),
)
def rename_category(body: Annotated[CategoryRename, Body()]):
    return http.once(app, lambda: (catalog.rename_category(body.old_name, body.new_name), 200))


@app.delete(
    f"{P}/delete",
    tags=["shop categories"],
    summary="Delete an empty category (admin)",
    responses=shop_responses(CategoryDeleted),
)
def delete_category(body: Annotated[CategoryDelete, Body()]):
    return http.once(app, lambda: (catalog.delete_category(body.category_id), 200))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracing.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return http.resolve(app, event, context)


coldstart.done()  # the end of init
