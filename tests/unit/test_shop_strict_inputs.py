"""The shop's inputs read one way, strictly (on moto): booleans, account ids, duplicate JSON keys; a coupon's
uses never below what it has used; a cut list of a creator code's uses says it was cut."""

from __future__ import annotations

import json
import urllib.parse

import pytest

from tests.support import shop
from tests.support.storage import new_user_id


@pytest.fixture(scope="module")
def api(api_moto_of_module):  # -> ApiClient
    return api_moto_of_module


def _coupon(api, **fields) -> dict:
    r = api.post("/api/v1/coupons/create", {"code": shop.unique("STRICT"), "credit_grant": 5, **fields})
    assert r.status == 201, r.body
    return r.body["coupon"]


# --- booleans -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written", ["yes", "no", "on", "off", "y", "n", "t", "f", "1", "0", 1, 0, "", " true", "truE1", [True]]
)
def test_active_is_a_boolean_or_its_word(api, written):
    """`active` is a JSON boolean, or "true"/"false" (the shop document writes "False"): what pydantic's lax
    bool also reads ("yes", "on", 1, ...) was taken for a boolean; now 400 naming the field, nothing stored."""
    code = shop.unique("BOOL")
    r = api.post("/api/v1/coupons/create", {"code": code, "credit_grant": 5, "active": written})
    assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST"), (written, r.body)
    assert r.error["message"].startswith("active: "), r.error
    listed = api.get("/api/v1/coupons/list").body
    assert code not in [c["code"] for c in listed]
    existing = _coupon(api)
    r = api.request("PATCH", "/api/v1/coupons/edit", {"original_code": existing["code"], "active": written})
    assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST"), (written, r.body)
    assert r.error["message"].startswith("active: "), r.error


@pytest.mark.parametrize(
    ("written", "value"),
    [(True, True), (False, False), ("false", False), ("False", False), ("TRUE", True), ("true", True)],
)
def test_active_in_its_documented_forms(api, written, value):
    assert _coupon(api, active=written)["active"] is value
    code = _coupon(api, active=not value)["code"]
    r = api.request("PATCH", "/api/v1/coupons/edit", {"original_code": code, "active": written})
    assert (r.status, r.body["coupon"]["active"]) == (200, value)
    # a body-less write reads its query string: the words, as text
    if isinstance(written, str):
        query = urllib.parse.urlencode({"original_code": code, "active": "yes"})
        refused = api.request("PATCH", f"/api/v1/coupons/edit?{query}")
        assert (refused.status, refused.error["code"]) == (400, "INVALID_REQUEST")
        query = urllib.parse.urlencode({"original_code": code, "active": written})
        assert api.request("PATCH", f"/api/v1/coupons/edit?{query}").body["coupon"]["active"] is value


# --- coupon uses ----------------------------------------------------------------------------------------


def test_uses_cannot_go_below_used(api):
    """`uses` is the total allowed: an edit below the redemptions already counted was stored (uses 0, used 1);
    now 409 naming the field, the coupon unchanged; equal to `used` (no more redemptions) is allowed."""
    coupon = _coupon(api, uses=3)
    for _ in range(2):
        user = shop.funded_user(api, new_user_id(), 0)
        assert api.post("/api/v1/coupons/redeem", {"id": user, "code": coupon["code"]}).status == 200
    for below in (0, 1, "1"):
        r = api.request("PATCH", "/api/v1/coupons/edit", {"original_code": coupon["code"], "uses": below})
        assert (r.status, r.error["code"]) == (409, "COUPON_USES_BELOW_USED"), r.body
        assert r.error["message"].startswith("uses: "), r.error
    # nothing else of the edit was applied either
    r = api.request("PATCH", "/api/v1/coupons/edit", {"original_code": coupon["code"], "uses": 1, "credit_grant": 9})
    assert r.status == 409
    stored = next(c for c in api.get("/api/v1/coupons/list").body if c["code"] == coupon["code"])
    assert (stored["uses"], stored["used"], stored["credit_grant"]) == (3, 2, 5)
    r = api.request("PATCH", "/api/v1/coupons/edit", {"original_code": coupon["code"], "uses": 2})
    assert (r.status, r.body["coupon"]["uses"], r.body["coupon"]["used"]) == (200, 2, 2)
    late = shop.funded_user(api, new_user_id(), 0)
    r = api.post("/api/v1/coupons/redeem", {"id": late, "code": coupon["code"]})
    assert (r.status, r.error["code"]) == (409, "COUPON_EXHAUSTED")


