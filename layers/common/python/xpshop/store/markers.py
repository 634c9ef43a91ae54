"""Markers that make a Discord side effect happen once: each claim is one conditional PutItem, so a
redelivered event or a repeated command is a no-op. (The level-credits mark is store.credits'.)"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ..clock import now_ms, now_s
from . import keys
from .table import delete_prefix, is_condition_failure, table

ONCE_TTL_SECONDS = 90 * 86_400  # Give XP refuses a message older than that (its mark could have expired)
EFFECT_TTL_SECONDS = 30 * 86_400


def _claim(key: dict[str, str], ttl_seconds: int, **fields: Any) -> bool:
    try:
        table().put_item(
            Item={**key, "at": now_ms(), "ttl": now_s() + ttl_seconds, **fields},
            ConditionExpression="attribute_not_exists(PK)",
        )
    except ClientError as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


def claim_once(guild_id: str, kind: str, ref: str, *, ttl_seconds: int = ONCE_TTL_SECONDS, **fields: Any) -> bool:
    """True for the first claim of (guild, kind, ref); False for every later one (within the TTL)."""
    return _claim(keys.once(guild_id, kind, ref), ttl_seconds, **fields)


def release_once(guild_id: str, kind: str, ref: str) -> None:
    """Undo a claim whose guarded work failed, so a retry can do it."""
    table().delete_item(Key=keys.once(guild_id, kind, ref))


def get_once(guild_id: str, kind: str, ref: str) -> dict[str, Any] | None:
    item = table().get_item(Key=keys.once(guild_id, kind, ref), ConsistentRead=True).get("Item")
    return dict(item) if item else None


def keep_result(guild_id: str, kind: str, ref: str, payload: str) -> None:
    """Attach the outcome to a claim, so a repeat answers with it instead of running again."""
    table().update_item(
        Key=keys.once(guild_id, kind, ref),
        UpdateExpression="SET payload = :p",
        ExpressionAttributeValues={":p": payload},
    )


def claim_level_effect(guild_id: str, user_id: str, level: int) -> bool:
    """True the first time (guild, user, level) is announced within EFFECT_TTL_SECONDS."""
    return _claim(keys.level_effect(guild_id, user_id, level), EFFECT_TTL_SECONDS)


def release_level_effect(guild_id: str, user_id: str, level: int) -> None:
    table().delete_item(Key=keys.level_effect(guild_id, user_id, level))


def forget_level_effects(guild_id: str, user_id: str) -> int:
    """Delete a member's level-up announcement marks in a guild (they name the member); returns how many."""
    return delete_prefix(keys.guild_pk(guild_id), keys.level_effect_prefix(user_id))
