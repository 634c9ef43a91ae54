"""Categories and cosmetics: unique names (a NAME# item per name), ids, and the category's cosmetic count.

Every create / rename / move / delete is one TransactWriteItems over the entity, its name item and the
category counter, so a name is never taken twice and a category never loses track of its cosmetics.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from boto3.dynamodb.conditions import Attr

from .. import ids, names, retry
from ..clock import now_ms
from ..errors import Conflict, ErrorCode, NotFound, Unavailable
from ..shop import CLOAK, slot_attribute
from . import keys, pages, tx
from .table import plain, table


def _get(kind: str, entity_id: str) -> dict[str, Any] | None:
    item = table().get_item(Key=keys.entity(kind, entity_id), ConsistentRead=True).get("Item")
    return plain(item) if item else None


def id_by_name(kind: str, name: str) -> str | None:
    item = table().get_item(Key=keys.name(kind, name), ConsistentRead=True).get("Item")
    return str(item["id"]) if item else None


def listing(kind: str, filter_expression: Any = None) -> list[dict[str, Any]]:
    """Every entity of a kind, from its GSI1 partition (a Query, never a Scan)."""
    return pages.gsi1_all(keys.listing(kind), filter_expression)


def create_named(
    kind: str,
    name: str,
    attributes: dict[str, Any],
    extra: Callable[[str], list[dict[str, Any]]] = lambda _id: [],
    explain: Callable[[tx.Cancelled], None] = lambda _exc: None,
) -> dict[str, Any]:
    """Create an entity with a fresh 8-character id and a unique name, plus `extra(id)` items, atomically."""
    for _ in retry.attempts():  # a fresh id is taken only when a random one collides
        entity_id = ids.short_id()
        item = {
            **keys.entity(kind, entity_id),
            **keys.entity_index(kind, entity_id),
            "id": entity_id,
            "createdAt": now_ms(),
            **attributes,
        }
        try:
            tx.write(
                [
                    tx.put(item, "attribute_not_exists(PK)"),
                    tx.put({**keys.name(kind, name), "id": entity_id}, "attribute_not_exists(PK)"),
                    *extra(entity_id),
                ]
            )
            return keys.strip(item)
        except tx.Cancelled as exc:
            if exc.failed(1):
                raise Conflict(
                    ErrorCode.DUPLICATE_NAME if kind not in (keys.COUPON, keys.CREATOR) else ErrorCode.DUPLICATE_CODE,
                    f"{name!r} is already taken",
                ) from exc
            explain(exc)
            if not exc.failed(0):
                raise
    raise Unavailable("Could not allocate an id; retry")


def rename_items(kind: str, entity_id: str, old_name: str, new_name: str) -> list[dict[str, Any]]:
    """Transaction items that move a unique name; nothing when both fold to the same name (only the displayed
    form changes: deleting and putting one item in a transaction is refused by DynamoDB)."""
    if names.same(old_name, new_name):
        return []
    return [
        tx.delete(keys.name(kind, old_name), "id = :id", values={":id": entity_id}),
        tx.put({**keys.name(kind, new_name), "id": entity_id}, "attribute_not_exists(PK)"),
    ]


# ---------------------------------------------------------------- categories


def category_view(item: dict[str, Any]) -> dict[str, Any]:
    return {"id": item["id"], "name": item["name"]}


def create_category(name: str) -> dict[str, Any]:
    return category_view(create_named(keys.CATEGORY, name, {"name": name, "cosmeticCount": 0}))


def list_categories() -> list[dict[str, Any]]:
    return [category_view(i) for i in listing(keys.CATEGORY)]


def rename_category(old_name: str, new_name: str) -> dict[str, Any]:
    category_id = id_by_name(keys.CATEGORY, old_name)
    if category_id is None:
        raise NotFound(ErrorCode.CATEGORY_NOT_FOUND, f"No category named {old_name!r}")
    items = [
        tx.update(
            keys.entity(keys.CATEGORY, category_id),
            "SET #n = :new",
            "attribute_exists(PK)",
            names={"#n": "name"},
            values={":new": new_name},
        ),
        *rename_items(keys.CATEGORY, category_id, old_name, new_name),
    ]
    try:
        tx.write(items)
    except tx.Cancelled as exc:
        if exc.failed(2):
            raise Conflict(ErrorCode.DUPLICATE_NAME, f"A category named {new_name!r} already exists") from exc
        raise NotFound(ErrorCode.CATEGORY_NOT_FOUND, f"No category named {old_name!r}") from exc
    return {"id": category_id, "name": new_name}


def delete_category(category_id: str) -> None:
    category = _get(keys.CATEGORY, category_id)
    if category is None:
        raise NotFound(ErrorCode.CATEGORY_NOT_FOUND, f"No category with id {category_id}")
    try:
        tx.write(
            [
                tx.delete(
                    keys.entity(keys.CATEGORY, category_id),
                    "attribute_exists(PK) AND (attribute_not_exists(cosmeticCount) OR cosmeticCount = :zero)",
                    values={":zero": 0},
                ),
                tx.delete(keys.name(keys.CATEGORY, category["name"]), "id = :id", values={":id": category_id}),
            ]
        )
    except tx.Cancelled as exc:
        held = sorted(c["name"] for c in listing(keys.COSMETIC, Attr("categoryId").eq(category_id)))
        if held:
            raise Conflict(
                ErrorCode.CATEGORY_NOT_EMPTY,
                f"Category {category['name']!r} still holds {len(held)} cosmetic(s): "
                + ", ".join(held[:20])
                + ("..." if len(held) > 20 else "")
                + ". Move or delete them first.",
            ) from exc
        latest = _get(keys.CATEGORY, category_id)
        if latest is not None:
            raise Conflict(
                ErrorCode.CATEGORY_NOT_EMPTY,
                f"Category {category['name']!r} still counts {latest.get('cosmeticCount')} cosmetic(s)",
            ) from exc
        raise NotFound(ErrorCode.CATEGORY_NOT_FOUND, f"No category with id {category_id}") from exc


# ---------------------------------------------------------------- cosmetics

COSMETIC_FIELDS = {  # request field -> stored attribute
    "name": "name",
    "type": "type",
    "description": "description",
    "categoryid": "categoryId",
    "cost": "cost",
    "showcase_image_url": "showcaseImage",
    "model_source_url": "modelSourceUrl",
    "texture_source_url": "textureSourceUrl",
}


def cosmetic_view(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": item["id"],
        "name": item["name"],
        "type": item["type"],
        "description": item["description"],
        "categoryId": item["categoryId"],
        "cost": int(item["cost"]),
        "showcaseImage": item["showcaseImage"],
        "modelSourceUrl": item.get("modelSourceUrl"),
        "textureSourceUrl": item["textureSourceUrl"],
    }


def get_cosmetic(cosmetic_id: str) -> dict[str, Any]:
    item = _get(keys.COSMETIC, cosmetic_id)
    if item is None or item.get("deleting"):
        raise NotFound(ErrorCode.COSMETIC_NOT_FOUND, f"No cosmetic with id {cosmetic_id}")
    return item


def cosmetic_by_name(name: str) -> dict[str, Any]:
    cosmetic_id = id_by_name(keys.COSMETIC, name)
    item = _get(keys.COSMETIC, cosmetic_id) if cosmetic_id else None
    if item is None or item.get("deleting"):
        raise NotFound(ErrorCode.COSMETIC_NOT_FOUND, f"No cosmetic named {name!r}")
    return item


def list_cosmetics(buyable_only: bool = False) -> list[dict[str, Any]]:
    condition: Any = Attr("deleting").not_exists()
    if buyable_only:
        condition = condition & Attr("cost").gt(0)
    return sorted((cosmetic_view(i) for i in listing(keys.COSMETIC, condition)), key=lambda c: names.fold(c["name"]))


def _category_count(category_id: str, delta: int) -> dict[str, Any]:
    return tx.update(
        keys.entity(keys.CATEGORY, category_id), "ADD cosmeticCount :d", "attribute_exists(PK)", values={":d": delta}
    )


def create_cosmetic(fields: dict[str, Any]) -> dict[str, Any]:
    attributes = {COSMETIC_FIELDS[k]: v for k, v in fields.items() if v is not None}
    attributes["version"] = 1

    def explain(exc: tx.Cancelled) -> None:
        if exc.failed(2):
            raise NotFound(ErrorCode.CATEGORY_NOT_FOUND, f"No category with id {fields['categoryid']}") from exc

    item = create_named(
        keys.COSMETIC,
        fields["name"],
        attributes,
        extra=lambda _id: [_category_count(fields["categoryid"], 1)],
        explain=explain,
    )
    return cosmetic_view(item)


def update_cosmetic(original_name: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Edit by name. The item is written only if nobody changed it since we read it (version)."""
    current = cosmetic_by_name(original_name)
    cosmetic_id = current["id"]
    if current.get("retypeFrom"):  # an earlier type change stopped before its sweep finished: finish it first
        _finish_retype(cosmetic_id, current["retypeFrom"])
        current = cosmetic_by_name(original_name)
    new_type = changes.get("type")
    if new_type and current["type"] == CLOAK and new_type != CLOAK:
        raise Conflict(ErrorCode.TYPE_MISMATCH, "A cloak's type cannot be changed")
    if new_type and new_type != CLOAK and not (changes.get("model_source_url") or current.get("modelSourceUrl")):
        raise Conflict(ErrorCode.TYPE_MISMATCH, f"model_source_url is required to make {original_name!r} a {new_type}")
    sets = {COSMETIC_FIELDS[k]: v for k, v in changes.items() if v is not None}
    retyped = bool(new_type and new_type != current["type"])
    if retyped:
        # Recorded in the same write: owners' old slots are swept after it, and a run that stops midway is
        # finished by the next update or by the recalculation job (finish_retypes).
        sets["retypeFrom"] = current["type"]
    names = {f"#a{i}": attr for i, attr in enumerate(sets)}
    values: dict[str, Any] = {f":v{i}": v for i, v in enumerate(sets.values())}
    values.update({":version": current["version"], ":next": current["version"] + 1})
    expression = "SET " + ", ".join([f"#a{i} = :v{i}" for i in range(len(sets))] + ["version = :next"])
    items = [
        tx.update(
            keys.entity(keys.COSMETIC, cosmetic_id),
            expression,
            "version = :version AND attribute_not_exists(deleting)",
            names=names,
            values=values,
        )
    ]
    if "name" in sets:
        items += rename_items(keys.COSMETIC, cosmetic_id, current["name"], sets["name"])
    moved = "categoryId" in sets and sets["categoryId"] != current["categoryId"]
    if moved:
        items += [_category_count(current["categoryId"], -1), _category_count(sets["categoryId"], 1)]
    try:
        tx.write(items)
    except tx.Cancelled as exc:
        if exc.failed(0):
            raise Conflict(ErrorCode.CONFLICT, f"{original_name!r} changed concurrently; retry") from exc
        if moved and exc.failed(len(items) - 1):
            raise NotFound(ErrorCode.CATEGORY_NOT_FOUND, f"No category with id {sets['categoryId']}") from exc
        raise Conflict(ErrorCode.DUPLICATE_NAME, f"A cosmetic named {sets.get('name')!r} already exists") from exc
    if retyped:
        _finish_retype(cosmetic_id, current["type"])
    return cosmetic_view({**current, **sets})


