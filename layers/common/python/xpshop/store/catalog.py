"""Categories and cosmetics: named entities (store.named) and each category's cosmetic count.

Every create / rename / move / delete is one TransactWriteItems over the entity, its name item and the
category counter, so a category never loses track of its cosmetics. A cosmetic's type change and its
delete also clear the slots that held it (store.ownership), resumably.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from ..errors import Unavailable
from ..shop import slot_attribute
from . import keys, named, ownership, tx
from .conditions import Attr
from .guards import Guard, guarding
from .table import plain, table


@dataclass(frozen=True, slots=True)
class Category:
    id: str
    name: str
    cosmetic_count: int | None = 0  # how many cosmetics it holds (kept by every create, move and delete)

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Category:
        return cls(id=item["id"], name=item["name"], cosmetic_count=item.get("cosmeticCount"))

    def to_item(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "cosmeticCount": self.cosmetic_count}


@dataclass(frozen=True, slots=True)
class Cosmetic:
    id: str
    name: str
    type: str
    description: str
    category_id: str
    cost: int  # 0: not for sale
    showcase_image: str
    texture_source_url: str
    model_source_url: str | None = None  # every type but cloaks has one
    version: int = 1  # raised by every edit
    owner_count: int = 0
    deleting: bool = False  # a delete is sweeping its owners
    retype_from: str | None = None  # a type change whose owner sweep has not finished

    # entity field -> stored attribute, for the fields an edit may change
    ATTRIBUTES: ClassVar[dict[str, str]] = {
        "name": "name",
        "type": "type",
        "description": "description",
        "category_id": "categoryId",
        "cost": "cost",
        "showcase_image": "showcaseImage",
        "model_source_url": "modelSourceUrl",
        "texture_source_url": "textureSourceUrl",
    }

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Cosmetic:
        return cls(
            id=item["id"],
            name=item["name"],
            type=item["type"],
            description=item["description"],
            category_id=item["categoryId"],
            cost=int(item["cost"]),
            showcase_image=item["showcaseImage"],
            texture_source_url=item["textureSourceUrl"],
            model_source_url=item.get("modelSourceUrl"),
            version=int(item.get("version", 0)),
            owner_count=int(item.get("ownerCount", 0)),
            deleting=bool(item.get("deleting")),
            retype_from=item.get("retypeFrom"),
        )

    def to_item(self) -> dict[str, Any]:
        """The stored attributes (what is unset is left out: a new cosmetic has no owners, no pending sweep)."""
        item = {self.ATTRIBUTES[f]: getattr(self, f) for f in self.ATTRIBUTES}
        item = {"id": self.id, **{k: v for k, v in item.items() if v is not None}, "version": self.version}
        if self.owner_count:
            item["ownerCount"] = self.owner_count
        if self.deleting:
            item["deleting"] = True
        if self.retype_from:
            item["retypeFrom"] = self.retype_from
        return item


# ---------------------------------------------------------------- categories


def get_category(category_id: str) -> Category | None:
    item = named.get(keys.CATEGORY, category_id)
    return Category.from_item(item) if item else None


def category_id(name: str) -> str | None:
    return named.id_by_name(keys.CATEGORY, name)


def _created_order(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Oldest first: the listing's index reads them by id (random); `createdAt` is when each was made (the id
    breaks a tie)."""
    return sorted(items, key=lambda i: (int(i.get("createdAt", 0)), str(i["id"])))


def categories() -> list[Category]:
    """Every category, oldest first."""
    return [Category.from_item(i) for i in _created_order(named.listing(keys.CATEGORY))]


def create_category(name: str) -> Category:
    """NEW_NAME: the name is taken."""
    attributes = Category(id="", name=name).to_item()
    del attributes["id"]
    return Category.from_item(named.create(keys.CATEGORY, name, attributes))


def rename_category(category_id: str, old_name: str, new_name: str) -> None:
    """ENTITY / NAME: the category is gone or was renamed meanwhile; NEW_NAME: the new name is taken."""
    tx.write_guarded(
        [
            (
                Guard.ENTITY,
                tx.update(
                    keys.entity(keys.CATEGORY, category_id),
                    "SET #n = :new",
                    "attribute_exists(PK)",
                    names={"#n": "name"},
                    values={":new": new_name},
                ),
            ),
            *named.rename_items(keys.CATEGORY, category_id, old_name, new_name),
        ]
    )


def delete_category(category: Category) -> None:
    """EMPTY: the category is gone or still counts cosmetics; NAME: it was renamed meanwhile."""
    tx.write_guarded(
        [
            (
                Guard.EMPTY,
                tx.delete(
                    keys.entity(keys.CATEGORY, category.id),
                    "attribute_exists(PK) AND (attribute_not_exists(cosmeticCount) OR cosmeticCount = :zero)",
                    values={":zero": 0},
                ),
            ),
            (
                Guard.NAME,
                tx.delete(keys.name(keys.CATEGORY, category.name), "id = :id", values={":id": category.id}),
            ),
        ]
    )


def cosmetics_in(category_id: str) -> list[Cosmetic]:
    return [Cosmetic.from_item(i) for i in named.listing(keys.COSMETIC, Attr("categoryId").eq(category_id))]


# ---------------------------------------------------------------- cosmetics


def get_cosmetic(cosmetic_id: str) -> Cosmetic | None:
    """The cosmetic, also while a delete is sweeping it (`deleting`)."""
    item = named.get(keys.COSMETIC, cosmetic_id)
    return Cosmetic.from_item(item) if item else None


def cosmetic_id(name: str) -> str | None:
    return named.id_by_name(keys.COSMETIC, name)


