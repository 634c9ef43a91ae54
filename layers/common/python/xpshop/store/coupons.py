"""Coupons: unique codes (case-insensitive), redemption once per user, uses counted across users."""

from __future__ import annotations

from typing import Any

from ..clock import now_ms, now_s
from ..errors import Conflict, ErrorCode, NotFound
from ..shop import CouponState, coupon_refusal, days_in_server
from . import catalog, keys, pages, tx
from .profiles import ledger_entry
from .table import table

# request field -> stored attribute
FIELDS = {
    "code": "code",
    "active": "active",
    "uses": "uses",
    "expires": "expires",
    "day_limit": "dayLimit",
    "credit_grant": "creditGrant",
    "cosmetic_grant": "cosmeticGrant",
}


def view(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "code": item["code"],
        "id": item["id"],
        "active": bool(item.get("active", True)),
        "uses": item.get("uses"),
        "used": int(item.get("used", 0)),
        "expires": item.get("expires"),
        "day_limit": item.get("dayLimit"),
        "credit_grant": item.get("creditGrant"),
        "cosmetic_grant": item.get("cosmeticGrant"),
    }


def _state(item: dict[str, Any]) -> CouponState:
    return CouponState(
        active=bool(item.get("active", True)),
        uses=item.get("uses"),
        used=int(item.get("used", 0)),
        expires=item.get("expires"),
        day_limit=item.get("dayLimit"),
    )


def by_code(code: str) -> dict[str, Any]:
    coupon_id = catalog.id_by_name(keys.COUPON, code)
    item = catalog._get(keys.COUPON, coupon_id) if coupon_id else None
    if item is None:
        raise NotFound(ErrorCode.COUPON_NOT_FOUND, f"No coupon {code!r}")
    return item


def _grant_exists(cosmetic_id: str | None) -> list[dict[str, Any]]:
    if not cosmetic_id:
        return []
    return [
        tx.check(keys.entity(keys.COSMETIC, cosmetic_id), "attribute_exists(PK) AND attribute_not_exists(deleting)")
    ]


def create(fields: dict[str, Any]) -> dict[str, Any]:
    attributes = {FIELDS[k]: v for k, v in fields.items() if v is not None}
    attributes.setdefault("active", True)
    attributes["used"] = 0

    def explain(exc: tx.Cancelled) -> None:
        if exc.failed(2):
            raise NotFound(ErrorCode.COSMETIC_NOT_FOUND, f"No cosmetic with id {fields['cosmetic_grant']}") from exc

    item = catalog.create_named(
        keys.COUPON,
        fields["code"],
        attributes,
        extra=lambda _id: _grant_exists(fields.get("cosmetic_grant")),
        explain=explain,
    )
    return view(item)


