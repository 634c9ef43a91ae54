"""Validation tables of the XP API, on one moto table per module: requests refused before any write, so
the real engine adds nothing here. Each answer is a 400 with the seed's code, and nothing is stored."""

from __future__ import annotations

import pytest

from tests.support.storage import member_item, new_user_id

ROLE = "456789012345678901"


@pytest.fixture(scope="module")
def api(api_moto_of_module):  # -> ApiClient
    return api_moto_of_module


@pytest.fixture(scope="module")
def guild(guild_moto_of_module: str) -> str:
    return guild_moto_of_module


def users(guild: str, user: str | None = None) -> str:
    return f"/api/xp/users/{guild}" + (f"/{user}" if user else "")


def privacy(guild: str, user: str) -> str:
    return f"/api/xp/users/{guild}/{user}/privacy"


@pytest.mark.parametrize(
    ("method", "body", "code"),
    [
        ("POST", {"amount": 0}, "INVALID_AMOUNT"),
        ("POST", {"amount": -5}, "INVALID_AMOUNT"),
        ("POST", {"amount": 2.5}, "INVALID_AMOUNT"),
        ("POST", {"amount": "lots"}, "INVALID_AMOUNT"),
        ("POST", {}, "INVALID_AMOUNT"),
        ("PUT", {"xp": -1}, "INVALID_AMOUNT"),
        ("DELETE", {"amount": 0}, "INVALID_AMOUNT"),
        ("POST", {"amount": 5, "extra": 1}, "INVALID_REQUEST"),
    ],
)
def test_bad_amounts(api, guild, method, body, code):
    user = new_user_id()
    r = api.request(method, users(guild, user), body)
    assert r.status == 400
    assert r.error["code"] == code
    assert member_item(guild, user) is None


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"level": 0, "roleId": ROLE}, "INVALID_LEVEL"),
        ({"level": "x", "roleId": ROLE}, "INVALID_LEVEL"),
        ({"level": 3, "roleId": "123"}, "INVALID_ROLE_ID"),
        ({"level": 3}, "INVALID_ROLE_ID"),
    ],
)
def test_reward_validation(api, guild, body, code):
    r = api.post(f"/api/xp/config/{guild}/rewards", body)
    assert (r.status, r.error["code"]) == (400, code)


@pytest.mark.parametrize(
    ("method", "body", "code"),
    [
        ("PUT", {"server": 0}, "INVALID_MULTIPLIER"),
        ("PUT", {"role": {ROLE: -1}}, "INVALID_MULTIPLIER"),
        ("PUT", {"user": {ROLE: "big"}}, "INVALID_MULTIPLIER"),
        ("PUT", {"role": {"abc": 2}}, "INVALID_REQUEST"),
        ("DELETE", {"role": ["abc"]}, "INVALID_REQUEST"),
    ],
)
def test_multiplier_validation(api, guild, method, body, code):
    r = api.request(method, f"/api/xp/config/{guild}/multipliers", body)
    assert (r.status, r.error["code"]) == (400, code)


@pytest.mark.parametrize(
    ("body", "code"),
    [({"amount": True}, "INVALID_AMOUNT"), ({"amount": "100"}, "INVALID_AMOUNT"), ({"amount": 1.5}, "INVALID_AMOUNT")],
)
def test_numbers_are_strict(api, guild, body, code):
    user = new_user_id()
    r = api.post(users(guild, user), body)
    assert (r.status, r.error["code"]) == (400, code)
    assert member_item(guild, user) is None


def test_a_whole_number_written_with_a_decimal_point_is_that_integer(api, guild):
    # JSON has one number type, and the OpenAPI document's `integer` includes 100.0: it is accepted as 100
    user = new_user_id()
    r = api.post(users(guild, user), {"amount": 100.0})
    assert (r.status, r.data["newXp"]) == (200, 100)
    assert member_item(guild, user)["xp"] == 100


@pytest.mark.parametrize(
    ("path", "method", "body", "code"),
    [
        ("/rewards", "POST", {"level": True, "roleId": "456789012345678901"}, "INVALID_LEVEL"),
        ("/rewards", "POST", {"level": "5", "roleId": "456789012345678901"}, "INVALID_LEVEL"),
        ("/multipliers", "PUT", {"server": True}, "INVALID_MULTIPLIER"),
        ("/multipliers", "PUT", {"server": "2"}, "INVALID_MULTIPLIER"),
        ("/multipliers", "DELETE", {"server": "yes"}, "INVALID_REQUEST"),
        ("", "PUT", {"cooldownSeconds": True}, "INVALID_CONFIG"),
        ("", "PUT", {"leaderboard": {"public": "yes"}}, "INVALID_CONFIG"),
    ],
)
def test_config_values_are_strict(api, guild, path, method, body, code):
    r = api.request(method, f"/api/xp/config/{guild}{path}", body)
    assert (r.status, r.error["code"]) == (400, code)
    assert api.get(f"/api/xp/config/{guild}").data["leaderboard"]["public"] is False


