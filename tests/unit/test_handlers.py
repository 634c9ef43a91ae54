"""Handlers on moto: routing, envelope, auth gate, check order and error mapping (logic, not the engine)."""

from __future__ import annotations

import pytest

from tests.support.storage import member_item

G, U, R = "111111111111111111", "222222222222222222", "456789012345678901"


@pytest.fixture
def api(api_moto):
    assert api_moto.put(f"/api/xp/guilds/{G}").status == 201
    return api_moto


def test_envelope_on_success_and_error(api):
    ok = api.post(f"/api/xp/users/{G}/{U}", {"amount": 10})
    assert ok.body == {
        "success": True,
        "data": {"oldXp": 0, "newXp": 10, "oldLevel": 0, "newLevel": 0, "leveledUp": False},
    }
    assert ok.headers["content-type"] == "application/json"
    err = api.get(f"/api/xp/users/{G}/{R}")
    assert err.body == {
        "success": False,
        "error": {"code": "USER_NOT_FOUND", "message": f"User {R} has no XP record in guild {G}"},
    }


def test_every_route_of_each_function_answers(api):
    for method, path, body in [
        ("GET", f"/api/xp/users/{G}", None),
        ("PUT", f"/api/xp/users/{G}/{U}", {"xp": 300}),
        ("GET", f"/api/xp/leaderboard/{G}", None),
        ("GET", f"/api/xp/leaderboard/{G}/{U}", None),
        ("GET", f"/api/xp/config/{G}", None),
        ("GET", "/api/xp/config/global", None),
        ("GET", f"/api/xp/config/{G}/rewards", None),
        ("GET", f"/api/xp/config/{G}/multipliers", None),
        ("GET", f"/api/xp/stats/{G}", None),
        ("GET", "/api/xp/health", None),
        ("GET", "/api/xp/guilds", None),
    ]:
        r = api.request(method, path, body)
        assert r.status == 200, (method, path, r.body)
        assert r.body["success"] is True


def test_docs_are_served(api):
    spec = api.get("/api/docs/openapi.json", key=None)
    assert spec.status == 200
    assert "/api/xp/users/{guildId}/{userId}" in spec.body["paths"]
    page = api.get("/api/docs", key=None)
    assert page.status == 200
    assert "SwaggerUIBundle" in page.body


@pytest.mark.parametrize(
    ("key", "headers", "status"),
    [
        (None, None, 401),
        ("wrong", None, 401),
        (None, {"X-API-Key": "test-admin-key"}, 200),
        (None, {"Authorization": "bearer test-admin-key"}, 200),
        (None, {"Authorization": "Basic abc"}, 401),
    ],
)
def test_admin_key_headers(api, key, headers, status):
    assert api.get(f"/api/xp/config/{G}", key=key, headers=headers).status == status


MALFORMED_AUTHORIZATION = (
    "The Authorization header must be `Bearer <key>` (the key can also be sent as `X-API-Key: <key>`)"
)


@pytest.mark.parametrize("path", [f"/api/xp/config/{G}", "/api/v1/users/list", f"/api/v1/users/info?id={U}"])
@pytest.mark.parametrize("authorization", ["test-admin-key", "Basic abc", "Token test-admin-key", "Bearer", "Bearer  "])
def test_an_authorization_header_without_the_bearer_scheme_is_named_in_the_401(api, path, authorization):
    # a key was sent, but not in a form that is read: "a key is required" would be misleading
    r = api.get(path, key=None, headers={"Authorization": authorization})
    assert (r.status, r.error) == (401, {"code": "UNAUTHORIZED", "message": MALFORMED_AUTHORIZATION})
    assert r.headers["www-authenticate"] == 'Bearer realm="xpshop"'


