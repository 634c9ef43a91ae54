"""Markers that make a Discord side effect happen once: each claim is one conditional PutItem (or one
transaction with the change it guards), so a redelivered event or a repeated command is a no-op."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from .. import retry
from ..clock import now_ms, now_s
from ..errors import Unavailable
from . import keys, tx
from .profiles import ledger_entry
from .table import is_condition_failure, table

ONCE_TTL_SECONDS = 90 * 86_400  # a Give XP on a message older than that may count again: it is long gone
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


def pay_level_credits(
    discord_id: str,
    guild_id: str,
    old_level: int,
    new_level: int,
    *,
    per_level: int,
    earned_levels: int,
    max_payment: int,
) -> int:
    """Account for a level gain in a guild and pay for it what is due; returns the credits paid.

    The high-water mark LEVELPAID#<g>.paidUpTo is the highest level accounted for: levels at or below it
    never pay (a level lost and regained pays nothing more). Of the levels above it (above `old_level` the
    first time) at most `earned_levels` pay, the ones the member's own XP crossed, `per_level` credits
    each and at most `max_payment` in all. The mark moves to `new_level` whatever was paid, so levels that
    were granted, recalculated or beyond the cap are never paid later either.

    Nothing to pay: one conditional UpdateItem raising the mark (no ledger entry). Otherwise one transaction
    (mark, balance, ledger) guarded by the mark that was read."""
    if per_level <= 0 or earned_levels <= 0 or max_payment <= 0:
        _raise_level_mark(discord_id, guild_id, new_level)
        return 0
    for _ in retry.attempts():
        mark = table().get_item(Key=keys.level_paid(discord_id, guild_id), ConsistentRead=True).get("Item")
        base = int(mark["paidUpTo"]) if mark else old_level
        if new_level <= base:
            return 0
        levels = min(new_level - base, earned_levels)
        amount = min(levels * per_level, max_payment)
        guard = ("paidUpTo = :base", {":base": base}) if mark else ("attribute_not_exists(PK)", {})
        try:
            tx.write(
                [
                    tx.update(
                        keys.level_paid(discord_id, guild_id),
                        "SET paidUpTo = :new, updatedAt = :now",
                        guard[0],
                        values={":new": new_level, ":now": now_ms(), **guard[1]},
                    ),
                    tx.update(
                        keys.profile(discord_id),
                        "SET discordId = :did, credits = if_not_exists(credits, :zero) + :amount, "
                        "createdAt = if_not_exists(createdAt, :now)",
                        values={":did": discord_id, ":amount": amount, ":zero": 0, ":now": now_ms()},
                    ),
                    tx.put(
                        ledger_entry(
                            discord_id,
                            "level_reward",
                            amount=amount,
                            guildId=guild_id,
                            level=new_level,
                            levels=levels,
                            capped=True if amount < levels * per_level else None,
                        )
                    ),
                ]
            )
        except tx.Cancelled as exc:
            if exc.failed(0):
                continue  # paid concurrently (a redelivery racing this one): read the mark again
            raise
        return amount
    raise Unavailable("Level credits kept colliding with concurrent payments; retry")


def _raise_level_mark(discord_id: str, guild_id: str, level: int) -> None:
    """Move the mark up to `level` (never down): the levels below are accounted for, paid or not."""
    try:
        table().update_item(
            Key=keys.level_paid(discord_id, guild_id),
            UpdateExpression="SET paidUpTo = :level, updatedAt = :now",
            ConditionExpression="attribute_not_exists(paidUpTo) OR paidUpTo < :level",
            ExpressionAttributeValues={":level": level, ":now": now_ms()},
        )
    except ClientError as exc:
        if not is_condition_failure(exc):
            raise
        # the mark is already at or above `level`: nothing to do
