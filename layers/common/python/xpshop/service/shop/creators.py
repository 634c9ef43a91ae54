"""Creator codes: members support one, and its owner earns a share of their purchases (see purchases)."""

from __future__ import annotations

from typing import Any

from ... import names
from ...auth import Caller
from ...errors import Conflict, ErrorCode, NotFound
from ...store import creators as store
from ...store import profiles
from ...store.creators import CreatorCode, CreatorUse
from ...store.guards import Guard, GuardFailed
from . import accounts

REMOVE_CODE = "0"  # set as one's code: support nobody
# A user key gets this one answer whether its account has no shop profile or the code does not exist, so
# the endpoint cannot be used to learn which codes (or accounts) exist.
NOTHING_TO_CHECK = "No shop account for this id, or no creator code named by creator_code"


def code_view(creator: CreatorCode) -> dict[str, Any]:
    return {"code": creator.code, "id": creator.id, "owner": creator.owner}


def use_view(use: CreatorUse) -> dict[str, Any]:
    return {
        "amount_to_creator": use.amount_to_creator,
        "cost": use.cost,
        "customer": use.customer,
        "item_bought": use.item_bought,
        "timestamp": use.timestamp,
    }


def by_code(code: str) -> CreatorCode:
    creator_id = store.code_id(code)
    found = store.get(creator_id) if creator_id else None
    if found is None:
        raise NotFound(ErrorCode.CREATOR_CODE_NOT_FOUND, f"No creator code {code!r}")
    return found


def list_creator_codes(limit: int | None, cursor: str | None, uses_limit: int | None) -> Any:
    """The seed's shape; with `uses_limit`, each code also says whether it has more uses than listed
    (`hasMoreUses`), as a page says it has more with its `nextCursor`."""
    codes, next_cursor = store.page(limit, cursor)
    listed = []
    for c in codes:
        found, more = store.uses_page(c.id, uses_limit)
        entry = {**code_view(c), "uses": [use_view(u) for u in found]}
        if uses_limit is not None:
            entry["hasMoreUses"] = more
        listed.append(entry)
    if limit is None and cursor is None:
        return listed
    return {"creatorCodes": listed, "nextCursor": next_cursor}


def supporting(caller: Caller, account_id: str, code: str) -> dict[str, Any]:
    """Whether an account supports a creator code. The admin may ask about any account and gets the shop
    document's answers (404 USER_NOT_FOUND, then 404 CREATOR_CODE_NOT_FOUND); a user key may ask about its
    own account only (403 otherwise, like users/info) and cannot tell an unknown account from an unknown code."""
    if caller.admin:
        profile = accounts.require(accounts.resolve(account_id, must_exist=False))
        creator_id = store.code_id(code)
        if creator_id is None:
            raise NotFound(ErrorCode.CREATOR_CODE_NOT_FOUND, f"No creator code {code!r}")
        return {"supporting": profile.creator_code == creator_id}
    discord_id = accounts.account_for(caller, account_id)
    own = profiles.get(discord_id)
    creator_id = store.code_id(code)
    if own is None or creator_id is None:
        raise NotFound(ErrorCode.CREATOR_CODE_NOT_FOUND, NOTHING_TO_CHECK)
    return {"supporting": own.creator_code == creator_id}


def create_creator_code(code: str, owner: str) -> dict[str, Any]:
    try:
        created = store.create(code, owner)
    except GuardFailed as refused:
        if Guard.NEW_NAME in refused:
            raise Conflict(ErrorCode.DUPLICATE_CODE, f"{code!r} is already taken") from refused
        raise
    return {"created": True, "creatorCode": code_view(created)}


def update_creator_code(original_code: str, new_code: str | None, new_owner: str | None) -> dict[str, Any]:
    current = by_code(original_code)
    try:
        updated = store.update(current, new_code, new_owner)
    except GuardFailed as refused:
        if Guard.ENTITY in refused:
            raise NotFound(ErrorCode.CREATOR_CODE_NOT_FOUND, f"No creator code {original_code!r}") from refused
        raise Conflict(ErrorCode.DUPLICATE_CODE, f"A creator code {new_code!r} already exists") from refused
    return {"edited": True, "creatorCode": code_view(updated)}


def delete_creator_code(code: str) -> dict[str, Any]:
    """Members who supported it simply stop paying anyone (their pointer leads nowhere)."""
    current = by_code(code)
    try:
        store.delete(current)
    except GuardFailed as refused:
        raise NotFound(ErrorCode.CREATOR_CODE_NOT_FOUND, f"No creator code {code!r}") from refused
    return {"deleted": True}


def set_creator_code(discord_id: str, code: str) -> dict[str, Any]:
    """Support a creator ("0" stops supporting). Nobody can support their own code."""
    if names.same(code, REMOVE_CODE):
        try:
            store.stop_supporting(discord_id)
        except GuardFailed as refused:
            raise accounts.no_account(discord_id) from refused
        return {"processed": True}
    creator = by_code(code)
    if creator.owner == discord_id:
        raise Conflict(ErrorCode.SELF_SUPPORT, "You cannot support your own creator code")
    try:
        store.support(discord_id, creator)
    except GuardFailed as refused:
        if Guard.PROFILE in refused:
            raise accounts.no_account(discord_id) from refused
        raise Conflict(ErrorCode.CONFLICT, "The creator code changed concurrently; retry") from refused
    return {"processed": True}
