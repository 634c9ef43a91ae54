"""Validation tables of the shop API, on moto: a cosmetic refused before any write names its field."""

from __future__ import annotations

import urllib.parse

import pytest

from tests.support import shop


@pytest.fixture(scope="module")
def api(api_moto_of_module):  # -> ApiClient
    return api_moto_of_module


@pytest.fixture(scope="module")
def catalog(api) -> dict[str, str]:
    return {"category": shop.category(api)}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "hoodie"}, "type"),
        ({"cost": "-1"}, "cost"),
        ({"cost": "12.5"}, "cost"),
        ({"cost": True}, "cost"),
        ({"showcase_image_url": "https://x/y.gif"}, "showcase_image_url"),
        ({"texture_source_url": "ftp://x/y.png"}, "texture_source_url"),
        ({"model_source_url": None}, "model_source_url"),
        ({"categoryid": "short"}, "categoryid"),
        ({"name": ""}, "name"),
    ],
)
def test_cosmetic_validation(api, catalog, change, field):
    body = {
        "name": shop.unique("Invalid "),
        "type": "hat",
        "description": "d",
        "categoryid": catalog["category"],
        "cost": "10",
        "showcase_image_url": "https://x/s.png",
        "model_source_url": "https://x/m.cfg",
        "texture_source_url": "https://x/t.png",
        **change,
    }
    body = {k: v for k, v in body.items() if v is not None}
    r = api.post("/api/v1/cosmetics/create", body)
    assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST")
    assert field in r.error["message"]


@pytest.mark.parametrize("written", ["1_000", "1.0", "1e3", "0x10", "\u0661\u0662", "１２", "5 5", "--5", "", "9" * 41])
def test_numbers_as_text_are_decimal_digits_only(api, written):
    """A number given as a string is its decimal digits (sign, leading zeros and surrounding spaces allowed):
    Python's other readings of int() ("1_000", other scripts' digits) and a float's text are refused, naming
    the field, on every integer of the shop's bodies and query strings; nothing is written."""
    from tests.support.storage import new_user_id

    user = shop.funded_user(api, new_user_id(), 7)
    for method, path, body in [
        ("PATCH", "/api/v1/credits/modify", {"id": user, "amount": written}),
        ("PATCH", "/api/v1/credits/set", {"id": user, "new_amount": written}),
        ("POST", "/api/v1/coupons/create", {"code": shop.unique("N"), "credit_grant": written}),
        ("POST", "/api/v1/coupons/create", {"code": shop.unique("N"), "credit_grant": 5, "uses": written}),
        ("POST", "/api/v1/coupons/create", {"code": shop.unique("N"), "credit_grant": 5, "expires": written}),
        ("POST", "/api/v1/coupons/create", {"code": shop.unique("N"), "credit_grant": 5, "day_limit": written}),
    ]:
        r = api.request(method, path, body)
        field = next(k for k, v in body.items() if v == written)
        assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST"), (path, body, r.body)
        assert r.error["message"].startswith(f"{field}: "), r.error
    assert api.get(f"/api/v1/users/info?id={user}").body["credits"] == 7
    quoted = urllib.parse.quote(written)
    for path in (
        f"/api/v1/users/list?limit={quoted}",
        f"/api/v1/users/transactions?id={user}&limit={quoted}",
        f"/api/v1/coupons/list?limit={quoted}",
        f"/api/v1/creatorcodes/list?limit={quoted}",
        f"/api/v1/creatorcodes/list?uses_limit={quoted}",
    ):
        r = api.get(path)
        assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST"), (path, r.body)
        assert "limit" in r.error["message"], r.error


def test_a_huge_whole_float_is_refused_by_the_bound(api):
    from tests.support.storage import new_user_id

    r = api.request("PATCH", "/api/v1/credits/modify", {"id": new_user_id(), "amount": 1e300})
    assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST")
    assert r.error["message"] == "amount: Input should be less than or equal to 1000000000000"


@pytest.mark.parametrize(("written", "value"), [("60", 60), ("+60", 60), ("060", 60), (" 60 ", 60), (60.0, 60)])
def test_numbers_in_their_documented_forms_are_read(api, written, value):
    from tests.support.storage import new_user_id

    user = shop.funded_user(api, new_user_id(), 0)
    r = api.request("PATCH", "/api/v1/credits/modify", {"id": user, "amount": written})
    assert (r.status, r.body) == (200, {"credits": value})
    if isinstance(written, str):  # a query string carries text only
        assert api.get(f"/api/v1/coupons/list?limit={urllib.parse.quote(written)}").status == 200