def owners(cosmetic_id: str) -> list[str]:
    return [str(i["GSI1SK"]) for i in pages.gsi1_all(keys.owners_gsi1pk(cosmetic_id))]


def _unequip_everywhere(cosmetic_id: str, cosmetic_type: str) -> None:
    """Clear a slot that holds this cosmetic in every owner's profile (conditional: only if still there)."""
    slot = slot_attribute(cosmetic_type)
    for discord_id in owners(cosmetic_id):
        try:
            table().update_item(
                Key=keys.profile(discord_id),
                UpdateExpression="REMOVE #slot",
                ConditionExpression="#slot = :id",
                ExpressionAttributeNames={"#slot": slot},
                ExpressionAttributeValues={":id": cosmetic_id},
            )
        except table().meta.client.exceptions.ConditionalCheckFailedException:
            continue


def _finish_retype(cosmetic_id: str, old_type: str) -> None:
    _unequip_everywhere(cosmetic_id, old_type)
    try:
        table().update_item(
            Key=keys.entity(keys.COSMETIC, cosmetic_id),
            UpdateExpression="REMOVE retypeFrom",
            ConditionExpression="retypeFrom = :old",
            ExpressionAttributeValues={":old": old_type},
        )
    except table().meta.client.exceptions.ConditionalCheckFailedException:
        pass  # retyped again meanwhile: that change finishes its own sweep