@pytest.mark.parametrize(
    "query",
    [
        "offset=10000000000000000000",
        "page=99999999999999999999999",
        "offset=9223372036854775800&limit=100",
        "offset=100000001",
    ],
)
def test_huge_offsets_are_400(api, guild, query):
    for base in (users(guild), f"/api/xp/leaderboard/{guild}"):
        r = api.get(f"{base}?{query}")
        assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST"), (base, query)


# What Python's int() (and so a lax integer) reads but is not a number written in digits: refused like "abc".
NOT_DIGITS = ["1_000", "1_0", "+5", "-0", " 5", "5 ", "5.0", "1e2", "0x10", "\uff15", "\u0665", "5\n", ""]


@pytest.mark.parametrize("value", NOT_DIGITS)
def test_numeric_query_parameters_are_digits_only(api, guild, value):
    """offset, limit and page are whole numbers written in ASCII digits: "1_000" was read as 1000 (Python's
    underscore separators), "+5", " 5" and "5.0" as 5, where the document says a non-numeric value is a 400."""
    from urllib.parse import quote

    targets = [
        (users(guild), ["offset", "limit", "page"]),
        (f"/api/xp/leaderboard/{guild}", ["offset", "limit", "page"]),
        ("/api/xp/guilds", ["limit"]),
        (f"/api/xp/export/{guild}", ["limit"]),
    ]
    for base, names in targets:
        for name in names:
            r = api.get(f"{base}?{name}={quote(value)}")
            assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST"), (base, name, value, r.body)
            assert r.error["message"].startswith(f"{name}: "), r.error


def test_numeric_query_parameters_in_digits_are_read(api, guild):
    pagination = api.get(f"{users(guild)}?offset=0&limit=05").data["pagination"]
    assert (pagination["offset"], pagination["limit"]) == (0, 5)
    assert api.get(f"{users(guild)}?page=0003&limit=2").data["pagination"]["offset"] == 4
    assert api.get(f"/api/xp/leaderboard/{guild}?offset=0&limit=1000").status == 200  # above 100: 100
    # the bounds still hold
    for target in (f"{users(guild)}?limit=0", "/api/xp/guilds?limit=101", f"/api/xp/export/{guild}?limit=10001"):
        assert api.get(target).error["code"] == "INVALID_REQUEST", target


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({}, "hidden: Field required"),
        ({"hidden": "yes"}, "hidden"),
        ({"hidden": 1}, "hidden"),
        ({"hidden": None}, "hidden"),
        ({"hidden": True, "name": "x"}, "name"),
        ([True], "Request body must be an object"),
        ([{"hidden": True}], "Request body must be an object"),
        ([None, None], "Request body must be an object"),
    ],
)
def test_bad_bodies_are_400_naming_the_field(api, guild, body, fragment):
    r = api.put(privacy(guild, new_user_id()), body)
    assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST")
    assert fragment in r.error["message"]


@pytest.mark.parametrize(
    ("path", "method", "body", "extra"),
    [
        ("/users", "POST", {"amount": 5, "level": 1}, "level"),
        ("/users", "POST", {"amount": 5, "roleId": ROLE}, "roleId"),
        ("/users", "POST", {"amount": 5, "server": 2}, "server"),
        ("/users", "PUT", {"xp": 5, "amount": 1}, "amount"),
        ("/users", "DELETE", {"amount": 5, "xp": 1}, "xp"),
        ("/privacy", "PUT", {"hidden": True, "amount": 1}, "amount"),
        ("/rewards", "POST", {"level": 3, "roleId": ROLE, "amount": 3}, "amount"),
        ("/rewards", "DELETE", {"level": 3, "roleId": ROLE}, "roleId"),
        ("/multipliers", "PUT", {"server": 2, "level": 1}, "level"),
    ],
)
def test_an_unknown_field_is_invalid_request_whatever_its_name(api, guild, path, method, body, extra):
    """A field the route does not take is INVALID_REQUEST (docs/API.md: "unknown body fields"), even when
    another route takes a field of that name (`level` on an XP add was INVALID_LEVEL)."""
    user = new_user_id()
    target = {
        "/users": users(guild, user),
        "/privacy": privacy(guild, user),
        "/rewards": f"/api/xp/config/{guild}/rewards",
        "/multipliers": f"/api/xp/config/{guild}/multipliers",
    }[path]
    r = api.request(method, target, body)
    assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST"), r.body
    assert r.error["message"] == f"{extra}: Extra inputs are not permitted"
    assert member_item(guild, user) is None
    assert api.get(f"/api/xp/config/{guild}/rewards").data["count"] == 0


