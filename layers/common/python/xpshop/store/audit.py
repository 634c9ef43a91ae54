"""XP audit trail: who changed a member's XP, by how much, and why. Expires by TTL."""

from __future__ import annotations

import os
import uuid
from typing import Any

from ..clock import now_ms as clock_ms
from . import keys
from .conditions import Key
from .members import Change
from .table import delete_prefix, plain, table

DEFAULT_RETENTION_DAYS = 90


def record(guild_id: str, user_id: str, change: Change, reason: str | None, source: str) -> None:
    now_ms = clock_ms()
    days = int(os.environ.get("AUDIT_RETENTION_DAYS", DEFAULT_RETENTION_DAYS))
    item: dict[str, Any] = {
        **keys.audit(guild_id, user_id, now_ms, uuid.uuid4().hex[:12]),
        "guildId": guild_id,
        "userId": user_id,
        "delta": change.new_xp - change.old_xp,
        "oldXp": change.old_xp,
        "newXp": change.new_xp,
        "oldLevel": change.old_level,
        "newLevel": change.new_level,
        "source": source,
        "at": now_ms,
        "ttl": now_ms // 1000 + days * 86_400,
    }
    if reason:
        item["reason"] = reason
    table().put_item(Item=item)


def history(guild_id: str, user_id: str) -> list[dict[str, Any]]:
    """Every audit record of a member in a guild (those not yet expired), oldest first: one Query a 1 MB page."""
    kwargs: dict[str, Any] = {
        "KeyConditionExpression": Key("PK").eq(keys.guild_pk(guild_id))
        & Key("SK").begins_with(keys.audit_prefix(user_id)),
    }
    found: list[dict[str, Any]] = []
    while True:
        resp = table().query(**kwargs)
        found += [keys.strip(plain(i)) for i in resp.get("Items", [])]
        if not resp.get("LastEvaluatedKey"):
            return found
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def recent(guild_id: str, user_id: str, limit: int = 20) -> list[dict[str, Any]]:
    resp = table().query(
        KeyConditionExpression=Key("PK").eq(keys.guild_pk(guild_id))
        & Key("SK").begins_with(keys.audit_prefix(user_id)),
        ScanIndexForward=False,
        Limit=limit,
    )
    return [keys.strip(plain(i)) for i in resp.get("Items", [])]


def forget(guild_id: str, user_id: str) -> int:
    """Delete every audit record of a member in a guild; returns how many there were."""
    return delete_prefix(keys.guild_pk(guild_id), keys.audit_prefix(user_id))
