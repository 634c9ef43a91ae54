"""Every /api/v1 endpoint through its handler on DynamoDB Local: shapes, stored state, errors, auth."""

from __future__ import annotations

import pytest

from tests.support import shop
from tests.support.storage import new_user_id
from xpshop.store.table import plain, table


@pytest.fixture
def catalog(api):
    category = shop.category(api)
    return {
        "category": category,
        "hat": shop.cosmetic(api, category, cost=50, kind="hat"),
        "cloak": shop.cosmetic(api, category, cost=125, kind="cloak"),
        "free": shop.cosmetic(api, category, cost=0, kind="pet"),
    }


def info(api, user: str) -> dict:
    r = api.get(f"/api/v1/users/info?id={user}")
    assert r.status == 200, r.body
    return r.body


# ------------------------------------------------------------------ categories


def test_category_lifecycle(api):
    name = shop.unique("Lightning Set ")
    created = api.post("/api/v1/categories/create", {"name": name})
    assert created.status == 201
    assert set(created.body) == {"id", "name"}
    assert len(created.body["id"]) == 8 and created.body["id"].isalnum()
    assert created.body in api.get("/api/v1/categories/list").body
    dup = api.post("/api/v1/categories/create", {"name": name.upper()})
    assert (dup.status, dup.error["code"]) == (409, "DUPLICATE_NAME")
    renamed = api.request("PATCH", "/api/v1/categories/rename", {"old_name": name, "new_name": name + " II"})
    assert renamed.body == {"id": created.body["id"], "name": name + " II"}
    assert api.request("PATCH", "/api/v1/categories/rename", {"old_name": name, "new_name": "x"}).status == 404
    deleted = api.request("DELETE", "/api/v1/categories/delete", {"category_id": created.body["id"]})
    assert deleted.status == 200
    assert created.body["id"] not in [c["id"] for c in api.get("/api/v1/categories/list").body]
    # the name is free again
    assert api.post("/api/v1/categories/create", {"name": name}).status == 201


def test_category_with_cosmetics_cannot_be_deleted(api, catalog):
    r = api.request("DELETE", "/api/v1/categories/delete", {"category_id": catalog["category"]})
    assert (r.status, r.error["code"]) == (409, "CATEGORY_NOT_EMPTY")
    assert catalog["hat"]["name"] in r.error["message"]


# ------------------------------------------------------------------ cosmetics


def test_cosmetic_create_list_shop(api, catalog):
    hat = catalog["hat"]
    assert len(hat["id"]) == 8
    listed = {c["id"]: c for c in api.get("/api/v1/cosmetics/list").body}
    assert listed[hat["id"]] == hat
    assert {"categoryId", "cost", "description", "id", "name", "showcaseImage", "type"} <= set(hat)
    buyable = {c["id"] for c in api.get("/api/v1/cosmetics/shop").body}
    assert hat["id"] in buyable
    assert catalog["free"]["id"] not in buyable


def test_catalog_lists_keep_the_order_things_were_created_in(api):
    """The shop document's lists are in creation order: categories/list shows eIH69Ue4 "Lightning Set" before
    F1wHozEL "Fluffy Series" (neither id nor name order), cosmetics/list AIr77hfh "Enderman" before AgsoNWHI
    "Birthday Cape!" (not name order). Names made in reverse alphabetical order, ids random."""
    tag = shop.unique("")
    categories = [
        api.post("/api/v1/categories/create", {"name": f"{letter} order {tag}"}).body["id"] for letter in "ZYXWVU"
    ]
    listed = [c["id"] for c in api.get("/api/v1/categories/list").body if c["id"] in categories]
    assert listed == categories
    made = [
        shop.cosmetic(api, categories[0], cost=n, name=f"{letter} order {tag}") for n, letter in enumerate("ZYXWVU")
    ]
    ids = [c["id"] for c in made]
    assert [c["id"] for c in api.get("/api/v1/cosmetics/list").body if c["id"] in ids] == ids
    assert [c["id"] for c in api.get("/api/v1/cosmetics/shop").body if c["id"] in ids] == ids[1:]  # cost 0: not sold


def test_cosmetic_needs_an_existing_category_and_a_unique_name(api, catalog):
    r = api.post(
        "/api/v1/cosmetics/create",
        {
            "name": shop.unique("Orphan "),
            "type": "cloak",
            "description": "d",
            "categoryid": "ZZZZZZZZ",
            "cost": 1,
            "showcase_image_url": "https://x/s.png",
            "texture_source_url": "https://x/t.png",
        },
    )
    assert (r.status, r.error["code"]) == (404, "CATEGORY_NOT_FOUND")
    dup = api.post(
        "/api/v1/cosmetics/create",
        {
            "name": catalog["hat"]["name"],
            "type": "cloak",
            "description": "d",
            "categoryid": catalog["category"],
            "cost": 1,
            "showcase_image_url": "https://x/s.png",
            "texture_source_url": "https://x/t.png",
        },
    )
    assert (dup.status, dup.error["code"]) == (409, "DUPLICATE_NAME")


