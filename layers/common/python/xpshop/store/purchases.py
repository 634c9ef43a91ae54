"""Buying, granting, revoking and equipping cosmetics: each one guarded write (a TransactWriteItems where
more than one item changes).

A buy debits the buyer only if the balance covers the price, creates the ownership only if absent, checks
the cosmetic still exists at the version (price) that was read, writes the ledger entry, and, when the
buyer's purchase pays a creator, credits the creator's owner and records the use: all or nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

from ..clock import now_ms
from ..shop import slot_attribute
from . import keys, ledger, ownership, tx
from .catalog import Cosmetic
from .creators import CreatorCode, CreatorUse, owner_check
from .guards import Guard, guarding
from .profiles import ShopProfile, credit_upsert
from .table import table


def buy(buyer: ShopProfile, cosmetic: Cosmetic, payout: int = 0, creator: CreatorCode | None = None) -> None:
    """One transaction. BALANCE: the buyer's profile is gone, cannot cover `cosmetic.cost`, or supports
    another creator code than the one read; UNOWNED: already owned; COSMETIC: deleted or edited since
    read; CREATOR: the creator code (paid `payout` when it is > 0) changed owner or is gone; CREDIT_CAP: the
    payout would take the owner's balance above shop.MAX_CREDITS."""
    cost = cosmetic.cost
    code_guard = "creatorCode = :code" if buyer.creator_code else "attribute_not_exists(creatorCode)"
    values: dict[str, Any] = {":cost": cost}
    if buyer.creator_code:
        values[":code"] = buyer.creator_code
    pays = creator if payout and creator else None
    items: list[tx.Guarded] = [
        (
            Guard.BALANCE,
            tx.update(
                keys.profile(buyer.discord_id),
                "SET credits = credits - :cost",
                f"attribute_exists(PK) AND credits >= :cost AND {code_guard}",
                values=values,
            ),
        ),
        *ownership.grant_items(buyer.discord_id, cosmetic.id, "purchase", version=cosmetic.version),
        (
            None,
            tx.put(
                ledger.to_item(
                    buyer.discord_id,
                    "purchase",
                    cosmeticId=cosmetic.id,
                    cost=cost,
                    creatorCode=pays.code if pays else None,
                    payout=payout or None,
                )
            ),
        ),
    ]
    if pays:
        at = now_ms()
        use = CreatorUse(payout, cost, buyer.discord_id, cosmetic.id, at // 1000)
        items += [
            (Guard.CREATOR, owner_check(pays)),
            (Guard.CREDIT_CAP, credit_upsert(pays.owner, payout)),
            (None, tx.put({**keys.creator_use(pays.id, at, uuid.uuid4().hex[:10]), **use.to_item()})),
            (
                None,
                tx.put(
                    ledger.to_item(
                        pays.owner,
                        "creator_payout",
                        amount=payout,
                        cosmeticId=cosmetic.id,
                        customer=buyer.discord_id,
                        creatorCode=pays.code,
                    )
                ),
            ),
        ]
    tx.write_guarded(items)


def grant(discord_id: str, cosmetic: Cosmetic) -> None:
    """UNOWNED: already owned; COSMETIC: it no longer exists. (The profile is not checked here.)"""
    tx.write_guarded(
        [
            *ownership.grant_items(discord_id, cosmetic.id, "grant"),
            (None, tx.put(ledger.to_item(discord_id, "grant", cosmeticId=cosmetic.id, cost=0))),
        ]
    )


def revoke(discord_id: str, cosmetic: Cosmetic) -> bool:
    """Take the cosmetic away (and out of its slot), with the ledger entry. False if it was not owned."""
    entry = ledger.to_item(discord_id, "revoke", cosmeticId=cosmetic.id)
    return ownership.remove(discord_id, cosmetic.id, cosmetic.type, entry)


def equip(discord_id: str, cosmetic: Cosmetic) -> None:
    """Put the cosmetic in its type's slot. OWNED: not owned; PROFILE: no profile; COSMETIC: it is gone,
    being deleted, or no longer of the type that was read."""
    tx.write_guarded(
        [
            (Guard.OWNED, tx.check(keys.owned(discord_id, cosmetic.id), "attribute_exists(PK)")),
            (
                Guard.PROFILE,
                tx.update(
                    keys.profile(discord_id),
                    "SET #slot = :id",
                    "attribute_exists(PK)",
                    names={"#slot": slot_attribute(cosmetic.type)},
                    values={":id": cosmetic.id},
                ),
            ),
            (
                Guard.COSMETIC,
                tx.check(  # same type as read: a concurrent type change cannot put it in the wrong slot
                    keys.entity(keys.COSMETIC, cosmetic.id),
                    "attribute_exists(PK) AND attribute_not_exists(deleting) AND #t = :type",
                    names={"#t": "type"},
                    values={":type": cosmetic.type},
                ),
            ),
        ]
    )


def unequip(discord_id: str, cosmetic_type: str) -> None:
    """Empty a slot; an empty slot stays empty. PROFILE: no profile."""
    with guarding(Guard.PROFILE):
        table().update_item(
            Key=keys.profile(discord_id),
            UpdateExpression="REMOVE #slot",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeNames={"#slot": slot_attribute(cosmetic_type)},
        )
