"""Markers that make a Discord side effect happen once: each claim is one conditional PutItem (or one
transaction with the change it guards), so a redelivered event or a repeated command is a no-op."""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import ClientError

from . import keys, tx
from .profiles import ledger_entry, now_ms
from .table import is_condition_failure, table

ONCE_TTL_SECONDS = 90 * 86_400  # a Give XP on a message older than that may count again: it is long gone
EFFECT_TTL_SECONDS = 30 * 86_400


def _claim(key: dict[str, str], ttl_seconds: int, **fields: Any) -> bool:
    try:
        table().put_item(
            Item={**key, "at": now_ms(), "ttl": int(time.time()) + ttl_seconds, **fields},
            ConditionExpression="attribute_not_exists(PK)",
        )
    except ClientError as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


def claim_once(guild_id: str, kind: str, ref: str, **fields: Any) -> bool:
    """True for the first claim of (guild, kind, ref); False for every later one."""
    return _claim(keys.once(guild_id, kind, ref), ONCE_TTL_SECONDS, **fields)


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


def pay_level_credits(discord_id: str, guild_id: str, level: int, amount: int) -> bool:
    """Pay `amount` credits for reaching `level` in a guild, at most once ever (a level lost and regained
    pays nothing more). One transaction: the paid marker, the balance and its ledger entry."""
    try:
        tx.write(
            [
                tx.put(
                    {**keys.level_paid(discord_id, guild_id, level), "amount": amount, "at": now_ms()},
                    "attribute_not_exists(PK)",
                ),
                tx.update(
                    keys.profile(discord_id),
                    "SET discordId = :did, credits = if_not_exists(credits, :zero) + :amount, "
                    "createdAt = if_not_exists(createdAt, :now)",
                    values={":did": discord_id, ":amount": amount, ":zero": 0, ":now": now_ms()},
                ),
                tx.put(ledger_entry(discord_id, "level_reward", amount=amount, guildId=guild_id, level=level)),
            ]
        )
    except tx.Cancelled:
        return False
    return True