def test_the_relay_route_names_a_malformed_authorization_header_too(api, monkeypatch):
    monkeypatch.setenv("XPSHOP_RELAY_KEY", "test-relay-key")
    body = {"messages": []}
    r = api.post("/api/xp/ingest/messages", body, key=None, headers={"Authorization": "test-relay-key"})
    assert (r.status, r.error["message"]) == (401, MALFORMED_AUTHORIZATION)
    assert r.headers["www-authenticate"] == 'Bearer realm="xpshop-relay"'
    none = api.post("/api/xp/ingest/messages", body, key=None)
    assert (none.status, none.error["message"]) == (401, "The relay key is required")


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (f"/api/xp/config/{G}", "A valid admin key is required"),
        ("/api/v1/users/list", "An API key is required"),
        (f"/api/v1/users/info?id={U}", "An API key is required"),
    ],
)
@pytest.mark.parametrize("headers", [None, {"Authorization": ""}, {"Authorization": "  "}])
def test_no_key_at_all_is_still_a_key_is_required(api, path, message, headers):
    r = api.get(path, key=None, headers=headers)
    assert (r.status, r.error) == (401, {"code": "UNAUTHORIZED", "message": message})


@pytest.mark.parametrize("path", [f"/api/xp/config/{G}", "/api/v1/users/list"])
def test_a_valid_x_api_key_wins_over_a_malformed_authorization_header(api, path):
    headers = {"Authorization": "Basic abc", "X-API-Key": "test-admin-key"}
    assert api.get(path, key=None, headers=headers).status == 200
    wrong = api.get(path, key=None, headers={"Authorization": "Basic abc", "X-API-Key": "wrong"})
    assert (wrong.status, wrong.error["message"]) == (401, "The API key is not valid")


def test_a_public_leaderboard_ignores_a_malformed_authorization_header(api):
    # anonymous reads of a public board stay anonymous whatever the header holds (unchanged)
    assert api.put(f"/api/xp/config/{G}", {"leaderboard": {"public": True}}).status == 200
    assert api.get(f"/api/xp/leaderboard/{G}", key=None, headers={"Authorization": "Basic abc"}).status == 200


def test_unauthorized_comes_before_everything_else(api):
    r = api.request("PATCH", "/api/xp/users/999999999999999999/bad", key=None, raw="{")
    assert (r.status, r.error["code"]) == (401, "UNAUTHORIZED")
    assert r.headers["www-authenticate"].startswith("Bearer")


def test_validation_failure_still_reports_an_unknown_guild_first(api):
    r = api.post(f"/api/xp/users/999999999999999999/{U}", {"amount": -1})
    assert r.error["code"] == "GUILD_NOT_FOUND"


def test_405_lists_allowed_methods(api):
    for path, allow in [
        (f"/api/xp/users/{G}", "GET"),
        (f"/api/xp/users/{G}/{U}/recalc", "POST"),
        (f"/api/xp/config/{G}/rewards", "GET, POST, DELETE"),
        ("/api/xp/config/global", "GET, PUT"),
        (f"/api/xp/leaderboard/{G}", "GET"),
    ]:
        r = api.request("PATCH", path)
        assert r.status == 405, path
        assert r.headers["allow"] == allow, path


def test_amount_must_be_an_integer(api):
    r = api.post(f"/api/xp/users/{G}/{U}", {"amount": 1.5})
    assert (r.status, r.error["code"]) == (400, "INVALID_AMOUNT")
    assert "amount" in r.error["message"]
    assert member_item(G, U) is None


def test_xp_above_the_maximum_is_refused(api):
    from xpshop.levels import MAX_XP

    api.put(f"/api/xp/users/{G}/{U}", {"xp": MAX_XP})
    r = api.post(f"/api/xp/users/{G}/{U}", {"amount": 1})
    assert (r.status, r.error["code"]) == (400, "INVALID_AMOUNT")
    assert member_item(G, U)["xp"] == MAX_XP


def test_storage_throttling_is_503(api, monkeypatch):
    from botocore.exceptions import ClientError

    from xpshop.store import members

    def throttled(*_a, **_k):
        raise ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}, "GetItem"
        )

    monkeypatch.setattr(members, "get", throttled)
    r = api.get(f"/api/xp/users/{G}/{U}")
    assert (r.status, r.error["code"]) == (503, "SERVICE_UNAVAILABLE")
    assert r.headers["retry-after"] == "1"


