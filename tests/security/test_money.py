"""Security review (issue 12): credits and coupons.

Finding 2, credit minting: a member with Manage Server set `creditsPerLevel` from Discord and then their own
XP with `/xp set` (8,428,000,000 credits); an easier curve plus the recalculation paid every member again.
Credits are paid only for levels reached by earned XP (messages, command XP, Give XP), never by XP an
admin sets, gives or removes (Discord or API) nor by a recalculation; those still advance the high-water
mark, so the levels never pay later either. One payment is capped (LEVEL_CREDITS_MAX_PAYMENT).

Finding 11, day_limit by rejoining: `/redeem` trusted Discord's `joined_at`, which a member resets by
leaving and joining again. The day_limit now counts from the earliest of `joined_at` and the first time
xpshop saw the member in that server.

Level-up effects run through DynamoDB Local's real stream into the effects function (as in
tests/integration/test_effects.py).
"""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.support import discord as d
from tests.support import shop
from tests.support.storage import new_user_id

EPHEMERAL = 64
PER_LEVEL = 10
# Relayed messages of these tests: increasing ids, an hour apart (past any cooldown).
_message_ids = itertools.count(1_300_000_000_000_500_001)
_message_times = itertools.count(1_795_400_000_000, 3_600_000)


def _start(level: int, curve: dict | None = None) -> int:
    """Cumulative XP at the start of `level`."""
    from xpshop.levels import Curve

    return (Curve.from_config(curve) if curve else Curve()).total_xp_for_level(level)


def _configure(api, guild: str, patch: dict) -> None:
    r = api.put(f"/api/xp/config/{guild}", patch)
    assert r.status == 200, r.body
    from xpshop.service import curves

    curves.forget(guild)


@pytest.fixture
def shop_guild(api, guild, discord_app, monkeypatch) -> str:
    """A server the shop trusts, paying PER_LEVEL credits per level, with the default payment cap."""
    monkeypatch.setenv("SHOP_GUILD_IDS", guild)
    monkeypatch.delenv("LEVEL_CREDITS_MAX_PAYMENT", raising=False)
    _configure(api, guild, {"creditsPerLevel": PER_LEVEL})
    return guild


def _credits(api, user: str) -> int:
    r = api.get(f"/api/v1/users/info?id={user}")
    if r.status == 404:
        return 0
    assert r.status == 200, r.body
    return int(r.body["credits"])


def _level_rewards(api, user: str) -> list[tuple[int, int]]:
    r = api.get(f"/api/v1/users/transactions?id={user}")
    if r.status == 404:
        return []
    return sorted((e["level"], e["amount"]) for e in r.body["transactions"] if e["type"] == "level_reward")


def _mark(guild: str, user: str) -> int | None:
    """The highest level accounted for (paid or not) in that guild: LEVELPAID#<g>.paidUpTo."""
    from xpshop.store import keys
    from xpshop.store.table import table

    item = table().get_item(Key=keys.level_paid(user, guild), ConsistentRead=True).get("Item")
    return int(item["paidUpTo"]) if item else None


def _level(guild: str, user: str) -> int:
    from tests.support.storage import member_item

    item = member_item(guild, user)
    assert item is not None
    return int(item["level"])


def _api_set(api, guild: str, user: str, xp: int) -> None:
    assert api.put(f"/api/xp/users/{guild}/{user}", {"xp": xp}).status == 200


def _message(guild: str, user: str) -> None:
    """One relayed chat message from `user` (earned XP: 15-25 x rate x multipliers)."""
    from tests.support.sqs import consume, message

    assert consume([message(guild, user, next(_message_ids), next(_message_times))]) == {"batchItemFailures": []}


def _slash(discord_app, guild: str, *path: str, options=(), permissions: str = d.MANAGE_GUILD) -> dict:
    payload = d.command(guild, new_user_id(), "xp", *path, options=list(options), permissions=permissions)
    status, answer = d.call(discord_app.signer, payload)
    assert status == 200 and answer["type"] == 4, answer
    return answer


def _text(answer: dict) -> str:
    data = answer["data"]
    parts = [data.get("content") or ""]
    for embed in data.get("embeds", []):
        parts += [embed.get("title") or "", embed.get("description") or ""]
    return "\n".join(parts)