def test_uses_guard_is_in_the_write(api, monkeypatch):
    """The check is the write's condition: a redemption counted between the edit's read and its write is
    seen by the write (the read alone would have let uses=1 through with used=2)."""
    from xpshop.service.shop import coupons as service

    coupon = _coupon(api, uses=5)
    first = shop.funded_user(api, new_user_id(), 0)
    assert api.post("/api/v1/coupons/redeem", {"id": first, "code": coupon["code"]}).status == 200
    real_by_code = service.by_code
    raced: list[bool] = []

    def read_then_race(code: str):
        found = real_by_code(code)
        if not raced:  # another member redeems right after the edit read the coupon (used 1 -> 2)
            raced.append(True)
            second = shop.funded_user(api, new_user_id(), 0)
            assert api.post("/api/v1/coupons/redeem", {"id": second, "code": coupon["code"]}).status == 200
        return found

    monkeypatch.setattr(service, "by_code", read_then_race)
    r = api.request("PATCH", "/api/v1/coupons/edit", {"original_code": coupon["code"], "uses": 1})
    assert (r.status, r.error["code"]) == (409, "COUPON_USES_BELOW_USED"), r.body
    stored = next(c for c in api.get("/api/v1/coupons/list").body if c["code"] == coupon["code"])
    assert (stored["uses"], stored["used"]) == (5, 2)


# --- creator code uses listed with uses_limit -----------------------------------------------------------


def test_uses_limit_says_when_it_cut_the_list(api):
    """`uses_limit` cut a code's uses silently; with it every code says whether more uses exist
    (`hasMoreUses`); without it the shape stays the shop document's."""
    buyer = shop.funded_user(api, new_user_id(), 100)
    code = shop.supported_code(api, "CUT", new_user_id(), buyer, purchases=3)

    def listed(query: str) -> dict:
        body = api.get(f"/api/v1/creatorcodes/list{query}").body
        return next(c for c in body if c["code"] == code)

    for limit, count, more in ((1, 1, True), (2, 2, True), (3, 3, False), (4, 3, False)):
        entry = listed(f"?uses_limit={limit}")
        assert (len(entry["uses"]), entry["hasMoreUses"]) == (count, more), limit
    assert set(listed("")) == {"code", "id", "owner", "uses"}
    assert len(listed("")["uses"]) == 3


# --- account ids ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        " 069a79f444e94726a5befca90e38aaf5",
        "069a79f444e94726a5befca90e38aaf5 ",
        "069a79f4-44e9-4726-a5be-fca90e38aaf5 ",
        "069a79f444e94726a5befca90e38aaf5----",
        "-069a79f444e94726a5befca90e38aaf5---",
        "069a79f444e-94726a5b-efca90e-38aaf5-",
        "069a79f4-44e9-4726-a5befca90e38aaf5",
        "069a79f4_44e9_4726_a5be_fca90e38aaf5",
        "{069a79f4-44e9-4726-a5be-fca90e38aaf5}",
        " 123456789012345678",
        "123456789012345678 ",
    ],
)
def test_account_ids_have_one_strict_form(api, written):
    """A Minecraft UUID is 32 hex digits, or 36 with dashes at the standard places (8-4-4-4-12); no
    surrounding spaces, as for a Discord ID (a leading space was refused there, accepted on a UUID)."""
    r = api.get(f"/api/v1/users/info?id={urllib.parse.quote(written)}")
    assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST"), (written, r.body)
    r = api.request("PATCH", "/api/v1/credits/modify", {"id": written, "amount": 1})
    assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST"), (written, r.body)
    assert r.error["message"].startswith("id: "), r.error


