"""Coupons: unique codes (store.named, case-insensitive), redeemed once per member, uses counted across
members; a redemption is one transaction with what it grants."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from ..clock import now_ms
from ..shop import MAX_CREDITS
from . import keys, ledger, named, ownership, tx
from .conditions import Attr
from .guards import Guard
from .profiles import CAP_CONDITION
from .table import table


@dataclass(frozen=True, slots=True)
class Coupon:
    id: str
    code: str
    active: bool = True
    uses: int | None = None  # redemptions allowed in all; None: unlimited
    used: int = 0
    expires: int | None = None  # unix seconds; None: never
    day_limit: int | None = None  # only members who joined the server this many days ago or less
    credit_grant: int | None = None
    cosmetic_grant: str | None = None  # a cosmetic id

    # entity field -> stored attribute, for the fields an edit may change (`used` only counts up)
    ATTRIBUTES: ClassVar[dict[str, str]] = {
        "code": "code",
        "active": "active",
        "uses": "uses",
        "expires": "expires",
        "day_limit": "dayLimit",
        "credit_grant": "creditGrant",
        "cosmetic_grant": "cosmeticGrant",
    }

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Coupon:
        return cls(
            id=item["id"],
            code=item["code"],
            active=bool(item.get("active", True)),
            uses=item.get("uses"),
            used=int(item.get("used", 0)),
            expires=item.get("expires"),
            day_limit=item.get("dayLimit"),
            credit_grant=item.get("creditGrant"),
            cosmetic_grant=item.get("cosmeticGrant"),
        )

    def to_item(self) -> dict[str, Any]:
        """The stored attributes (unset limits and grants are left out)."""
        fields = {self.ATTRIBUTES[f]: getattr(self, f) for f in self.ATTRIBUTES}
        return {"id": self.id, **{k: v for k, v in fields.items() if v is not None}, "used": self.used}


def get(coupon_id: str) -> Coupon | None:
    item = named.get(keys.COUPON, coupon_id)
    return Coupon.from_item(item) if item else None


def code_id(code: str) -> str | None:
    return named.id_by_name(keys.COUPON, code)


def _grant_exists(cosmetic_id: str | None) -> list[tx.Guarded]:
    if not cosmetic_id:
        return []
    check = tx.check(keys.entity(keys.COSMETIC, cosmetic_id), "attribute_exists(PK) AND attribute_not_exists(deleting)")
    return [(Guard.GRANT, check)]


def create(draft: Coupon) -> Coupon:
    """Store `draft` under a fresh id. NEW_NAME: the code is taken; GRANT: its cosmetic does not exist."""
    attributes = draft.to_item()
    del attributes["id"]
    return Coupon.from_item(named.create(keys.COUPON, draft.code, attributes, _grant_exists(draft.cosmetic_grant)))


def edit(current: Coupon, changes: Mapping[str, Any]) -> Coupon:
    """Change fields (entity field -> value; None removes a limit or a grant), the code included;
    redemptions stay attached to the coupon's id. ENTITY: it is gone, the stored grant this edit leaves
    as the coupon's only one was removed meanwhile (a coupon always grants something), or a new `uses` is
    below the redemptions counted (`used`, which redemptions raise meanwhile); NAME, NEW_NAME: see
    store.named; GRANT: a new cosmetic_grant does not exist."""
    sets = {Coupon.ATTRIBUTES[k]: v for k, v in changes.items() if v is not None}
    removes = [Coupon.ATTRIBUTES[k] for k, v in changes.items() if v is None and k != "code"]
    names = {f"#a{i}": a for i, a in enumerate([*sets, *removes])}
    values: dict[str, Any] = {f":v{i}": v for i, v in enumerate(sets.values())}
    clauses = ["SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(sets)))] if sets else []
    if removes:
        clauses.append("REMOVE " + ", ".join(f"#a{len(sets) + i}" for i in range(len(removes))))
    condition = "attribute_exists(PK)"
    # the grant the coupon keeps, when this edit does not give it, must still be stored as it was read
    credits_left = changes.get("credit_grant", current.credit_grant)
    cosmetic_left = changes.get("cosmetic_grant", current.cosmetic_grant)
    if not credits_left and "cosmetic_grant" not in changes:
        condition += " AND attribute_exists(#kept)"
        names["#kept"] = Coupon.ATTRIBUTES["cosmetic_grant"]
    elif not cosmetic_left and "credit_grant" not in changes:
        condition += " AND #kept > :none"
        names["#kept"] = Coupon.ATTRIBUTES["credit_grant"]
        values[":none"] = 0
    if changes.get("uses") is not None:  # never fewer uses than the redemptions counted by the time of the write
        condition += " AND used <= :uses"
        values[":uses"] = changes["uses"]
    items: list[tx.Guarded] = [
        (
            Guard.ENTITY,
            tx.update(
                keys.entity(keys.COUPON, current.id),
                " ".join(clauses),
                condition,
                names=names,
                values=values or None,
            ),
        )
    ]
    if changes.get("code"):
        items += named.rename_items(keys.COUPON, current.id, current.code, changes["code"])
    items += _grant_exists(changes.get("cosmetic_grant"))
    tx.write_guarded(items)
    return replace(current, **changes)


def delete(current: Coupon) -> None:
    """ENTITY / NAME: deleted or renamed meanwhile."""
    named.delete(keys.COUPON, current.id, current.code)


def page(limit: int | None, token: str | None) -> tuple[list[Coupon], str | None]:
    found, next_cursor = named.page(keys.COUPON, limit, token)
    return [Coupon.from_item(i) for i in found], next_cursor


def redeem(
    coupon: Coupon,
    discord_id: str,
    *,
    now_s: int,
    credits: int,
    cosmetic_id: str | None,
    days_in_server: int | None,
) -> None:
    """One transaction: the coupon counts one more use if still open at `now_s` (COUPON_OPEN: active,
    unexpired, uses left, its grants still the ones read; a day_limit, if any, at least `days_in_server`;
    None: the coupon must have no day_limit), the member's first redemption (UNREDEEMED), `credits` to the
    existing profile (PROFILE: it is gone, or the credits would take its balance above shop.MAX_CREDITS),
    the ledger entry, and the granted cosmetic (UNOWNED; COSMETIC: it no longer exists)."""
    guard = [
        "active = :true",
        "(attribute_not_exists(expires) OR expires > :now)",
        "(attribute_not_exists(uses) OR used < uses)",
    ]
    values: dict[str, Any] = {":true": True, ":now": now_s, ":one": 1}
    # the grants paid are the ones read: an edit of them in between makes the caller read and decide again
    for attribute, granted, name in (
        ("creditGrant", coupon.credit_grant, ":cg"),
        ("cosmeticGrant", coupon.cosmetic_grant, ":kg"),
    ):
        if granted is None:
            guard.append(f"attribute_not_exists({attribute})")
        else:
            guard.append(f"{attribute} = {name}")
            values[name] = granted
    if days_in_server is None:
        guard.append("attribute_not_exists(dayLimit)")
    else:  # a day_limit set or lowered meanwhile is honoured by the same write
        guard.append("(attribute_not_exists(dayLimit) OR dayLimit >= :days)")
        values[":days"] = days_in_server
    items: list[tx.Guarded] = [
        (
            Guard.COUPON_OPEN,
            tx.update(
                keys.entity(keys.COUPON, coupon.id), "SET used = used + :one", " AND ".join(guard), values=values
            ),
        ),
        (
            Guard.UNREDEEMED,
            tx.put(
                {**keys.redemption(coupon.id, discord_id), "discordId": discord_id, "at": now_ms()},
                "attribute_not_exists(PK)",
            ),
        ),
        (
            Guard.PROFILE,
            tx.update(
                keys.profile(discord_id),
                "SET credits = credits + :c",
                f"attribute_exists(PK) AND {CAP_CONDITION}",
                values={":c": credits, ":room": MAX_CREDITS - credits},
            ),
        ),
        (
            None,
            tx.put(
                ledger.to_item(
                    discord_id, "redeem", couponCode=coupon.code, amount=credits or None, cosmeticId=cosmetic_id
                )
            ),
        ),
    ]
    if cosmetic_id:
        items += ownership.grant_items(discord_id, cosmetic_id, "coupon")
    tx.write_guarded(items)


def deactivate_expired(now_s: int) -> int:
    """Set active=false on coupons past their expiry (status only; their history stays). Returns how many."""
    changed = 0
    for item in named.listing(keys.COUPON, Attr("active").eq(True) & Attr("expires").lte(now_s)):
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
