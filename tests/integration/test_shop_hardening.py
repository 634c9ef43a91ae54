"""Shop races and inputs found in review: each must end in a consistent state and a clear answer."""

from __future__ import annotations

import base64
import json
import unicodedata

import pytest

from tests.support import shop
from tests.support.storage import new_user_id


def category_item(category_id: str) -> dict:
    from xpshop.store import keys
    from xpshop.store.table import plain, table

    return plain(table().get_item(Key=keys.entity(keys.CATEGORY, category_id), ConsistentRead=True)["Item"])


def test_parallel_deletes_of_one_cosmetic(api, parallel):
    category = shop.category(api)
    item = shop.cosmetic(api, category)
    results = parallel.run([("DELETE", "/api/v1/cosmetics/delete", {"cosmetic": item["name"]}, None)] * 6)
    statuses = sorted(status for status, _ in results)
    assert statuses.count(200) >= 1
    assert set(statuses) <= {200, 404}, results
    assert category_item(category)["cosmeticCount"] == 0
    assert api.request("DELETE", "/api/v1/categories/delete", {"category_id": category}).status == 200


def test_delete_racing_a_move_keeps_category_counts_right(api, parallel):
    first, second = shop.category(api), shop.category(api)
    item = shop.cosmetic(api, first)
    results = parallel.run(
        [
            ("PATCH", "/api/v1/cosmetics/update", {"original_name": item["name"], "categoryid": second}, None),
            ("DELETE", "/api/v1/cosmetics/delete", {"cosmetic": item["name"]}, None),
        ]
    )
    assert all(status < 500 for status, _ in results), results
    assert category_item(first)["cosmeticCount"] == 0
    assert category_item(second)["cosmeticCount"] == 0
    for category in (first, second):
        assert api.request("DELETE", "/api/v1/categories/delete", {"category_id": category}).status == 200


def test_delete_racing_a_rename_frees_the_name(api, parallel):
    category = shop.category(api)
    item = shop.cosmetic(api, category)
    renamed = item["name"] + " II"
    results = parallel.run(
        [
            ("PATCH", "/api/v1/cosmetics/update", {"original_name": item["name"], "name": renamed}, None),
            ("DELETE", "/api/v1/cosmetics/delete", {"cosmetic": item["name"]}, None),
        ]
    )
    assert all(status < 500 for status, _ in results), results
    listed = [c["name"] for c in api.get("/api/v1/cosmetics/list").body]
    if renamed in listed:  # the rename won and the delete found nothing by the old name
        assert api.request("DELETE", "/api/v1/cosmetics/delete", {"cosmetic": renamed}).status == 200
    for name in (item["name"], renamed):
        assert shop.cosmetic(api, category, name=name)["name"] == name  # both names are free again


def test_interrupted_type_change_is_finished_by_the_next_update(api, monkeypatch):
    from xpshop.store import catalog

    user = shop.funded_user(api, new_user_id(), 0)
    item = shop.cosmetic(api, shop.category(api), kind="hat")
    api.post("/api/v1/cosmetics/grant", {"id": user, "cosmeticid": item["id"]})
    api.post("/api/v1/cosmetics/equip", {"id": user, "cosmetictype": "hat", "cosmeticid": item["id"]})
    real = catalog._unequip_everywhere

    def timeout(*_a, **_k):
        raise TimeoutError("the function ran out of time mid-sweep")

    monkeypatch.setattr(catalog, "_unequip_everywhere", timeout)
    assert (
        api.request("PATCH", "/api/v1/cosmetics/update", {"original_name": item["name"], "type": "mask"}).status == 500
    )
    monkeypatch.setattr(catalog, "_unequip_everywhere", real)
    assert api.request("PATCH", "/api/v1/cosmetics/update", {"original_name": item["name"], "cost": 3}).status == 200
    equipped = api.get(f"/api/v1/users/info?id={user}").body["cosmetics"]["equipped"]
    assert equipped["hat"] is None
    wrong_slot = api.post("/api/v1/cosmetics/equip", {"id": user, "cosmetictype": "hat", "cosmeticid": item["id"]})
    assert (wrong_slot.status, wrong_slot.error["code"]) == (409, "TYPE_MISMATCH")


def test_interrupted_type_change_is_finished_by_the_recalc_job(api, monkeypatch):
    from xpshop.service import recalc
    from xpshop.store import catalog

    user = shop.funded_user(api, new_user_id(), 0)
    item = shop.cosmetic(api, shop.category(api), kind="hat")
    api.post("/api/v1/cosmetics/grant", {"id": user, "cosmeticid": item["id"]})
    api.post("/api/v1/cosmetics/equip", {"id": user, "cosmetictype": "hat", "cosmeticid": item["id"]})
    real = catalog._unequip_everywhere
    monkeypatch.setattr(catalog, "_unequip_everywhere", lambda *_a: (_ for _ in ()).throw(TimeoutError()))
    api.request("PATCH", "/api/v1/cosmetics/update", {"original_name": item["name"], "type": "mask"})
    monkeypatch.setattr(catalog, "_unequip_everywhere", real)
    recalc.run(lambda: 1e9, [])
    assert api.get(f"/api/v1/users/info?id={user}").body["cosmetics"]["equipped"]["hat"] is None


