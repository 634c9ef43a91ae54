"""Named entities (categories, cosmetics, coupons, creator codes): an item per id, a NAME# item per name
(unique within its kind once folded: xpshop.names), and a listing per kind on GSI1.

Every create / rename / delete writes the entity and its name item in one transaction, so a name is never
taken twice and never left pointing at nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import ids, names, retry
from ..clock import now_ms
from ..errors import Unavailable
from . import keys, pages, tx
from .guards import Guard, GuardFailed
from .table import plain, table


def get(kind: str, entity_id: str) -> dict[str, Any] | None:
    item = table().get_item(Key=keys.entity(kind, entity_id), ConsistentRead=True).get("Item")
    return plain(item) if item else None


def id_by_name(kind: str, name: str) -> str | None:
    item = table().get_item(Key=keys.name(kind, name), ConsistentRead=True).get("Item")
    return str(item["id"]) if item else None


def listing(kind: str, filter_expression: Any = None) -> list[dict[str, Any]]:
    """Every entity of a kind, from its GSI1 partition (a Query, never a Scan)."""
    return pages.gsi1_all(keys.listing(kind), filter_expression)


def page(kind: str, limit: int | None, token: str | None) -> tuple[list[dict[str, Any]], str | None]:
    belongs = keys.gsi1_cursor_check(keys.listing(kind), f"{kind}#")
    return pages.gsi1_page(keys.listing(kind), limit, token, belongs)


def create(kind: str, name: str, attributes: dict[str, Any], extra: Sequence[tx.Guarded] = ()) -> dict[str, Any]:
    """Create an entity with a fresh 8-character id and a unique name, plus the `extra` items, atomically;
    returns the item written (without its keys). NEW_NAME: the name is taken; or the guards of `extra`."""
    for _ in retry.attempts():  # a fresh id is drawn only when a random one collides
        entity_id = ids.short_id()
        item = {
            **keys.entity(kind, entity_id),
            **keys.entity_index(kind, entity_id),
            "id": entity_id,
            "createdAt": now_ms(),
            **attributes,
        }
        try:
            tx.write_guarded(
                [
                    (Guard.NEW_ID, tx.put(item, "attribute_not_exists(PK)")),
                    (Guard.NEW_NAME, tx.put({**keys.name(kind, name), "id": entity_id}, "attribute_not_exists(PK)")),
                    *extra,
                ]
            )
            return keys.strip(item)
        except GuardFailed as refused:
            if refused.guards != {Guard.NEW_ID}:
                raise
    raise Unavailable("Could not allocate an id; retry")


def rename_items(kind: str, entity_id: str, old_name: str, new_name: str) -> list[tx.Guarded]:
    """Transaction items that move a unique name; nothing when both fold to the same name (only the displayed
    form changes: deleting and putting one item in a transaction is refused by DynamoDB)."""
    if names.same(old_name, new_name):
        return []
    return [
        (Guard.NAME, tx.delete(keys.name(kind, old_name), "id = :id", values={":id": entity_id})),
        (Guard.NEW_NAME, tx.put({**keys.name(kind, new_name), "id": entity_id}, "attribute_not_exists(PK)")),
    ]


def delete(kind: str, entity_id: str, name: str) -> None:
    """Delete an entity and its name item. ENTITY / NAME: it was deleted or renamed meanwhile."""
    tx.write_guarded(
        [
            (Guard.ENTITY, tx.delete(keys.entity(kind, entity_id), "attribute_exists(PK)")),
            (Guard.NAME, tx.delete(keys.name(kind, name), "id = :id", values={":id": entity_id})),
        ]
    )