def test_cosmetic_update_rules(api, catalog):
    hat, cloak = catalog["hat"], catalog["cloak"]
    r = api.request(
        "PATCH", "/api/v1/cosmetics/update", {"original_name": hat["name"], "cost": "75", "name": hat["name"] + "!"}
    )
    assert r.body["edited"] is True
    assert r.body["cosmetic"]["cost"] == 75
    listed = {c["id"]: c for c in api.get("/api/v1/cosmetics/list").body}
    assert listed[hat["id"]]["name"] == hat["name"] + "!"
    cases = [
        ({"original_name": cloak["name"], "type": "hat"}, 409, "TYPE_MISMATCH"),
        ({"original_name": hat["name"] + "!", "type": "cloak"}, 400, "INVALID_REQUEST"),
        ({"original_name": hat["name"] + "!"}, 400, "INVALID_REQUEST"),
        ({"original_name": "No such thing", "cost": 1}, 404, "COSMETIC_NOT_FOUND"),
        ({"original_name": hat["name"] + "!", "categoryid": "ZZZZZZZZ"}, 404, "CATEGORY_NOT_FOUND"),
    ]
    for body, status, code in cases:
        r = api.request("PATCH", "/api/v1/cosmetics/update", body)
        assert (r.status, r.error["code"]) == (status, code), body


def test_buy_equip_info_transactions(api, catalog):
    hat = catalog["hat"]
    user = shop.funded_user(api, new_user_id(), 120)
    bought = api.post("/api/v1/cosmetics/buy", {"id": user, "cosmeticid": hat["id"]})
    assert bought.status == 200
    assert bought.body["bought"] is True
    assert bought.body["credits"] == 70
    again = api.post("/api/v1/cosmetics/buy", {"id": user, "cosmeticid": hat["id"]})
    assert (again.status, again.error["code"]) == (409, "ALREADY_OWNED")
    poor = api.post("/api/v1/cosmetics/buy", {"id": user, "cosmeticid": catalog["cloak"]["id"]})
    assert (poor.status, poor.error["code"]) == (409, "INSUFFICIENT_CREDITS")
    free = api.post("/api/v1/cosmetics/buy", {"id": user, "cosmeticid": catalog["free"]["id"]})
    assert (free.status, free.error["code"]) == (409, "NOT_FOR_SALE")
    wrong_slot = api.post("/api/v1/cosmetics/equip", {"id": user, "cosmetictype": "wings", "cosmeticid": hat["id"]})
    assert (wrong_slot.status, wrong_slot.error["code"]) == (409, "TYPE_MISMATCH")
    not_owned = api.post(
        "/api/v1/cosmetics/equip", {"id": user, "cosmetictype": "cloak", "cosmeticid": catalog["cloak"]["id"]}
    )
    assert (not_owned.status, not_owned.error["code"]) == (409, "NOT_OWNED")
    assert api.post("/api/v1/cosmetics/equip", {"id": user, "cosmetictype": "hat", "cosmeticid": hat["id"]}).body == {
        "equipped": True
    }
    body = info(api, user)
    assert body["discord_id"] == user
    assert body["credits"] == 70
    assert body["cosmetics"]["equipped"]["hat"] == hat["id"]
    assert list(body["cosmetics"]["equipped"]) == [
        "bandana",
        "bodywear",
        "cloak",
        "glasses",
        "hat",
        "mask",
        "pet",
        "shoes",
        "wings",
    ]
    assert body["cosmetics"]["locker"] == [hat["id"]]
    txs = api.get(f"/api/v1/users/transactions?id={user}").body["transactions"]
    purchase = next(t for t in txs if t["type"] == "purchase")
    assert (purchase["cosmeticId"], purchase["cost"]) == (hat["id"], 50)
    assert isinstance(purchase["timestamp"], int)
    assert api.request("DELETE", "/api/v1/cosmetics/unequip", {"id": user, "cosmetictype": "hat"}).body == {
        "unequipped": True
    }
    assert api.request("DELETE", "/api/v1/cosmetics/unequip", {"id": user, "cosmetictype": "hat"}).status == 200
    assert info(api, user)["cosmetics"]["equipped"]["hat"] is None


