"""The catalog: categories and cosmetics (names unique once folded, xpshop.names), and their API shapes."""

from __future__ import annotations

from typing import Any

from ... import names
from ...errors import Conflict, ErrorCode, NotFound
from ...shop import CLOAK
from ...store import catalog as store
from ...store.catalog import Category, Cosmetic
from ...store.guards import Guard, GuardFailed

# request field -> Cosmetic field
COSMETIC_FIELDS = {
    "name": "name",
    "type": "type",
    "description": "description",
    "categoryid": "category_id",
    "cost": "cost",
    "showcase_image_url": "showcase_image",
    "model_source_url": "model_source_url",
    "texture_source_url": "texture_source_url",
}
LISTED_IN_REFUSAL = 20  # cosmetics named when a category cannot be deleted


def category_view(category: Category) -> dict[str, Any]:
    return {"id": category.id, "name": category.name}


def cosmetic_view(cosmetic: Cosmetic) -> dict[str, Any]:
    return {
        "id": cosmetic.id,
        "name": cosmetic.name,
        "type": cosmetic.type,
        "description": cosmetic.description,
        "categoryId": cosmetic.category_id,
        "cost": cosmetic.cost,
        "showcaseImage": cosmetic.showcase_image,
        "modelSourceUrl": cosmetic.model_source_url,
        "textureSourceUrl": cosmetic.texture_source_url,
    }


# ---------------------------------------------------------------- categories


def list_categories() -> list[dict[str, Any]]:
    """In the order they were created, as the shop document lists them."""
    return [category_view(c) for c in store.categories()]


def create_category(name: str) -> dict[str, Any]:
    try:
        return category_view(store.create_category(name))
    except GuardFailed as refused:
        if Guard.NEW_NAME in refused:
            raise Conflict(ErrorCode.DUPLICATE_NAME, f"{name!r} is already taken") from refused
        raise


def rename_category(old_name: str, new_name: str) -> dict[str, Any]:
    category_id = store.category_id(old_name)
    if category_id is None:
        raise NotFound(ErrorCode.CATEGORY_NOT_FOUND, f"No category named {old_name!r}")
    try:
        store.rename_category(category_id, old_name, new_name)
    except GuardFailed as refused:
        if Guard.NEW_NAME in refused:
            raise Conflict(ErrorCode.DUPLICATE_NAME, f"A category named {new_name!r} already exists") from refused
        raise NotFound(ErrorCode.CATEGORY_NOT_FOUND, f"No category named {old_name!r}") from refused
    return {"id": category_id, "name": new_name}


def delete_category(category_id: str) -> dict[str, Any]:
    """Only an empty category goes; otherwise the refusal names what it still holds."""
    category = store.get_category(category_id)
    if category is None:
        raise NotFound(ErrorCode.CATEGORY_NOT_FOUND, f"No category with id {category_id}")
    try:
        store.delete_category(category)
    except GuardFailed as refused:
        held = sorted(c.name for c in store.cosmetics_in(category_id))
        if held:
            raise Conflict(
                ErrorCode.CATEGORY_NOT_EMPTY,
                f"Category {category.name!r} still holds {len(held)} cosmetic(s): "
                + ", ".join(held[:LISTED_IN_REFUSAL])
                + ("..." if len(held) > LISTED_IN_REFUSAL else "")
                + ". Move or delete them first.",
            ) from refused
        latest = store.get_category(category_id)
        if latest is not None:
            raise Conflict(
                ErrorCode.CATEGORY_NOT_EMPTY,
                f"Category {category.name!r} still counts {latest.cosmetic_count} cosmetic(s)",
            ) from refused
        raise NotFound(ErrorCode.CATEGORY_NOT_FOUND, f"No category with id {category_id}") from refused
    return {"deleted": True, "id": category_id}


# ---------------------------------------------------------------- cosmetics


