"""Balances: an admin's change or new balance, and credits paid for levels (with their LEVELPAID mark).
Each change is one transaction with its ledger entry."""

from __future__ import annotations

from botocore.exceptions import ClientError

from ..clock import now_ms
from . import keys, ledger, tx
from .guards import Guard
from .profiles import credit_upsert
from .table import is_condition_failure, table


def modify(discord_id: str, amount: int) -> None:
    """Add a signed amount (creates the profile when absent). BALANCE: it would go below 0; CREDIT_CAP:
    above shop.MAX_CREDITS."""
    condition, values = (None, None) if amount >= 0 else ("credits >= :need", {":need": -amount})
    guard = Guard.BALANCE if amount < 0 else Guard.CREDIT_CAP
    tx.write_guarded(
        [
            (guard, credit_upsert(discord_id, amount, condition=condition, values=values)),
            (None, tx.put(ledger.to_item(discord_id, "credits_modify", amount=amount))),
        ]
    )


def set_balance(discord_id: str, new_amount: int, previous: int) -> None:
    """Set the balance to `new_amount` if it still is `previous` (0: also no profile yet, which is created),
    with a ledger entry recording both. BALANCE: the balance changed since it was read.

    Why guarded: ledger entries are stamped before their transaction commits, so a set racing other changes
    can be listed before a change applied ahead of it (or after one applied later). An entry that says what
    it replaced is a change of `new_amount - previous` in any order, and the ledger adds up to the balance."""
    condition = "credits = :prev" if previous else "(attribute_not_exists(credits) OR credits = :prev)"
    tx.write_guarded(
        [
            (
                Guard.BALANCE,
                credit_upsert(
                    discord_id, new_amount, set_balance=True, condition=condition, values={":prev": previous}
                ),
            ),
            (None, tx.put(ledger.to_item(discord_id, "credits_set", amount=new_amount, previous=previous))),
        ]
    )


# ---------------------------------------------------------------- level credits


def level_mark(discord_id: str, guild_id: str) -> int | None:
    """LEVELPAID#<g>.paidUpTo: the highest level accounted for in that guild (None: none yet)."""
    item = table().get_item(Key=keys.level_paid(discord_id, guild_id), ConsistentRead=True).get("Item")
    return int(item["paidUpTo"]) if item else None


def pay_levels(
    discord_id: str,
    guild_id: str,
    *,
    mark: int | None,
    new_level: int,
    amount: int,
    levels: int,
    capped: bool,
) -> None:
    """Move the mark from `mark` (as read; None: absent) to `new_level` and pay `amount` for `levels`
    levels, with the ledger entry, in one transaction. LEVEL_MARK: the mark moved since it was read;
    CREDIT_CAP: the payment would take the balance above shop.MAX_CREDITS."""
    guard = ("paidUpTo = :base", {":base": mark}) if mark is not None else ("attribute_not_exists(PK)", {})
    tx.write_guarded(
        [
            (
                Guard.LEVEL_MARK,
                tx.update(
                    keys.level_paid(discord_id, guild_id),
                    "SET paidUpTo = :new, updatedAt = :now",
                    guard[0],
                    values={":new": new_level, ":now": now_ms(), **guard[1]},
                ),
            ),
            (Guard.CREDIT_CAP, credit_upsert(discord_id, amount)),
            (
                None,
                tx.put(
                    ledger.to_item(
                        discord_id,
                        "level_reward",
                        amount=amount,
                        guildId=guild_id,
                        level=new_level,
                        levels=levels,
                        capped=True if capped else None,
                    )
                ),
            ),
        ]
    )


def raise_level_mark(discord_id: str, guild_id: str, level: int) -> None:
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