def test_owner_count_follows_ownership(api):
    from xpshop.store import catalog

    item = shop.cosmetic(api, shop.category(api), cost=1)
    users = [shop.funded_user(api, new_user_id(), 10) for _ in range(3)]
    api.post("/api/v1/cosmetics/buy", {"id": users[0], "cosmeticid": item["id"]})
    api.post("/api/v1/cosmetics/grant", {"id": users[1], "cosmeticid": item["id"]})
    code = shop.unique("OWN")
    api.post("/api/v1/coupons/create", {"code": code, "cosmetic_grant": item["id"]})
    api.post("/api/v1/coupons/redeem", {"id": users[2], "code": code})
    assert catalog.get_cosmetic(item["id"]).owner_count == 3
    api.request("DELETE", "/api/v1/cosmetics/revoke", {"id": users[1], "cosmeticid": item["id"]})
    assert catalog.get_cosmetic(item["id"]).owner_count == 2


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", "/api/v1/coupons/edit", {"original_code": "ANY", "code": None}),
        ("PATCH", "/api/v1/coupons/edit", {"original_code": "ANY", "active": None}),
        ("GET", "/api/v1/creatorcodes/list?uses_limit=0", None),
    ],
)
def test_bad_inputs_are_400(api, method, path, body):
    r = api.request(method, path, body)
    assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST")


@pytest.mark.parametrize("path", ["/api/v1/coupons/list", "/api/v1/users/list", "/api/v1/creatorcodes/list"])
def test_crafted_cursors_are_400(api, path):
    for crafted in (
        {"PK": "COUPON#", "SK": "META", "GSI1PK": "COUPONS", "GSI1SK": ""},
        {"PK": "MC#", "SK": "LINK", "GSI1PK": "LINKS", "GSI1SK": ""},
        {"PK": "CREATOR#", "SK": "META", "GSI1PK": "CREATORS", "GSI1SK": ""},
    ):
        token = base64.urlsafe_b64encode(json.dumps(crafted).encode()).decode().rstrip("=")
        r = api.get(f"{path}?limit=1&cursor={token}")
        assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST"), (path, crafted)


def test_names_are_unique_after_normalisation(api):
    base = shop.unique("Café ")
    assert api.post("/api/v1/categories/create", {"name": unicodedata.normalize("NFC", base)}).status == 201
    for twin in (unicodedata.normalize("NFD", base), base.upper()):
        r = api.post("/api/v1/categories/create", {"name": twin})
        assert (r.status, r.error["code"]) == (409, "DUPLICATE_NAME"), twin
    hidden = api.post("/api/v1/categories/create", {"name": base + "\u200b"})
    assert (hidden.status, hidden.error["code"]) == (400, "INVALID_REQUEST")


def test_idempotency_keys_are_per_caller(api):
    a, b = shop.funded_user(api, new_user_id(), 100), shop.funded_user(api, new_user_id(), 100)
    item = shop.cosmetic(api, shop.category(api), cost=5)
    key_a = api.post("/api/v1/keys", {"id": a}).body["key"]
    key_b = api.post("/api/v1/keys", {"id": b}).body["key"]
    same = {"Idempotency-Key": "order-1"}
    assert api.post("/api/v1/cosmetics/buy", {"id": a, "cosmeticid": item["id"]}, key=key_a, headers=same).status == 200
    assert api.post("/api/v1/cosmetics/buy", {"id": b, "cosmeticid": item["id"]}, key=key_b, headers=same).status == 200


def test_idempotency_keys_are_per_api_key(api):
    """Two integrations with their own API keys (each acting as the shop's admin) pick the same
    Idempotency-Key: each request runs, neither replays the other's answer nor is refused as a reuse."""
    user = shop.funded_user(api, new_user_id(), 0)
    scopes = {"scopes": ["shop:read", "shop:write"], "guildIds": ["*"]}
    first = api.post("/api/keys", {"name": "integration-a", **scopes}).data["key"]
    second = api.post("/api/keys", {"name": "integration-b", **scopes}).data["key"]
    same = {"Idempotency-Key": "order-1"}
    grant = {"id": user, "amount": 10}
    assert api.request("PATCH", "/api/v1/credits/modify", grant, key=first, headers=same).body == {"credits": 10}
    assert api.request("PATCH", "/api/v1/credits/modify", grant, key=second, headers=same).body == {"credits": 20}
    other = api.request("PATCH", "/api/v1/credits/modify", {"id": user, "amount": 5}, headers=same)  # the admin key
    assert (other.status, other.body) == (200, {"credits": 25})
    # a retry by the same key still replays its own first answer
    assert api.request("PATCH", "/api/v1/credits/modify", grant, key=first, headers=same).body == {"credits": 10}
    assert api.get(f"/api/v1/users/info?id={user}").body["credits"] == 25
    entries = api.get(f"/api/v1/users/transactions?id={user}").body["transactions"]
    assert [e["amount"] for e in entries if e["type"] == "credits_modify"] == [10, 10, 5]


