"""Coupons: who may redeem one and when (xpshop.shop.coupon_refusal), what it grants, and their API shapes."""

from __future__ import annotations

from typing import Any

from ... import metrics, retry
from ...auth import shop_guild_ids
from ...clock import now_s
from ...errors import ApiError, Conflict, ErrorCode, InvalidInput, NotFound, Unavailable
from ...shop import CouponState, coupon_refusal, days_in_server, membership_start
from ...store import catalog as catalog_store
from ...store import coupons as store
from ...store import members, profiles
from ...store.catalog import Cosmetic
from ...store.coupons import Coupon
from ...store.guards import Guard, GuardFailed
from . import accounts, catalog
from .credits import credit_limit

KEEP_A_GRANT = (
    "credit_grant, cosmetic_grant: a coupon must keep a credit_grant (above 0) or a cosmetic_grant; "
    "this edit would leave it neither"
)


def coupon_view(coupon: Coupon) -> dict[str, Any]:
    return {
        "code": coupon.code,
        "id": coupon.id,
        "active": coupon.active,
        "uses": coupon.uses,
        "used": coupon.used,
        "expires": coupon.expires,
        "day_limit": coupon.day_limit,
        "credit_grant": coupon.credit_grant,
        "cosmetic_grant": coupon.cosmetic_grant,
    }


def _state(coupon: Coupon) -> CouponState:
    return CouponState(
        active=coupon.active, uses=coupon.uses, used=coupon.used, expires=coupon.expires, day_limit=coupon.day_limit
    )


def by_code(code: str) -> Coupon:
    coupon_id = store.code_id(code)
    found = store.get(coupon_id) if coupon_id else None
    if found is None:
        raise NotFound(ErrorCode.COUPON_NOT_FOUND, f"No coupon {code!r}")
    return found


def list_coupons(limit: int | None, cursor: str | None) -> Any:
    found, next_cursor = store.page(limit, cursor)
    listed = [coupon_view(c) for c in found]
    if limit is None and cursor is None:
        return listed
    return {"coupons": listed, "nextCursor": next_cursor}


def create_coupon(fields: dict[str, Any]) -> dict[str, Any]:
    draft = Coupon(id="", **{k: v for k, v in fields.items() if v is not None})
    try:
        created = store.create(draft)
    except GuardFailed as refused:
        if Guard.NEW_NAME in refused:
            raise Conflict(ErrorCode.DUPLICATE_CODE, f"{fields['code']!r} is already taken") from refused
        if Guard.GRANT in refused:
            raise NotFound(ErrorCode.COSMETIC_NOT_FOUND, f"No cosmetic with id {fields['cosmetic_grant']}") from refused
        raise
    return {"created": True, "coupon": coupon_view(created)}


