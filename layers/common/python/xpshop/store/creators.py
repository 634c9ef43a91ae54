"""Creator codes: unique codes (store.named) whose owner earns a share of the purchases of the members
supporting them, and the record of each such use."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from . import keys, named, pages, tx
from .conditions import Key
from .guards import Guard, guarding
from .table import table


@dataclass(frozen=True, slots=True)
class CreatorCode:
    id: str
    code: str
    owner: str  # the Discord id paid

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> CreatorCode:
        return cls(id=item["id"], code=item["code"], owner=str(item["owner"]))

    def to_item(self) -> dict[str, Any]:
        return {"id": self.id, "code": self.code, "owner": self.owner}


@dataclass(frozen=True, slots=True)
class CreatorUse:
    """One purchase that paid a creator."""

    amount_to_creator: int
    cost: int
    customer: str
    item_bought: str  # the cosmetic's id
    timestamp: int  # unix seconds

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> CreatorUse:
        return cls(
            amount_to_creator=item["amount_to_creator"],
            cost=item["cost"],
            customer=str(item["customer"]),
            item_bought=item["item_bought"],
            timestamp=item["timestamp"],
        )

    def to_item(self) -> dict[str, Any]:
        return {
            "amount_to_creator": self.amount_to_creator,
            "cost": self.cost,
            "customer": self.customer,
            "item_bought": self.item_bought,
            "timestamp": self.timestamp,
        }


def get(creator_id: str) -> CreatorCode | None:
    item = named.get(keys.CREATOR, creator_id)
    return CreatorCode.from_item(item) if item else None


def code_id(code: str) -> str | None:
    """The id of the creator code named `code` (names are unique case-insensitively), or None."""
    return named.id_by_name(keys.CREATOR, code)


def create(code: str, owner: str) -> CreatorCode:
    """NEW_NAME: the code is taken."""
    return CreatorCode.from_item(named.create(keys.CREATOR, code, {"code": code, "owner": owner}))


def update(current: CreatorCode, new_code: str | None, new_owner: str | None) -> CreatorCode:
    """Rename the code and/or give it a new owner. ENTITY: it is gone; NAME, NEW_NAME: see store.named."""
    sets = {k: v for k, v in (("code", new_code), ("owner", new_owner)) if v is not None}
    names = {f"#a{i}": k for i, k in enumerate(sets)}
    values = {f":v{i}": v for i, v in enumerate(sets.values())}
    items: list[tx.Guarded] = [
        (
            Guard.ENTITY,
            tx.update(
                keys.entity(keys.CREATOR, current.id),
                "SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(sets))),
                "attribute_exists(PK)",
                names=names,
                values=values,
            ),
        )
    ]
    if new_code:
        items += named.rename_items(keys.CREATOR, current.id, current.code, new_code)
    tx.write_guarded(items)
    return replace(current, **sets)


def delete(current: CreatorCode) -> None:
    """Delete the code; members who supported it simply stop paying anyone (their pointer leads nowhere)."""
    named.delete(keys.CREATOR, current.id, current.code)


def support(discord_id: str, creator: CreatorCode) -> None:
    """Point the member's profile at the code. PROFILE: no profile; CREATOR: the code changed meanwhile."""
    tx.write_guarded(
        [
            (
                Guard.PROFILE,
                tx.update(
                    keys.profile(discord_id),
                    "SET creatorCode = :id",
                    "attribute_exists(PK)",
                    values={":id": creator.id},
                ),
            ),
            (Guard.CREATOR, owner_check(creator)),
        ]
    )


def stop_supporting(discord_id: str) -> None:
    """PROFILE: no profile."""
    with guarding(Guard.PROFILE):
        table().update_item(
            Key=keys.profile(discord_id),
            UpdateExpression="REMOVE creatorCode",
            ConditionExpression="attribute_exists(PK)",
        )


def owner_check(creator: CreatorCode) -> dict[str, Any]:
    """A transaction item: the code still exists with the owner that was read."""
    return tx.check(
        keys.entity(keys.CREATOR, creator.id), "#o = :owner", names={"#o": "owner"}, values={":owner": creator.owner}
    )


def uses(creator_id: str, limit: int | None = None) -> list[CreatorUse]:
    return uses_page(creator_id, limit)[0]


def uses_page(creator_id: str, limit: int | None = None) -> tuple[list[CreatorUse], bool]:
    """The code's first `limit` uses (all when None), and whether it has more (exactly: see pages.query_page)."""
    kwargs: dict[str, Any] = {
        "KeyConditionExpression": Key("PK").eq(keys.creator_pk(creator_id)) & Key("SK").begins_with(keys.USE_PREFIX)
    }
    found, next_cursor = pages.query_page(kwargs, limit, None, {"PK", "SK"}, lambda _key: True)
    return [CreatorUse.from_item(i) for i in found], next_cursor is not None


def page(limit: int | None, token: str | None) -> tuple[list[CreatorCode], str | None]:
    found, next_cursor = named.page(keys.CREATOR, limit, token)
    return [CreatorCode.from_item(i) for i in found], next_cursor