def test_locker_lists_cosmetics_in_the_order_they_were_acquired(api, catalog):
    """The shop document's users/info lists the locker in acquisition order (pEK8nKC4, bought first, before
    2uOb7Kt5), not sorted by id."""
    category = catalog["category"]
    made = [shop.cosmetic(api, category, cost=10, kind="wings") for _ in range(4)]
    order = sorted((c["id"] for c in made), reverse=True)  # acquired against the ids' sort order
    user = shop.funded_user(api, new_user_id(), 100)
    for n, cosmetic_id in enumerate(order):
        if n % 2:
            assert api.post("/api/v1/cosmetics/buy", {"id": user, "cosmeticid": cosmetic_id}).status == 200
        else:
            assert api.post("/api/v1/cosmetics/grant", {"id": user, "cosmeticid": cosmetic_id}).status == 200
    assert info(api, user)["cosmetics"]["locker"] == order
    # a cosmetic revoked and granted again goes to the end: it was acquired again
    api.request("DELETE", "/api/v1/cosmetics/revoke", {"id": user, "cosmeticid": order[0]})
    api.post("/api/v1/cosmetics/grant", {"id": user, "cosmeticid": order[0]})
    assert info(api, user)["cosmetics"]["locker"] == order[1:] + order[:1]


def test_grant_and_revoke(api, catalog):
    hat = catalog["hat"]
    user = shop.funded_user(api, new_user_id(), 0)
    assert api.post("/api/v1/cosmetics/grant", {"id": user, "cosmeticid": hat["id"]}).body == {"granted": True}
    dup = api.post("/api/v1/cosmetics/grant", {"id": user, "cosmeticid": hat["id"]})
    assert (dup.status, dup.error["code"]) == (409, "ALREADY_OWNED")
    api.post("/api/v1/cosmetics/equip", {"id": user, "cosmetictype": "hat", "cosmeticid": hat["id"]})
    assert api.request("DELETE", "/api/v1/cosmetics/revoke", {"id": user, "cosmeticid": hat["id"]}).body == {
        "revoked": True
    }
    body = info(api, user)
    assert body["cosmetics"]["locker"] == []
    assert body["cosmetics"]["equipped"]["hat"] is None
    missing = api.request("DELETE", "/api/v1/cosmetics/revoke", {"id": user, "cosmeticid": hat["id"]})
    assert (missing.status, missing.error["code"]) == (409, "NOT_OWNED")


def test_deleting_a_cosmetic_cleans_lockers_and_slots(api, catalog):
    hat = catalog["hat"]
    owners = [shop.funded_user(api, new_user_id(), 100) for _ in range(3)]
    for user in owners:
        api.post("/api/v1/cosmetics/buy", {"id": user, "cosmeticid": hat["id"]})
        api.post("/api/v1/cosmetics/equip", {"id": user, "cosmetictype": "hat", "cosmeticid": hat["id"]})
    assert api.request("DELETE", "/api/v1/cosmetics/delete", {"cosmetic": hat["name"]}).body == {"deleted": True}
    for user in owners:
        body = info(api, user)
        assert hat["id"] not in body["cosmetics"]["locker"]
        assert body["cosmetics"]["equipped"]["hat"] is None
        txs = api.get(f"/api/v1/users/transactions?id={user}").body["transactions"]
        assert any(t["cosmeticId"] == hat["id"] for t in txs)  # history stays
    assert hat["id"] not in [c["id"] for c in api.get("/api/v1/cosmetics/list").body]
    gone = api.post("/api/v1/cosmetics/buy", {"id": owners[0], "cosmeticid": hat["id"]})
    assert (gone.status, gone.error["code"]) == (404, "COSMETIC_NOT_FOUND")


# ------------------------------------------------------------------ credits


def test_credits_modify_and_set(api):
    user = new_user_id()
    assert api.request("PATCH", "/api/v1/credits/modify", {"id": user, "amount": "60"}).body == {"credits": 60}
    assert api.request("PATCH", "/api/v1/credits/modify", {"id": user, "amount": -5}).body == {"credits": 55}
    below = api.request("PATCH", "/api/v1/credits/modify", {"id": user, "amount": "-100"})
    assert (below.status, below.error["code"]) == (409, "INSUFFICIENT_CREDITS")
    assert info(api, user)["credits"] == 55
    assert api.request("PATCH", "/api/v1/credits/set", {"id": user, "new_amount": "560"}).body == {"credits": 560}
    for body in (
        {"id": user, "new_amount": -1},
        {"id": user, "new_amount": "lots"},
        {"id": "nobody", "new_amount": 1},
        {"id": user, "amount": "1.5"},
    ):
        path = "/api/v1/credits/set" if "new_amount" in body else "/api/v1/credits/modify"
        r = api.request("PATCH", path, body)
        assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST"), body
    kinds = [t["type"] for t in api.get(f"/api/v1/users/transactions?id={user}").body["transactions"]]
    assert kinds == ["credits_modify", "credits_modify", "credits_set"]


def test_query_string_parameters_work_like_a_body(api):
    user = new_user_id()
    r = api.request("PATCH", f"/api/v1/credits/modify?id={user}&amount=-0")
    assert r.body == {"credits": 0}
    r = api.request("PATCH", f"/api/v1/credits/modify?id={user}&amount=15")
    assert r.body == {"credits": 15}


