"""The XP seed's sequence and the shop's main path, driven only through a client generated from
docs/openapi.json by openapi-python-client (no hand-written HTTP). Run by tests/e2e/test_generated_client.py
in .venv-client, with the generated package on sys.path:

    python generated_client_sequence.py <client dir> <server url> <admin key> <guild> <user> <user2> <role>
        <buyer> <creator> <suffix>

Each step checks the typed answer; the script prints one JSON summary line and exits 0, or fails with the
step and the answer."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

sys.path.insert(0, sys.argv[1])

from xpshop_client import AuthenticatedClient, Client
from xpshop_client.api.config import get_guild_config, put_guild_config
from xpshop_client.api.guilds import register_guild
from xpshop_client.api.health import get_health
from xpshop_client.api.leaderboard import get_leaderboard, get_rank
from xpshop_client.api.multipliers import delete_multipliers, put_multipliers
from xpshop_client.api.rewards import add_reward, get_rewards, remove_reward
from xpshop_client.api.shop_categories import create_category
from xpshop_client.api.shop_cosmetics import buy_cosmetic, create_cosmetic, equip_cosmetic
from xpshop_client.api.shop_coupons import create_coupon, redeem_coupon
from xpshop_client.api.shop_credits import modify_credits
from xpshop_client.api.shop_users import user_info
from xpshop_client.api.stats import get_stats
from xpshop_client.api.users import add_xp, get_user, recalc_user, remove_xp, set_xp
from xpshop_client.models import (
    AddRewardBody,
    AddXpBody,
    CategoryCreate,
    ConfigPatch,
    CosmeticCreate,
    CosmeticCreateType,
    CouponCreate,
    CreditsModify,
    DeleteMultipliersBody,
    EquipBody,
    EquipBodyCosmetictype,
    ErrorEnvelope,
    OwnershipBody,
    PutMultipliersBody,
    PutMultipliersBodyRoleType0,
    RedeemBody,
    RegisterGuildBody,
    RemoveRewardBody,
    RemoveXpBody,
    SetXpBody,
)

_, _, URL, KEY, G, U, U2, ROLE, BUYER, CREATOR, SUFFIX = sys.argv


def ok(step: str, answer: Any, kind: type | None = None) -> Any:
    """The answer of a successful call (its `data` for /api/xp), or exit naming the step."""
    if answer is None or isinstance(answer, ErrorEnvelope) or (kind is not None and not isinstance(answer, kind)):
        raise SystemExit(f"{step}: unexpected answer {answer!r}")
    return getattr(answer, "data", answer)


def seed_xp(client: AuthenticatedClient) -> dict[str, Any]:
    missing = get_user.sync(G, U, client=client)
    assert isinstance(missing, ErrorEnvelope) and missing.error.code == "GUILD_NOT_FOUND", missing
    registered = ok("register", register_guild.sync(G, client=client, body=RegisterGuildBody(name="Client guild")))
    assert registered.created is True
    added = ok("add", add_xp.sync(G, U, client=client, body=AddXpBody(amount=100, reason="api_award")))
    assert (added.old_xp, added.new_xp, added.old_level, added.new_level, added.leveled_up) == (0, 100, 0, 0, False)
    member = ok("get", get_user.sync(G, U, client=client))
    assert member.user.xp == 100 and member.progress.to_next == 55 and member.percentage == 64.52, member
    changed = ok("set", set_xp.sync(G, U, client=client, body=SetXpBody(xp=5000, reason="api_set")))
    assert (changed.old_xp, changed.new_xp, changed.new_level) == (100, 5000, 9)
    removed = ok("remove", remove_xp.sync(G, U, client=client, body=RemoveXpBody(amount=50, reason="api_penalty")))
    assert (removed.new_xp, removed.leveled_down) == (4950, False)
    recalculated = ok("recalc", recalc_user.sync(G, U, client=client))
    assert (recalculated.total_xp, recalculated.reconciled) == (4950, False)
    ok("add 2", add_xp.sync(G, U2, client=client, body=AddXpBody(amount=200)))
    deadline = time.monotonic() + 15  # rank counters follow the table's stream
    while (board := ok("board", get_leaderboard.sync(G, client=client, offset=0, limit=10))).total < 2:
        assert time.monotonic() < deadline, board
        time.sleep(0.1)
    assert [(e.user_id, e.xp, e.rank) for e in board.entries] == [(U, 4950, 1), (U2, 200, 2)]
    rank = ok("rank", get_rank.sync(G, U2, client=client))
    assert (rank.rank, rank.total) == (2, 2)
    config = ok("config", put_guild_config.sync(G, client=client, body=ConfigPatch(cooldown_seconds=45, xp_rate=1.5)))
    assert (config.cooldown_seconds, config.xp_rate) == (45, 1.5)
    assert ok("config get", get_guild_config.sync(G, client=client)).cooldown_seconds == 45
    reward = ok("reward", add_reward.sync(G, client=client, body=AddRewardBody(level=10, role_id=ROLE)))
    assert (reward.added.level, reward.added.role_id) == (10, ROLE)
    listed = ok("rewards", get_rewards.sync(G, client=client))
    assert (10, ROLE) in [(r.level, r.role_id) for r in listed.rewards] and listed.count == len(listed.rewards)
    gone = ok("unreward", remove_reward.sync(G, client=client, body=RemoveRewardBody(level=10)))
    assert gone.removed.role_id == ROLE and all(r.level != 10 for r in gone.remaining)
    roles = PutMultipliersBodyRoleType0.from_dict({ROLE: 1.5})
    body = PutMultipliersBody(server=2.0, role=roles)
    multipliers = ok("multipliers", put_multipliers.sync(G, client=client, body=body))
    assert multipliers.server == 2.0 and multipliers.role.to_dict() == {ROLE: 1.5}
    left = ok("unmultiply", delete_multipliers.sync(G, client=client, body=DeleteMultipliersBody(role=[ROLE])))
    assert left.role.to_dict() == {}
    stats = ok("stats", get_stats.sync(G, client=client))
    assert (stats.users.total, stats.xp.total, stats.config.multipliers_count) == (2, 5150, 1)
    health = ok("health", get_health.sync(client=Client(base_url=URL)))  # public: no key
    return {"xp": member.user.xp, "board": len(board.entries), "health": str(health.status)}


COSMETIC_TYPES = list(CosmeticCreateType)


def shop(client: AuthenticatedClient) -> dict[str, Any]:
    category = ok("category", create_category.sync(client=client, body=CategoryCreate(name=f"Client Set {SUFFIX}")))
    made = {}
    for kind in COSMETIC_TYPES:  # every type; a cloak needs no model file
        body = CosmeticCreate(
            name=f"Client {kind.value} {SUFFIX}",
            type_=kind,
            description="Made by the generated client",
            categoryid=category.id,
            cost=40,
            showcase_image_url="https://cdn.example/client.png",
            texture_source_url="https://cdn.example/client-texture.png",
        )
        if kind is not CosmeticCreateType.CLOAK:
            body.model_source_url = "https://cdn.example/client.cfg"
        made[kind.value] = ok(f"cosmetic {kind.value}", create_cosmetic.sync(client=client, body=body))
    assert ok("credits", modify_credits.sync(client=client, body=CreditsModify(id=BUYER, amount=100))).credits_ == 100
    hat = made["hat"]
    bought = ok("buy", buy_cosmetic.sync(client=client, body=OwnershipBody(id=BUYER, cosmeticid=hat.id)))
    assert (bought.bought, bought.credits_) == (True, 60), bought
    equip = EquipBody(id=BUYER, cosmetictype=EquipBodyCosmetictype.HAT, cosmeticid=hat.id)
    assert ok("equip", equip_cosmetic.sync(client=client, body=equip)).equipped is True
    code = f"CLIENT{SUFFIX}"
    ok("coupon", create_coupon.sync(client=client, body=CouponCreate(code=code, credit_grant=25, uses=1)))
    redeemed = ok("redeem", redeem_coupon.sync(client=client, body=RedeemBody(id=BUYER, code=code)))
    info = ok("info", user_info.sync(client=client, id=BUYER))
    assert info.credits_ == 85, info
    assert info.cosmetics.equipped.to_dict()["hat"] == hat.id and info.cosmetics.locker == [hat.id]
    return {"types": sorted(made), "credits": info.credits_, "redeemed": redeemed.to_dict()}


def main() -> None:
    client = AuthenticatedClient(base_url=URL, token=KEY, timeout=30)
    summary = {"xp": seed_xp(client), "shop": shop(client)}
    print(json.dumps(summary, sort_keys=True))


if __name__ == "__main__":
    main()