@pytest.mark.parametrize(
    "error",
    [
        {"Error": {"Code": "InternalServerError", "Message": "still failing after the SDK's retries"}},
        {"Error": {"Code": "ThrottlingException", "Message": "rate exceeded"}},
        {"Error": {"Code": "TransactionConflictException", "Message": "a transaction is ongoing for the item"}},
        {
            "Error": {"Code": "TransactionCanceledException", "Message": "cancelled [TransactionConflict]"},
            "CancellationReasons": [{"Code": "TransactionConflict"}, {"Code": "None"}],
        },
    ],
    ids=lambda e: e["Error"]["Code"],
)
@pytest.mark.parametrize(
    ("module", "name", "path"),
    [("members", "get", f"/api/xp/users/{G}/{U}"), ("profiles", "account", f"/api/v1/users/info?id={U}")],
    ids=["xp", "shop"],
)
def test_storage_failing_after_retries_is_503_in_both_api_styles(api, monkeypatch, error, module, name, path):
    """DynamoDB still throttling, failing or conflicting once the retries are spent: the caller may try
    again later (503 SERVICE_UNAVAILABLE with Retry-After), never a 500."""
    import importlib

    from botocore.exceptions import ClientError

    def failing(*_a, **_k):
        raise ClientError(error, "GetItem")

    monkeypatch.setattr(importlib.import_module(f"xpshop.store.{module}"), name, failing)
    r = api.get(path)
    assert (r.status, r.error["code"], r.headers["retry-after"]) == (503, "SERVICE_UNAVAILABLE", "1")


def test_a_refused_request_is_still_a_500(api, monkeypatch):
    """A ValidationException is our bug, not a busy table: 500, logged."""
    from botocore.exceptions import ClientError

    from xpshop.store import members

    def refused(*_a, **_k):
        raise ClientError({"Error": {"Code": "ValidationException", "Message": "bad expression"}}, "GetItem")

    monkeypatch.setattr(members, "get", refused)
    assert api.get(f"/api/xp/users/{G}/{U}").status == 500


@pytest.mark.parametrize("api_path", [f"/api/xp/users/{G}/{U}", f"/api/v1/users/info?id={U}"], ids=["xp", "shop"])
def test_the_sdk_s_own_errors_are_503_when_unreachable_and_400_when_a_parameter_is_refused(api, monkeypatch, api_path):
    """botocore's errors (mapped by the catch-all handler, botocore being loaded only once storage is used):
    storage unreachable is 503 with Retry-After, a parameter the SDK refuses is 400, in both API styles."""
    from botocore.exceptions import EndpointConnectionError, ParamValidationError

    from xpshop.store import members, profiles

    def unreachable(*_a, **_k):
        raise EndpointConnectionError(endpoint_url="https://dynamodb.invalid")

    monkeypatch.setattr(members, "get", unreachable)
    monkeypatch.setattr(profiles, "account", unreachable)
    r = api.get(api_path)
    assert (r.status, r.error["code"], r.headers["retry-after"]) == (503, "SERVICE_UNAVAILABLE", "1")

    def refused(*_a, **_k):
        raise ParamValidationError(report="Invalid length for parameter Key")

    monkeypatch.setattr(members, "get", refused)
    monkeypatch.setattr(profiles, "account", refused)
    r = api.get(api_path)
    assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST")


def test_unexpected_error_is_500_internal_error(api, monkeypatch):
    from xpshop.store import members

    monkeypatch.setattr(members, "get", lambda *_: 1 / 0)
    r = api.get(f"/api/xp/users/{G}/{U}")
    assert (r.status, r.error) == (500, {"code": "INTERNAL_ERROR", "message": "Unexpected server error"})


