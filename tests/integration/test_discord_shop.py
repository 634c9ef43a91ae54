"""The shop commands over the signed webhook on DynamoDB Local: the invoker's own account, the same rules
as /api/v1 (prices, creator payouts, coupons with day_limit against member.joined_at, keys)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.support import discord as d
from tests.support import shop
from tests.support.storage import new_user_id

EPHEMERAL = 64


def _text(answer: dict) -> str:
    data = answer["data"]
    parts = [data.get("content") or ""]
    for embed in data.get("embeds", []):
        parts += [embed.get("title") or "", embed.get("description") or "", (embed.get("footer") or {}).get("text", "")]
    return "\n".join(parts)


def _run(discord_app, guild: str, user: str, name: str, options=(), joined_at: str | None = None) -> dict:
    payload = d.command(guild, user, name, options=list(options))
    if joined_at:
        payload["member"]["joined_at"] = joined_at
    status, answer = d.call(discord_app.signer, payload)
    assert status == 200
    return answer


def _deferred(discord_app, queue: str, guild: str, user: str, name: str, options=(), joined_at=None) -> str:
    """A deferred command end to end: 'thinking', the queue, the worker, the edited answer."""
    from tests.support.sqs import receive_all, run_worker

    payload = d.command(guild, user, name, options=list(options))
    if joined_at:
        payload["member"]["joined_at"] = joined_at
    _, answer = d.call(discord_app.signer, payload)
    assert answer == {"type": 5, "data": {"flags": EPHEMERAL}}
    assert run_worker(receive_all(queue)) == {"batchItemFailures": []}
    edit = discord_app.fake.webhook_messages[(d.APP_ID, payload["token"])][-1]
    return "\n".join(e.get("description", "") for e in edit["embeds"])


@pytest.fixture
def catalog(api):
    category = shop.category(api)
    return {
        "hat": shop.cosmetic(api, category, cost=30, kind="hat"),
        "wings": shop.cosmetic(api, category, cost=50, kind="wings"),
        "free": shop.cosmetic(api, category, cost=0, kind="pet"),
    }


def test_shop_lists_what_is_for_sale(api_own_table, discord_app):
    # a table of its own: /shop lists the whole catalogue (the first 25), and other tests fill the session's
    api = api_own_table
    category = shop.category(api)
    hat = shop.cosmetic(api, category, cost=30, kind="hat")
    free = shop.cosmetic(api, category, cost=0, kind="pet")
    guild = "870000000000000101"
    assert api.put(f"/api/xp/guilds/{guild}").status == 201
    text = _text(_run(discord_app, guild, new_user_id(), "shop"))
    assert f"**{hat['name']}** · hat · 30 credits" in text
    assert free["name"] not in text


def test_buy_equip_locker_credits_unequip(api, guild, discord_app, interactions_queue, catalog):
    user = shop.funded_user(api, new_user_id(), 100)
    hat = catalog["hat"]["name"]
    bought = _deferred(discord_app, interactions_queue, guild, user, "buy", [d.option("cosmetic", hat)])
    assert f"You bought **{hat}** for 30 credits. Balance: **70**" in bought
    assert "earned" not in bought
    assert "You now wear" in _text(_run(discord_app, guild, user, "equip", [d.option("cosmetic", hat.upper())]))
    info = api.get(f"/api/v1/users/info?id={user}").body
    assert info["credits"] == 70 and info["cosmetics"]["equipped"]["hat"] == catalog["hat"]["id"]
    locker = _text(_run(discord_app, guild, user, "locker"))
    assert f"✅ {hat}" in locker and "1 cosmetic(s) · 70 credits" in locker
    assert "**70** credits" in _text(_run(discord_app, guild, user, "credits"))
    _run(discord_app, guild, user, "unequip", [d.option("slot", "hat")])
    assert api.get(f"/api/v1/users/info?id={user}").body["cosmetics"]["equipped"]["hat"] is None


def test_buy_refusals_are_clear(api, guild, discord_app, interactions_queue, catalog):
    poor = shop.funded_user(api, new_user_id(), 10)
    text = _deferred(
        discord_app, interactions_queue, guild, poor, "buy", [d.option("cosmetic", catalog["wings"]["name"])]
    )
    assert "costs 50; the balance is 10" in text
    text = _deferred(discord_app, interactions_queue, guild, poor, "buy", [d.option("cosmetic", "No Such Thing")])
    assert "No cosmetic named" in text
    assert api.get(f"/api/v1/users/info?id={poor}").body["credits"] == 10


def test_a_redelivered_purchase_charges_once(api, guild, discord_app, interactions_queue, catalog):
    from tests.support.sqs import receive_all, run_worker

    user = shop.funded_user(api, new_user_id(), 100)
    payload = d.command(guild, user, "buy", options=[d.option("cosmetic", catalog["hat"]["name"])])
    d.call(discord_app.signer, payload)
    queued = receive_all(interactions_queue)
    run_worker(queued)
    run_worker(queued)  # SQS delivers it again
    assert api.get(f"/api/v1/users/info?id={user}").body["credits"] == 70
    edits = discord_app.fake.webhook_messages[(d.APP_ID, payload["token"])]
    assert len(edits) == 2 and edits[0] == edits[1]


def test_redeem_checks_day_limit_against_joined_at(api, guild, discord_app, interactions_queue, monkeypatch):
    monkeypatch.setenv("SHOP_GUILD_IDS", guild)
    code = shop.unique("NEWBIE")
    assert api.post("/api/v1/coupons/create", {"code": code, "credit_grant": 15, "day_limit": 7}).status == 201
    recent = shop.funded_user(api, new_user_id(), 0)
    veteran = shop.funded_user(api, new_user_id(), 0)
    now = datetime.now(UTC)
    joined_recently = (now - timedelta(days=2)).isoformat()
    joined_long_ago = (now - timedelta(days=30)).isoformat()
    text = _deferred(
        discord_app, interactions_queue, guild, veteran, "redeem", [d.option("code", code)], joined_long_ago
    )
    assert "joined the server in the last 7 day(s)" in text
    text = _deferred(
        discord_app, interactions_queue, guild, recent, "redeem", [d.option("code", code)], joined_recently
    )
    assert "Coupon redeemed: 15 credits" in text
    assert api.get(f"/api/v1/users/info?id={recent}").body["credits"] == 15
    assert api.get(f"/api/v1/users/info?id={veteran}").body["credits"] == 0
    again = _deferred(
        discord_app, interactions_queue, guild, recent, "redeem", [d.option("code", code)], joined_recently
    )
    assert "already redeemed" in again


def test_creator_code_and_payout(api, guild, discord_app, interactions_queue, catalog):
    creator = shop.funded_user(api, new_user_id(), 0)
    code = shop.unique("maker")
    assert api.post("/api/v1/creatorcodes/create", {"code": code, "assigned_user": creator}).status in (200, 201)
    fan = shop.funded_user(api, new_user_id(), 100)
    assert "You now support" in _text(_run(discord_app, guild, fan, "creator-code", [d.option("code", code)]))
    text = _deferred(
        discord_app, interactions_queue, guild, fan, "buy", [d.option("cosmetic", catalog["wings"]["name"])]
    )
    assert f"2 credits went to creator **{code}**" in text  # floor(50 x 5 / 100)
    assert api.get(f"/api/v1/users/info?id={creator}").body["credits"] == 2


def test_apikey_is_private_and_works_on_the_shop_api(api, guild, discord_app):
    user = shop.funded_user(api, new_user_id(), 5)
    answer = _run(discord_app, guild, user, "apikey")
    assert answer["data"]["flags"] == EPHEMERAL
    key = _text(answer).split("`")[1]
    own = api.get(f"/api/v1/users/info?id={user}", key=key)
    assert (own.status, own.body["credits"]) == (200, 5)
    assert api.get(f"/api/v1/users/info?id={new_user_id()}", key=key).status == 403


def test_accounts_without_a_profile_are_told_what_to_do(api, guild, discord_app):
    answer = _run(discord_app, guild, new_user_id(), "credits")
    assert answer["data"]["flags"] == EPHEMERAL and "no shop account yet" in _text(answer)


def test_shop_answers_carry_no_unexpected_fields(api, guild, discord_app, catalog):
    """Every answer is a valid Discord message payload (type 4; content/embeds/flags/allowed_mentions)."""
    answer = _run(discord_app, guild, new_user_id(), "shop")
    assert answer["type"] == 4
    assert set(answer["data"]) <= {"content", "embeds", "flags", "allowed_mentions"}
    json.dumps(answer)


def test_day_limit_coupons_only_count_join_dates_of_trusted_servers(api, guild, discord_app, interactions_queue):
    """A fresh server always has a fresh join date: outside SHOP_GUILD_IDS a day_limit coupon is refused."""
    code = shop.unique("FRESH")
    assert api.post("/api/v1/coupons/create", {"code": code, "credit_grant": 15, "day_limit": 7}).status == 201
    user = shop.funded_user(api, new_user_id(), 0)
    joined_now = datetime.now(UTC).isoformat()
    text = _deferred(discord_app, interactions_queue, guild, user, "redeem", [d.option("code", code)], joined_now)
    assert "joined the server in the last 7 day(s)" in text
    assert api.get(f"/api/v1/users/info?id={user}").body["credits"] == 0


def test_shop_refusals_speak_to_the_member_not_of_their_id(api, guild, discord_app, interactions_queue, catalog):
    """The shop services' messages name the account by its id (the API's caller is an operator); in Discord the
    member is told about themselves, and a bad option is named as the command's option, not the API field."""
    user = shop.funded_user(api, new_user_id(), 100)
    hat, wings = catalog["hat"]["name"], catalog["wings"]["name"]
    text = _text(_run(discord_app, guild, user, "equip", [d.option("cosmetic", wings)]))
    assert f"You don't own **{wings}**" in text and user not in text, text
    text = _deferred(discord_app, interactions_queue, guild, user, "buy", [d.option("cosmetic", hat)])
    assert "You bought" in text
    text = _deferred(discord_app, interactions_queue, guild, user, "buy", [d.option("cosmetic", hat)])
    assert f"You already own **{hat}**" in text and user not in text, text
    assert api.get(f"/api/v1/users/info?id={user}").body["credits"] == 70
    nobody = new_user_id()
    answer = _run(discord_app, guild, nobody, "unequip", [d.option("slot", "hat")])
    assert answer["data"]["flags"] == EPHEMERAL and "no shop account yet" in _text(answer)
    assert nobody not in _text(answer)
    text = _text(_run(discord_app, guild, user, "equip", [d.option("cosmetic", "   ")]))
    assert "`cosmetic`" in text and "name:" not in text, text
    text = _text(_run(discord_app, guild, user, "creator-code", [d.option("code", "\u3000")]))
    assert "`code`" in text and "code:" not in text, text


def test_a_coupon_redeemed_twice_is_refused_in_the_members_words(api, guild, discord_app, interactions_queue):
    code = f"TWICE{new_user_id()[-6:]}"
    assert api.post("/api/v1/coupons/create", {"code": code, "credit_grant": 5}).status == 201
    user = shop.funded_user(api, new_user_id(), 0)
    assert "Coupon redeemed" in _deferred(
        discord_app, interactions_queue, guild, user, "redeem", [d.option("code", code)]
    )
    text = _deferred(discord_app, interactions_queue, guild, user, "redeem", [d.option("code", code)])
    assert "You already redeemed this coupon" in text and user not in text, text
