"""POST /api/keys: every bad field is a 400 with its own code and a message naming it (moto: nothing is
written before validation)."""

from __future__ import annotations

import pytest

G = "111111111111111111"
GOOD = {"name": "dashboard", "scopes": ["xp:read"], "guildIds": [G]}


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"name": ""}, "INVALID_KEY_NAME", "name"),
        ({"name": "   "}, "INVALID_KEY_NAME", "name"),
        ({"name": "x" * 101}, "INVALID_KEY_NAME", "name"),
        ({"name": "tab\there"}, "INVALID_KEY_NAME", "name"),
        ({"name": 5}, "INVALID_KEY_NAME", "name"),
        ({"name": None}, "INVALID_KEY_NAME", "name"),
        ({"scopes": []}, "INVALID_SCOPES", "scopes"),
        ({"scopes": ["xp:admin"]}, "INVALID_SCOPES", "scopes"),
        ({"scopes": ["xp:read", "xp:read"]}, "INVALID_SCOPES", "scopes"),
        ({"scopes": "xp:read"}, "INVALID_SCOPES", "scopes"),
        ({"scopes": [1]}, "INVALID_SCOPES", "scopes"),
        ({"guildIds": ["123"]}, "INVALID_GUILD_IDS", "guildIds"),
        ({"guildIds": ["*", G]}, "INVALID_GUILD_IDS", "guildIds"),
        ({"guildIds": [G, G]}, "INVALID_GUILD_IDS", "guildIds"),
        ({"guildIds": "*"}, "INVALID_GUILD_IDS", "guildIds"),
        ({"guildIds": ["99999999999999999999999"]}, "INVALID_GUILD_IDS", "guildIds"),
        ({"guildIds": [str(10**17 + i) for i in range(101)]}, "INVALID_GUILD_IDS", "guildIds"),
        ({"expiresAt": "2001-01-01T00:00:00Z"}, "INVALID_EXPIRES_AT", "expiresAt"),
        ({"expiresAt": "tomorrow"}, "INVALID_EXPIRES_AT", "expiresAt"),
        ({"expiresAt": 4102444800}, "INVALID_EXPIRES_AT", "expiresAt"),
        ({"rateLimitPerMinute": 0}, "INVALID_RATE_LIMIT", "rateLimitPerMinute"),
        ({"rateLimitPerMinute": 60_001}, "INVALID_RATE_LIMIT", "rateLimitPerMinute"),
        ({"rateLimitPerMinute": "100"}, "INVALID_RATE_LIMIT", "rateLimitPerMinute"),
        ({"rateLimitPerMinute": 1.5}, "INVALID_RATE_LIMIT", "rateLimitPerMinute"),
        ({"rateLimitPerMinute": True}, "INVALID_RATE_LIMIT", "rateLimitPerMinute"),
        ({"extra": 1}, "INVALID_REQUEST", "extra"),
    ],
)
def test_a_bad_field_is_400_with_its_code(api_moto_of_module, change, code, field):
    body = {**GOOD, **change}
    result = api_moto_of_module.post("/api/keys", body)
    assert result.status == 400, result.body
    assert result.error["code"] == code
    assert field in result.error["message"]


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "tab\there", "a\u202eb", "a\u0000b"])
def test_a_bad_name_is_told_by_its_rule_not_by_a_regular_expression(api_moto_of_module, name):
    """The pattern that checks a visible name is ~2 KB of character ranges: quoting it tells nobody what is
    wrong (INVALID_KEY_NAME's message says what is; the same rule names a guild on its public board)."""
    rule = "1-100 visible characters once trimmed (no control, zero-width, bidi or private-use characters)"
    result = api_moto_of_module.post("/api/keys", {**GOOD, "name": name})
    assert (result.status, result.error["code"]) == (400, "INVALID_KEY_NAME"), result.body
    assert result.error["message"] == f"name: must be {rule}"
    guild = str(10**17 + 4242)
    result = api_moto_of_module.put(f"/api/xp/guilds/{guild}", {"name": name})
    assert (result.status, result.error["code"]) == (400, "INVALID_REQUEST"), result.body
    assert result.error["message"] == f"name: must be {rule}"


@pytest.mark.parametrize("missing", ["name", "scopes", "guildIds"])
def test_a_missing_field_is_named(api_moto_of_module, missing):
    body = {k: v for k, v in GOOD.items() if k != missing}
    result = api_moto_of_module.post("/api/keys", body)
    assert result.status == 400 and missing in result.error["message"]


def test_not_json_or_not_an_object(api_moto_of_module):
    assert api_moto_of_module.post("/api/keys", raw="{nope").error["code"] == "INVALID_REQUEST"
    assert api_moto_of_module.post("/api/keys", ["x"]).error["code"] == "INVALID_REQUEST"
    # a list is refused even when its first item is a good body (Powertools would validate that item alone)
    result = api_moto_of_module.post("/api/keys", [GOOD, None])
    assert (result.status, result.error["code"]) == (400, "INVALID_REQUEST")
    assert result.error["message"] == "Request body must be an object"


def test_a_whole_number_written_with_a_fraction_is_that_number(api_moto_of_module):
    """JSON has one number type: 600.0 is the integer 600 (JSON Schema's `integer` says so too)."""
    result = api_moto_of_module.post("/api/keys", {**GOOD, "name": "whole", "rateLimitPerMinute": 600.0})
    assert result.status == 201, result.body
    assert result.data["rateLimitPerMinute"] == 600


def test_without_the_admin_key_auth_comes_first(api_moto_of_module):
    assert api_moto_of_module.post("/api/keys", {"name": ""}, key=None).status == 401
    assert api_moto_of_module.get("/api/keys", key="wrong").status == 401
    assert api_moto_of_module.request("PATCH", "/api/keys").status == 405


@pytest.mark.parametrize(
    ("extra", "expires"),
    [({}, None), ({"expiresAt": "2099-01-31T12:00:00+01:00"}, "2099-01-31T11:00:00.000Z")],
)
def test_good_bodies_are_accepted(api_moto_of_module, extra, expires):
    result = api_moto_of_module.post("/api/keys", {**GOOD, "guildIds": ["*"], **extra})
    assert result.status == 201, result.body
    assert result.data["expiresAt"] == expires
    assert result.data["guildIds"] == ["*"]