def cosmetics(for_sale_only: bool = False) -> list[Cosmetic]:
    """Every cosmetic not being deleted, oldest first; `for_sale_only`: those with a price."""
    condition: Any = Attr("deleting").not_exists()
    if for_sale_only:
        condition = condition & Attr("cost").gt(0)
    return [Cosmetic.from_item(i) for i in _created_order(named.listing(keys.COSMETIC, condition))]


def _category_count(category_id: str, delta: int) -> dict[str, Any]:
    return tx.update(
        keys.entity(keys.CATEGORY, category_id), "ADD cosmeticCount :d", "attribute_exists(PK)", values={":d": delta}
    )


def create_cosmetic(draft: Cosmetic) -> Cosmetic:
    """Store `draft` under a fresh id, counted in its category. NEW_NAME: the name is taken; CATEGORY: the
    category does not exist."""
    attributes = draft.to_item()
    del attributes["id"]
    extra = [(Guard.CATEGORY, _category_count(draft.category_id, 1))]
    return Cosmetic.from_item(named.create(keys.COSMETIC, draft.name, attributes, extra))


def update_cosmetic(current: Cosmetic, changes: Mapping[str, Any]) -> Cosmetic:
    """Write `changes` (entity fields -> new values) if nobody changed the cosmetic since `current` was
    read (ENTITY: version, not being deleted). A rename moves its name (NAME, NEW_NAME: taken); a move
    changes both categories' counts (OLD_CATEGORY, CATEGORY: the new one does not exist). A type change
    is recorded in the same write (`retypeFrom`) and the owners' old slots are swept after it: a run that
    stops midway is finished by `finish_retype` (the next edit, or the recalculation job)."""
    sets = {Cosmetic.ATTRIBUTES[f]: v for f, v in changes.items()}
    retyped = "type" in changes and changes["type"] != current.type
    if retyped:
        sets["retypeFrom"] = current.type
    names = {f"#a{i}": attr for i, attr in enumerate(sets)}
    values: dict[str, Any] = {f":v{i}": v for i, v in enumerate(sets.values())}
    values.update({":version": current.version, ":next": current.version + 1})
    expression = "SET " + ", ".join([f"#a{i} = :v{i}" for i in range(len(sets))] + ["version = :next"])
    items: list[tx.Guarded] = [
        (
            Guard.ENTITY,
            tx.update(
                keys.entity(keys.COSMETIC, current.id),
                expression,
                "version = :version AND attribute_not_exists(deleting)",
                names=names,
                values=values,
            ),
        )
    ]
    if "name" in changes:
        items += named.rename_items(keys.COSMETIC, current.id, current.name, changes["name"])
    if "category_id" in changes and changes["category_id"] != current.category_id:
        items += [
            (Guard.OLD_CATEGORY, _category_count(current.category_id, -1)),
            (Guard.CATEGORY, _category_count(changes["category_id"], 1)),
        ]
    tx.write_guarded(items)
    if retyped:
        _finish_retype(current.id, current.type)
    return replace(current, **changes, version=current.version + 1)


def _unequip_everywhere(cosmetic_id: str, cosmetic_type: str) -> None:
    """Clear a slot that holds this cosmetic in every owner's profile (conditional: only if still there)."""
    slot = slot_attribute(cosmetic_type)
    for discord_id in ownership.owners(cosmetic_id):
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


def finish_retype(cosmetic: Cosmetic) -> None:
    """Finish the owner sweep of a type change that stopped midway (`retype_from` set)."""
    if cosmetic.retype_from:
        _finish_retype(cosmetic.id, cosmetic.retype_from)


def finish_retypes() -> int:
    """Finish owner sweeps that a type change started but did not complete (called by the recalc job)."""
    pending = named.listing(keys.COSMETIC, Attr("retypeFrom").exists())
    for item in pending:
        _finish_retype(item["id"], item["retypeFrom"])
    return len(pending)


SWEEP_PASSES = 10


def delete_cosmetic(cosmetic_id: str) -> None:
    """Mark the cosmetic (no new buys, grants, equips or edits), take it out of every locker and slot, then
    delete it with its name and category count. A retry after an interruption resumes where it stopped.
    ENTITY: there is no such cosmetic (or a concurrent delete finished first)."""
    with guarding(Guard.ENTITY):  # what to act on comes from the marked item itself, not from an earlier read
        marked = table().update_item(
            Key=keys.entity(keys.COSMETIC, cosmetic_id),
            UpdateExpression="SET deleting = :t",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues={":t": True},
            ReturnValues="ALL_NEW",
        )
    current = plain(marked["Attributes"])
    types = {current["type"]}
    if current.get("retypeFrom"):
        types.add(current["retypeFrom"])
    for _ in range(SWEEP_PASSES):
        # owners come from an index (eventually consistent): sweep until the cosmetic's own count says none
        for discord_id in ownership.owners(cosmetic_id):
            for cosmetic_type in sorted(types):
                ownership.remove(discord_id, cosmetic_id, cosmetic_type)
        item = named.get(keys.COSMETIC, cosmetic_id)
        if item is None or int(item.get("ownerCount", 0)) <= 0:
            break
        time.sleep(0.2)
    else:
        raise Unavailable("Some owners are not visible yet; retry the delete to finish it")
    tx.write_guarded(
        [
            (Guard.ENTITY, tx.delete(keys.entity(keys.COSMETIC, cosmetic_id), "attribute_exists(PK)")),
            (Guard.NAME, tx.delete(keys.name(keys.COSMETIC, current["name"]), "id = :id", values={":id": cosmetic_id})),
            (Guard.OLD_CATEGORY, _category_count(current["categoryId"], -1)),
        ]
    )
