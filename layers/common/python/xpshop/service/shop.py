"""Shop use cases (/api/v1): accounts resolved for the caller, then the store's one-transaction rules."""

from __future__ import annotations

from typing import Any

from .. import ids
from ..auth import Caller, shop_guild_ids
from ..errors import ApiError, ErrorCode, NotFound
from ..minecraft import lookup_uuid
from ..shop import equipped_view, membership_start
from ..store import catalog, coupons, creators, members, profiles, purchases


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
    return profiles.resolve(account_id, must_exist)


# ---------------------------------------------------------------- users


def user_info(discord_id: str) -> dict[str, Any]:
    profile, locker = profiles.account(discord_id)
    if profile is None:
        raise NotFound(ErrorCode.USER_NOT_FOUND, f"No shop account for {discord_id}")
    return {
        "discord_id": discord_id,
        "uuid": profile.get("uuid"),
        "credits": int(profile.get("credits", 0)),
        "cosmetics": {"equipped": equipped_view(profile), "locker": locker},
    }


def transactions(discord_id: str, limit: int | None, cursor: str | None) -> dict[str, Any]:
    profile = profiles.require(discord_id)
    entries, next_cursor = profiles.ledger_page(discord_id, limit, cursor)
    listed = [
        {
            "type": e["type"],
            "cosmeticId": e.get("cosmeticId"),
            "cost": e.get("cost", 0),
            "amount": e.get("amount"),
            "timestamp": e["timestamp"],
            **({"couponCode": e["couponCode"]} if e.get("couponCode") else {}),
            **({"creatorCode": e["creatorCode"]} if e.get("creatorCode") else {}),
            **({"guildId": e["guildId"], "level": int(e["level"])} if e.get("type") == "level_reward" else {}),
        }
        for e in entries
    ]
    result: dict[str, Any] = {"discord_id": discord_id, "uuid": profile.get("uuid"), "transactions": listed}
    if limit is not None or cursor is not None:
        result["nextCursor"] = next_cursor
    return result


def linked_accounts(limit: int | None, cursor: str | None) -> dict[str, Any]:
    found, next_cursor = profiles.links_page(limit, cursor)
    if limit is None and cursor is None:
        return found  # the seed's shape: {discordId: uuid}
    return {"links": found, "nextCursor": next_cursor}


def link(discord_id: str, username: str) -> dict[str, Any]:
    minecraft_uuid = lookup_uuid(username)
    if minecraft_uuid is None:
        raise NotFound(ErrorCode.MINECRAFT_PROFILE_NOT_FOUND, f"No Minecraft account named {username!r}")
    created = profiles.link(discord_id, minecraft_uuid)
    return {"linked": True, "discord_id": discord_id, "uuid": minecraft_uuid, "created": created}


def unlink(discord_id: str) -> dict[str, Any]:
    minecraft_uuid = profiles.unlink(discord_id)
    return {"unlinked": True, "discord_id": discord_id, "uuid": minecraft_uuid}


def issue_key(discord_id: str) -> dict[str, Any]:
    return {"key": profiles.issue_key(discord_id), "discord_id": discord_id}


def revoke_key(discord_id: str) -> dict[str, Any]:
    profiles.revoke_key(discord_id)
    return {"revoked": True, "discord_id": discord_id}


# ---------------------------------------------------------------- credits


def modify_credits(discord_id: str, amount: int) -> dict[str, Any]:
    return {"credits": profiles.modify_credits(discord_id, amount)}


def set_credits(discord_id: str, new_amount: int) -> dict[str, Any]:
    return {"credits": profiles.set_credits(discord_id, new_amount)}


# ---------------------------------------------------------------- cosmetics and categories

list_cosmetics = catalog.list_cosmetics
create_cosmetic = catalog.create_cosmetic
list_categories = catalog.list_categories
create_category = catalog.create_category
rename_category = catalog.rename_category


def update_cosmetic(original_name: str, changes: dict[str, Any]) -> dict[str, Any]:
    return {"edited": True, "cosmetic": catalog.update_cosmetic(original_name, changes)}


def delete_cosmetic(name: str) -> dict[str, Any]:
    catalog.delete_cosmetic(name)
    return {"deleted": True}


def delete_category(category_id: str) -> dict[str, Any]:
    catalog.delete_category(category_id)
    return {"deleted": True, "id": category_id}


def buy(discord_id: str, cosmetic_id: str) -> dict[str, Any]:
    return purchases.buy(discord_id, cosmetic_id)


