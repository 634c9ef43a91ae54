"""Pure shop rules: cosmetic types and slots, prices, creator payout, coupon eligibility, level credits."""

from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal, InvalidOperation

from .errors import ErrorCode

# Equip slots, one per type, in the order the seed's users/info shows them.
COSMETIC_TYPES = ("bandana", "bodywear", "cloak", "glasses", "hat", "mask", "pet", "shoes", "wings")
CLOAK = "cloak"
DEFAULT_CREATOR_PERCENT = 5
MAX_CREDITS = 10**12  # far beyond any real balance; keeps arithmetic and storage exact


def creator_percent() -> Decimal:
    """The share of a purchase paid to the creator whose code the buyer set (CREATOR_PAYOUT_PERCENT, 0-100).
    The template's CreatorPayoutPercent is a CloudFormation Number, so "2.5" is a valid setting: it is read
    exactly (a Decimal), never replaced by the default."""
    raw = os.environ.get("CREATOR_PAYOUT_PERCENT", "").strip()
    try:
        value = Decimal(raw) if raw else Decimal(DEFAULT_CREATOR_PERCENT)
    except InvalidOperation:
        return Decimal(DEFAULT_CREATOR_PERCENT)
    if not value.is_finite():
        return Decimal(DEFAULT_CREATOR_PERCENT)
    return min(max(value, Decimal(0)), Decimal(100))


def creator_payout(cost: int, percent: int | Decimal) -> int:
    """floor(cost x percent / 100), exactly: a 50-credit item at 5 % pays the creator 2, 100 at 2.5 % pays 2."""
    if isinstance(percent, int):
        return cost * percent // 100
    return int((Decimal(cost) * percent / 100).to_integral_value(rounding=ROUND_FLOOR))


def for_sale(cost: int) -> bool:
    """A cosmetic without a price (0) can be granted or won, not bought."""
    return cost > 0


def purchase_payout(cost: int, buyer: str, creator_owner: str | None) -> int:
    """What a purchase pays the owner of the creator code its buyer supports: nothing without one, and
    nothing to the buyer's own code (a member cannot support their own code, but a code can change owner)."""
    if creator_owner is None or creator_owner == buyer:
        return 0
    return creator_payout(cost, creator_percent())


def level_payment(
    paid_up_to: int, new_level: int, earned_levels: int, per_level: int, max_payment: int
) -> tuple[int, int]:
    """(levels paid for, credits) for reaching `new_level` when every level up to `paid_up_to` is accounted
    for: of the levels above it, at most the `earned_levels` the member's own XP crossed, `per_level` credits
    each, at most `max_payment` in all."""
    levels = min(new_level - paid_up_to, earned_levels)
    return levels, min(levels * per_level, max_payment)


def slot_attribute(cosmetic_type: str) -> str:
    """The profile attribute that holds what is equipped in a slot (top-level, so SET needs no map)."""
    return f"eq_{cosmetic_type}"


@dataclass(frozen=True, slots=True)
class CouponState:
    active: bool
    uses: int | None  # total redemptions allowed, None = unlimited
    used: int
    expires: int | None  # unix seconds
    day_limit: int | None


def coupon_refusal(
    coupon: CouponState, now_s: int, through_api: bool, joined_at_s: int | None = None
) -> tuple[ErrorCode, str] | None:
    """Why a coupon cannot be redeemed right now, or None. (The transaction re-checks all of it.)
    `joined_at_s`: when the member joined the server (Discord's /redeem knows it; the API does not)."""
    if not coupon.active:
        return ErrorCode.COUPON_INACTIVE, "This coupon is not active"
    if coupon.expires is not None and coupon.expires <= now_s:
        return ErrorCode.COUPON_EXPIRED, "This coupon has expired"
    if coupon.uses is not None and coupon.used >= coupon.uses:
        return ErrorCode.COUPON_EXHAUSTED, "This coupon has no uses left"
    if coupon.day_limit is not None and through_api:
        return (
            ErrorCode.COUPON_DAY_LIMIT,
            "This coupon has a day_limit: redeem it with the Discord /redeem command, which knows when you joined",
        )
    if coupon.day_limit is not None and (
        joined_at_s is None or not joined_within(joined_at_s, coupon.day_limit, now_s)
    ):
        return (
            ErrorCode.COUPON_DAY_LIMIT,
            f"This coupon is for members who joined the server in the last {coupon.day_limit} day(s)",
        )
    return None


def membership_start(joined_at_s: int | None, first_seen_s: int | None) -> int | None:
    """Since when a member counts as being in a server, for a coupon's day_limit: the earliest of Discord's
    `joined_at` (which leaving and rejoining resets) and the first time xpshop saw them there (kept). None
    without a `joined_at`: the first sighting alone is later than the join, so it would make them look newer."""
    if joined_at_s is None:
        return None
    return joined_at_s if first_seen_s is None else min(joined_at_s, first_seen_s)


def days_in_server(joined_at_s: int, now_s: int) -> int:
    """Whole days begun since joining: a coupon with day_limit L is open while L >= this (see joined_within)."""
    return max(0, -(-(now_s - joined_at_s) // 86_400))


def joined_within(joined_at_s: int, day_limit: int, now_s: int) -> bool:
    """Whether a member who joined at `joined_at_s` may still redeem a coupon limited to `day_limit` days."""
    return now_s - joined_at_s <= day_limit * 86_400
