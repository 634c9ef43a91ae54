"""Buying, granting, revoking and equipping cosmetics: each one TransactWriteItems.

A buy debits the buyer only if the balance covers the price (`credits >= cost`), creates the ownership
only if absent, checks the cosmetic still exists at the price that was shown, writes the ledger entry,
and, when the buyer supports a creator, credits the creator's payout and records the use: all or nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

from .. import retry
from ..clock import now_ms
from ..errors import Conflict, ErrorCode, NotFound, Unavailable
from ..shop import creator_payout, creator_percent, slot_attribute
from . import catalog, keys, profiles, tx
from .profiles import ledger_entry


def _ownership_item(discord_id: str, cosmetic: dict[str, Any], source: str) -> dict[str, Any]:
    return {
        **keys.owned(discord_id, cosmetic["id"]),
        **keys.owners_index(cosmetic["id"], discord_id),
        "cosmeticId": cosmetic["id"],
        "source": source,
        "at": now_ms(),
    }


def _count_owner(cosmetic: dict[str, Any], guard_version: bool = True) -> dict[str, Any]:
    """The cosmetic must still exist (not being deleted, at the version that was read), and it counts one more
    owner: deleting it sweeps owners until this count, read consistently, is back to 0."""
    condition = "attribute_exists(PK) AND attribute_not_exists(deleting)"
    values: dict[str, Any] = {":one": 1}
    if guard_version:
        condition += " AND version = :v"
        values[":v"] = cosmetic["version"]
    return tx.update(keys.entity(keys.COSMETIC, cosmetic["id"]), "ADD ownerCount :one", condition, values=values)


def _creator_of(profile: dict[str, Any]) -> dict[str, Any] | None:
    creator_id = profile.get("creatorCode")
    if not creator_id:
        return None
    return catalog._get(keys.CREATOR, creator_id)


def buy(discord_id: str, cosmetic_id: str) -> dict[str, Any]:
    for _ in retry.attempts():
        profile = profiles.require(discord_id)
        cosmetic = catalog.get_cosmetic(cosmetic_id)
        cost = int(cosmetic["cost"])
        if cost <= 0:
            raise Conflict(ErrorCode.NOT_FOR_SALE, f"{cosmetic['name']!r} is not for sale")
        creator = _creator_of(profile)
        payout = creator_payout(cost, creator_percent()) if creator and creator["owner"] != discord_id else 0
        code_guard = "creatorCode = :code" if profile.get("creatorCode") else "attribute_not_exists(creatorCode)"
        values: dict[str, Any] = {":cost": cost}
        if profile.get("creatorCode"):
            values[":code"] = profile["creatorCode"]
        items = [
            tx.update(
                keys.profile(discord_id),
                "SET credits = credits - :cost",
                f"attribute_exists(PK) AND credits >= :cost AND {code_guard}",
                values=values,
            ),
            tx.put(_ownership_item(discord_id, cosmetic, "purchase"), "attribute_not_exists(PK)"),
            _count_owner(cosmetic),
            tx.put(
                ledger_entry(
                    discord_id,
                    "purchase",
                    cosmeticId=cosmetic_id,
                    cost=cost,
                    creatorCode=creator["code"] if creator and payout else None,
                    payout=payout or None,
                )
            ),
        ]
        if payout and creator:
            owner = creator["owner"]
            at = now_ms()
            items += [
                tx.check(
                    keys.entity(keys.CREATOR, creator["id"]),
                    "#o = :owner",
                    names={"#o": "owner"},
                    values={":owner": owner},
                ),
                tx.update(
                    keys.profile(owner),
                    "SET discordId = :o, credits = if_not_exists(credits, :zero) + :p, "
                    "createdAt = if_not_exists(createdAt, :now)",
                    values={":o": owner, ":zero": 0, ":p": payout, ":now": at},
                ),
                tx.put(
                    {
                        **keys.creator_use(creator["id"], at, uuid.uuid4().hex[:10]),
                        "amount_to_creator": payout,
                        "cost": cost,
                        "customer": discord_id,
                        "item_bought": cosmetic_id,
                        "timestamp": at // 1000,
                    }
                ),
                tx.put(
                    ledger_entry(
                        owner,
                        "creator_payout",
                        amount=payout,
                        cosmeticId=cosmetic_id,
                        customer=discord_id,
                        creatorCode=creator["code"],
                    )
                ),
            ]
        try:
            tx.write(items)
        except tx.Cancelled as exc:
            if exc.failed(1):
                raise Conflict(ErrorCode.ALREADY_OWNED, f"{discord_id} already owns {cosmetic['name']!r}") from exc
            if exc.failed(0):
                latest = profiles.require(discord_id)
                if latest.get("creatorCode") == profile.get("creatorCode"):
                    raise Conflict(
                        ErrorCode.INSUFFICIENT_CREDITS,
                        f"{cosmetic['name']!r} costs {cost}; the balance is {latest.get('credits', 0)}",
                    ) from exc
            continue  # price, creator code or creator changed since we read them: decide again
        return {
            "bought": True,
            "cosmeticId": cosmetic_id,
            "name": cosmetic["name"],
            "type": cosmetic["type"],
            "cost": cost,
            "credits": int(profiles.require(discord_id)["credits"]),
            "creator": {"code": creator["code"], "payout": payout} if payout and creator else None,
        }
    raise Unavailable("The purchase kept colliding with concurrent changes; retry")


def grant(discord_id: str, cosmetic_id: str) -> None:
    profiles.require(discord_id)
    cosmetic = catalog.get_cosmetic(cosmetic_id)
    try:
        tx.write(
            [
                tx.put(_ownership_item(discord_id, cosmetic, "grant"), "attribute_not_exists(PK)"),
                _count_owner(cosmetic, guard_version=False),
                tx.put(ledger_entry(discord_id, "grant", cosmeticId=cosmetic_id, cost=0)),
            ]
        )
    except tx.Cancelled as exc:
        if exc.failed(0):
            raise Conflict(ErrorCode.ALREADY_OWNED, f"{discord_id} already owns {cosmetic['name']!r}") from exc
        raise NotFound(ErrorCode.COSMETIC_NOT_FOUND, f"No cosmetic with id {cosmetic_id}") from exc


def revoke(discord_id: str, cosmetic_id: str) -> None:
    profiles.require(discord_id)
    cosmetic = catalog.get_cosmetic(cosmetic_id)
    removed = catalog.remove_ownership(
        discord_id,
        cosmetic_id,
        slot_attribute(cosmetic["type"]),
        ledger_entry(discord_id, "revoke", cosmeticId=cosmetic_id),
    )
    if not removed:
        raise Conflict(ErrorCode.NOT_OWNED, f"{discord_id} does not own {cosmetic['name']!r}")


def equip(discord_id: str, cosmetic_type: str, cosmetic_id: str) -> None:
    cosmetic = catalog.get_cosmetic(cosmetic_id)
    if cosmetic["type"] != cosmetic_type:
        raise Conflict(ErrorCode.TYPE_MISMATCH, f"{cosmetic['name']!r} is a {cosmetic['type']}, not a {cosmetic_type}")
    try:
        tx.write(
            [
                tx.check(keys.owned(discord_id, cosmetic_id), "attribute_exists(PK)"),
                tx.update(
                    keys.profile(discord_id),
                    "SET #slot = :id",
                    "attribute_exists(PK)",
                    names={"#slot": slot_attribute(cosmetic_type)},
                    values={":id": cosmetic_id},
                ),
                tx.check(  # same type as read: a concurrent type change cannot put it in the wrong slot
                    keys.entity(keys.COSMETIC, cosmetic_id),
                    "attribute_exists(PK) AND attribute_not_exists(deleting) AND #t = :type",
                    names={"#t": "type"},
                    values={":type": cosmetic_type},
                ),
            ]
        )
    except tx.Cancelled as exc:
        if exc.failed(0):
            raise Conflict(ErrorCode.NOT_OWNED, f"{discord_id} does not own {cosmetic['name']!r}") from exc
        if exc.failed(1):
            raise NotFound(ErrorCode.USER_NOT_FOUND, f"No shop account for {discord_id}") from exc
        raise NotFound(ErrorCode.COSMETIC_NOT_FOUND, f"No cosmetic with id {cosmetic_id}") from exc


def unequip(discord_id: str, cosmetic_type: str) -> None:
    """Empty a slot; an empty slot stays empty (success)."""
    from .table import table

    try:
        table().update_item(
            Key=keys.profile(discord_id),
            UpdateExpression="REMOVE #slot",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeNames={"#slot": slot_attribute(cosmetic_type)},
        )
    except table().meta.client.exceptions.ConditionalCheckFailedException as exc:
        raise NotFound(ErrorCode.USER_NOT_FOUND, f"No shop account for {discord_id}") from exc