# ------------------------------------------------------------------ users, links, keys


def test_link_info_by_uuid_list_unlink(api):
    user = shop.funded_user(api, new_user_id(), 5)
    name = shop.unique("Alex")[:16]
    linked = api.post("/api/v1/users/link", {"discordid": user, "minecraft_username": name})
    assert linked.body["linked"] is True
    uuid = linked.body["uuid"]
    assert len(uuid) == 32
    dashed = f"{uuid[:8]}-{uuid[8:12]}-{uuid[12:16]}-{uuid[16:20]}-{uuid[20:]}"
    assert info(api, dashed)["discord_id"] == user
    assert api.get("/api/v1/users/list").body[user] == uuid
    relink = api.post("/api/v1/users/link", {"discordid": user, "minecraft_username": name})
    assert relink.status == 200
    other = api.post("/api/v1/users/link", {"discordid": new_user_id(), "minecraft_username": name})
    assert (other.status, other.error["code"]) == (409, "ALREADY_LINKED")
    assert api.request("DELETE", "/api/v1/users/unlink", {"id": uuid}).body["unlinked"] is True
    assert user not in api.get("/api/v1/users/list").body
    again = api.request("DELETE", "/api/v1/users/unlink", {"id": user})
    assert (again.status, again.error["code"]) == (409, "NOT_LINKED")
    assert api.get(f"/api/v1/users/info?id={uuid}").error["code"] == "USER_NOT_FOUND"


def test_user_list_pagination(api):
    for _ in range(3):
        api.post("/api/v1/users/link", {"discordid": new_user_id(), "minecraft_username": shop.unique("Pg")[:16]})
    first = api.get("/api/v1/users/list?limit=2").body
    assert len(first["links"]) == 2
    assert first["nextCursor"]
    second = api.get(f"/api/v1/users/list?limit=2&cursor={first['nextCursor']}").body
    assert set(first["links"]).isdisjoint(second["links"])


def test_unknown_users(api):
    assert api.get(f"/api/v1/users/info?id={new_user_id()}").error["code"] == "USER_NOT_FOUND"
    r = api.get("/api/v1/users/info?id=not-an-id")
    assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST")
    assert "id" in r.error["message"]
    assert api.get("/api/v1/users/info").status == 400


def test_auth_matrix(api, catalog):
    owner = shop.funded_user(api, new_user_id(), 100)
    other = shop.funded_user(api, new_user_id(), 100)
    key = api.post("/api/v1/keys", {"id": owner}).body["key"]
    hat = catalog["hat"]["id"]
    own_account = [
        ("GET", "/api/v1/users/info?id={u}", None),
        ("POST", "/api/v1/cosmetics/buy", {"id": "{u}", "cosmeticid": hat}),
        ("POST", "/api/v1/creatorcodes/set", {"id": "{u}", "code": "0"}),
        ("DELETE", "/api/v1/cosmetics/unequip", {"id": "{u}", "cosmetictype": "hat"}),
    ]
    for method, path, body in own_account:

        def fill(value, user):
            return {k: v.replace("{u}", user) if isinstance(v, str) else v for k, v in value.items()} if value else None

        assert api.request(method, path.replace("{u}", owner), fill(body, owner), key=None).status == 401
        assert api.request(method, path.replace("{u}", owner), fill(body, owner), key="xps_unknown").status == 401
        assert api.request(method, path.replace("{u}", other), fill(body, other), key=key).status == 403
        assert api.request(method, path.replace("{u}", owner), fill(body, owner), key=key).status == 200
        assert api.request(method, path.replace("{u}", other), fill(body, other)).status in (200, 409)
    for method, path, body in [
        ("GET", "/api/v1/cosmetics/list", None),
        ("GET", "/api/v1/categories/list", None),
        ("GET", f"/api/v1/creatorcodes/supporting?id={owner}&creator_code=none", None),
    ]:
        assert api.request(method, path, body, key=None).status == 401
        assert api.request(method, path, body, key=key).status in (200, 404)
    # someone else's account: refused, not answered (tests/security/test_account_lookup.py)
    other_supporting = f"/api/v1/creatorcodes/supporting?id={other}&creator_code=none"
    assert api.request("GET", other_supporting, key=key).status == 403
    for method, path, body in [
        ("GET", "/api/v1/users/list", None),
        ("GET", "/api/v1/coupons/list", None),
        ("PATCH", "/api/v1/credits/set", {"id": owner, "new_amount": 1}),
        ("POST", "/api/v1/cosmetics/grant", {"id": owner, "cosmeticid": hat}),
    ]:
        r = api.request(method, path, body, key=key)
        assert (r.status, r.error["code"]) == (403, "FORBIDDEN"), path
    assert api.request("DELETE", "/api/v1/keys", {"id": owner}).body["revoked"] is True
    assert api.get(f"/api/v1/users/info?id={owner}", key=key).status == 401
    assert api.request("DELETE", "/api/v1/keys", {"id": owner}).error["code"] == "KEY_NOT_FOUND"