def grant(discord_id: str, cosmetic_id: str) -> dict[str, Any]:
    purchases.grant(discord_id, cosmetic_id)
    return {"granted": True}


def revoke(discord_id: str, cosmetic_id: str) -> dict[str, Any]:
    purchases.revoke(discord_id, cosmetic_id)
    return {"revoked": True}


def equip(discord_id: str, cosmetic_type: str, cosmetic_id: str) -> dict[str, Any]:
    purchases.equip(discord_id, cosmetic_type, cosmetic_id)
    return {"equipped": True}


def unequip(discord_id: str, cosmetic_type: str) -> dict[str, Any]:
    purchases.unequip(discord_id, cosmetic_type)
    return {"unequipped": True}


# ---------------------------------------------------------------- coupons


def redeem_in_guild(discord_id: str, code: str, guild_id: str | None, joined_at_s: int | None) -> dict[str, Any]:
    """A coupon redeemed from Discord. A `day_limit` counts from when the member joined `guild_id`: only in
    the servers the shop trusts (SHOP_GUILD_IDS: anyone can make a new server), and from the earliest of
    Discord's `joined_at` and the first time xpshop saw them there, so leaving and rejoining does not make a
    long-time member a newcomer. Elsewhere a day_limit coupon is refused."""
    joined = None
    if guild_id is not None and guild_id in shop_guild_ids():
        seen_ms = members.first_seen_ms(guild_id, discord_id) if joined_at_s is not None else None
        joined = membership_start(joined_at_s, seen_ms // 1000 if seen_ms is not None else None)
    return coupons.redeem(discord_id, code, through_api=False, joined_at_s=joined)


def list_coupons(limit: int | None, cursor: str | None) -> Any:
    found, next_cursor = coupons.page(limit, cursor)
    if limit is None and cursor is None:
        return found
    return {"coupons": found, "nextCursor": next_cursor}


def create_coupon(fields: dict[str, Any]) -> dict[str, Any]:
    return {"created": True, "coupon": coupons.create(fields)}


def edit_coupon(original_code: str, changes: dict[str, Any]) -> dict[str, Any]:
    return {"edited": True, "coupon": coupons.edit(original_code, changes)}


def delete_coupon(code: str) -> dict[str, Any]:
    coupons.delete(code)
    return {"deleted": True}


def redeem(discord_id: str, code: str) -> dict[str, Any]:
    return coupons.redeem(discord_id, code, through_api=True)


# ---------------------------------------------------------------- creator codes


def list_creator_codes(limit: int | None, cursor: str | None, uses_limit: int | None) -> Any:
    found, next_cursor = creators.page(limit, cursor, uses_limit)
    if limit is None and cursor is None:
        return found
    return {"creatorCodes": found, "nextCursor": next_cursor}


# A user key gets this one answer whether its account has no shop profile or the code does not exist, so
# the endpoint cannot be used to learn which codes (or accounts) exist.
NOTHING_TO_CHECK = "No shop account for this id, or no creator code named by creator_code"


def supporting(caller: Caller, account_id: str, code: str) -> dict[str, Any]:
    """Whether an account supports a creator code. The admin may ask about any account and gets the shop
    document's answers (404 USER_NOT_FOUND, then 404 CREATOR_CODE_NOT_FOUND); a user key may ask about its
    own account only (403 otherwise, like users/info) and cannot tell an unknown account from an unknown code."""
    if caller.admin:
        profile = profiles.require(profiles.resolve(account_id, must_exist=False))
        return {"supporting": creators.supporting(profile, code)}
    discord_id = account_for(caller, account_id)
    own = profiles.get(discord_id)
    creator_id = creators.code_id(code)
    if own is None or creator_id is None:
        raise NotFound(ErrorCode.CREATOR_CODE_NOT_FOUND, NOTHING_TO_CHECK)
    return {"supporting": own.get("creatorCode") == creator_id}


def create_creator_code(code: str, owner: str) -> dict[str, Any]:
    return {"created": True, "creatorCode": creators.create(code, owner)}


def update_creator_code(original_code: str, new_code: str | None, new_owner: str | None) -> dict[str, Any]:
    updated = creators.update(original_code, new_code, new_owner)
    return {
        "edited": True,
        "creatorCode": {"code": updated["code"], "id": updated["id"], "owner": str(updated["owner"])},
    }


def delete_creator_code(code: str) -> dict[str, Any]:
    creators.delete(code)
    return {"deleted": True}


def set_creator_code(discord_id: str, code: str) -> dict[str, Any]:
    creators.set_for(discord_id, code)
    return {"processed": True}
