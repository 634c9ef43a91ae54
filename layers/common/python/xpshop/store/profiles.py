"""Shop accounts: profiles (credits, equipped slots, creator code), the ledger, Minecraft links, user API keys."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from typing import Any

from boto3.dynamodb.conditions import Key

from .. import ids
from ..clock import now_ms
from ..errors import Conflict, ErrorCode, NotFound
from . import keys, pages, tx
from .table import plain, table

KEY_PREFIX = "xps_"


def get(discord_id: str) -> dict[str, Any] | None:
    item = table().get_item(Key=keys.profile(discord_id), ConsistentRead=True).get("Item")
    return plain(item) if item else None


def require(discord_id: str) -> dict[str, Any]:
    profile = get(discord_id)
    if profile is None:
        raise NotFound(ErrorCode.USER_NOT_FOUND, f"No shop account for {discord_id}")
    return profile


def account(discord_id: str) -> tuple[dict[str, Any] | None, list[str]]:
    """The profile and the locker (owned cosmetic ids) in one Query: SK from OWN# to PROFILE."""
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
    profile = next((i for i in items if i["SK"] == keys.PROFILE), None)
    locker = [i["cosmeticId"] for i in items if i["SK"].startswith(keys.OWN_PREFIX)]
    return profile, locker


def linked_discord_id(minecraft_uuid: str) -> str | None:
    item = table().get_item(Key=keys.link(minecraft_uuid), ConsistentRead=True).get("Item")
    return str(item["discordId"]) if item else None


def resolve(account_id: str, must_exist: bool = True) -> str:
    """A Discord ID or a linked Minecraft UUID -> the Discord ID (404 USER_NOT_FOUND if unknown)."""
    if ids.is_snowflake(account_id):
        if must_exist:
            require(account_id)
        return account_id
    discord_id = linked_discord_id(account_id)
    if discord_id is None:
        raise NotFound(ErrorCode.USER_NOT_FOUND, f"No account is linked to Minecraft UUID {account_id}")
    return discord_id


# ---------------------------------------------------------------- ledger


def ledger_entry(discord_id: str, kind: str, **fields: Any) -> dict[str, Any]:
    """A ledger item to put in the same transaction as the change it records."""
    at = now_ms()
    entry = {k: v for k, v in fields.items() if v is not None}
    return {
        **keys.ledger(discord_id, at, uuid.uuid4().hex[:10]),
        "type": kind,
        "timestamp": at // 1000,
        "at": at,
        **entry,
    }


def ledger_page(discord_id: str, limit: int | None, token: str | None) -> tuple[list[dict[str, Any]], str | None]:
    kwargs: dict[str, Any] = {
        "KeyConditionExpression": Key("PK").eq(keys.user_pk(discord_id)) & Key("SK").begins_with(keys.TX_PREFIX),
    }
    found, next_cursor = pages.query_page(kwargs, limit, token, {"PK", "SK"}, keys.ledger_cursor_check(discord_id))
    return [keys.strip(i) for i in found], next_cursor


# ---------------------------------------------------------------- credits


def modify_credits(discord_id: str, amount: int) -> int:
    """Add a signed amount; never below 0 (refused, not clamped). Creates the profile when absent."""
    values: dict[str, Any] = {":did": discord_id, ":amount": amount, ":zero": 0, ":now": now_ms()}
    condition = None
    if amount < 0:
        condition = "credits >= :need"
        values[":need"] = -amount
    update = tx.update(
        keys.profile(discord_id),
        "SET discordId = :did, credits = if_not_exists(credits, :zero) + :amount, "
        "createdAt = if_not_exists(createdAt, :now)",
        condition,
        values=values,
    )
    try:
        tx.write([update, tx.put(ledger_entry(discord_id, "credits_modify", amount=amount))])
    except tx.Cancelled as exc:
        raise Conflict(ErrorCode.INSUFFICIENT_CREDITS, f"amount {amount} would take the balance below 0") from exc
    return int(require(discord_id)["credits"])


def set_credits(discord_id: str, new_amount: int) -> int:
    update = tx.update(
        keys.profile(discord_id),
        "SET discordId = :did, credits = :amount, createdAt = if_not_exists(createdAt, :now)",
        values={":did": discord_id, ":amount": new_amount, ":now": now_ms()},
    )
    tx.write([update, tx.put(ledger_entry(discord_id, "credits_set", amount=new_amount))])
    return new_amount


