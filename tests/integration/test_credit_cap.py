"""The balance cap, shop.MAX_CREDITS (10^12, the bound the OpenAPI document states for every amount and
balance): no write that adds credits takes a balance past it, however many race (DynamoDB Local, real
parallel requests). Each refusal changes nothing: no balance, no ledger entry, no coupon use."""

from __future__ import annotations

from tests.support import shop
from tests.support.storage import new_user_id

CAP = 10**12


def _kinds(api, user: str) -> list[str]:
    return [e["type"] for e in api.get(f"/api/v1/users/transactions?id={user}").body["transactions"]]


def _credits(api, user: str) -> int:
    return api.get(f"/api/v1/users/info?id={user}").body["credits"]


def test_modify_up_to_the_cap_and_not_past_it(api):
    user = shop.funded_user(api, new_user_id(), CAP - 10)
    past = api.request("PATCH", "/api/v1/credits/modify", {"id": user, "amount": 11})
    assert (past.status, past.error["code"]) == (409, "CREDIT_LIMIT"), past.body
    assert str(CAP) in past.error["message"]
    assert _credits(api, user) == CAP - 10
    assert api.request("PATCH", "/api/v1/credits/modify", {"id": user, "amount": 10}).body == {"credits": CAP}
    assert _kinds(api, user) == ["credits_set", "credits_modify"]
    fresh = new_user_id()  # no profile yet: the largest amount creates it at the cap
    assert api.request("PATCH", "/api/v1/credits/modify", {"id": fresh, "amount": CAP}).body == {"credits": CAP}
    again = api.request("PATCH", "/api/v1/credits/modify", {"id": fresh, "amount": 1})
    assert (again.status, again.error["code"]) == (409, "CREDIT_LIMIT")


def test_parallel_additions_stop_exactly_at_the_cap(api, parallel):
    user = shop.funded_user(api, new_user_id(), CAP - 50)
    results = parallel.run([("PATCH", "/api/v1/credits/modify", {"id": user, "amount": 10}, None)] * 12)
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * 5 + [409] * 7, results
    assert all(body["error"]["code"] == "CREDIT_LIMIT" for status, body in results if status == 409)
    assert _credits(api, user) == CAP
    assert _kinds(api, user).count("credits_modify") == 5


def test_a_coupon_whose_credits_would_pass_the_cap_is_refused_whole(api):
    user = shop.funded_user(api, new_user_id(), CAP - 5)
    item = shop.cosmetic(api, shop.category(api))
    code = shop.unique("CAP")
    body = {"code": code, "credit_grant": 6, "cosmetic_grant": item["id"], "uses": 3}
    assert api.post("/api/v1/coupons/create", body).status == 201
    r = api.post("/api/v1/coupons/redeem", {"id": user, "code": code})
    assert (r.status, r.error["code"]) == (409, "CREDIT_LIMIT"), r.body
    info = api.get(f"/api/v1/users/info?id={user}").body
    assert (info["credits"], info["cosmetics"]["locker"]) == (CAP - 5, [])
    assert next(c for c in api.get("/api/v1/coupons/list").body if c["code"] == code)["used"] == 0
    api.request("PATCH", "/api/v1/credits/modify", {"id": user, "amount": -1})
    r = api.post("/api/v1/coupons/redeem", {"id": user, "code": code})  # now it fits exactly
    assert r.status == 200, r.body
    assert _credits(api, user) == CAP


def test_a_creator_at_the_cap_is_paid_what_still_fits_and_the_buyer_is_not_refused(api):
    owner = shop.funded_user(api, new_user_id(), CAP - 2)
    code = shop.unique("capc").replace(" ", "")
    assert api.post("/api/v1/creatorcodes/create", {"code": code, "assigned_user": owner}).status == 201
    item = shop.cosmetic(api, shop.category(api), cost=100)  # 5 % of 100: 5, 2 fit
    buyer = shop.funded_user(api, new_user_id(), 100)
    assert api.post("/api/v1/creatorcodes/set", {"id": buyer, "code": code}).status == 200
    r = api.post("/api/v1/cosmetics/buy", {"id": buyer, "cosmeticid": item["id"]})
    assert r.status == 200, r.body
    assert (r.body["credits"], r.body["creator"]) == (0, {"code": code, "payout": 2})
    assert _credits(api, owner) == CAP
    second = shop.cosmetic(api, shop.category(api), cost=100)  # nothing fits now: bought, nothing paid
    shop.funded_user(api, buyer, 100)
    r = api.post("/api/v1/cosmetics/buy", {"id": buyer, "cosmeticid": second["id"]})
    assert (r.status, r.body["creator"]) == (200, None), r.body
    assert _credits(api, owner) == CAP


def test_level_credits_at_the_cap_are_not_paid_and_the_levels_are_accounted_for(api):
    from xpshop.service.shop import credits
    from xpshop.store import credits as store

    user = shop.funded_user(api, new_user_id(), CAP - 3)
    guild = new_user_id()
    paid = credits.pay_level_credits(user, guild, 1, 3, per_level=5, earned_levels=2, max_payment=1000)
    assert paid == 0
    assert _credits(api, user) == CAP - 3
    assert store.level_mark(user, guild) == 3
    assert _kinds(api, user) == ["credits_set"]