# ---------------------------------------------------------------- finding 2: credits per level


def test_credits_per_level_cannot_be_set_from_discord(api, shop_guild, discord_app):
    from xpshop.discord import definitions

    for permissions in (d.MANAGE_GUILD, d.ADMINISTRATOR):  # an old registration still sends the sub-command
        answer = _slash(
            discord_app,
            shop_guild,
            "config",
            "credits-per-level",
            options=[d.option("amount", 1_000_000, 4)],
            permissions=permissions,
        )
        assert answer["data"]["flags"] == EPHEMERAL
        assert "admin" in _text(answer).lower() and "credits per level" in _text(answer).lower()
    assert api.get(f"/api/xp/config/{shop_guild}").data["creditsPerLevel"] == PER_LEVEL
    xp = next(c for c in definitions.definitions() if c["name"] == "xp")
    config = next(o for o in xp["options"] if o["name"] == "config")
    assert "credits-per-level" not in {o["name"] for o in config["options"]}
    shown = _text(_slash(discord_app, shop_guild, "config", "show"))
    assert f"Credits per level** {PER_LEVEL}" in shown  # still displayed


# Where levels pay credits, how fast XP is earned decides how fast credits are minted: a Manage-Server-only
# moderator raising the rate x100, a multiplier or cooldown 0 would turn every message into the payment cap.
_EARNING = [
    ("rate", [d.option("rate", 100, 10)], lambda c: c["xpRate"] == 1.0),
    ("cooldown", [d.option("seconds", 0, 4)], lambda c: c["cooldownSeconds"] == 60),
    ("multiplier", [d.option("value", 100, 10)], lambda c: not c["multipliers"].get("server")),
]


@pytest.mark.parametrize(("sub", "options", "unchanged"), _EARNING, ids=[e[0] for e in _EARNING])
def test_earning_settings_need_administrator_where_levels_pay_credits(
    api, shop_guild, discord_app, sub, options, unchanged
):
    answer = _slash(discord_app, shop_guild, "config", sub, options=options)  # Manage Server only
    assert answer["data"]["flags"] == EPHEMERAL
    assert "administrator" in _text(answer).lower()
    assert unchanged(api.get(f"/api/xp/config/{shop_guild}").data)

    answer = _slash(discord_app, shop_guild, "config", sub, options=options, permissions=str(d.ADMINISTRATOR))
    assert "✅" in _text(answer), _text(answer)
    assert not unchanged(api.get(f"/api/xp/config/{shop_guild}").data)


@pytest.mark.parametrize(("sub", "options", "unchanged"), _EARNING, ids=[e[0] for e in _EARNING])
def test_earning_settings_stay_with_manage_server_where_levels_pay_nothing(
    api, guild, discord_app, monkeypatch, sub, options, unchanged
):
    # a shop server with credits off, and a server the shop does not trust even with creditsPerLevel set
    monkeypatch.setenv("SHOP_GUILD_IDS", guild)
    answer = _slash(discord_app, guild, "config", sub, options=options)
    assert not unchanged(api.get(f"/api/xp/config/{guild}").data), _text(answer)

    monkeypatch.setenv("SHOP_GUILD_IDS", "")
    _configure(api, guild, {"creditsPerLevel": PER_LEVEL, "xpRate": 1.0, "cooldownSeconds": 60, "multipliers": {}})
    api.delete(f"/api/xp/config/{guild}/multipliers", {"server": True})
    answer = _slash(discord_app, guild, "config", sub, options=options)
    assert not unchanged(api.get(f"/api/xp/config/{guild}").data), _text(answer)


# The switches an owner uses to stop earning somewhere (a no-XP channel or role, command XP off): turning one
# back on makes members earn, hence credits, where it was off, so where levels pay that needs Administrator
# too; switching earning off stays with Manage Server. (setup patch, sub-command, options, still off?)
_NO_XP_CHANNEL, _NO_XP_ROLE = "1300000000000000901", "1300000000000000902"
_OFF = {"noXpChannelIds": [_NO_XP_CHANNEL], "noXpRoleIds": [_NO_XP_ROLE], "commandXp": False}
_RAISING = [
    (
        "no-xp-channel",
        [d.option("action", "remove"), d.option("channel", _NO_XP_CHANNEL, 7)],
        lambda c: _NO_XP_CHANNEL in c["noXpChannelIds"],
    ),
    (
        "no-xp-role",
        [d.option("action", "remove"), d.option("role", _NO_XP_ROLE, 8)],
        lambda c: _NO_XP_ROLE in c["noXpRoleIds"],
    ),
    ("command-xp", [d.option("enabled", True, 5)], lambda c: c["commandXp"] is False),
]


