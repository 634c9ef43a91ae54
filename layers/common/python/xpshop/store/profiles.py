"""Shop accounts: profiles (credits, equipped slots, creator code), Minecraft links, user API keys, and the
one expression that credits a profile, creating it when absent."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..clock import now_ms
from ..shop import COSMETIC_TYPES, MAX_CREDITS, slot_attribute
from . import keys, pages, tx
from .conditions import Key
from .guards import Guard
from .table import plain, table

KEY_PREFIX = "xps_"


@dataclass(frozen=True, slots=True)
class ShopProfile:
    discord_id: str
    credits: int = 0
    uuid: str | None = None  # the linked Minecraft account
    creator_code: str | None = None  # the id of the creator code the member supports
    equipped: Mapping[str, str | None] = field(default_factory=dict)  # every cosmetic type -> cosmetic id or None

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> ShopProfile:
        return cls(
            discord_id=str(item.get("discordId") or str(item["PK"]).split("#", 1)[1]),
            credits=int(item.get("credits", 0)),
            uuid=item.get("uuid"),
            creator_code=item.get("creatorCode"),
            equipped={t: item.get(slot_attribute(t)) for t in COSMETIC_TYPES},
        )


def get(discord_id: str) -> ShopProfile | None:
    item = table().get_item(Key=keys.profile(discord_id), ConsistentRead=True).get("Item")
    return ShopProfile.from_item(plain(item)) if item else None


def account(discord_id: str) -> tuple[ShopProfile | None, list[str]]:
    """The profile and the locker (owned cosmetic ids, in the order they were acquired, as the shop document's
    users/info shows them) in one Query: SK from OWN# to PROFILE."""
    resp = table().query(
        KeyConditionExpression=Key("PK").eq(keys.user_pk(discord_id))
        & Key("SK").between(keys.OWN_PREFIX, keys.PROFILE),
        ConsistentRead=True,
    )
    items = [plain(i) for i in resp.get("Items", [])]
    while "LastEvaluatedKey" in resp:  # a locker larger than 1 MB
        resp = table().query(
            KeyConditionExpression=Key("PK").eq(keys.user_pk(discord_id))
            & Key("SK").between(keys.OWN_PREFIX, keys.PROFILE),
            ConsistentRead=True,
            ExclusiveStartKey=resp["LastEvaluatedKey"],
        )
        items += [plain(i) for i in resp.get("Items", [])]
    profile = next((ShopProfile.from_item(i) for i in items if i["SK"] == keys.PROFILE), None)
    owned = [i for i in items if i["SK"].startswith(keys.OWN_PREFIX)]
    # the query reads them by cosmetic id; `at` is when each was bought, granted or won (the id breaks a tie)
    locker = [i["cosmeticId"] for i in sorted(owned, key=lambda i: (int(i.get("at", 0)), i["cosmeticId"]))]
    return profile, locker


def linked_discord_id(minecraft_uuid: str) -> str | None:
    item = table().get_item(Key=keys.link(minecraft_uuid), ConsistentRead=True).get("Item")
    return str(item["discordId"]) if item else None


# ---------------------------------------------------------------- credits

# What a write that adds credits to an existing balance requires (":room" = MAX_CREDITS - the amount added).
CAP_CONDITION = "(attribute_not_exists(credits) OR credits <= :room)"