def test_a_new_key_replaces_the_old(api):
    user = shop.funded_user(api, new_user_id(), 1)
    first = api.post("/api/v1/keys", {"id": user}).body["key"]
    second = api.post("/api/v1/keys", {"id": user}).body["key"]
    assert api.get(f"/api/v1/users/info?id={user}", key=first).status == 401
    assert api.get(f"/api/v1/users/info?id={user}", key=second).status == 200


def test_a_retried_user_key_issue_with_an_idempotency_key_keeps_the_first_key_and_stores_no_secret(api):
    # Given: the admin issues a user key with an Idempotency-Key (its answer was lost, say)
    user = shop.funded_user(api, new_user_id(), 1)
    idem = {"Idempotency-Key": f"issue-{user}"}
    first = api.post("/api/v1/keys", {"id": user}, headers=idem)
    assert first.status == 201 and first.body["discord_id"] == user
    # When: it retries the same request
    again = api.post("/api/v1/keys", {"id": user}, headers=idem)
    # Then: no second key replaces the first; the answer names the account, without the secret
    assert (again.status, again.error["code"]) == (409, "KEY_ALREADY_CREATED")
    assert user in again.error["message"] and first.body["key"] not in str(again.body)
    assert api.get(f"/api/v1/users/info?id={user}", key=first.body["key"]).status == 200
    # and no stored item holds the secret (only its SHA-256 is stored)
    page: dict = {"LastEvaluatedKey": None}
    while "LastEvaluatedKey" in page:
        start = {"ExclusiveStartKey": page["LastEvaluatedKey"]} if page["LastEvaluatedKey"] else {}
        page = table().scan(ConsistentRead=True, **start)
        assert first.body["key"] not in str(plain(page["Items"]))
    # and the same Idempotency-Key with another account is refused as for any write
    other = api.post("/api/v1/keys", {"id": shop.funded_user(api, new_user_id(), 1)}, headers=idem)
    assert (other.status, other.error["code"]) == (422, "IDEMPOTENCY_KEY_REUSED")


def test_a_retried_user_key_revocation_with_an_idempotency_key_replays_its_answer(api):
    user = shop.funded_user(api, new_user_id(), 1)
    api.post("/api/v1/keys", {"id": user})
    idem = {"Idempotency-Key": f"revoke-{user}"}
    first = api.request("DELETE", "/api/v1/keys", {"id": user}, headers=idem)
    again = api.request("DELETE", "/api/v1/keys", {"id": user}, headers=idem)
    assert first.status == again.status == 200 and again.body == first.body == {"revoked": True, "discord_id": user}
    assert api.request("DELETE", "/api/v1/keys", {"id": user}).error["code"] == "KEY_NOT_FOUND"


# ------------------------------------------------------------------ coupons


def test_coupon_lifecycle(api, catalog):
    code = shop.unique("SPRING")
    created = api.post(
        "/api/v1/coupons/create",
        {"code": code, "credit_grant": "50", "cosmetic_grant": catalog["cloak"]["id"], "uses": 10},
    )
    assert created.status == 201
    assert created.body["created"] is True
    user = shop.funded_user(api, new_user_id(), 0)
    redeemed = api.post("/api/v1/coupons/redeem", {"id": user, "code": code.lower()})
    assert redeemed.body == {"redeemed": True, "rewards": {"credits": 50, "cosmetic": catalog["cloak"]["name"]}}
    body = info(api, user)
    assert (body["credits"], body["cosmetics"]["locker"]) == (50, [catalog["cloak"]["id"]])
    renamed = api.request("PATCH", "/api/v1/coupons/edit", {"original_name": code, "code": code + "X"})
    assert renamed.body["edited"] is True
    again = api.post("/api/v1/coupons/redeem", {"id": user, "code": code + "X"})
    assert (again.status, again.error["code"]) == (409, "COUPON_ALREADY_REDEEMED")  # history kept across rename
    api.request("PATCH", "/api/v1/coupons/edit", {"original_code": code + "X", "active": "false"})
    other = shop.funded_user(api, new_user_id(), 0)
    inactive = api.post("/api/v1/coupons/redeem", {"id": other, "code": code + "X"})
    assert (inactive.status, inactive.error["code"]) == (409, "COUPON_INACTIVE")
    listed = {c["code"]: c for c in api.get("/api/v1/coupons/list").body}
    assert listed[code + "X"]["used"] == 1
    assert listed[code + "X"]["active"] is False
    assert api.request("DELETE", "/api/v1/coupons/delete", {"code": code + "X"}).body == {"deleted": True}
    assert api.post("/api/v1/coupons/redeem", {"id": other, "code": code + "X"}).error["code"] == "COUPON_NOT_FOUND"