def finish_retypes() -> int:
    """Finish owner sweeps that a type change started but did not complete (called by the recalc job)."""
    pending = listing(keys.COSMETIC, Attr("retypeFrom").exists())
    for item in pending:
        _finish_retype(item["id"], item["retypeFrom"])
    return len(pending)


SWEEP_PASSES = 10


def delete_cosmetic(name: str) -> None:
    """Mark the cosmetic (no new buys, grants, equips or edits), take it out of every locker and slot, then
    delete it with its name and category count. A retry after an interruption resumes where it stopped."""
    cosmetic_id = id_by_name(keys.COSMETIC, name)
    if cosmetic_id is None:
        raise NotFound(ErrorCode.COSMETIC_NOT_FOUND, f"No cosmetic named {name!r}")
    try:  # what to act on comes from the marked item itself, not from an earlier read
        marked = table().update_item(
            Key=keys.entity(keys.COSMETIC, cosmetic_id),
            UpdateExpression="SET deleting = :t",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues={":t": True},
            ReturnValues="ALL_NEW",
        )
    except table().meta.client.exceptions.ConditionalCheckFailedException as exc:
        raise NotFound(ErrorCode.COSMETIC_NOT_FOUND, f"No cosmetic named {name!r}") from exc
    current = plain(marked["Attributes"])
    slots = {slot_attribute(current["type"])}
    if current.get("retypeFrom"):
        slots.add(slot_attribute(current["retypeFrom"]))
    for _ in range(SWEEP_PASSES):
        # owners come from an index (eventually consistent): sweep until the cosmetic's own count says none
        for discord_id in owners(cosmetic_id):
            for slot in sorted(slots):
                remove_ownership(discord_id, cosmetic_id, slot)
        item = _get(keys.COSMETIC, cosmetic_id)
        if item is None or int(item.get("ownerCount", 0)) <= 0:
            break
        time.sleep(0.2)
    else:
        raise Unavailable("Some owners are not visible yet; retry the delete to finish it")
    try:
        tx.write(
            [
                tx.delete(keys.entity(keys.COSMETIC, cosmetic_id), "attribute_exists(PK)"),
                tx.delete(keys.name(keys.COSMETIC, current["name"]), "id = :id", values={":id": cosmetic_id}),
                _category_count(current["categoryId"], -1),
            ]
        )
    except tx.Cancelled as exc:
        raise NotFound(ErrorCode.COSMETIC_NOT_FOUND, f"No cosmetic named {name!r}") from exc