@pytest.mark.parametrize(
    ("path", "method", "raw"),
    [
        ("/users", "POST", '{"amount": NaN}'),
        ("/users", "PUT", '{"xp": Infinity}'),
        ("/users", "POST", '{"amount": 5, "reason": NaN}'),
        ("/config", "PUT", '{"xpRate": NaN}'),
        ("/multipliers", "PUT", '{"server": -Infinity}'),
    ],
)
def test_nan_and_infinity_are_not_json(api, guild, path, method, raw):
    """NaN and Infinity are not JSON (RFC 8259; the reference's JSON.parse refuses them): the body does not
    parse, 400 INVALID_REQUEST "Invalid JSON in request body", not a field error ("xpRate: Input should be
    less than or equal to 100" for NaN)."""
    user = new_user_id()
    target = {
        "/users": users(guild, user),
        "/config": f"/api/xp/config/{guild}",
        "/multipliers": f"/api/xp/config/{guild}/multipliers",
    }[path]
    r = api.request(method, target, raw=raw)
    assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST"), r.body
    assert r.error["message"].startswith("Invalid JSON in request body"), r.error
    assert member_item(guild, user) is None


def test_a_negative_query_number_is_told_the_minimum(api, guild):
    for target, name, minimum in (
        (f"{users(guild)}?offset=-1", "offset", "0"),
        (f"{users(guild)}?limit=-5", "limit", "1"),
        (f"/api/xp/leaderboard/{guild}?page=-2", "page", "1"),
    ):
        r = api.get(target)
        assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST"), target
        assert r.error["message"] == f"{name}: Input should be greater than or equal to {minimum}", r.error


def test_a_body_led_by_a_utf8_byte_order_mark_is_read(api, guild):
    """A JSON body saved by a Windows editor or PowerShell often starts with a UTF-8 BOM. The reference reads
    it (`request.json()` decodes with WHATWG UTF-8 decode, which drops a leading BOM; RFC 8259 lets a reader
    ignore it): the body is the JSON after it, on every route, and a BOM anywhere else is still not JSON."""
    user = new_user_id()
    bom = "\ufeff".encode()
    r = api.post(users(guild, user), raw=bom + b'{"amount": 42, "reason": "bom"}')
    assert (r.status, r.data["newXp"]) == (200, 42), r.body
    assert member_item(guild, user)["xp"] == 42
    r = api.put(f"/api/xp/config/{guild}", raw=bom + b'{"giveXpAmount": 77}')
    assert (r.status, r.data["giveXpAmount"]) == (200, 77), r.body
    assert api.get(f"/api/xp/config/{guild}").data["giveXpAmount"] == 77
    r = api.put(f"/api/xp/config/{guild}", raw=b'{"giveXpAmount": 50}' + bom)
    assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST"), r.body
    assert api.put(f"/api/xp/config/{guild}", {"giveXpAmount": None}).status == 200


def test_an_empty_guilds_averages_are_numbers_of_one_type(api):
    """`xp.average` and `levels.average` are numbers with 2 decimals (0.0 for a guild of no members, as
    500.0 for one), not an integer 0 that a typed client reads as another type."""
    from tests.support.storage import new_guild_id

    empty = new_guild_id()
    assert api.put(f"/api/xp/guilds/{empty}").status == 201
    stats = api.get(f"/api/xp/stats/{empty}").data
    assert (stats["users"]["total"], stats["users"]["topUser"]) == (0, None)
    for average in (stats["xp"]["average"], stats["levels"]["average"]):
        assert isinstance(average, float) and average == 0.0, stats


@pytest.mark.parametrize("bad", ["18446744073709551616", "99999999999999999999"])
def test_a_path_id_above_the_snowflake_range_is_told_the_range(api, guild, bad):
    """A 20-digit id above 2^64-1 is refused: the message states that bound, not only "17-20 digits"
    (which the id has)."""
    for method, path in (("PUT", f"/api/xp/guilds/{bad}"), ("GET", users(guild, bad))):
        r = api.request(method, path)
        assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST"), r.body
        assert "at most 2^64-1" in r.error["message"], r.error
    assert member_item(guild, bad) is None