def test_coupon_rules(api):
    user = shop.funded_user(api, new_user_id(), 0)
    expired = shop.unique("OLD")
    api.post("/api/v1/coupons/create", {"code": expired, "credit_grant": 5, "expires": 1_000_000})
    assert api.post("/api/v1/coupons/redeem", {"id": user, "code": expired}).error["code"] == "COUPON_EXPIRED"
    limited = shop.unique("NEWBIE")
    api.post("/api/v1/coupons/create", {"code": limited, "credit_grant": 5, "day_limit": 7})
    r = api.post("/api/v1/coupons/redeem", {"id": user, "code": limited})
    assert (r.status, r.error["code"]) == (409, "COUPON_DAY_LIMIT")
    for body, field in [
        ({"code": shop.unique("NONE")}, "credit_grant"),
        ({"code": shop.unique("BAD"), "credit_grant": 5, "uses": "many"}, "uses"),
        ({"code": shop.unique("BAD"), "credit_grant": 5, "active": "maybe"}, "active"),
        ({"code": shop.unique("BAD"), "credit_grant": 5, "expires": "soon"}, "expires"),
        ({"code": "has space", "credit_grant": 5}, "code"),
    ]:
        r = api.post("/api/v1/coupons/create", body)
        assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST"), body
        assert field in r.error["message"]
    missing_cosmetic = api.post("/api/v1/coupons/create", {"code": shop.unique("GHOST"), "cosmetic_grant": "ZZZZZZZZ"})
    assert (missing_cosmetic.status, missing_cosmetic.error["code"]) == (404, "COSMETIC_NOT_FOUND")
    dup = api.post("/api/v1/coupons/create", {"code": expired.lower(), "credit_grant": 1})
    assert (dup.status, dup.error["code"]) == (409, "DUPLICATE_CODE")


# ------------------------------------------------------------------ creator codes


def test_creator_codes_and_payout(api, catalog):
    creator, buyer = new_user_id(), shop.funded_user(api, new_user_id(), 500)
    code = shop.unique("fbr")
    assert api.post("/api/v1/creatorcodes/create", {"code": code, "assigned_user": creator}).status == 201
    bad = api.post("/api/v1/creatorcodes/create", {"code": shop.unique("x"), "assigned_user": "12"})
    assert (bad.status, bad.error["code"]) == (400, "INVALID_REQUEST")
    assert api.post("/api/v1/creatorcodes/set", {"id": buyer, "code": code}).body == {"processed": True}
    assert api.get(f"/api/v1/creatorcodes/supporting?id={buyer}&creator_code={code}").body == {"supporting": True}
    item = shop.cosmetic(api, catalog["category"], cost=50)
    bought = api.post("/api/v1/cosmetics/buy", {"id": buyer, "cosmeticid": item["id"]}).body
    assert bought["creator"] == {"code": code, "payout": 2}  # floor(50 x 5 / 100)
    assert info(api, creator)["credits"] == 2
    listed = {c["code"]: c for c in api.get("/api/v1/creatorcodes/list").body}
    assert listed[code]["owner"] == creator
    assert listed[code]["uses"] == [
        {
            "amount_to_creator": 2,
            "cost": 50,
            "customer": buyer,
            "item_bought": item["id"],
            "timestamp": listed[code]["uses"][0]["timestamp"],
        }
    ]
    shop.funded_user(api, creator, 2)
    own = api.post("/api/v1/creatorcodes/set", {"id": creator, "code": code})
    assert (own.status, own.error["code"]) == (409, "SELF_SUPPORT")
    renamed = api.request("PATCH", "/api/v1/creatorcodes/update", {"original_code": code, "new_code": code + "2"})
    assert renamed.body["edited"] is True
    assert api.get(f"/api/v1/creatorcodes/supporting?id={buyer}&creator_code={code}2").body == {"supporting": True}
    assert api.post("/api/v1/creatorcodes/set", {"id": buyer, "code": "0"}).body == {"processed": True}
    assert api.get(f"/api/v1/creatorcodes/supporting?id={buyer}&creator_code={code}2").body == {"supporting": False}
    assert api.post("/api/v1/creatorcodes/set", {"id": buyer, "code": "nope"}).error["code"] == "CREATOR_CODE_NOT_FOUND"
    assert api.request("DELETE", "/api/v1/creatorcodes/delete", {"code": code + "2"}).body == {"deleted": True}


def test_unknown_route_and_method(api):
    assert api.get("/api/v1/cosmetics/nothing").error["code"] == "NOT_FOUND"
    r = api.request("PUT", "/api/v1/cosmetics/buy")
    assert (r.status, r.headers["allow"]) == (405, "POST")


