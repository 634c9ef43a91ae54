"""Shop accounts: which account a caller may act on, profiles and their ledger, Minecraft links, user keys."""

from __future__ import annotations

from typing import Any

from ... import ids
from ...auth import Caller
from ...errors import ApiError, Conflict, ErrorCode, NotFound
from ...minecraft import lookup_uuid
from ...store import ledger, profiles
from ...store.guards import Guard, GuardFailed
from ...store.profiles import ShopProfile


def account_for(caller: Caller, account_id: str, must_exist: bool = False) -> str:
    """The Discord ID behind `id`; a user key may only name its own account (403 otherwise).

    A Discord ID is not looked up here: every operation answers USER_NOT_FOUND itself (its transaction or
    read needs the profile anyway), which saves a read per request."""
    if not caller.admin:
        own = caller.discord_id
        named = account_id if ids.is_snowflake(account_id) else profiles.linked_discord_id(account_id)
        if named is None or named != own:
            raise ApiError(ErrorCode.FORBIDDEN, "A user key can only act on its own account")
        return named  # what was checked is what is used (no second lookup a relink could change)
    return resolve(account_id, must_exist)


def resolve(account_id: str, must_exist: bool = True) -> str:
    """A Discord ID or a linked Minecraft UUID -> the Discord ID (404 USER_NOT_FOUND if unknown)."""
    if ids.is_snowflake(account_id):
        if must_exist:
            require(account_id)
        return account_id
    discord_id = profiles.linked_discord_id(account_id)
    if discord_id is None:
        raise NotFound(ErrorCode.USER_NOT_FOUND, f"No account is linked to Minecraft UUID {account_id}")
    return discord_id


def no_account(discord_id: str) -> NotFound:
    return NotFound(ErrorCode.USER_NOT_FOUND, f"No shop account for {discord_id}")


def require(discord_id: str) -> ShopProfile:
    profile = profiles.get(discord_id)
    if profile is None:
        raise no_account(discord_id)
    return profile


def user_info(discord_id: str) -> dict[str, Any]:
    profile, locker = profiles.account(discord_id)
    if profile is None:
        raise no_account(discord_id)
    return {
        "discord_id": discord_id,
        "uuid": profile.uuid,
        "credits": profile.credits,
        "cosmetics": {"equipped": dict(profile.equipped), "locker": locker},
    }


def _entry_view(entry: ledger.LedgerEntry) -> dict[str, Any]:
    return {
        "type": entry.kind,
        "cosmeticId": entry.cosmetic_id,
        "cost": entry.cost,
        "amount": entry.amount,
        "timestamp": entry.timestamp,
        **({"previous": entry.previous} if entry.previous is not None else {}),
        **({"couponCode": entry.coupon_code} if entry.coupon_code else {}),
        **({"creatorCode": entry.creator_code} if entry.creator_code else {}),
        **({"guildId": entry.guild_id, "level": entry.level} if entry.kind == "level_reward" else {}),
    }


def transactions(discord_id: str, limit: int | None, cursor: str | None) -> dict[str, Any]:
    profile = require(discord_id)
    entries, next_cursor = ledger.page(discord_id, limit, cursor)
    result: dict[str, Any] = {
        "discord_id": discord_id,
        "uuid": profile.uuid,
        "transactions": [_entry_view(e) for e in entries],
    }
    if limit is not None or cursor is not None:
        result["nextCursor"] = next_cursor
    return result


def linked_accounts(limit: int | None, cursor: str | None) -> dict[str, Any]:
    found, next_cursor = profiles.links_page(limit, cursor)
    if limit is None and cursor is None:
        return found  # the seed's shape: {discordId: uuid}
    return {"links": found, "nextCursor": next_cursor}


def link(discord_id: str, username: str) -> dict[str, Any]:
    """Link both ways; the same pair again is a no-op (`created` false)."""
    minecraft_uuid = lookup_uuid(username)
    if minecraft_uuid is None:
        raise NotFound(ErrorCode.MINECRAFT_PROFILE_NOT_FOUND, f"No Minecraft account named {username!r}")
    profile = profiles.get(discord_id)
    if profile and profile.uuid == minecraft_uuid and profiles.linked_discord_id(minecraft_uuid) == discord_id:
        created = False
    else:
        try:
            profiles.link(discord_id, minecraft_uuid)
        except GuardFailed as refused:
            if Guard.LINK_FREE in refused:
                raise Conflict(
                    ErrorCode.ALREADY_LINKED,
                    f"Minecraft UUID {minecraft_uuid} is already linked to another Discord account",
                ) from refused
            raise Conflict(
                ErrorCode.ALREADY_LINKED,
                f"Discord account {discord_id} is already linked to another Minecraft account",
            ) from refused
        created = True
    return {"linked": True, "discord_id": discord_id, "uuid": minecraft_uuid, "created": created}


def unlink(discord_id: str) -> dict[str, Any]:
    minecraft_uuid = require(discord_id).uuid
    if not minecraft_uuid:
        raise Conflict(ErrorCode.NOT_LINKED, f"Discord account {discord_id} is not linked")
    try:
        profiles.unlink(discord_id, minecraft_uuid)
    except GuardFailed as refused:
        raise Conflict(ErrorCode.NOT_LINKED, "The link changed concurrently; retry") from refused
    return {"unlinked": True, "discord_id": discord_id, "uuid": str(minecraft_uuid)}


def issue_key(discord_id: str) -> dict[str, Any]:
    """A new key for the account (shown once); the previous key stops working."""
    try:
        key = profiles.issue_key(discord_id)
    except GuardFailed as refused:
        raise Conflict(ErrorCode.CONFLICT, "Another key was issued for this account at the same time") from refused
    return {"key": key, "discord_id": discord_id}


def revoke_key(discord_id: str) -> dict[str, Any]:
    try:
        revoked = profiles.revoke_key(discord_id)
    except GuardFailed as refused:
        raise Conflict(ErrorCode.CONFLICT, "The key changed concurrently; retry") from refused
    if not revoked:
        raise NotFound(ErrorCode.KEY_NOT_FOUND, f"Account {discord_id} has no API key")
    return {"revoked": True, "discord_id": discord_id}