def credit_upsert(
    discord_id: str,
    amount: int = 0,
    *,
    set_balance: bool = False,
    also: str = "",
    condition: str | None = None,
    names: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The transaction item that adds `amount` to a profile's credits (or, `set_balance`, sets them to it),
    creating the profile with 0 credits when absent. `also`: more `SET` clauses (", #a = :b") for `names`
    and `values`; `condition` guards the item. Credits added (amount > 0) are guarded by the cap too, in the
    same write (CREDIT_CAP where the caller names it): the balance never passes MAX_CREDITS, however many
    additions race. A balance that is set is bounded by its caller's validation."""
    credits = ":amount" if set_balance else "if_not_exists(credits, :zero) + :amount"
    expression = f"SET discordId = :did{also}, credits = {credits}, createdAt = if_not_exists(createdAt, :now)"
    filled: dict[str, Any] = {":did": discord_id, ":amount": amount, ":now": now_ms(), **(values or {})}
    if not set_balance:
        filled[":zero"] = 0
        if amount > 0:
            condition = f"({condition}) AND {CAP_CONDITION}" if condition else CAP_CONDITION
            filled[":room"] = MAX_CREDITS - amount  # no profile yet: amount <= MAX_CREDITS (validated)
    return tx.update(keys.profile(discord_id), expression, condition, names=names, values=filled)


# ---------------------------------------------------------------- links


def link(discord_id: str, minecraft_uuid: str) -> None:
    """Link both ways in one transaction (LINK_FREE: the Minecraft account is not linked to someone else;
    UUID_FREE: the profile is not linked to another Minecraft account)."""
    tx.write_guarded(
        [
            (
                Guard.LINK_FREE,
                tx.put(
                    {
                        **keys.link(minecraft_uuid),
                        **keys.link_index(discord_id),
                        "discordId": discord_id,
                        "uuid": minecraft_uuid,
                        "linkedAt": now_ms(),
                    },
                    "attribute_not_exists(PK) OR discordId = :did",
                    values={":did": discord_id},
                ),
            ),
            (
                Guard.UUID_FREE,
                credit_upsert(
                    discord_id,
                    also=", #uuid = :uuid",
                    condition="attribute_not_exists(#uuid) OR #uuid = :uuid",
                    names={"#uuid": "uuid"},
                    values={":uuid": minecraft_uuid},
                ),
            ),
        ]
    )


def unlink(discord_id: str, minecraft_uuid: str) -> None:
    """Remove the link both ways, if it is still the one read (LINKED)."""
    tx.write_guarded(
        [
            (Guard.LINKED, tx.delete(keys.link(minecraft_uuid), "discordId = :did", values={":did": discord_id})),
            (
                Guard.LINKED,
                tx.update(
                    keys.profile(discord_id),
                    "REMOVE #uuid",
                    "#uuid = :uuid",
                    names={"#uuid": "uuid"},
                    values={":uuid": minecraft_uuid},
                ),
            ),
        ]
    )


def links_page(limit: int | None, token: str | None) -> tuple[dict[str, str], str | None]:
    found, next_cursor = pages.gsi1_page(keys.LINKS_GSI1PK, limit, token, keys.link_cursor_check)
    return {str(i["discordId"]): str(i["uuid"]) for i in found}, next_cursor


# ---------------------------------------------------------------- user API keys


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_key(discord_id: str) -> str:
    """A new key for the account (shown once, stored as a SHA-256 hash); the previous key stops working.
    KEY: another key was issued meanwhile."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    digest = _digest(key)
    pointer = table().get_item(Key=keys.user_api_key(discord_id), ConsistentRead=True).get("Item")
    old = pointer.get("digest") if pointer else None
    items: list[tx.Guarded] = [
        (
            Guard.KEY,
            tx.put(
                {**keys.api_key(digest), "discordId": discord_id, "createdAt": now_ms()}, "attribute_not_exists(PK)"
            ),
        ),
        (
            Guard.KEY,
            tx.put(
                {**keys.user_api_key(discord_id), "digest": digest, "createdAt": now_ms()},
                "digest = :old" if old else "attribute_not_exists(PK)",
                values={":old": old} if old else None,
            ),
        ),
    ]
    if old:
        items.append((None, tx.delete(keys.api_key(old))))
    tx.write_guarded(items)
    return key


def revoke_key(discord_id: str) -> bool:
    """Revoke the account's key; False when it has none. KEY: it changed meanwhile."""
    pointer = table().get_item(Key=keys.user_api_key(discord_id), ConsistentRead=True).get("Item")
    if not pointer:
        return False
    tx.write_guarded(
        [
            (Guard.KEY, tx.delete(keys.user_api_key(discord_id), "digest = :d", values={":d": pointer["digest"]})),
            (None, tx.delete(keys.api_key(str(pointer["digest"])))),
        ]
    )
    return True


def key_owner(key: str) -> str | None:
    """The Discord ID a user API key belongs to, or None for an unknown or revoked key."""
    if not key.startswith(KEY_PREFIX) or len(key) > 100:
        return None
    item = table().get_item(Key=keys.api_key(_digest(key)), ConsistentRead=True).get("Item")
    return str(item["discordId"]) if item else None