def edit_coupon(original_code: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Change any field, the code included (None removes a limit or a grant); a coupon keeps a grant, and
    `uses` never goes below `used` (409 COUPON_USES_BELOW_USED). The write is guarded by the grant it keeps
    and by `used`: an edit that removed the grant, or redemptions counted, meanwhile make this one decide again."""
    for _ in retry.attempts():
        current = by_code(original_code)
        merged = {**coupon_view(current), **changes}
        if not merged.get("credit_grant") and not merged.get("cosmetic_grant"):
            # the request is what is wrong (given the coupon's grants), not a race: retrying cannot help
            raise InvalidInput(ErrorCode.INVALID_REQUEST, KEEP_A_GRANT)
        if changes.get("uses") is not None and changes["uses"] < current.used:
            # `uses` is the total allowed: below what was redeemed it would hide redemptions. The write's own
            # condition holds it against redemptions counted after this read (refused there: read again, here)
            raise Conflict(
                ErrorCode.COUPON_USES_BELOW_USED,
                f"uses: {changes['uses']} is below the {current.used} redemption(s) this coupon already counted "
                f"(used); give at least {current.used}",
            )
        try:
            edited = store.edit(current, changes)
        except GuardFailed as refused:
            if changes.get("cosmetic_grant") and Guard.GRANT in refused:
                raise NotFound(
                    ErrorCode.COSMETIC_NOT_FOUND, f"No cosmetic with id {changes['cosmetic_grant']}"
                ) from refused
            if Guard.ENTITY in refused:
                continue  # deleted (the next read says so) or its kept grant removed meanwhile: decide again
            raise Conflict(ErrorCode.DUPLICATE_CODE, f"A coupon {changes.get('code')!r} already exists") from refused
        return {"edited": True, "coupon": coupon_view(edited)}
    raise Unavailable("The coupon kept changing concurrently; retry")


def delete_coupon(code: str) -> dict[str, Any]:
    current = by_code(code)
    try:
        store.delete(current)
    except GuardFailed as refused:
        raise NotFound(ErrorCode.COUPON_NOT_FOUND, f"No coupon {code!r}") from refused
    return {"deleted": True}


def redeem(discord_id: str, code: str) -> dict[str, Any]:
    """A coupon redeemed through the API (which cannot know when the member joined a server)."""
    return _redeem(discord_id, code, through_api=True, joined_at_s=None)


def redeem_in_guild(discord_id: str, code: str, guild_id: str | None, joined_at_s: int | None) -> dict[str, Any]:
    """A coupon redeemed from Discord. A `day_limit` counts from when the member joined `guild_id`: only in
    the servers the shop trusts (SHOP_GUILD_IDS: anyone can make a new server), and from the earliest of
    Discord's `joined_at` and the first time xpshop saw them there, so leaving and rejoining does not make a
    long-time member a newcomer. Elsewhere a day_limit coupon is refused."""
    joined = None
    if guild_id is not None and guild_id in shop_guild_ids():
        seen_ms = members.first_seen_ms(guild_id, discord_id) if joined_at_s is not None else None
        joined = membership_start(joined_at_s, seen_ms // 1000 if seen_ms is not None else None)
    return _redeem(discord_id, code, through_api=False, joined_at_s=joined)


def _redeem(discord_id: str, code: str, *, through_api: bool, joined_at_s: int | None) -> dict[str, Any]:
    """Redeem once per member while active, unexpired and with uses left: one transaction with the grants.
    Through Discord, `joined_at_s` (when the member joined the server) is checked against the day_limit;
    the transaction checks again everything that was read."""
    for _ in retry.attempts():
        coupon = by_code(code)
        now = now_s()
        refusal = coupon_refusal(_state(coupon), now, through_api, joined_at_s)
        # A used-up coupon still goes to the transaction, which refuses it: its cancellation reasons say
        # whether this member is one who used it up (COUPON_ALREADY_REDEEMED, the more specific answer)
        # without a read of their redemption. Any other refusal is the same whoever asks.
        if refusal and refusal[0] is not ErrorCode.COUPON_EXHAUSTED:
            raise Conflict(*refusal)
        # (nor a read of the cosmetic for a refusal: the transaction's COSMETIC guard checks it if it goes through)
        cosmetic = catalog.cosmetic(coupon.cosmetic_grant) if coupon.cosmetic_grant and not refusal else None
        cosmetic_id = cosmetic.id if cosmetic else coupon.cosmetic_grant
        credits = int(coupon.credit_grant or 0)
        days = None if through_api or joined_at_s is None else days_in_server(joined_at_s, now)
        try:
            store.redeem(coupon, discord_id, now_s=now, credits=credits, cosmetic_id=cosmetic_id, days_in_server=days)
        except GuardFailed as refused:
            error = _redeem_refused(
                refused,
                discord_id=discord_id,
                code=code,
                refusal=refusal,
                cosmetic=cosmetic,
                credits=credits,
                through_api=through_api,
                joined_at_s=joined_at_s,
            )
            if error is None:
                continue  # still open: its grants (or limits) were edited meanwhile, so decide again
            raise error from refused
        break
    else:
        raise Unavailable("The coupon kept changing concurrently; retry")
    if cosmetic is None and cosmetic_id:  # used up when read, given more uses before the write: it went through
        cosmetic = catalog_store.get_cosmetic(cosmetic_id)  # (the write checked it exists; a delete may follow)
    metrics.count(metrics.COUPON_REDEEMS)
    return {"redeemed": True, "rewards": {"credits": credits, "cosmetic": cosmetic.name if cosmetic else None}}


def _redeem_refused(
    refused: GuardFailed,
    *,
    discord_id: str,
    code: str,
    refusal: tuple[ErrorCode, str] | None,
    cosmetic: Cosmetic | None,
    credits: int,
    through_api: bool,
    joined_at_s: int | None,
) -> ApiError | None:
    """Why the redeem transaction was cancelled, most specific first (its reasons name every guard that
    failed); None: the coupon is open after all, decide again. `refusal`: the coupon was used up when read."""
    if Guard.UNREDEEMED in refused:  # before the coupon's state: they did redeem it
        return Conflict(ErrorCode.COUPON_ALREADY_REDEEMED, f"{discord_id} already redeemed {code!r}")
    if refusal:  # used up when read: still not open is the read's answer (no second read)
        return Conflict(*refusal) if Guard.COUPON_OPEN in refused else None
    if Guard.COUPON_OPEN in refused:
        again = coupon_refusal(_state(by_code(code)), now_s(), through_api, joined_at_s)
        return Conflict(*again) if again else None
    if Guard.PROFILE in refused:  # gone, or there but the credits would pass the cap
        there = credits and profiles.get(discord_id) is not None
        return credit_limit(discord_id, credits) if there else accounts.no_account(discord_id)
    if cosmetic and Guard.UNOWNED in refused:
        return Conflict(ErrorCode.ALREADY_OWNED, f"{discord_id} already owns {cosmetic.name!r}")
    return NotFound(ErrorCode.COSMETIC_NOT_FOUND, "The coupon's cosmetic no longer exists")