def test_a_number_is_never_a_minecraft_uuid(api):
    """A JSON number stands for a snowflake only (snowflakes may be integers): 32 decimal digits as a number
    were read as the UUID those digits spell."""
    r = api.request("PATCH", "/api/v1/credits/modify", raw='{"id": 12345678901234567890123456789012, "amount": 1}')
    assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST"), r.body
    assert r.error["message"].startswith("id: "), r.error


@pytest.mark.parametrize(
    "written",
    [
        "069a79f444e94726a5befca90e38aaf5",
        "069A79F4-44E9-4726-A5BE-FCA90E38AAF5",
        "069a79f4-44e9-4726-a5be-fca90e38aaf5",
    ],
)
def test_account_ids_in_their_forms_are_read(api, written):
    r = api.get(f"/api/v1/users/info?id={written}")
    # no such account: the id was read (a 404, not a 400)
    assert (r.status, r.error["code"]) == (404, "USER_NOT_FOUND"), r.body


# --- duplicate JSON keys --------------------------------------------------------------------------------


def test_duplicate_keys_are_refused_in_shop_bodies(api):
    """`{"amount": 5, "amount": -5}`: the last key won silently, on a money field. A /api/v1 body that repeats
    a key is 400 naming it; nothing is written."""
    user = shop.funded_user(api, new_user_id(), 10)
    raw = json.dumps({"id": user})[:-1] + ', "amount": 5, "amount": -5}'
    r = api.request("PATCH", "/api/v1/credits/modify", raw=raw)
    assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST"), r.body
    assert "'amount'" in r.error["message"] and "duplicate" in r.error["message"], r.error
    assert api.get(f"/api/v1/users/info?id={user}").body["credits"] == 10
    r = api.request("PATCH", "/api/v1/credits/modify", raw=json.dumps({"id": user, "amount": 5}))
    assert (r.status, r.body) == (200, {"credits": 15})


def test_duplicate_keys_keep_last_key_wins_on_the_xp_api(api):
    """/api/xp keeps JSON.parse's reading (its reference's): the last of a repeated key counts."""
    from tests.support.storage import new_guild_id

    guild = new_guild_id()
    assert api.put(f"/api/xp/guilds/{guild}").status == 201
    r = api.request("POST", f"/api/xp/users/{guild}/{new_user_id()}", raw='{"amount": 5, "amount": 7}')
    assert (r.status, r.data["newXp"]) == (200, 7), r.body


def test_an_idempotency_key_never_replays_a_body_that_repeats_a_key(api):
    """The fingerprint of an Idempotency-Key read the body last-key-wins: `{"amount": 1, "amount": 5}` under
    the key of an earlier `{"amount": 5}` matched it and got the stored answer, where /api/v1 refuses such a
    body. Today every /api/v1 route declares its body (validated before the lookup); a route that reads its
    body itself, after the lookup, shows the lookup's own rule: refused (400 naming the key), never replayed."""
    from local import events
    from local.lambdas import FakeLambdaContext
    from xpshop import http

    path = "/api/v1/test/once"
    app = http.make_resolver(http.SHOP_API, access={path: http.Access.PUBLIC})
    runs: list[int] = []

    @app.post(path)
    def write_once():
        def run() -> tuple[dict, int]:
            runs.append(app.current_event.json_body["amount"])
            return {"amount": runs[-1]}, 200

        return http.once(app, run)

    def send(raw: str) -> dict:
        headers = {"content-type": "application/json", "idempotency-key": "dup-keys-1"}
        event = events.http_api_event("POST", path, headers=headers, body=raw)
        return http.resolve(app, event, FakeLambdaContext("Fn"))

    first = send('{"amount": 5}')
    assert (first["statusCode"], json.loads(first["body"])) == (200, {"amount": 5})
    for raw in ('{"amount": 1, "amount": 5}', '{"amount": 5, "amount": 5}', '{"amount": 5, "x": {"a": 1, "a": 2}}'):
        r = send(raw)
        assert r["statusCode"] == 400, (raw, r)
        error = json.loads(r["body"])["error"]
        assert error["code"] == "INVALID_REQUEST" and "duplicate key" in error["message"], error
    assert (send('{ "amount" : 5 }')["statusCode"], runs) == (200, [5])  # the real retry replays, runs once