def test_bad_idempotency_key(api):
    r = api.post(f"/api/xp/users/{G}/{U}", {"amount": 1}, headers={"Idempotency-Key": "x" * 300})
    assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST")
    # what docs/openapi.json states: 1-255 visible ASCII characters (spaces inside only), as HTTP sends it
    for bad in ("cl\u00e9", "a\tb", " "):
        r = api.post(f"/api/xp/users/{G}/{U}", {"amount": 1}, headers={"Idempotency-Key": bad})
        assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST"), bad
        assert "Idempotency-Key" in r.error["message"]
    assert api.get(f"/api/xp/users/{G}/{U}").status == 404  # nothing applied


def test_every_write_honours_an_idempotency_key(api):
    """README: a retry of a POST/PUT/DELETE with the same Idempotency-Key and body returns the first answer.
    The writes that are idempotent by nature replay their first answer too (a registration's 201, a forget's
    counts), so a client's retry logic is one rule for every write (docs/openapi.json declares the header on
    each; the recalculation and the relay's routes, which do not take it, are the stated exceptions)."""
    guild = "333333333333333333"
    idem = {"Idempotency-Key": "register-once"}
    first = api.put(f"/api/xp/guilds/{guild}", headers=idem)
    again = api.put(f"/api/xp/guilds/{guild}", headers=idem)
    assert (first.status, again.status, again.body) == (201, 201, first.body)
    assert api.put(f"/api/xp/guilds/{guild}").status == 200  # without the key: already registered
    assert api.post(f"/api/xp/users/{G}/{U}", {"amount": 40}).status == 200
    idem = {"Idempotency-Key": "forget-once"}
    first = api.post(f"/api/xp/users/{G}/{U}/forget", headers=idem)
    again = api.post(f"/api/xp/users/{G}/{U}/forget", headers=idem)
    assert first.status == again.status == 200 and again.body == first.body
    assert first.data["removed"]["member"] == 1
    assert api.post(f"/api/xp/users/{G}/{U}/forget").data["removed"]["member"] == 0  # without it: nothing left


# ---------------------------------------------------------------- query strings on writes


def test_a_write_without_a_body_does_not_read_its_query_string_as_one(api):
    """/api/xp reads a write's fields from the JSON body only: its query string is neither a body (`?amount=10`
    was read as the string "10" and refused as not a number, `?foo=1` as an unknown body field) nor an error;
    a field given there is named with where it belongs. Nothing is stored."""
    no_body = "Invalid JSON in request body: this route reads its fields from a JSON body, not from the query"
    bad, amount, level = "INVALID_REQUEST", "INVALID_AMOUNT", "INVALID_LEVEL"
    cases = [
        ("POST", f"/api/xp/users/{G}/{U}?amount=10", None, bad, f"{no_body} string (amount)"),
        ("PUT", f"/api/xp/users/{G}/{U}?xp=10&reason=x", None, bad, f"{no_body} string (reason, xp)"),
        ("DELETE", f"/api/xp/users/{G}/{U}?amount=1", None, bad, f"{no_body} string (amount)"),
        ("POST", f"/api/xp/config/{G}/rewards?level=3&roleId={R}", None, bad, f"{no_body} string (level, roleId)"),
        ("POST", f"/api/xp/users/{G}/{U}?foo=1", None, bad, f"{no_body} string (foo)"),
        # a body without the field, the field in the query string: named with where it belongs
        ("POST", f"/api/xp/users/{G}/{U}?amount=10", {}, amount, "amount: Field required (amount given in the"),
        ("DELETE", f"/api/xp/config/{G}/rewards?level=3", {}, level, "level: Field required (level given in the"),
        ("PUT", f"/api/xp/users/{G}/{U}/privacy?hidden=true", {}, bad, "hidden: Field required (hidden given in"),
    ]
    for method, target, body, code, message in cases:
        r = api.request(method, target, body)
        assert (r.status, r.error["code"]) == (400, code), (target, r.body)
        assert r.error["message"].startswith(message), (target, r.error)
        assert "Extra inputs" not in r.error["message"]
    assert api.request("POST", f"/api/xp/users/{G}/{U}?foo=1", {}).error["message"] == "amount: Field required"
    assert api.request("POST", f"/api/xp/users/{G}/{U}?amount=1", {}).error["message"] == (
        "amount: Field required (amount given in the query string: send it in the JSON body)"
    )
    assert member_item(G, U) is None
    assert api.get(f"/api/xp/config/{G}/rewards").data["rewards"] == []
    before = api.get(f"/api/xp/config/{G}").data
    assert api.put(f"/api/xp/config/{G}?xpRate=2").error["message"] == f"{no_body} string (xpRate)"
    assert api.put(f"/api/xp/config/{G}/multipliers?server=2").error["message"] == f"{no_body} string (server)"
    assert api.get(f"/api/xp/config/{G}").data == before