def cosmetic(cosmetic_id: str) -> Cosmetic:
    """The cosmetic (404 while a delete is sweeping it, too)."""
    found = store.get_cosmetic(cosmetic_id)
    if found is None or found.deleting:
        raise NotFound(ErrorCode.COSMETIC_NOT_FOUND, f"No cosmetic with id {cosmetic_id}")
    return found


def cosmetic_named(name: str) -> Cosmetic:
    cosmetic_id = store.cosmetic_id(name)
    found = store.get_cosmetic(cosmetic_id) if cosmetic_id else None
    if found is None or found.deleting:
        raise NotFound(ErrorCode.COSMETIC_NOT_FOUND, f"No cosmetic named {name!r}")
    return found


def list_cosmetics(buyable_only: bool = False, by_name: bool = False) -> list[dict[str, Any]]:
    """Every cosmetic (or those for sale), in the order they were created, as the shop document lists them;
    `by_name`: by folded name (Discord's /shop)."""
    listed = [cosmetic_view(c) for c in store.cosmetics(for_sale_only=buyable_only)]
    return sorted(listed, key=lambda c: names.fold(c["name"])) if by_name else listed


def create_cosmetic(fields: dict[str, Any]) -> dict[str, Any]:
    draft = Cosmetic(id="", **{COSMETIC_FIELDS[k]: v for k, v in fields.items()})
    try:
        return cosmetic_view(store.create_cosmetic(draft))
    except GuardFailed as refused:
        if Guard.NEW_NAME in refused:
            raise Conflict(ErrorCode.DUPLICATE_NAME, f"{fields['name']!r} is already taken") from refused
        if Guard.CATEGORY in refused:
            raise NotFound(ErrorCode.CATEGORY_NOT_FOUND, f"No category with id {fields['categoryid']}") from refused
        raise


def update_cosmetic(original_name: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Edit by name, if nobody changed the cosmetic since it was read. A cloak stays a cloak; any other
    type needs a model."""
    current = cosmetic_named(original_name)
    if current.retype_from:  # an earlier type change stopped before its sweep finished: finish it first
        store.finish_retype(current)
        current = cosmetic_named(original_name)
    new_type = changes.get("type")
    if new_type and current.type == CLOAK and new_type != CLOAK:
        raise Conflict(ErrorCode.TYPE_MISMATCH, "A cloak's type cannot be changed")
    if new_type and new_type != CLOAK and not (changes.get("model_source_url") or current.model_source_url):
        raise Conflict(ErrorCode.TYPE_MISMATCH, f"model_source_url is required to make {original_name!r} a {new_type}")
    edits = {COSMETIC_FIELDS[k]: v for k, v in changes.items() if v is not None}
    try:
        updated = store.update_cosmetic(current, edits)
    except GuardFailed as refused:
        if Guard.ENTITY in refused:
            raise Conflict(ErrorCode.CONFLICT, f"{original_name!r} changed concurrently; retry") from refused
        if Guard.CATEGORY in refused:
            raise NotFound(ErrorCode.CATEGORY_NOT_FOUND, f"No category with id {edits['category_id']}") from refused
        raise Conflict(ErrorCode.DUPLICATE_NAME, f"A cosmetic named {edits.get('name')!r} already exists") from refused
    return {"edited": True, "cosmetic": cosmetic_view(updated)}


def delete_cosmetic(name: str) -> dict[str, Any]:
    """Take it out of every locker and slot, then delete it (a retry after an interruption resumes)."""
    cosmetic_id = store.cosmetic_id(name)
    if cosmetic_id is None:
        raise NotFound(ErrorCode.COSMETIC_NOT_FOUND, f"No cosmetic named {name!r}")
    try:
        store.delete_cosmetic(cosmetic_id)
    except GuardFailed as refused:
        raise NotFound(ErrorCode.COSMETIC_NOT_FOUND, f"No cosmetic named {name!r}") from refused
    return {"deleted": True}