@pytest.mark.parametrize(("sub", "options", "still_off"), _RAISING, ids=[e[0] for e in _RAISING])
def test_turning_earning_back_on_needs_administrator_where_levels_pay_credits(
    api, shop_guild, discord_app, sub, options, still_off
):
    _configure(api, shop_guild, _OFF)
    answer = _slash(discord_app, shop_guild, "config", sub, options=options)  # Manage Server only
    assert answer["data"]["flags"] == EPHEMERAL
    assert "administrator" in _text(answer).lower() and "pay shop credits" in _text(answer)
    assert still_off(api.get(f"/api/xp/config/{shop_guild}").data)

    answer = _slash(discord_app, shop_guild, "config", sub, options=options, permissions=str(d.ADMINISTRATOR))
    assert "✅" in _text(answer), _text(answer)
    assert not still_off(api.get(f"/api/xp/config/{shop_guild}").data)


@pytest.mark.parametrize(("sub", "options", "still_off"), _RAISING, ids=[e[0] for e in _RAISING])
def test_turning_earning_back_on_stays_with_manage_server_where_levels_pay_nothing(
    api, guild, discord_app, monkeypatch, sub, options, still_off
):
    monkeypatch.setenv("SHOP_GUILD_IDS", guild)  # a shop server with credits off
    _configure(api, guild, _OFF)
    answer = _slash(discord_app, guild, "config", sub, options=options)
    assert not still_off(api.get(f"/api/xp/config/{guild}").data), _text(answer)


_LOWERING = [
    (
        "no-xp-channel",
        [d.option("action", "add"), d.option("channel", _NO_XP_CHANNEL, 7)],
        lambda c: _NO_XP_CHANNEL in c["noXpChannelIds"],
    ),
    (
        "no-xp-role",
        [d.option("action", "add"), d.option("role", _NO_XP_ROLE, 8)],
        lambda c: _NO_XP_ROLE in c["noXpRoleIds"],
    ),
    ("command-xp", [d.option("enabled", False, 5)], lambda c: c["commandXp"] is False),
]


@pytest.mark.parametrize(("sub", "options", "off"), _LOWERING, ids=[e[0] for e in _LOWERING])
def test_switching_earning_off_stays_with_manage_server_where_levels_pay_credits(
    api, shop_guild, discord_app, sub, options, off
):
    assert not off(api.get(f"/api/xp/config/{shop_guild}").data)
    answer = _slash(discord_app, shop_guild, "config", sub, options=options)  # Manage Server only
    assert "✅" in _text(answer), _text(answer)
    assert off(api.get(f"/api/xp/config/{shop_guild}").data)


def test_xp_set_from_discord_pays_nothing_and_the_level_never_pays_later(api, shop_guild, discord_app, table_stream):
    user = new_user_id()
    target = d.option("user", user, 6)
    _slash(discord_app, shop_guild, "set", options=[target, d.option("xp", 1_000_000_000_000, 4)])
    table_stream.drain()
    top = _level(shop_guild, user)
    assert top > 8000
    assert (_credits(api, user), _level_rewards(api, user)) == (0, [])
    assert _mark(shop_guild, user) == top  # accounted for: reaching these levels again pays nothing

    _slash(discord_app, shop_guild, "set", options=[target, d.option("xp", _start(4) - 1, 4)])  # level 3
    table_stream.drain()
    _message(shop_guild, user)  # earned: crosses level 4, which the grant already reached
    table_stream.drain()
    assert (_level(shop_guild, user), _credits(api, user)) == (4, 0)