def test_unknown_query_parameters_on_writes_are_ignored_as_on_reads(api):
    assert api.post(f"/api/xp/users/{G}/{U}?foo=1&amount=99", {"amount": 10}).data["newXp"] == 10
    assert api.put(f"/api/xp/users/{G}/{U}?xp=5", {"xp": 30}).data["newXp"] == 30
    assert api.delete(f"/api/xp/users/{G}/{U}?amount=20&x", {"amount": 5}).data["newXp"] == 25
    assert member_item(G, U)["xp"] == 25
    assert api.put(f"/api/xp/config/{G}/multipliers?server=3", {"server": 2.0}).data["server"] == 2.0
    assert api.get(f"/api/xp/users/{G}/{U}?foo=1").data["user"]["xp"] == 25
    other = "333333333333333333"
    registered = api.put(f"/api/xp/guilds/{other}?name=Query")  # the body is optional: the query is not one
    assert (registered.status, registered.data["name"]) == (201, None)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/keys", {"name": "dash", "scopes": ["xp:read"], "guildIds": ["*"]}),  # a secret
        ("POST", "/api/v1/keys", {"id": U}),  # a user key's secret
        ("GET", f"/api/xp/users/{G}", None),
        ("GET", f"/api/xp/users/{G}/{R}", None),  # an error
        ("GET", "/api/xp/health", None),
    ],
)
def test_api_answers_are_never_stored_by_caches_nor_sniffed(api, method, path, body):
    """Answers carry secrets (a new key) and private data behind a key: no browser or proxy may keep them,
    and a JSON body is never taken for another type."""
    answer = api.request(method, path, body)
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["x-content-type-options"] == "nosniff"


# ---------------------------------------------------------------- bodies that are not JSON objects

# Every /api/xp write that reads a JSON body (the relay's and /api/keys included: one resolver rule).
WRITES_WITH_BODIES = [
    ("POST", f"/api/xp/users/{G}/{U}"),
    ("PUT", f"/api/xp/users/{G}/{U}"),
    ("DELETE", f"/api/xp/users/{G}/{U}"),
    ("PUT", f"/api/xp/users/{G}/{U}/privacy"),
    ("PUT", f"/api/xp/config/{G}"),
    ("PUT", "/api/xp/config/global"),
    ("POST", f"/api/xp/config/{G}/rewards"),
    ("DELETE", f"/api/xp/config/{G}/rewards"),
    ("PUT", f"/api/xp/config/{G}/multipliers"),
    ("DELETE", f"/api/xp/config/{G}/multipliers"),
    ("POST", "/api/keys"),
]


@pytest.mark.parametrize(("method", "path"), WRITES_WITH_BODIES)
@pytest.mark.parametrize("raw", ["", " ", "\n"], ids=["empty", "space", "newline"])
def test_an_empty_body_is_invalid_json_as_the_reference_says(api, method, path, raw):
    """The reference reads every write's body with `request.json()`: an empty body fails to parse, 400 "Invalid
    JSON in request body", as a blank one already did here (an empty one said "Request body must be an
    object", the reference's answer to a body that parses to something else)."""
    r = api.request(method, path, raw=raw)
    assert (r.status, r.error) == (400, {"code": "INVALID_REQUEST", "message": "Invalid JSON in request body"})
    assert member_item(G, U) is None