@pytest.mark.parametrize(
    "field",
    [
        "name",
        "type",
        "description",
        "categoryid",
        "cost",
        "showcase_image_url",
        "model_source_url",
        "texture_source_url",
    ],
)
def test_a_cosmetic_update_refuses_null_fields(api, catalog, field):
    """Nothing of a cosmetic can be cleared: null in an update is a 400 naming the field, not an edit of
    nothing answered {"edited": true}; the cosmetic is unchanged."""
    item = shop.cosmetic(api, catalog["category"])
    other = {"description": "changed"} if field != "description" else {"cost": 99}  # a real edit beside it
    r = api.request("PATCH", "/api/v1/cosmetics/update", {"original_name": item["name"], **other, field: None})
    assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST"), r.body
    assert field in r.error["message"]
    stored = next(c for c in api.get("/api/v1/cosmetics/list").body if c["id"] == item["id"])
    assert stored == item


@pytest.mark.parametrize(
    "edit",
    [
        {"credit_grant": None},  # the coupon's only grant
        {"credit_grant": 0},
        {"credit_grant": "0"},
        {"credit_grant": None, "cosmetic_grant": None},  # the body alone clears both
        {"credit_grant": 0, "cosmetic_grant": None, "uses": 5},
    ],
)
def test_a_coupon_edit_that_leaves_no_grant_is_a_400(api, edit):
    """A coupon always grants something. An edit that would leave it no grant is a bad request naming the
    grants (retrying it cannot succeed), not 409 CONFLICT, which says "a concurrent change won; retry";
    nothing changes."""
    code = shop.unique("KEEP")
    assert api.post("/api/v1/coupons/create", {"code": code, "credit_grant": 10}).status == 201
    r = api.request("PATCH", "/api/v1/coupons/edit", {"original_code": code, **edit})
    assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST"), r.body
    assert "credit_grant" in r.error["message"] and "cosmetic_grant" in r.error["message"]
    stored = next(c for c in api.get("/api/v1/coupons/list").body if c["code"] == code)
    assert (stored["credit_grant"], stored["uses"]) == (10, None)


@pytest.mark.parametrize(
    ("method", "path", "body", "said"),
    [
        ("POST", "/api/v1/cosmetics/grant", {"id": "123456789012345678", "cosmeticid": "short"}, "cosmeticid: must be"),
        ("DELETE", "/api/v1/categories/delete", {"category_id": "x"}, "category_id: must be an id of 8"),
        ("POST", "/api/v1/coupons/redeem", {"id": "123456789012345678", "code": "bad code!"}, "code: must be letters"),
        ("GET", "/api/v1/creatorcodes/supporting?id=123456789012345678&creator_code=bad!", None, "creator_code: must"),
        (
            "POST",
            "/api/v1/users/link",
            {"discordid": "123456789012345678", "minecraft_username": "no way"},
            "a Minecraft",
        ),
    ],
)
def test_pattern_refusals_say_the_rule_in_words(api, method, path, body, said):
    """A 400 for an id, a code or a username says what is expected, not a regular expression."""
    r = api.request(method, path, body)
    assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST"), r.body
    assert said in r.error["message"] and "pattern" not in r.error["message"], r.error


def test_a_coupon_edit_naming_two_coupons_is_refused(api):
    """original_name is an alias of original_code: both given is refused (it edited original_code's coupon
    silently, even when original_name named another one)."""
    first, second = shop.unique("ONE"), shop.unique("TWO")
    for code in (first, second):
        assert api.post("/api/v1/coupons/create", {"code": code, "credit_grant": 1}).status == 201
    r = api.request("PATCH", "/api/v1/coupons/edit", {"original_code": first, "original_name": second, "uses": 3})
    assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST"), r.body
    assert "original_name" in r.error["message"]
    assert {c["code"]: c["uses"] for c in api.get("/api/v1/coupons/list").body}[first] is None
    assert api.request("PATCH", "/api/v1/coupons/edit", {"original_name": first, "uses": 3}).status == 200


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/coupons/create", {"code": "NOGRANT"}),  # a model-level rule: no grant at all
        ("/api/v1/coupons/create", {"code": "NOGRANT", "credit_grant": 1, "expires": "yesterday"}),
    ],
)
def test_a_rule_of_ours_is_said_without_pydantics_prefix(api, path, body):
    r = api.post(path, body)
    assert r.status == 400, r.body
    assert "Value error" not in r.error["message"], r.error
