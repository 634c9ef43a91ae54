"""Shop rules under real parallel requests (worker processes) against DynamoDB Local."""

from __future__ import annotations

from tests.support import shop
from tests.support.storage import new_user_id


def _ledger(discord_id: str) -> list:
    from xpshop.store import ledger

    entries, _ = ledger.page(discord_id, None, None)
    return entries


def test_hundred_parallel_buys_with_credits_for_ten(api, parallel):
    category = shop.category(api)
    items = [shop.cosmetic(api, category, cost=7) for _ in range(100)]
    user = shop.funded_user(api, new_user_id(), 70)
    results = parallel.run(
        [("POST", "/api/v1/cosmetics/buy", {"id": user, "cosmeticid": c["id"]}, None) for c in items]
    )
    statuses = [status for status, _ in results]
    assert statuses.count(200) == 10, statuses
    assert statuses.count(409) == 90
    assert all(body["error"]["code"] == "INSUFFICIENT_CREDITS" for status, body in results if status == 409)
    info = api.get(f"/api/v1/users/info?id={user}").body
    assert info["credits"] == 0
    assert len(info["cosmetics"]["locker"]) == 10
    purchases = [e for e in _ledger(user) if e.kind == "purchase"]
    assert sorted(e.cosmetic_id for e in purchases) == sorted(info["cosmetics"]["locker"])
    assert sum(e.cost for e in purchases) == 70


def test_fifty_users_race_for_a_five_use_coupon(api, parallel):
    code = shop.unique("RACE")
    assert api.post("/api/v1/coupons/create", {"code": code, "credit_grant": 10, "uses": 5}).status == 201
    users = [shop.funded_user(api, new_user_id(), 0) for _ in range(50)]
    results = parallel.run([("POST", "/api/v1/coupons/redeem", {"id": u, "code": code}, None) for u in users])
    statuses = [status for status, _ in results]
    assert statuses.count(200) == 5, statuses
    assert all(body["error"]["code"] == "COUPON_EXHAUSTED" for status, body in results if status != 200)
    listed = {c["code"]: c for c in api.get("/api/v1/coupons/list").body}
    assert listed[code]["used"] == 5
    credited = [u for u in users if api.get(f"/api/v1/users/info?id={u}").body["credits"] == 10]
    assert len(credited) == 5


def test_one_user_redeeming_five_times_in_parallel_gets_it_once(api, parallel):
    code = shop.unique("ONCE")
    assert api.post("/api/v1/coupons/create", {"code": code, "credit_grant": 25}).status == 201
    user = shop.funded_user(api, new_user_id(), 0)
    results = parallel.run([("POST", "/api/v1/coupons/redeem", {"id": user, "code": code}, None)] * 5)
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 409, 409, 409, 409]
    assert api.get(f"/api/v1/users/info?id={user}").body["credits"] == 25
    assert [e.kind for e in _ledger(user)].count("redeem") == 1


def test_one_minecraft_account_linked_to_two_discord_ids_in_parallel(api, parallel):
    name = shop.unique("Steve")[:16]
    a, b = new_user_id(), new_user_id()
    results = parallel.run(
        [("POST", "/api/v1/users/link", {"discordid": d, "minecraft_username": name}, None) for d in (a, b, a, b)]
    )
    winners = {body["discord_id"] for status, body in results if status == 200}
    assert len(winners) == 1
    assert all(body["error"]["code"] == "ALREADY_LINKED" for status, body in results if status != 200)
    winner = winners.pop()
    loser = b if winner == a else a
    links = api.get("/api/v1/users/list").body
    assert links.get(winner) is not None
    assert loser not in links


def test_parallel_buys_of_one_item_charge_once(api, parallel):
    category = shop.category(api)
    item = shop.cosmetic(api, category, cost=30)
    user = shop.funded_user(api, new_user_id(), 100)
    results = parallel.run([("POST", "/api/v1/cosmetics/buy", {"id": user, "cosmeticid": item["id"]}, None)] * 8)
    assert sorted(status for status, _ in results) == [200] + [409] * 7
    assert api.get(f"/api/v1/users/info?id={user}").body["credits"] == 70


def test_parallel_credit_changes_add_up(api, parallel):
    user = shop.funded_user(api, new_user_id(), 100)
    results = parallel.run([("PATCH", "/api/v1/credits/modify", {"id": user, "amount": d}, None) for d in [5, -3] * 20])
    assert all(status == 200 for status, _ in results)
    assert api.get(f"/api/v1/users/info?id={user}").body["credits"] == 140
    assert sum(e.amount for e in _ledger(user) if e.kind == "credits_modify") == 40