# ---------------------------------------------------------------- links


def link(discord_id: str, minecraft_uuid: str) -> bool:
    """Link both ways in one transaction; the same pair again is a no-op. Returns True if newly linked."""
    profile = get(discord_id)
    if profile and profile.get("uuid") == minecraft_uuid and linked_discord_id(minecraft_uuid) == discord_id:
        return False
    items = [
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
        tx.update(
            keys.profile(discord_id),
            "SET discordId = :did, #uuid = :uuid, credits = if_not_exists(credits, :zero), "
            "createdAt = if_not_exists(createdAt, :now)",
            "attribute_not_exists(#uuid) OR #uuid = :uuid",
            names={"#uuid": "uuid"},
            values={":did": discord_id, ":uuid": minecraft_uuid, ":zero": 0, ":now": now_ms()},
        ),
    ]
    try:
        tx.write(items)
    except tx.Cancelled as exc:
        if exc.failed(0):
            raise Conflict(
                ErrorCode.ALREADY_LINKED,
                f"Minecraft UUID {minecraft_uuid} is already linked to another Discord account",
            ) from exc
        raise Conflict(
            ErrorCode.ALREADY_LINKED, f"Discord account {discord_id} is already linked to another Minecraft account"
        ) from exc
    return True


def unlink(discord_id: str) -> str:
    profile = require(discord_id)
    minecraft_uuid = profile.get("uuid")
    if not minecraft_uuid:
        raise Conflict(ErrorCode.NOT_LINKED, f"Discord account {discord_id} is not linked")
    try:
        tx.write(
            [
                tx.delete(keys.link(minecraft_uuid), "discordId = :did", values={":did": discord_id}),
                tx.update(
                    keys.profile(discord_id),
                    "REMOVE #uuid",
                    "#uuid = :uuid",
                    names={"#uuid": "uuid"},
                    values={":uuid": minecraft_uuid},
                ),
            ]
        )
    except tx.Cancelled as exc:
        raise Conflict(ErrorCode.NOT_LINKED, "The link changed concurrently; retry") from exc
    return str(minecraft_uuid)


def links_page(limit: int | None, token: str | None) -> tuple[dict[str, str], str | None]:
    found, next_cursor = pages.gsi1_page(keys.LINKS_GSI1PK, limit, token, keys.link_cursor_check)
    return {str(i["discordId"]): str(i["uuid"]) for i in found}, next_cursor


# ---------------------------------------------------------------- user API keys


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_key(discord_id: str) -> str:
    """A new key for the account (shown once, stored as a SHA-256 hash); the previous key stops working."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    digest = _digest(key)
    pointer = table().get_item(Key=keys.user_api_key(discord_id), ConsistentRead=True).get("Item")
    old = pointer.get("digest") if pointer else None
    items = [
        tx.put({**keys.api_key(digest), "discordId": discord_id, "createdAt": now_ms()}, "attribute_not_exists(PK)"),
        tx.put(
            {**keys.user_api_key(discord_id), "digest": digest, "createdAt": now_ms()},
            "digest = :old" if old else "attribute_not_exists(PK)",
            values={":old": old} if old else None,
        ),
    ]
    if old:
        items.append(tx.delete(keys.api_key(old)))
    try:
        tx.write(items)
    except tx.Cancelled as exc:
        raise Conflict(ErrorCode.CONFLICT, "Another key was issued for this account at the same time") from exc
    return key


def revoke_key(discord_id: str) -> None:
    pointer = table().get_item(Key=keys.user_api_key(discord_id), ConsistentRead=True).get("Item")
    if not pointer:
        raise NotFound(ErrorCode.KEY_NOT_FOUND, f"Account {discord_id} has no API key")
    try:
        tx.write(
            [
                tx.delete(keys.user_api_key(discord_id), "digest = :d", values={":d": pointer["digest"]}),
                tx.delete(keys.api_key(str(pointer["digest"]))),
            ]
        )
    except tx.Cancelled as exc:
        raise Conflict(ErrorCode.CONFLICT, "The key changed concurrently; retry") from exc


def key_owner(key: str) -> str | None:
    """The Discord ID a user API key belongs to, or None for an unknown or revoked key."""
    if not key.startswith(KEY_PREFIX) or len(key) > 100:
        return None
    item = table().get_item(Key=keys.api_key(_digest(key)), ConsistentRead=True).get("Item")
    return str(item["discordId"]) if item else None
