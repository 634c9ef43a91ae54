"""Creator codes: unique codes, an owner who earns a share of the purchases of the members supporting it."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Key

from .. import names
from ..errors import Conflict, ErrorCode, NotFound
from . import catalog, keys, pages, tx
from .table import table

REMOVE_CODE = "0"


def by_code(code: str) -> dict[str, Any]:
    creator_id = catalog.id_by_name(keys.CREATOR, code)
    item = catalog._get(keys.CREATOR, creator_id) if creator_id else None
    if item is None:
        raise NotFound(ErrorCode.CREATOR_CODE_NOT_FOUND, f"No creator code {code!r}")
    return item


def create(code: str, owner: str) -> dict[str, Any]:
    item = catalog.create_named(keys.CREATOR, code, {"code": code, "owner": owner})
    return {"code": item["code"], "id": item["id"], "owner": item["owner"]}


def update(original_code: str, new_code: str | None, new_owner: str | None) -> dict[str, Any]:
    current = by_code(original_code)
    sets = {k: v for k, v in (("code", new_code), ("owner", new_owner)) if v is not None}
    names = {f"#a{i}": k for i, k in enumerate(sets)}
    values = {f":v{i}": v for i, v in enumerate(sets.values())}
    items = [
        tx.update(
            keys.entity(keys.CREATOR, current["id"]),
            "SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(sets))),
            "attribute_exists(PK)",
            names=names,
            values=values,
        )
    ]
    if new_code:
        items += catalog.rename_items(keys.CREATOR, current["id"], current["code"], new_code)
    try:
        tx.write(items)
    except tx.Cancelled as exc:
        if exc.failed(0):
            raise NotFound(ErrorCode.CREATOR_CODE_NOT_FOUND, f"No creator code {original_code!r}") from exc
        raise Conflict(ErrorCode.DUPLICATE_CODE, f"A creator code {new_code!r} already exists") from exc
    return {**current, **sets}


def delete(code: str) -> None:
    """Delete the code; members who supported it simply stop paying anyone (their pointer leads nowhere)."""
    current = by_code(code)
    try:
        tx.write(
            [
                tx.delete(keys.entity(keys.CREATOR, current["id"]), "attribute_exists(PK)"),
                tx.delete(keys.name(keys.CREATOR, current["code"]), "id = :id", values={":id": current["id"]}),
            ]
        )
    except tx.Cancelled as exc:
        raise NotFound(ErrorCode.CREATOR_CODE_NOT_FOUND, f"No creator code {code!r}") from exc


def set_for(discord_id: str, code: str) -> None:
    """Support a creator ("0" stops supporting). Nobody can support their own code."""
    if names.same(code, REMOVE_CODE):
        try:
            table().update_item(
                Key=keys.profile(discord_id),
                UpdateExpression="REMOVE creatorCode",
                ConditionExpression="attribute_exists(PK)",
            )
        except table().meta.client.exceptions.ConditionalCheckFailedException as exc:
            raise NotFound(ErrorCode.USER_NOT_FOUND, f"No shop account for {discord_id}") from exc
        return
    creator = by_code(code)
    if creator["owner"] == discord_id:
        raise Conflict(ErrorCode.SELF_SUPPORT, "You cannot support your own creator code")
    try:
        tx.write(
            [
                tx.update(
                    keys.profile(discord_id),
                    "SET creatorCode = :id",
                    "attribute_exists(PK)",
                    values={":id": creator["id"]},
                ),
                tx.check(
                    keys.entity(keys.CREATOR, creator["id"]),
                    "#o = :owner",
                    names={"#o": "owner"},
                    values={":owner": creator["owner"]},
                ),
            ]
        )
    except tx.Cancelled as exc:
        if exc.failed(0):
            raise NotFound(ErrorCode.USER_NOT_FOUND, f"No shop account for {discord_id}") from exc
        raise Conflict(ErrorCode.CONFLICT, "The creator code changed concurrently; retry") from exc


def code_id(code: str) -> str | None:
    """The id of the creator code named `code` (names are unique case-insensitively), or None."""
    return catalog.id_by_name(keys.CREATOR, code)


def supporting(profile: dict[str, Any], code: str) -> bool:
    creator_id = code_id(code)
    if creator_id is None:
        raise NotFound(ErrorCode.CREATOR_CODE_NOT_FOUND, f"No creator code {code!r}")
    return profile.get("creatorCode") == creator_id


def uses(creator_id: str, limit: int | None = None) -> list[dict[str, Any]]:
    kwargs: dict[str, Any] = {
        "KeyConditionExpression": Key("PK").eq(keys.creator_pk(creator_id)) & Key("SK").begins_with(keys.USE_PREFIX)
    }
    found, _ = pages.query_page(kwargs, limit, None, {"PK", "SK"}, lambda _key: True)
    return [
        {
            "amount_to_creator": i["amount_to_creator"],
            "cost": i["cost"],
            "customer": str(i["customer"]),
            "item_bought": i["item_bought"],
            "timestamp": i["timestamp"],
        }
        for i in found
    ]


def page(limit: int | None, token: str | None, uses_limit: int | None) -> tuple[list[dict[str, Any]], str | None]:
    belongs = keys.gsi1_cursor_check(keys.listing(keys.CREATOR), f"{keys.CREATOR}#")
    codes, next_cursor = pages.gsi1_page(keys.listing(keys.CREATOR), limit, token, belongs)
    listed = [
        {"code": c["code"], "id": c["id"], "owner": str(c["owner"]), "uses": uses(c["id"], uses_limit)} for c in codes
    ]
    return listed, next_cursor