def test_granted_levels_advance_the_mark_then_an_earned_level_pays_once(api, shop_guild, discord_app, table_stream):
    user = new_user_id()
    assert api.post(f"/api/xp/users/{shop_guild}/{user}", {"amount": _start(2)}).status == 200  # API add
    table_stream.drain()
    assert (_credits(api, user), _mark(shop_guild, user)) == (0, 2)
    _api_set(api, shop_guild, user, _start(3))  # API set
    table_stream.drain()
    assert (_credits(api, user), _mark(shop_guild, user)) == (0, 3)
    give = [d.option("user", user, 6), d.option("amount", _start(5) - _start(3), 4)]
    _slash(discord_app, shop_guild, "give", options=give)  # /xp give
    table_stream.drain()
    assert (_credits(api, user), _mark(shop_guild, user)) == (0, 5)
    assert api.delete(f"/api/xp/users/{shop_guild}/{user}", {"amount": _start(5)}).status == 200  # to level 0
    assert api.post(f"/api/xp/users/{shop_guild}/{user}", {"amount": _start(5)}).status == 200  # level 5 again
    table_stream.drain()
    assert (_credits(api, user), _mark(shop_guild, user)) == (0, 5)

    _api_set(api, shop_guild, user, _start(6) - 20)  # level 5: no level change
    author_message = d.next_snowflake()
    _, answer = d.call(discord_app.signer, d.message_command(shop_guild, new_user_id(), author_message, user))
    assert "earned **50** XP" in _text(answer)  # Give XP (earned): level 6
    table_stream.drain()
    assert _level(shop_guild, user) == 6
    assert (_credits(api, user), _mark(shop_guild, user)) == (PER_LEVEL, 6)
    assert _level_rewards(api, user) == [(6, PER_LEVEL)]


def test_a_message_level_up_pays(api, shop_guild, table_stream):
    user = new_user_id()
    _api_set(api, shop_guild, user, _start(1) - 5)  # level 0
    _message(shop_guild, user)
    table_stream.drain()
    assert _level(shop_guild, user) == 1
    assert (_credits(api, user), _level_rewards(api, user)) == (PER_LEVEL, [(1, PER_LEVEL)])


def test_recalculation_after_an_easier_curve_pays_nothing(api, shop_guild, table_stream):
    earner, granted = new_user_id(), new_user_id()
    _api_set(api, shop_guild, earner, _start(1) - 5)
    _message(shop_guild, earner)  # level 1, earned: paid
    _api_set(api, shop_guild, granted, 400)  # level 2, granted: not paid
    table_stream.drain()
    assert (_credits(api, earner), _credits(api, granted)) == (PER_LEVEL, 0)

    easy = {"a": 1, "b": 0, "c": 10}
    _configure(api, shop_guild, {"curve": easy})
    assert api.post(f"/api/xp/recalc/{shop_guild}").status == 200
    table_stream.drain()
    assert _level(shop_guild, granted) == 9 and _level(shop_guild, earner) > 1  # the levels moved up
    assert (_credits(api, earner), _credits(api, granted)) == (PER_LEVEL, 0)
    assert _mark(shop_guild, granted) == 9


def test_an_easier_curve_pays_nothing_through_the_message_path_either(api, shop_guild, table_stream):
    """Before the recalculation, the next message that leaves the (stale) stored level is written with the
    new curve: its level jumps, but only levels its own XP crossed are earned."""
    user = new_user_id()
    _api_set(api, shop_guild, user, _start(3) - 10)  # level 2 on the default curve
    table_stream.drain()
    easy = {"a": 1, "b": 0, "c": 10}
    _configure(api, shop_guild, {"curve": easy})
    _message(shop_guild, user)
    table_stream.drain()
    assert _level(shop_guild, user) == 11  # 9 levels up in one write ...
    assert _credits(api, user) == 0  # ... none of them crossed by the message's 15-25 XP on one curve
    assert _mark(shop_guild, user) == 11


def test_one_payment_is_capped(api, shop_guild, table_stream, monkeypatch):
    monkeypatch.setenv("LEVEL_CREDITS_MAX_PAYMENT", "25")
    _configure(api, shop_guild, {"xpRate": 100.0})  # one message: 1,500-2,500 XP, level 4 to 6
    user = new_user_id()
    _message(shop_guild, user)
    table_stream.drain()
    level = _level(shop_guild, user)
    assert level >= 4
    assert (_credits(api, user), _level_rewards(api, user)) == (25, [(level, 25)])
    assert _mark(shop_guild, user) == level  # the capped levels are not owed later