def test_redeem_racing_an_edit_of_its_grant_gets_what_the_coupon_grants_when_it_counts(api, parallel):
    """The redemption read the coupon (1000 credits), then an admin cut the grant to 1 before its write:
    the write must not pay the grant it read, it decides again on the coupon as it is."""
    from tests.support.interleave import before_first

    code = shop.unique("CUT")
    assert api.post("/api/v1/coupons/create", {"code": code, "credit_grant": 1000, "uses": 10}).status == 201
    user = shop.funded_user(api, new_user_id(), 0)
    edit = ("PATCH", "/api/v1/coupons/edit", {"original_code": code, "credit_grant": 1}, None)
    with before_first("TransactWriteItems", lambda: parallel.run([edit])) as edited:
        r = api.post("/api/v1/coupons/redeem", {"id": user, "code": code})
    assert [status for status, _ in edited[0]] == [200]
    assert r.status == 200, r.body
    assert r.body["rewards"]["credits"] == 1
    assert api.get(f"/api/v1/users/info?id={user}").body["credits"] == 1
    assert [(e.kind, e.amount) for e in _ledger(user) if e.kind == "redeem"] == [("redeem", 1)]
    listed = {c["code"]: c for c in api.get("/api/v1/coupons/list").body}
    assert (listed[code]["credit_grant"], listed[code]["used"]) == (1, 1)


def test_redeem_racing_a_change_of_its_cosmetic_grants_the_new_one(api, parallel):
    category = shop.category(api)
    old, new = shop.cosmetic(api, category), shop.cosmetic(api, category)
    code = shop.unique("SWAP")
    assert api.post("/api/v1/coupons/create", {"code": code, "cosmetic_grant": old["id"]}).status == 201
    user = shop.funded_user(api, new_user_id(), 0)
    edit = ("PATCH", "/api/v1/coupons/edit", {"original_code": code, "cosmetic_grant": new["id"]}, None)
    from tests.support.interleave import before_first

    with before_first("TransactWriteItems", lambda: parallel.run([edit])) as edited:
        r = api.post("/api/v1/coupons/redeem", {"id": user, "code": code})
    assert [status for status, _ in edited[0]] == [200]
    assert r.status == 200, r.body
    assert r.body["rewards"]["cosmetic"] == new["name"]
    assert api.get(f"/api/v1/users/info?id={user}").body["cosmetics"]["locker"] == [new["id"]]


def _ledger_balance(entries: list) -> int:
    """What a profile's ledger adds up to, in any order: a set counts as what it changed (amount - previous)."""
    total = 0
    for e in entries:
        if e.kind == "credits_set":
            total += e.amount - e.previous
        elif e.kind == "purchase":
            total -= e.cost
        else:
            total += e.amount or 0
    return total


def test_a_balance_set_racing_changes_is_explained_by_the_ledger(api, parallel):
    """A set committed between changes whose ledger entries were stamped earlier: replaying the ledger by
    its order put the set last and lost the changes applied after it. Each set entry now carries the balance
    it replaced (its write guarded by it), so the ledger adds up to the balance whatever the order."""
    user = shop.funded_user(api, new_user_id(), 0)
    requests = [("PATCH", "/api/v1/credits/modify", {"id": user, "amount": 1}, None) for _ in range(12)]
    requests.insert(6, ("PATCH", "/api/v1/credits/set", {"id": user, "new_amount": 100}, None))
    results = parallel.run(requests)
    assert all(status == 200 for status, _ in results), results
    balance = api.get(f"/api/v1/users/info?id={user}").body["credits"]
    entries = _ledger(user)
    assert _ledger_balance(entries) == balance
    sets = [e for e in entries if e.kind == "credits_set" and e.amount == 100]
    assert len(sets) == 1 and balance == 100 + 12 - sets[0].previous
    listed = api.get(f"/api/v1/users/transactions?id={user}").body["transactions"]
    assert [t.get("previous") for t in listed if t["type"] == "credits_set"] == [0, sets[0].previous]


def test_a_set_records_the_balance_it_replaced(api):
    user = shop.funded_user(api, new_user_id(), 40)
    assert api.request("PATCH", "/api/v1/credits/set", {"id": user, "new_amount": 15}).body == {"credits": 15}
    fresh = new_user_id()  # no profile yet: it is created, replacing nothing (0)
    assert api.request("PATCH", "/api/v1/credits/set", {"id": fresh, "new_amount": 7}).body == {"credits": 7}
    sets = [
        t for t in api.get(f"/api/v1/users/transactions?id={user}").body["transactions"] if t["type"] == "credits_set"
    ]
    assert [(t["amount"], t["previous"]) for t in sets][-1] == (15, 40)
    listed = api.get(f"/api/v1/users/transactions?id={fresh}").body["transactions"]
    assert [(t["type"], t["amount"], t["previous"]) for t in listed] == [("credits_set", 7, 0)]
