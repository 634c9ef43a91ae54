"""The shop from Discord: a member's own account is their Discord id, so every command acts on the invoker.

The rules are the shop services' (the same as /api/v1): prices, creator payouts, coupons, keys.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from . import embeds
from .model import Interaction, Refused

MAX_LISTED = 25
SHOP_COLOR = 0xF1C40F


def _name(i: Interaction) -> str:
    return str(i.options["cosmetic"]).strip()


def shop(i: Interaction) -> dict[str, Any]:
    from ..service.shop import catalog

    listed = catalog.list_cosmetics(buyable_only=True, by_name=True)
    if not listed:
        return embeds.done("The shop is empty for now.", ephemeral=True)
    lines = [f"**{c['name']}** · {c['type']} · {c['cost']:,} credits" for c in listed[:MAX_LISTED]]
    more = f"\n…and {len(listed) - MAX_LISTED} more" if len(listed) > MAX_LISTED else ""
    embed = {"title": "🛍️ Shop", "description": "\n".join(lines) + more, "color": SHOP_COLOR}
    embed["footer"] = {"text": "/buy <name> to buy · /locker to see yours"}
    return embeds.message(embeds=[embed])


def buy(i: Interaction) -> dict[str, Any]:
    from ..service.shop import catalog, purchases

    cosmetic = catalog.cosmetic_named(_name(i))
    bought = purchases.buy(i.user_id, cosmetic.id)
    creator = bought.get("creator")
    thanks = f"\n{creator['payout']:,} credits went to creator **{creator['code']}**." if creator else ""
    return embeds.done(
        f"🛍️ You bought **{bought['name']}** for {bought['cost']:,} credits. "
        f"Balance: **{bought['credits']:,}**.{thanks}",
        ephemeral=True,
    )


def equip(i: Interaction) -> dict[str, Any]:
    from ..service.shop import catalog, purchases

    cosmetic = catalog.cosmetic_named(_name(i))
    purchases.equip(i.user_id, cosmetic.type, cosmetic.id)
    return embeds.done(f"✨ You now wear **{cosmetic.name}** ({cosmetic.type}).", ephemeral=True)


def unequip(i: Interaction) -> dict[str, Any]:
    from ..service.shop import purchases

    purchases.unequip(i.user_id, str(i.options["slot"]))
    return embeds.done(f"Your {i.options['slot']} slot is empty.", ephemeral=True)


def _account(i: Interaction) -> dict[str, Any]:
    from ..errors import NotFound
    from ..service.shop import accounts

    try:
        return accounts.user_info(i.user_id)
    except NotFound:
        raise Refused("You have no shop account yet: earn or redeem some credits first.") from None


def locker(i: Interaction) -> dict[str, Any]:
    from ..service.shop import catalog

    info = _account(i)
    owned = info["cosmetics"]["locker"]
    equipped = {slot: cid for slot, cid in info["cosmetics"]["equipped"].items() if cid}
    names = {}
    for cosmetic_id in list(owned)[:MAX_LISTED]:
        try:
            names[cosmetic_id] = catalog.cosmetic(cosmetic_id).name
        except Exception:  # deleted meanwhile: show the id
            names[cosmetic_id] = cosmetic_id
    lines = [f"{'✅ ' if cid in equipped.values() else ''}{names.get(cid, cid)}" for cid in list(owned)[:MAX_LISTED]]
    embed = {
        "title": "🎒 Your locker",
        "description": "\n".join(lines) or "Nothing yet: see /shop.",
        "color": SHOP_COLOR,
        "footer": {"text": f"{len(owned)} cosmetic(s) · {info['credits']:,} credits"},
    }
    return embeds.message(embeds=[embed], ephemeral=True)


def credits(i: Interaction) -> dict[str, Any]:
    return embeds.done(f"💰 You have **{_account(i)['credits']:,}** credits.", ephemeral=True)


def redeem(i: Interaction) -> dict[str, Any]:
    from ..service.shop import coupons

    # day_limit: see coupons.redeem_in_guild (trusted servers only; rejoining does not reset it).
    code = str(i.options["code"]).strip()
    result = coupons.redeem_in_guild(i.user_id, code, i.guild_id, _joined_at_s(i.joined_at))
    rewards = result["rewards"]
    got = [f"{rewards['credits']:,} credits"] if rewards.get("credits") else []
    got += [f"**{rewards['cosmetic']}**"] if rewards.get("cosmetic") else []
    return embeds.done(f"🎟️ Coupon redeemed: {' and '.join(got) or 'done'}.", ephemeral=True)


def _joined_at_s(joined_at: str | None) -> int | None:
    if not joined_at:
        return None
    try:
        return int(datetime.fromisoformat(joined_at.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return None


def creator_code(i: Interaction) -> dict[str, Any]:
    from ..service.shop import creators

    code = str(i.options["code"]).strip()
    creators.set_creator_code(i.user_id, code)
    return embeds.done(f"❤️ You now support **{code}**: a share of your purchases goes to them.", ephemeral=True)


def apikey(i: Interaction) -> dict[str, Any]:
    from ..service.shop import accounts

    issued = accounts.issue_key(i.user_id)
    return embeds.done(
        f"🔑 Your shop API key (it replaces any earlier one; keep it secret):\n`{issued['key']}`", ephemeral=True
    )


HANDLERS: dict[tuple[str, ...], Callable[[Interaction], dict[str, Any]]] = {
    ("shop",): shop,
    ("buy",): buy,
    ("equip",): equip,
    ("unequip",): unequip,
    ("locker",): locker,
    ("credits",): credits,
    ("redeem",): redeem,
    ("creator-code",): creator_code,
    ("apikey",): apikey,
}