def test_the_default_cap_is_1000(api, shop_guild, table_stream):
    _configure(api, shop_guild, {"xpRate": 100.0, "creditsPerLevel": 10_000})
    user = new_user_id()
    _message(shop_guild, user)
    table_stream.drain()
    assert _credits(api, user) == 1000


@pytest.mark.parametrize("scope", ["guild", "global"])
def test_credits_per_level_needs_the_admin_key_not_a_config_write_key(api, shop_guild, scope):
    """ "creditsPerLevel is set only with the admin key": an API key with config:write (on the guild, or on
    every guild) is refused with 403 naming the field, and nothing is written (its other fields neither)."""
    path, guilds = (
        (f"/api/xp/config/{shop_guild}", [shop_guild]) if scope == "guild" else ("/api/xp/config/global", ["*"])
    )
    key = api.post("/api/keys", {"name": "dash", "scopes": ["config:read", "config:write"], "guildIds": guilds})
    assert key.status == 201, key.body
    before = api.get(path).data
    refused = api.put(path, {"creditsPerLevel": 10_000, "cooldownSeconds": 5}, key=key.data["key"])
    assert refused.status == 403, refused.body
    assert refused.error["code"] == "FORBIDDEN" and "creditsPerLevel" in refused.error["message"]
    for reset in (None, 0):  # resetting or zeroing it is setting it too
        assert api.put(path, {"creditsPerLevel": reset}, key=key.data["key"]).status == 403
    assert api.get(path).data == before
    try:
        assert api.put(path, {"cooldownSeconds": 5}, key=key.data["key"]).status == 200  # the rest of config:write
        assert api.get(path).data["creditsPerLevel"] == before["creditsPerLevel"]
    finally:  # the global defaults are shared by every other test of this table
        assert api.put(path, {"cooldownSeconds": None}).status == 200


def test_credits_per_level_bounds(api, guild):
    for bad in (-1, 10_001, 1_000_000, "5", 2.5):
        r = api.put(f"/api/xp/config/{guild}", {"creditsPerLevel": bad})
        assert (r.status, r.error["code"]) == (400, "INVALID_CONFIG"), bad
        assert "creditsPerLevel" in r.error["message"]
    assert api.put(f"/api/xp/config/{guild}", {"creditsPerLevel": 10_000}).data["creditsPerLevel"] == 10_000


def test_level_sources_in_the_stream_image():
    """Only an earned level pays; the pre-release value "xp" (any XP change) and a missing source do not."""
    from xpshop.service.effects import level_change_from_images

    def change(source: str | None):
        new = {"SK": "MEMBER#2", "guildId": "1", "userId": "2", "level": 3, "xp": 700}
        if source is not None:
            new["levelSource"] = source
        return level_change_from_images({"level": 2, "xp": 600}, new)

    assert change("earned").earned and not change("earned").by_recalc
    assert change("recalc").by_recalc and not change("recalc").earned
    for source in ("granted", "xp", None, "something-new"):
        assert not change(source).earned, source


# ---------------------------------------------------------------- finding 11: day_limit by rejoining


def _redeem(discord_app, queue: str, guild: str, user: str, code: str, joined_at: datetime) -> str:
    from tests.support.sqs import receive_all, run_worker

    payload = d.command(guild, user, "redeem", options=[d.option("code", code)])
    payload["member"]["joined_at"] = joined_at.isoformat()
    _, answer = d.call(discord_app.signer, payload)
    assert answer == {"type": 5, "data": {"flags": EPHEMERAL}}
    assert run_worker(receive_all(queue)) == {"batchItemFailures": []}
    edit = discord_app.fake.webhook_messages[(d.APP_ID, payload["token"])][-1]
    return "\n".join(e.get("description", "") for e in edit["embeds"])


def _first_seen(api, guild: str, user: str, when: datetime) -> None:
    """A member xpshop first saw at `when`: created through the API, its createdAt (epoch ms) moved back."""
    from xpshop.store import keys
    from xpshop.store.table import table

    if api.put(f"/api/xp/guilds/{guild}").status not in (200, 201):
        raise AssertionError("guild registration failed")
    _api_set(api, guild, user, 0)
    table().update_item(
        Key=keys.member(guild, user),
        UpdateExpression="SET createdAt = :t",
        ExpressionAttributeValues={":t": int(when.timestamp() * 1000)},
    )