def remove_ownership(discord_id: str, cosmetic_id: str, slot: str, ledger: dict[str, Any] | None = None) -> bool:
    """Delete an ownership and clear the slot if it holds the cosmetic, atomically. False if not owned."""
    from .profiles import get

    for _ in retry.attempts():
        profile = get(discord_id) or {}
        equipped = profile.get(slot) == cosmetic_id
        items = [
            tx.delete(keys.owned(discord_id, cosmetic_id), "attribute_exists(PK)"),
            tx.update(
                keys.entity(keys.COSMETIC, cosmetic_id),
                "ADD ownerCount :minus",
                "attribute_exists(PK)",
                values={":minus": -1},
            ),
        ]
        if equipped:
            items.append(
                tx.update(
                    keys.profile(discord_id),
                    "REMOVE #slot",
                    "#slot = :id",
                    names={"#slot": slot},
                    values={":id": cosmetic_id},
                )
            )
        else:
            items.append(
                tx.check(
                    keys.profile(discord_id),
                    "attribute_not_exists(#slot) OR #slot <> :id",
                    names={"#slot": slot},
                    values={":id": cosmetic_id},
                )
            )
        if ledger:
            items.append(tx.put(ledger))
        try:
            tx.write(items)
            return True
        except tx.Cancelled as exc:
            if exc.failed(0) or exc.failed(1):
                return False
            continue  # the slot changed between our read and the write: look again
    raise Unavailable("The profile is changing concurrently; retry")