def edit(original_code: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Change any field, the code included; redemptions stay attached to the coupon's id."""
    current = by_code(original_code)
    coupon_id = current["id"]
    merged = {**current, **{FIELDS[k]: v for k, v in changes.items()}}
    if not merged.get("creditGrant") and not merged.get("cosmeticGrant"):
        raise Conflict(ErrorCode.CONFLICT, "A coupon must keep a credit_grant or a cosmetic_grant")
    sets = {FIELDS[k]: v for k, v in changes.items() if v is not None}
    removes = [FIELDS[k] for k, v in changes.items() if v is None and k != "code"]
    names = {f"#a{i}": a for i, a in enumerate([*sets, *removes])}
    values: dict[str, Any] = {f":v{i}": v for i, v in enumerate(sets.values())}
    clauses = ["SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(sets)))] if sets else []
    if removes:
        clauses.append("REMOVE " + ", ".join(f"#a{len(sets) + i}" for i in range(len(removes))))
    items = [
        tx.update(
            keys.entity(keys.COUPON, coupon_id),
            " ".join(clauses),
            "attribute_exists(PK)",
            names=names,
            values=values or None,
        )
    ]
    if changes.get("code"):
        items += catalog.rename_items(keys.COUPON, coupon_id, current["code"], changes["code"])
    items += _grant_exists(changes.get("cosmetic_grant"))
    try:
        tx.write(items)
    except tx.Cancelled as exc:
        if changes.get("cosmetic_grant") and exc.failed(len(items) - 1):
            raise NotFound(ErrorCode.COSMETIC_NOT_FOUND, f"No cosmetic with id {changes['cosmetic_grant']}") from exc
        if exc.failed(0):
            raise NotFound(ErrorCode.COUPON_NOT_FOUND, f"No coupon {original_code!r}") from exc
        raise Conflict(ErrorCode.DUPLICATE_CODE, f"A coupon {changes.get('code')!r} already exists") from exc
    return view({k: v for k, v in merged.items() if v is not None})


def delete(code: str) -> None:
    current = by_code(code)
    try:
        tx.write(
            [
                tx.delete(keys.entity(keys.COUPON, current["id"]), "attribute_exists(PK)"),
                tx.delete(keys.name(keys.COUPON, current["code"]), "id = :id", values={":id": current["id"]}),
            ]
        )
    except tx.Cancelled as exc:
        raise NotFound(ErrorCode.COUPON_NOT_FOUND, f"No coupon {code!r}") from exc


def page(limit: int | None, token: str | None) -> tuple[list[dict[str, Any]], str | None]:
    belongs = keys.gsi1_cursor_check(keys.listing(keys.COUPON), f"{keys.COUPON}#")
    found, next_cursor = pages.gsi1_page(keys.listing(keys.COUPON), limit, token, belongs)
    return [view(i) for i in found], next_cursor


def redeem(discord_id: str, code: str, through_api: bool = True, joined_at_s: int | None = None) -> dict[str, Any]:
    """Redeem once per user while active, unexpired and with uses left: one transaction with the grants.
    Through Discord, `joined_at_s` (when the member joined the server) is checked against the day_limit."""
    coupon = by_code(code)
    now = now_s()
    refusal = coupon_refusal(_state(coupon), now, through_api, joined_at_s)
    if refusal:
        raise Conflict(*refusal)
    cosmetic = catalog.get_cosmetic(coupon["cosmeticGrant"]) if coupon.get("cosmeticGrant") else None
    credits = int(coupon.get("creditGrant") or 0)
    guard = [
        "active = :true",
        "(attribute_not_exists(expires) OR expires > :now)",
        "(attribute_not_exists(uses) OR used < uses)",
    ]
    values: dict[str, Any] = {":true": True, ":now": now, ":one": 1}
    if through_api or joined_at_s is None:
        guard.append("attribute_not_exists(dayLimit)")
    else:  # a day_limit set or lowered meanwhile is honoured by the same write
        guard.append("(attribute_not_exists(dayLimit) OR dayLimit >= :days)")
        values[":days"] = days_in_server(joined_at_s, now)
    items = [
        tx.update(
            keys.entity(keys.COUPON, coupon["id"]),
            "SET used = used + :one",
            " AND ".join(guard),
            values=values,
        ),
        tx.put(
            {**keys.redemption(coupon["id"], discord_id), "discordId": discord_id, "at": now_ms()},
            "attribute_not_exists(PK)",
        ),
        tx.update(
            keys.profile(discord_id), "SET credits = credits + :c", "attribute_exists(PK)", values={":c": credits}
        ),
        tx.put(
            ledger_entry(
                discord_id,
                "redeem",
                couponCode=coupon["code"],
                amount=credits or None,
                cosmeticId=cosmetic["id"] if cosmetic else None,
            )
        ),
    ]
    if cosmetic:
        items += [
            tx.put(
                {
                    **keys.owned(discord_id, cosmetic["id"]),
                    **keys.owners_index(cosmetic["id"], discord_id),
                    "cosmeticId": cosmetic["id"],
                    "source": "coupon",
                    "at": now_ms(),
                },
                "attribute_not_exists(PK)",
            ),
            tx.update(  # one more owner of the cosmetic (see purchases._count_owner)
                keys.entity(keys.COSMETIC, cosmetic["id"]),
                "ADD ownerCount :one",
                "attribute_exists(PK) AND attribute_not_exists(deleting)",
                values={":one": 1},
            ),
        ]
    try:
        tx.write(items)
    except tx.Cancelled as exc:
        if exc.failed(1):
            raise Conflict(ErrorCode.COUPON_ALREADY_REDEEMED, f"{discord_id} already redeemed {code!r}") from exc
        if exc.failed(0):
            latest = by_code(code)
            again = coupon_refusal(_state(latest), now_s(), through_api, joined_at_s)
            raise Conflict(*(again or (ErrorCode.COUPON_EXHAUSTED, "This coupon has no uses left"))) from exc
        if exc.failed(2):
            raise NotFound(ErrorCode.USER_NOT_FOUND, f"No shop account for {discord_id}") from exc
        if cosmetic and exc.failed(4):
            raise Conflict(ErrorCode.ALREADY_OWNED, f"{discord_id} already owns {cosmetic['name']!r}") from exc
        raise NotFound(ErrorCode.COSMETIC_NOT_FOUND, "The coupon's cosmetic no longer exists") from exc
    return {"redeemed": True, "rewards": {"credits": credits, "cosmetic": cosmetic["name"] if cosmetic else None}}


def deactivate_expired(now_s: int) -> int:
    """Set active=false on coupons past their expiry (status only; their history stays). Returns how many."""
    from boto3.dynamodb.conditions import Attr

    changed = 0
    for item in catalog.listing(keys.COUPON, Attr("active").eq(True) & Attr("expires").lte(now_s)):
        try:
            table().update_item(
                Key=keys.entity(keys.COUPON, item["id"]),
                UpdateExpression="SET active = :f",
                ConditionExpression="active = :t AND expires <= :now",
                ExpressionAttributeValues={":f": False, ":t": True, ":now": now_s},
            )
            changed += 1
        except table().meta.client.exceptions.ConditionalCheckFailedException:
            continue
    return changed