def test_rejoining_does_not_reopen_newcomer_coupons(api, guild, discord_app, interactions_queue, monkeypatch):
    monkeypatch.setenv("SHOP_GUILD_IDS", guild)
    code = shop.unique("NEWBIE")
    assert api.post("/api/v1/coupons/create", {"code": code, "credit_grant": 15, "day_limit": 7}).status == 201
    now = datetime.now(UTC)
    rejoined_an_hour_ago = now - timedelta(hours=1)

    veteran = shop.funded_user(api, new_user_id(), 0)
    _first_seen(api, guild, veteran, now - timedelta(days=30))  # chatting here for a month, then left and rejoined
    text = _redeem(discord_app, interactions_queue, guild, veteran, code, rejoined_an_hour_ago)
    assert "joined the server in the last 7 day(s)" in text
    assert _credits(api, veteran) == 0

    newcomer = shop.funded_user(api, new_user_id(), 0)  # never seen before
    text = _redeem(discord_app, interactions_queue, guild, newcomer, code, rejoined_an_hour_ago)
    assert "Coupon redeemed: 15 credits" in text
    assert _credits(api, newcomer) == 15

    chatted = shop.funded_user(api, new_user_id(), 0)  # seen a moment ago: joined_at is the earlier date
    _first_seen(api, guild, chatted, now - timedelta(minutes=5))
    text = _redeem(discord_app, interactions_queue, guild, chatted, code, now - timedelta(days=3))
    assert "Coupon redeemed: 15 credits" in text


def test_first_seen_in_another_server_does_not_count(api, guild, discord_app, interactions_queue, monkeypatch):
    """The day_limit is about this server: a member xpshop saw long ago elsewhere is new here."""
    from tests.support.storage import new_guild_id

    monkeypatch.setenv("SHOP_GUILD_IDS", guild)
    code = shop.unique("WELCOME")
    assert api.post("/api/v1/coupons/create", {"code": code, "credit_grant": 5, "day_limit": 7}).status == 201
    user = shop.funded_user(api, new_user_id(), 0)
    _first_seen(api, new_guild_id(), user, datetime.now(UTC) - timedelta(days=300))
    text = _redeem(discord_app, interactions_queue, guild, user, code, datetime.now(UTC) - timedelta(days=1))
    assert "Coupon redeemed: 5 credits" in text


def test_first_seen_is_kept_by_every_later_write(api, guild):
    """createdAt is written once, by the write that creates the member, and never again."""
    from tests.support.storage import member_item

    user = new_user_id()
    _api_set(api, guild, user, 10)
    first = member_item(guild, user)["createdAt"]
    time.sleep(0.01)
    _api_set(api, guild, user, _start(3))
    assert api.post(f"/api/xp/users/{guild}/{user}", {"amount": 5}).status == 200
    assert api.delete(f"/api/xp/users/{guild}/{user}", {"amount": _start(3)}).status == 200
    _message(guild, user)
    assert member_item(guild, user)["createdAt"] == first


# ---------------------------------------------------------------- Give XP: once per message, for good


def test_give_xp_refuses_a_message_older_than_its_once_mark(api, shop_guild, discord_app):
    """Give XP pays once per message by a mark that expires after 90 days (ONCE_TTL_SECONDS); a message
    that old could be rewarded again once its mark was gone (messages stay in Discord for good). A message
    older than the mark's lifetime is now refused, so no message is ever rewarded twice."""
    from xpshop.ids import snowflake_at
    from xpshop.store.markers import ONCE_TTL_SECONDS

    author = new_user_id()
    now = int(time.time() * 1000)
    old = str(snowflake_at(now - ONCE_TTL_SECONDS * 1000 - 60_000))
    _, answer = d.call(discord_app.signer, d.message_command(shop_guild, new_user_id(), old, author))
    assert "too old" in _text(answer) and answer["data"]["flags"] == EPHEMERAL
    from tests.support.storage import member_item

    assert member_item(shop_guild, author) is None
    recent = str(snowflake_at(now - (ONCE_TTL_SECONDS - 86_400) * 1000))
    _, answer = d.call(discord_app.signer, d.message_command(shop_guild, new_user_id(), recent, author))
    assert "earned **50** XP" in _text(answer)
