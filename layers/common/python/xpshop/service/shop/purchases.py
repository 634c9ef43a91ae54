"""Cosmetics changing hands: buying (price, creator payout), granting, revoking, equipping."""

from __future__ import annotations

from typing import Any

from ... import metrics, retry
from ...errors import Conflict, ErrorCode, NotFound, Unavailable
from ...shop import MAX_CREDITS, for_sale, purchase_payout
from ...store import creators, profiles, purchases
from ...store.guards import Guard, GuardFailed
from ...store.profiles import ShopProfile
from . import accounts, catalog


def _supported_creator(buyer: ShopProfile) -> creators.CreatorCode | None:
    return creators.get(buyer.creator_code) if buyer.creator_code else None


def buy(discord_id: str, cosmetic_id: str) -> dict[str, Any]:
    """Buy at the price read, paying the supported creator their share, in one transaction. Whatever
    changed between the reads and the write (price, creator code, its owner) is decided again. A share that
    would take the creator's balance past MAX_CREDITS is cut to what the balance can still take (the buyer
    is not refused for it)."""
    room: dict[str, int] = {}  # owner -> what their balance can still take, once a payout hit the cap
    for _ in retry.attempts():
        buyer = accounts.require(discord_id)
        cosmetic = catalog.cosmetic(cosmetic_id)
        if not for_sale(cosmetic.cost):
            raise Conflict(ErrorCode.NOT_FOR_SALE, f"{cosmetic.name!r} is not for sale")
        creator = _supported_creator(buyer)
        payout = purchase_payout(cosmetic.cost, discord_id, creator.owner if creator else None)
        if creator is not None and creator.owner in room:
            payout = min(payout, room[creator.owner])
        try:
            purchases.buy(buyer, cosmetic, payout, creator)
        except GuardFailed as refused:
            if Guard.UNOWNED in refused:
                raise Conflict(ErrorCode.ALREADY_OWNED, f"{discord_id} already owns {cosmetic.name!r}") from refused
            if Guard.BALANCE in refused:
                latest = accounts.require(discord_id)
                if latest.creator_code == buyer.creator_code:
                    raise Conflict(
                        ErrorCode.INSUFFICIENT_CREDITS,
                        f"{cosmetic.name!r} costs {cosmetic.cost}; the balance is {latest.credits}",
                    ) from refused
            if Guard.CREDIT_CAP in refused and creator is not None:  # pay the creator what still fits
                owner = profiles.get(creator.owner)
                room[creator.owner] = MAX_CREDITS - (owner.credits if owner else 0)
            continue  # price, creator code or creator changed since we read them: decide again
        metrics.count(metrics.PURCHASES)
        return {
            "bought": True,
            "cosmeticId": cosmetic_id,
            "name": cosmetic.name,
            "type": cosmetic.type,
            "cost": cosmetic.cost,
            "credits": accounts.require(discord_id).credits,
            "creator": {"code": creator.code, "payout": payout} if payout and creator else None,
        }
    raise Unavailable("The purchase kept colliding with concurrent changes; retry")


def grant(discord_id: str, cosmetic_id: str) -> dict[str, Any]:
    accounts.require(discord_id)
    cosmetic = catalog.cosmetic(cosmetic_id)
    try:
        purchases.grant(discord_id, cosmetic)
    except GuardFailed as refused:
        if Guard.UNOWNED in refused:
            raise Conflict(ErrorCode.ALREADY_OWNED, f"{discord_id} already owns {cosmetic.name!r}") from refused
        raise NotFound(ErrorCode.COSMETIC_NOT_FOUND, f"No cosmetic with id {cosmetic_id}") from refused
    return {"granted": True}


def revoke(discord_id: str, cosmetic_id: str) -> dict[str, Any]:
    accounts.require(discord_id)
    cosmetic = catalog.cosmetic(cosmetic_id)
    if not purchases.revoke(discord_id, cosmetic):
        raise Conflict(ErrorCode.NOT_OWNED, f"{discord_id} does not own {cosmetic.name!r}")
    return {"revoked": True}


def equip(discord_id: str, cosmetic_type: str, cosmetic_id: str) -> dict[str, Any]:
    cosmetic = catalog.cosmetic(cosmetic_id)
    if cosmetic.type != cosmetic_type:
        raise Conflict(ErrorCode.TYPE_MISMATCH, f"{cosmetic.name!r} is a {cosmetic.type}, not a {cosmetic_type}")
    try:
        purchases.equip(discord_id, cosmetic)
    except GuardFailed as refused:
        if Guard.OWNED in refused:
            raise Conflict(ErrorCode.NOT_OWNED, f"{discord_id} does not own {cosmetic.name!r}") from refused
        if Guard.PROFILE in refused:
            raise accounts.no_account(discord_id) from refused
        raise NotFound(ErrorCode.COSMETIC_NOT_FOUND, f"No cosmetic with id {cosmetic_id}") from refused
    return {"equipped": True}


def unequip(discord_id: str, cosmetic_type: str) -> dict[str, Any]:
    """Empty a slot; an empty slot stays empty (success)."""
    try:
        purchases.unequip(discord_id, cosmetic_type)
    except GuardFailed as refused:
        raise accounts.no_account(discord_id) from refused
    return {"unequipped": True}
