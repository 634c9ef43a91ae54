"""API keys v2: one item per key under its id, listed through GSI1. The secret itself is never stored,
only its SHA-256 (see xpshop.service.access_keys for why a fast hash is right here)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from . import keys, pages, tx
from .conditions import Attr
from .guards import Guard, guarding
from .table import plain, table

REVOKED_KEPT_DAYS = 30  # a revoked key's record stays listed this long, then TTL removes it


@dataclass(frozen=True, slots=True)
class AccessKey:
    key_id: str
    name: str
    digest: str  # hex SHA-256 of the secret
    scopes: tuple[str, ...]
    guild_ids: tuple[str, ...]
    rate_limit: int | None  # requests per minute; None: the deployment's default
    created_at: int  # ms
    created_by: str | None = None
    expires_at: int | None = None  # ms
    revoked_at: int | None = None  # ms
    last_used_at: int | None = None  # ms, refreshed at most every LAST_USED_PRECISION (service)
    quota: str | None = None  # the maker whose active keys it counts in (`<guild>:<user>`); None: not counted

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> AccessKey:
        item = plain(item)
        return cls(
            key_id=str(item["keyId"]),
            name=str(item["name"]),
            digest=str(item["digest"]),
            scopes=tuple(item.get("scopes") or ()),
            guild_ids=tuple(item.get("guildIds") or ()),
            rate_limit=item.get("rateLimitPerMinute"),
            created_at=int(item["createdAt"]),
            created_by=item.get("createdBy"),
            expires_at=item.get("expiresAt"),
            revoked_at=item.get("revokedAt"),
            last_used_at=item.get("lastUsedAt"),
            quota=item.get("quota"),
        )

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            **keys.access_key(self.key_id),
            **keys.access_key_index(self.key_id),
            "keyId": self.key_id,
            "name": self.name,
            "digest": self.digest,
            # lists, not sets: an empty guild list is a real value ("no guild")
            "scopes": list(self.scopes),
            "guildIds": list(self.guild_ids),
            "createdAt": self.created_at,
        }
        for name, value in (
            ("rateLimitPerMinute", self.rate_limit),
            ("createdBy", self.created_by),
            ("expiresAt", self.expires_at),
            ("revokedAt", self.revoked_at),
            ("lastUsedAt", self.last_used_at),
            ("quota", self.quota),
        ):
            if value is not None:
                item[name] = value
        return item


def put_new(key: AccessKey, limit: int | None = None) -> None:
    """Store a new key; its id is freshly drawn, so a clash (GuardFailed NEW_ID) means draw again. A key
    counted in a quota (`key.quota`) is written with its maker's count of active keys in one transaction
    guarded by the count (GuardFailed KEY_QUOTA: the maker holds `limit` active keys already)."""
    if key.quota is None:
        with guarding(Guard.NEW_ID):
            table().put_item(Item=key.to_item(), ConditionExpression="attribute_not_exists(PK)")
        return
    if limit is None:
        raise ValueError("a key counted in a quota needs its limit")
    tx.write_guarded(
        [
            (Guard.NEW_ID, tx.put(key.to_item(), "attribute_not_exists(PK)")),
            (
                Guard.KEY_QUOTA,
                tx.update(
                    keys.access_key_quota(key.quota),
                    "SET active = if_not_exists(active, :zero) + :one",
                    "attribute_not_exists(active) OR active < :limit",
                    values={":zero": 0, ":one": 1, ":limit": limit},
                ),
            ),
        ]
    )


def get(key_id: str) -> AccessKey | None:
    """One consistent GetItem (a key created a moment ago through another function is found)."""
    item = table().get_item(Key=keys.access_key(key_id), ConsistentRead=True).get("Item")
    return AccessKey.from_item(item) if item else None


def list_all() -> list[AccessKey]:
    """Every key, revoked ones included until their record expires (a Query on GSI1, never a Scan)."""
    return sorted((AccessKey.from_item(i) for i in pages.gsi1_all(keys.ACCESS_KEYS_GSI1PK)), key=lambda k: k.created_at)


def revoke(key_id: str, now: int) -> AccessKey:
    """Mark a key revoked (GuardFailed ENTITY: no such key, or revoked already). The record is kept,
    listed with its revokedAt, for REVOKED_KEPT_DAYS. A key counted in a quota frees its place in the same
    transaction (guarded by the key not being revoked yet, so a place is freed once)."""
    expression = "SET revokedAt = :now, #ttl = :ttl"
    values = {":now": now, ":ttl": now // 1000 + REVOKED_KEPT_DAYS * 86400}
    current = get(key_id)  # which quota it counts in, if any (a key's quota never changes)
    if current is None or current.quota is None:
        with guarding(Guard.ENTITY):
            resp = table().update_item(
                Key=keys.access_key(key_id),
                UpdateExpression=expression,
                ConditionExpression=Attr("PK").exists() & Attr("revokedAt").not_exists(),
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        return AccessKey.from_item(resp["Attributes"])
    tx.write_guarded(
        [
            (
                Guard.ENTITY,
                tx.update(
                    keys.access_key(key_id),
                    expression,
                    "attribute_exists(PK) AND attribute_not_exists(revokedAt)",
                    names={"#ttl": "ttl"},
                    values=values,
                ),
            ),
            (
                None,
                tx.update(
                    keys.access_key_quota(current.quota),
                    "SET active = if_not_exists(active, :one) - :one",
                    values={":one": 1},
                ),
            ),
        ]
    )
    return replace(current, revoked_at=now)


def touch(key_id: str, now: int) -> None:
    """Record a use (lastUsedAt). Not when the key is gone: a use never recreates a key."""
    with guarding(Guard.ENTITY):
        table().update_item(
            Key=keys.access_key(key_id),
            UpdateExpression="SET lastUsedAt = :now",
            ConditionExpression=Attr("PK").exists(),
            ExpressionAttributeValues={":now": now},
        )
