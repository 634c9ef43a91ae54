"""Reading a partition or an index partition in full or page by page: one loop for every listing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from . import cursor, keys
from .conditions import Key
from .table import plain, table

GSI1_KEYS = {"PK", "SK", "GSI1PK", "GSI1SK"}


def _items(kwargs: dict[str, Any], limit: int | None) -> Iterator[tuple[list[dict[str, Any]], Any]]:
    """(items, LastEvaluatedKey) per request, asking for no more than the `limit` still wanted."""
    taken = 0
    while True:
        if limit is not None:
            kwargs["Limit"] = limit - taken
        resp = table().query(**kwargs)
        items = [plain(i) for i in resp.get("Items", [])]
        taken += len(items)
        last = resp.get("LastEvaluatedKey")
        yield items, last
        if not last or (limit is not None and taken >= limit):
            return
        kwargs["ExclusiveStartKey"] = last


def query_page(
    kwargs: dict[str, Any],
    limit: int | None,
    token: str | None,
    cursor_keys: set[str],
    belongs: Callable[[dict[str, str]], bool],
) -> tuple[list[dict[str, Any]], str | None]:
    """Up to `limit` items (all of them when None) from `token` on, and the cursor of what follows
    (None without a limit, or at the end). A cursor we did not issue for this listing is a 400.

    One item beyond the limit is read so the cursor is exact: DynamoDB also gives a LastEvaluatedKey when
    the page ends on the last item, which led to an empty page; the cursor is the last listed item's key."""
    start = cursor.decode(token, cursor_keys, belongs)
    if start:
        kwargs = {**kwargs, "ExclusiveStartKey": start}
    found: list[dict[str, Any]] = []
    for items, _ in _items(dict(kwargs), None if limit is None else limit + 1):
        found += items
    if limit is None or len(found) <= limit:
        return found, None
    found = found[:limit]
    return found, cursor.encode({k: found[-1][k] for k in cursor_keys})


def gsi1_page(
    gsi1pk: str,
    limit: int | None,
    token: str | None,
    belongs: Callable[[dict[str, str]], bool],
    filter_expression: Any = None,
) -> tuple[list[dict[str, Any]], str | None]:
    kwargs: dict[str, Any] = {"IndexName": keys.GSI1, "KeyConditionExpression": Key("GSI1PK").eq(gsi1pk)}
    if filter_expression is not None:
        kwargs["FilterExpression"] = filter_expression
    return query_page(kwargs, limit, token, GSI1_KEYS, belongs)


def gsi1_all(gsi1pk: str, filter_expression: Any = None) -> list[dict[str, Any]]:
    """Every item of a GSI1 partition (a Query, never a Scan)."""
    found, _ = gsi1_page(gsi1pk, None, None, lambda _key: True, filter_expression)
    return found