def test_a_body_that_repeats_a_key_is_refused_even_under_a_used_idempotency_key(api):
    """A body that repeats a key is a 400 (strict_json unique_keys). The fingerprint read the body with
    last-key-wins, so `{"amount": 1, "amount": 5}` sent with the key of an earlier `{"amount": 5}` matched it
    and got the stored answer instead: it is refused, and nothing is replayed or written."""
    user = shop.funded_user(api, new_user_id(), 0)
    same = {"Idempotency-Key": "grant-dup-1"}
    first = api.request("PATCH", "/api/v1/credits/modify", {"id": user, "amount": 5}, headers=same)
    assert (first.status, first.body) == (200, {"credits": 5})
    for raw in (
        f'{{"id": "{user}", "amount": 1, "amount": 5}}',
        f'{{"id": "{user}", "amount": 5, "amount": 5}}',
        f'{{"id": "{user}", "id": "{user}", "amount": 5}}',
    ):
        r = api.request("PATCH", "/api/v1/credits/modify", raw=raw, headers=same)
        assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST"), (raw, r.status, r.body)
        assert "duplicate key" in r.error["message"], r.error
    again = api.request("PATCH", "/api/v1/credits/modify", {"id": user, "amount": 5}, headers=same)
    assert (again.status, again.body) == (200, {"credits": 5})  # the real retry still replays
    assert api.get(f"/api/v1/users/info?id={user}").body["credits"] == 5
    entries = api.get(f"/api/v1/users/transactions?id={user}").body["transactions"]
    assert [e["amount"] for e in entries if e["type"] == "credits_modify"] == [5]


def test_a_number_too_long_to_read_is_invalid_json(api):
    """Python refuses to read an integer of more than 4300 digits (a ValueError that is not a JSONDecodeError):
    the body is not readable JSON, a 400, not a 500; nothing is written."""
    user = shop.funded_user(api, new_user_id(), 7)
    r = api.request("PATCH", "/api/v1/credits/modify", raw=f'{{"id": "{user}", "amount": {"9" * 5000}}}')
    assert (r.status, r.error) == (400, {"code": "INVALID_REQUEST", "message": "Invalid JSON in request body"})
    entries = api.get(f"/api/v1/users/transactions?id={user}").body["transactions"]
    assert api.get(f"/api/v1/users/info?id={user}").body["credits"] == 7
    assert [e["type"] for e in entries] == ["credits_set"]


def test_two_edits_cannot_leave_a_coupon_without_a_grant(api, monkeypatch):
    """Each edit removes one of the coupon's two grants, each deciding on the coupon read before the other
    wrote: the second must not leave it granting nothing (the rule is checked by the write itself)."""
    from xpshop.service.shop import coupons as service

    item = shop.cosmetic(api, shop.category(api))
    code = shop.unique("BOTH").replace(" ", "")
    assert (
        api.post("/api/v1/coupons/create", {"code": code, "credit_grant": 10, "cosmetic_grant": item["id"]}).status
        == 201
    )
    stale = service.by_code(code)  # what the second edit read, before the first one wrote
    first = api.request("PATCH", "/api/v1/coupons/edit", {"original_code": code, "credit_grant": None})
    assert first.status == 200, first.body
    reads = iter([stale])
    real_by_code = service.by_code
    monkeypatch.setattr(service, "by_code", lambda c: next(reads, None) or real_by_code(c))
    second = api.request("PATCH", "/api/v1/coupons/edit", {"original_code": code, "cosmetic_grant": None})
    assert (second.status, second.error["code"]) == (400, "INVALID_REQUEST"), second.body
    stored = next(c for c in api.get("/api/v1/coupons/list").body if c["code"] == code)
    assert (stored["credit_grant"], stored["cosmetic_grant"]) == (None, item["id"])


def test_transactions_report_cost_zero_for_non_purchases(api):
    user = shop.funded_user(api, new_user_id(), 5)
    entries = api.get(f"/api/v1/users/transactions?id={user}").body["transactions"]
    assert entries[0]["cost"] == 0
