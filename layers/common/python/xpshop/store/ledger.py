"""The shop ledger: one TX# item per change of credits or ownership, put in the same transaction as the
change it records, read back newest last."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from ..clock import now_ms
from . import keys, pages
from .conditions import Key


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One recorded change (`kind`: purchase, grant, revoke, redeem, credits_modify, credits_set,
    creator_payout, level_reward)."""

    kind: str
    timestamp: int  # unix seconds
    cosmetic_id: str | None = None
    cost: int = 0  # what a purchase cost (0 for every other kind)
    amount: int | None = None  # credits added or set
    previous: int | None = None  # credits_set: the balance it replaced (entries from before it was kept: None)
    coupon_code: str | None = None
    creator_code: str | None = None
    guild_id: str | None = None  # level_reward: where the level was reached
    level: int | None = None  # level_reward: the level reached

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> LedgerEntry:
        return cls(
            kind=item["type"],
            timestamp=item["timestamp"],
            cosmetic_id=item.get("cosmeticId"),
            cost=item.get("cost", 0),
            amount=item.get("amount"),
            previous=item.get("previous"),
            coupon_code=item.get("couponCode"),
            creator_code=item.get("creatorCode"),
            guild_id=item.get("guildId"),
            level=int(item["level"]) if item.get("level") is not None else None,
        )


def to_item(discord_id: str, kind: str, **fields: Any) -> dict[str, Any]:
    """A ledger item to put in the same transaction as the change it records (None fields left out)."""
    at = now_ms()
    recorded = {k: v for k, v in fields.items() if v is not None}
    return {
        **keys.ledger(discord_id, at, uuid.uuid4().hex[:10]),
        "type": kind,
        "timestamp": at // 1000,
        "at": at,
        **recorded,
    }


def page(discord_id: str, limit: int | None, token: str | None) -> tuple[list[LedgerEntry], str | None]:
    kwargs: dict[str, Any] = {
        "KeyConditionExpression": Key("PK").eq(keys.user_pk(discord_id)) & Key("SK").begins_with(keys.TX_PREFIX),
    }
    found, next_cursor = pages.query_page(kwargs, limit, token, {"PK", "SK"}, keys.ledger_cursor_check(discord_id))
    return [LedgerEntry.from_item(i) for i in found], next_cursor