def test_responses_match_the_documented_shapes(api, catalog):
    """Contract: every success body validates against its OpenAPI model (extra fields forbidden)."""
    from pydantic import TypeAdapter

    from xpshop.api.shop import responses

    user, creator = shop.funded_user(api, new_user_id(), 500), new_user_id()
    code, coupon = shop.unique("c"), shop.unique("C")
    hat = catalog["hat"]
    cases = [
        ("GET", "/api/v1/categories/list", None, list[responses.Category]),
        ("GET", "/api/v1/cosmetics/list", None, list[responses.Cosmetic]),
        ("GET", "/api/v1/cosmetics/shop", None, list[responses.Cosmetic]),
        ("PATCH", "/api/v1/credits/modify", {"id": user, "amount": 1}, responses.Credits),
        ("PATCH", "/api/v1/credits/set", {"id": user, "new_amount": 500}, responses.Credits),
        ("POST", "/api/v1/creatorcodes/create", {"code": code, "assigned_user": creator}, responses.CreatorCodeCreated),
        ("POST", "/api/v1/creatorcodes/set", {"id": user, "code": code}, responses.Processed),
        ("GET", f"/api/v1/creatorcodes/supporting?id={user}&creator_code={code}", None, responses.Supporting),
        ("POST", "/api/v1/cosmetics/buy", {"id": user, "cosmeticid": hat["id"]}, responses.Bought),
        (
            "POST",
            "/api/v1/cosmetics/equip",
            {"id": user, "cosmetictype": "hat", "cosmeticid": hat["id"]},
            responses.EquippedResult,
        ),
        ("POST", "/api/v1/cosmetics/grant", {"id": user, "cosmeticid": catalog["cloak"]["id"]}, responses.Granted),
        (
            "DELETE",
            "/api/v1/cosmetics/revoke",
            {"id": user, "cosmeticid": catalog["cloak"]["id"]},
            responses.RevokedCosmetic,
        ),
        ("DELETE", "/api/v1/cosmetics/unequip", {"id": user, "cosmetictype": "hat"}, responses.Unequipped),
        (
            "PATCH",
            "/api/v1/cosmetics/update",
            {"original_name": hat["name"], "description": "new"},
            responses.CosmeticEdited,
        ),
        (
            "POST",
            "/api/v1/users/link",
            {"discordid": user, "minecraft_username": shop.unique("L")[:16]},
            responses.Linked,
        ),
        ("GET", f"/api/v1/users/info?id={user}", None, responses.UserInfo),
        ("GET", f"/api/v1/users/transactions?id={user}", None, responses.UserTransactions),
        ("GET", f"/api/v1/users/transactions?id={user}&limit=2", None, responses.UserTransactions),
        ("GET", "/api/v1/users/list", None, dict[str, str]),
        ("GET", "/api/v1/users/list?limit=1", None, responses.LinksPage),
        ("DELETE", "/api/v1/users/unlink", {"id": user}, responses.Unlinked),
        ("POST", "/api/v1/keys", {"id": user}, responses.IssuedKey),
        ("DELETE", "/api/v1/keys", {"id": user}, responses.RevokedKey),
        ("POST", "/api/v1/coupons/create", {"code": coupon, "credit_grant": 5}, responses.CouponCreated),
        ("PATCH", "/api/v1/coupons/edit", {"original_code": coupon, "uses": 3}, responses.CouponEdited),
        ("POST", "/api/v1/coupons/redeem", {"id": user, "code": coupon}, responses.Redeemed),
        ("GET", "/api/v1/coupons/list", None, list[responses.Coupon]),
        ("GET", "/api/v1/coupons/list?limit=1", None, responses.CouponsPage),
        ("GET", "/api/v1/creatorcodes/list", None, list[responses.CreatorCode]),
        ("GET", "/api/v1/creatorcodes/list?limit=1&uses_limit=1", None, responses.CreatorCodesPage),
        (
            "PATCH",
            "/api/v1/creatorcodes/update",
            {"original_code": code, "new_owner": new_user_id()},
            responses.CreatorCodeEdited,
        ),
        ("DELETE", "/api/v1/creatorcodes/delete", {"code": code}, responses.Deleted),
        ("DELETE", "/api/v1/coupons/delete", {"code": coupon}, responses.Deleted),
    ]
    for method, path, body, model in cases:
        r = api.request(method, path, body)
        assert r.status in (200, 201), (method, path, r.body)
        TypeAdapter(model).validate_python(r.body)


