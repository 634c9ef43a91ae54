"""Inputs and failures found in review: each must be a clear 4xx (never a 500) and leave state exact."""

from __future__ import annotations

import base64
import json

import pytest

from tests.support.storage import member_item, new_guild_id, new_user_id


def users(guild: str, user: str | None = None) -> str:
    return f"/api/xp/users/{guild}" + (f"/{user}" if user else "")


@pytest.mark.parametrize("content_type", ["text/plain", "Application/JSON", "application/x-www-form-urlencoded"])
def test_json_body_is_read_whatever_the_content_type(api, guild, content_type):
    user = new_user_id()
    r = api.post(users(guild, user), raw='{"amount": 5}', headers={"content-type": content_type})
    assert r.status == 200, r.body
    assert member_item(guild, user)["xp"] == 5


def test_form_encoded_body_is_a_clear_400(api, guild):
    form = {"content-type": "application/x-www-form-urlencoded"}
    r = api.post(users(guild, new_user_id()), raw="amount=100", headers=form)
    assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST")
    assert "JSON" in r.error["message"]


def test_auth_still_comes_first_with_odd_content_types(api, guild):
    r = api.post(users(guild, new_user_id()), raw='{"amount": 5}', key=None, headers={"content-type": "text/plain"})
    assert r.status == 401


def test_deeply_nested_json_is_400(api, guild):
    r = api.post(users(guild, new_user_id()), raw="[" * 100_000)
    assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST")


@pytest.mark.parametrize("path", ["/api/xp/users/{guild}/{user}", "/api/v1/credits/set"])
def test_a_body_that_is_not_utf8_is_400_after_auth(api, guild, path):
    """Found by the API fuzzer: API Gateway base64-encodes a non-text body and Powertools decodes it as
    UTF-8, which raised (500) before it was mapped."""
    user = new_user_id()
    target = path.format(guild=guild, user=user)
    r = api.request(
        "PATCH" if "credits" in path else "POST",
        target,
        raw=b"\xee\x81{",
        headers={"content-type": "application/octet-stream"},
    )
    assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST"), r.body
    assert "UTF-8" in r.error["message"]
    assert member_item(guild, user) is None
    anonymous = api.request("POST", users(guild, user), raw=b"\xee\x81{", key=None)
    assert anonymous.status == 401


def test_a_snowflake_with_a_trailing_newline_is_not_one(api):
    """Python's "$" matches before a final newline: "<id>\n" passed as an id and named another account."""
    from xpshop.ids import is_snowflake

    assert is_snowflake("123456789012345678") and not is_snowflake("123456789012345678\n")
    r = api.get("/api/v1/users/info?id=123456789012345678%0A")
    assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST"), r.body


def test_crafted_cursor_is_400(api):
    crafted = {"PK": "x", "SK": "y", "GSI1PK": "OTHER", "GSI1SK": "z"}
    token = base64.urlsafe_b64encode(json.dumps(crafted).encode()).decode().rstrip("=")
    r = api.get(f"/api/xp/guilds?cursor={token}")
    assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST")


def test_too_many_multipliers_is_400(api, guild):
    roles = {str(600000000000000000 + i): 1.5 for i in range(251)}
    r = api.put(f"/api/xp/config/{guild}/multipliers", {"role": roles})
    assert (r.status, r.error["code"]) == (400, "INVALID_MULTIPLIER")


def test_empty_guild_segment_in_the_middle(api, guild):
    assert api.get(f"/api/xp/users//{new_user_id()}").error["code"] == "MISSING_GUILD_ID"
    assert api.get("/api/xp/config//rewards").error["code"] == "MISSING_GUILD_ID"


def test_guild_multipliers_do_not_freeze_global_values(api, guild):
    try:
        api.put("/api/xp/config/global", {"multipliers": {"server": 2.0}})
        api.put(f"/api/xp/config/{guild}/multipliers", {"role": {"456789012345678901": 1.5}})
        api.put("/api/xp/config/global", {"multipliers": {"server": 3.0}})
        assert api.get(f"/api/xp/config/{guild}/multipliers").data["server"] == 3.0
        api.put(f"/api/xp/config/{guild}/multipliers", {"server": 5.0})
        removed = api.delete(f"/api/xp/config/{guild}/multipliers", {"server": True}).data
        assert removed["server"] == 3.0  # falls back to the global value, and says so
        assert api.get(f"/api/xp/config/{guild}/multipliers").data["server"] == 3.0
    finally:
        api.put("/api/xp/config/global", {"multipliers": None})


def test_a_counter_failure_after_the_write_does_not_fail_or_double_the_request(api, guild, monkeypatch):
    from botocore.exceptions import ReadTimeoutError

    from xpshop.store import stats

    def timeout(*_a, **_k):
        raise ReadTimeoutError(endpoint_url="http://dynamodb")

    monkeypatch.setattr(stats, "apply", timeout)
    user = new_user_id()
    headers = {"Idempotency-Key": "after-write-failure"}
    first = api.post(users(guild, user), {"amount": 10}, headers=headers)
    again = api.post(users(guild, user), {"amount": 10}, headers=headers)
    assert first.status == again.status == 200
    assert member_item(guild, user)["xp"] == 10


def test_pages_do_not_depend_on_counters(api, guild, monkeypatch):
    from xpshop.store import stats

    for i in range(3):
        api.put(users(guild, str(700000000000000000 + i)), {"xp": 10 * (i + 1)})
    monkeypatch.setattr(stats, "read", lambda _g: stats.Totals())  # counters lost entirely
    page = api.get(f"{users(guild)}?limit=2").data
    assert len(page["users"]) == 2
    assert page["pagination"]["hasMore"] is True
    assert len(api.get(f"/api/xp/leaderboard/{guild}").data["entries"]) == 3


def test_ties_order_by_numeric_user_id_across_lengths(api, guild):
    short, long_ = "99999999999999999", "100000000000000000"  # 17 and 18 digits
    for user in (long_, short):
        api.put(users(guild, user), {"xp": 50})
    board = api.get(f"/api/xp/leaderboard/{guild}").data["entries"]
    assert [e["userId"] for e in board] == [short, long_]


def test_idempotency_fingerprint_ignores_formatting(api, guild):
    path = users(guild, new_user_id())
    headers = {"Idempotency-Key": "formatting"}
    assert api.post(path, raw='{"amount": 1}', headers=headers).status == 200
    assert api.post(path, raw='{"amount":1}', headers=headers).status == 200


def test_guild_registered_elsewhere_is_found_at_once(api):
    from xpshop.store import guilds

    guild = new_guild_id()
    guilds.forget_cache()
    assert api.get(f"/api/xp/config/{guild}").status == 404
    assert api.put(f"/api/xp/guilds/{guild}").status == 201
    guilds.forget_cache()
    assert api.get(f"/api/xp/config/{guild}").status == 200


def test_docs_wrong_method_is_405(api):
    r = api.post("/api/docs", key=None)
    assert (r.status, r.headers["allow"]) == (405, "GET")