@pytest.mark.parametrize(("method", "path"), WRITES_WITH_BODIES)
@pytest.mark.parametrize("raw", ["null", "[]", '"amount"', "5", "true"])
def test_a_json_body_that_is_not_an_object_is_refused_as_such(api, method, path, raw):
    r = api.request(method, path, raw=raw)
    assert (r.status, r.error) == (400, {"code": "INVALID_REQUEST", "message": "Request body must be an object"})
    assert member_item(G, U) is None


@pytest.mark.parametrize(
    "path",
    [
        "/api/xp/health",
        "/api/xp/guilds",
        f"/api/xp/users/{G}",
        f"/api/xp/config/{G}/rewards",
        "/api/xp/config/global",
        f"/api/xp/stats/{G}",
        "/api/keys",
        "/api/v1/cosmetics/list",
        "/api/v1/categories/list",
        "/api/docs/openapi.json",
    ],
)
def test_head_is_answered_as_get_without_a_body(api, path):
    # RFC 9110 9.3.2: HEAD wherever GET is allowed, the GET's status and headers, no body
    got = api.get(path)
    head = api.request("HEAD", path)
    assert (head.status, head.content) == (got.status, b""), head.body
    assert got.status == 200
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-length"] == str(len(got.content))


def test_head_keeps_the_gets_errors_and_refuses_where_get_is_not_allowed(api):
    # the GET's answer, error included (an unknown guild, no key)
    unknown = "999999999999999999"
    assert api.request("HEAD", f"/api/xp/users/{unknown}").status == api.get(f"/api/xp/users/{unknown}").status == 404
    assert api.request("HEAD", f"/api/xp/users/{G}", key=None).status == 401
    assert api.request("HEAD", "/api/v1/nothing/here").status == 404
    # a route without GET: 405 listing what it allows
    for path, allow in [(f"/api/xp/users/{G}/{U}/recalc", "POST"), ("/api/v1/cosmetics/buy", "POST")]:
        r = api.request("HEAD", path)
        assert (r.status, r.headers["allow"], r.content) == (405, allow, b""), path


@pytest.mark.parametrize("path", ["/", "/nowhere", "/api", "/api/xp/nope", "/api/v1/nope", "/?x=1"])
def test_an_unknown_route_is_a_404_in_the_envelope(api, path):
    # the catch-all routes of the template (`/` and `/{proxy+}`) reach a function: never API Gateway's own body
    for method in ("GET", "POST", "DELETE"):
        r = api.request(method, path)
        assert (r.status, r.error["code"]) == (404, "NOT_FOUND"), (method, path, r.body)
        assert r.headers["content-type"] == "application/json"


def test_a_method_the_route_does_not_have_is_a_405_for_a_key_that_may_use_the_route(api):
    # an xp:read key sending PATCH to a read-only route: no scope would let it, so the answer is the 405 with
    # Allow (was a 403 naming xp:write, which would not help either)
    made = api.post("/api/keys", {"name": "reader", "scopes": ["xp:read"], "guildIds": [G]})
    assert made.status == 201
    reader = made.data["key"]
    for method, path, allow in [
        ("PATCH", f"/api/xp/users/{G}", "GET"),
        ("POST", f"/api/xp/leaderboard/{G}", "GET"),
        ("DELETE", "/api/xp/health", "GET"),
    ]:
        r = api.request(method, path, key=reader)
        assert (r.status, r.error["code"], r.headers["allow"]) == (405, "METHOD_NOT_ALLOWED", allow), path
    # a key that may use none of the route's methods is still refused for the scope it lacks
    r = api.request("PATCH", f"/api/xp/config/{G}", key=reader)
    assert (r.status, r.error["code"]) == (403, "FORBIDDEN") and "config:" in r.error["message"]
    # and for a guild it lacks
    r = api.request("PATCH", "/api/xp/users/333333333333333333", key=reader)
    assert (r.status, r.error["code"]) == (403, "FORBIDDEN")