ADMIN_ONLY = [
    ("GET", "/api/v1/users/transactions?id={own}", None),
    ("GET", "/api/v1/users/list", None),
    ("POST", "/api/v1/users/link", {"discordid": "{own}", "minecraft_username": "Someone"}),
    ("DELETE", "/api/v1/users/unlink", {"id": "{own}"}),
    ("POST", "/api/v1/keys", {"id": "{own}"}),
    ("DELETE", "/api/v1/keys", {"id": "{own}"}),
    ("POST", "/api/v1/cosmetics/create", {"name": "x"}),
    ("PATCH", "/api/v1/cosmetics/update", {"original_name": "x", "cost": 1}),
    ("DELETE", "/api/v1/cosmetics/delete", {"cosmetic": "x"}),
    ("POST", "/api/v1/cosmetics/grant", {"id": "{own}", "cosmeticid": "{hat}"}),
    ("DELETE", "/api/v1/cosmetics/revoke", {"id": "{own}", "cosmeticid": "{hat}"}),
    ("POST", "/api/v1/categories/create", {"name": "x"}),
    ("PATCH", "/api/v1/categories/rename", {"old_name": "x", "new_name": "y"}),
    ("DELETE", "/api/v1/categories/delete", {"category_id": "AAAAAAAA"}),
    ("PATCH", "/api/v1/credits/modify", {"id": "{own}", "amount": 5}),
    ("PATCH", "/api/v1/credits/set", {"id": "{own}", "new_amount": 5}),
    ("GET", "/api/v1/coupons/list", None),
    ("POST", "/api/v1/coupons/create", {"code": "X", "credit_grant": 1}),
    ("PATCH", "/api/v1/coupons/edit", {"original_code": "X", "uses": 1}),
    ("DELETE", "/api/v1/coupons/delete", {"code": "X"}),
    ("GET", "/api/v1/creatorcodes/list", None),
    ("POST", "/api/v1/creatorcodes/create", {"code": "x", "assigned_user": "{own}"}),
    ("PATCH", "/api/v1/creatorcodes/update", {"original_code": "x", "new_code": "y"}),
    ("DELETE", "/api/v1/creatorcodes/delete", {"code": "x"}),
]
OWN_ACCOUNT = [
    ("GET", "/api/v1/users/info?id={who}", None),
    ("POST", "/api/v1/cosmetics/buy", {"id": "{who}", "cosmeticid": "{hat}"}),
    ("POST", "/api/v1/cosmetics/equip", {"id": "{who}", "cosmetictype": "hat", "cosmeticid": "{hat}"}),
    ("DELETE", "/api/v1/cosmetics/unequip", {"id": "{who}", "cosmetictype": "hat"}),
    ("POST", "/api/v1/coupons/redeem", {"id": "{who}", "code": "NOPE"}),
    ("POST", "/api/v1/creatorcodes/set", {"id": "{who}", "code": "0"}),
    ("GET", "/api/v1/creatorcodes/supporting?id={who}&creator_code=none", None),
]
ANY_KEY = [
    ("GET", "/api/v1/cosmetics/list", None),
    ("GET", "/api/v1/cosmetics/shop", None),
    ("GET", "/api/v1/categories/list", None),
]


def _fill(value, names):
    if isinstance(value, str):
        for k, v in names.items():
            value = value.replace("{" + k + "}", v)
        return value
    if isinstance(value, dict):
        return {k: _fill(v, names) for k, v in value.items()}
    return value


def test_auth_matrix_on_every_endpoint(api, catalog):
    """No key and unknown keys: 401 everywhere; a user key: 403 on admin routes and on other accounts."""
    own, other = shop.funded_user(api, new_user_id(), 100), shop.funded_user(api, new_user_id(), 100)
    key = api.post("/api/v1/keys", {"id": own}).body["key"]
    names = {"own": own, "other": other, "hat": catalog["hat"]["id"]}
    for method, path, body in ADMIN_ONLY + OWN_ACCOUNT + ANY_KEY:
        filled = _fill(path, {**names, "who": own}), _fill(body, {**names, "who": own})
        assert api.request(method, filled[0], filled[1], key=None).status == 401, path
        assert api.request(method, filled[0], filled[1], key="xps_unknown").status == 401, path
    for method, path, body in ADMIN_ONLY:
        r = api.request(method, _fill(path, names), _fill(body, names), key=key)
        assert (r.status, r.error["code"]) == (403, "FORBIDDEN"), path
    for method, path, body in OWN_ACCOUNT:
        theirs = api.request(
            method, _fill(path, {**names, "who": other}), _fill(body, {**names, "who": other}), key=key
        )
        assert (theirs.status, theirs.error["code"]) == (403, "FORBIDDEN"), path
        mine = api.request(method, _fill(path, {**names, "who": own}), _fill(body, {**names, "who": own}), key=key)
        assert mine.status not in (401, 403), (path, mine.body)
        admin = api.request(method, _fill(path, {**names, "who": other}), _fill(body, {**names, "who": other}))
        assert admin.status not in (401, 403), (path, admin.body)
    for method, path, body in ANY_KEY:
        r = api.request(method, _fill(path, names), _fill(body, names), key=key)
        assert r.status not in (401, 403), path
