"""Credits: a balance changed or set by an admin, and credits paid for levels reached in a shop guild."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from ... import retry
from ...errors import Conflict, ErrorCode, Unavailable
from ...shop import MAX_CREDITS, level_payment
from ...store import credits as store
from ...store import profiles
from ...store.guards import Guard, GuardFailed
from . import accounts

logger = Logger(child=True)


def modify_credits(discord_id: str, amount: int) -> dict[str, Any]:
    """Add a signed amount; never below 0 (refused, not clamped). Creates the profile when absent."""
    try:
        store.modify(discord_id, amount)
    except GuardFailed as refused:
        if Guard.CREDIT_CAP in refused:
            raise credit_limit(discord_id, amount) from refused
        raise Conflict(ErrorCode.INSUFFICIENT_CREDITS, f"amount {amount} would take the balance below 0") from refused
    return {"credits": accounts.require(discord_id).credits}


def credit_limit(discord_id: str, amount: int) -> Conflict:
    """The refusal of credits that would take a balance past MAX_CREDITS (the most a balance holds)."""
    return Conflict(
        ErrorCode.CREDIT_LIMIT,
        f"{amount} more credits would take the balance of {discord_id} above {MAX_CREDITS} (the most it can hold)",
    )


def set_credits(discord_id: str, new_amount: int) -> dict[str, Any]:
    """Replace the balance (creating the profile when absent); the ledger entry records what it replaced,
    so the write is guarded by the balance read and a change landing in between makes it read again."""
    for _ in retry.attempts():
        current = profiles.get(discord_id)
        try:
            store.set_balance(discord_id, new_amount, current.credits if current else 0)
        except GuardFailed as refused:
            if Guard.BALANCE in refused:
                continue  # the balance changed since we read it
            raise
        return {"credits": new_amount}
    raise Unavailable("The balance kept changing concurrently; retry")


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

    The high-water mark (store.credits.level_mark) is the highest level accounted for: levels at or below
    it never pay (a level lost and regained pays nothing more). Of the levels above it (above `old_level`
    the first time) at most `earned_levels` pay, the ones the member's own XP crossed, `per_level` credits
    each and at most `max_payment` in all (xpshop.shop.level_payment). The mark moves to `new_level`
    whatever was paid, so levels that were granted, recalculated or beyond the cap are never paid later.

    Nothing to pay: one conditional UpdateItem raising the mark (no ledger entry). Otherwise one transaction
    (mark, balance, ledger) guarded by the mark that was read; a payment racing it reads the mark again."""
    if per_level <= 0 or earned_levels <= 0 or max_payment <= 0:
        store.raise_level_mark(discord_id, guild_id, new_level)
        return 0
    for _ in retry.attempts():
        mark = store.level_mark(discord_id, guild_id)
        base = mark if mark is not None else old_level
        if new_level <= base:
            return 0
        levels, amount = level_payment(base, new_level, earned_levels, per_level, max_payment)
        try:
            store.pay_levels(
                discord_id,
                guild_id,
                mark=mark,
                new_level=new_level,
                amount=amount,
                levels=levels,
                capped=amount < levels * per_level,
            )
        except GuardFailed as refused:
            if Guard.LEVEL_MARK in refused:
                continue  # paid concurrently (a redelivery racing this one): read the mark again
            if Guard.CREDIT_CAP in refused:
                # the balance is at the cap: these levels are accounted for, unpaid (as beyond max_payment)
                logger.warning("Level credits not paid: balance at the cap", extra={"discord_id": discord_id})
                store.raise_level_mark(discord_id, guild_id, new_level)
                return 0
            raise
        return amount
    raise Unavailable("Level credits kept colliding with concurrent payments; retry")
