"""API keys v2 and rate limits on DynamoDB Local: the key store (create, list, revoke, expire), one GetItem
per request, scopes and guilds on real routes, and the fixed-window counter under real parallel requests."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from tests.support import shop
from tests.support.api_keys import away_from_window_end, from_address
from tests.support.storage import new_guild_id, new_user_id, recorded_calls
from xpshop.clock import now_ms
from xpshop.service import access_keys
from xpshop.store import access_keys as key_store
from xpshop.store import keys
from xpshop.store.table import plain, table

_addresses = itertools.count(1)


def new_address() -> str:
    return f"198.51.100.{next(_addresses)}"


def make_key(api, scopes, guild_ids, **extra) -> dict:
    result = api.post("/api/keys", {"name": "dashboard", "scopes": scopes, "guildIds": guild_ids, **extra})
    assert result.status == 201, result.body
    return result.data


def test_a_key_is_created_shown_once_and_stored_hashed(api):
    # Given / When: the admin makes a key
    created = make_key(api, ["xp:read", "config:read"], ["*"], rateLimitPerMinute=120)
    # Then: the answer holds the secret and the key's fields
    assert created["key"].startswith(f"xpk_{created['id']}_")
    assert created["scopes"] == ["xp:read", "config:read"]
    assert created["guildIds"] == ["*"]
    assert created["rateLimitPerMinute"] == 120
    assert created["expiresAt"] is None
    assert created["createdAt"].endswith("Z")
    # and the table holds only its SHA-256
    item = plain(table().get_item(Key=keys.access_key(created["id"]), ConsistentRead=True)["Item"])
    assert created["key"] not in str(item)
    assert item["digest"] == access_keys.digest(created["key"])
    # and the list never shows a secret
    listed = {k["id"]: k for k in api.get("/api/keys").data["keys"]}
    assert "key" not in listed[created["id"]]
    assert listed[created["id"]]["lastUsedAt"] is None


def test_a_key_without_rate_limit_gets_the_default(api):
    created = make_key(api, ["xp:read"], [])
    assert created["rateLimitPerMinute"] == access_keys.default_rate_limit() == 1500


def test_using_a_key_sets_last_used_and_revoking_it_answers_401(api, guild):
    created = make_key(api, ["xp:read"], [guild])
    assert api.get(f"/api/xp/users/{guild}", key=created["key"]).status == 200
    listed = {k["id"]: k for k in api.get("/api/keys").data["keys"]}
    assert listed[created["id"]]["lastUsedAt"] is not None
    # When: revoked
    revoked = api.delete(f"/api/keys/{created['id']}")
    assert revoked.status == 200 and revoked.data["revoked"] is True
    # Then: refused at once here (this container dropped it from its cache), listed with revokedAt
    refused = api.get(f"/api/xp/users/{guild}", key=created["key"])
    assert refused.status == 401 and refused.error["code"] == "UNAUTHORIZED"
    assert "revoked" in refused.error["message"]
    assert {k["id"]: k for k in api.get("/api/keys").data["keys"]}[created["id"]]["revokedAt"]
    # and revoking again, or an id that never was, is 404
    assert api.delete(f"/api/keys/{created['id']}").error["code"] == "KEY_NOT_FOUND"
    assert api.delete("/api/keys/0000000000000000").status == 404
    assert api.delete("/api/keys/not-an-id").status == 404


def test_a_revocation_elsewhere_is_honoured_when_the_cache_expires(api, guild, monkeypatch):
    created = make_key(api, ["xp:read"], [guild])
    assert api.get(f"/api/xp/users/{guild}", key=created["key"]).status == 200
    # Given: another container revokes it (this one's cache still holds the key)
    key_store.revoke(created["id"], now_ms())
    assert api.get(f"/api/xp/users/{guild}", key=created["key"]).status == 200
    # When: the cached entry expires (CACHE_SECONDS later)
    clock = access_keys.time.monotonic() + access_keys.CACHE_SECONDS + 1
    monkeypatch.setattr(access_keys.time, "monotonic", lambda: clock)
    # Then
    assert api.get(f"/api/xp/users/{guild}", key=created["key"]).status == 401


def test_an_expired_key_answers_401(api, guild):
    issued = access_keys.issue("old", ["xp:read"], [guild], expires_at=now_ms() - 1)
    refused = api.get(f"/api/xp/users/{guild}", key=issued["key"])
    assert refused.status == 401 and "expired" in refused.error["message"]


def test_an_unknown_or_altered_key_answers_401(api, guild):
    created = make_key(api, ["xp:read"], [guild])
    altered = created["key"][:-1] + ("A" if created["key"][-1] != "A" else "B")
    for key in (altered, "xpk_0123456789abcdef_" + "x" * 43, "xpk_nonsense"):
        assert api.get(f"/api/xp/users/{guild}", key=key).status == 401


def test_a_key_resolves_in_one_get_item_then_from_the_cache(api, guild):
    created = make_key(api, ["xp:read"], [guild])
    path = f"/api/xp/users/{guild}"
    api.get(path)  # warm this container's guild cache
    access_keys.forget_cache()
    with recorded_calls() as admin:
        assert api.get(path).status == 200
    with recorded_calls() as first:
        assert api.get(path, key=created["key"]).status == 200
    with recorded_calls() as second:
        assert api.get(path, key=created["key"]).status == 200
    # first use: the key's GetItem, its lastUsedAt, the rate window; then only the rate window
    assert first - admin == Counter({"GetItem": 1, "UpdateItem": 2})
    assert second - admin == Counter({"UpdateItem": 1})
    assert admin - second == Counter()


def test_scopes_and_guilds_on_real_routes(api, guild):
    other = new_guild_id()
    assert api.put(f"/api/xp/guilds/{other}").status == 201
    reader = make_key(api, ["xp:read"], [guild])["key"]
    user = new_user_id()

    # the scope it has, on its guild
    assert api.get(f"/api/xp/users/{guild}", key=reader).status == 200
    assert api.get(f"/api/xp/leaderboard/{guild}", key=reader).status == 200
    assert api.get(f"/api/xp/stats/{guild}", key=reader).status == 200
    # a scope it lacks: 403 naming it
    for method, path, body, scope in [
        ("POST", f"/api/xp/users/{guild}/{user}", {"amount": 5}, "xp:write"),
        ("GET", f"/api/xp/config/{guild}", None, "config:read"),
        ("PUT", f"/api/xp/config/{guild}", {"xpPerMessage": 5}, "config:write"),
        ("GET", f"/api/xp/export/{guild}", None, "export"),
        ("POST", f"/api/xp/import/{guild}", [], "import"),
        ("GET", "/api/v1/cosmetics/list", None, "shop:read"),
    ]:
        refused = api.request(method, path, body, key=reader)
        assert refused.status == 403, (method, path, refused.body)
        assert refused.error["code"] == "FORBIDDEN" and scope in refused.error["message"]
    # a guild it lacks: 403 naming it
    refused = api.get(f"/api/xp/users/{other}", key=reader)
    assert refused.status == 403 and other in refused.error["message"]
    # global routes need ["*"]
    assert api.get("/api/xp/guilds", key=reader).status == 403
    # keys cannot manage keys
    assert api.get("/api/keys", key=reader).status == 403
    assert api.post("/api/keys", {"name": "x", "scopes": ["xp:read"], "guildIds": ["*"]}, key=reader).status == 403

    everywhere = make_key(api, ["xp:read", "xp:write", "config:read", "shop:read"], ["*"])["key"]
    assert api.get(f"/api/xp/users/{other}", key=everywhere).status == 200
    assert api.post(f"/api/xp/users/{guild}/{user}", {"amount": 5}, key=everywhere).status == 200
    assert api.get("/api/xp/config/global", key=everywhere).status == 200
    assert api.get("/api/xp/guilds", key=everywhere).status == 200
    assert api.get("/api/v1/cosmetics/list", key=everywhere).status == 200
    refused = api.post("/api/v1/categories/create", {"name": "Hats"}, key=everywhere)
    assert refused.status == 403 and "shop:write" in refused.error["message"]

    # none: an empty guild list reaches no guild
    nowhere = make_key(api, ["xp:read"], [])["key"]
    assert api.get(f"/api/xp/users/{guild}", key=nowhere).status == 403


def test_the_admin_key_is_not_limited_and_user_keys_are(api):
    result = api.get("/api/xp/guilds")
    assert result.status == 200 and "x-ratelimit-limit" not in result.headers
    owner = shop.funded_user(api, new_user_id(), 10)
    user_key = api.post("/api/v1/keys", {"id": owner}).body["key"]
    mine = api.get(f"/api/v1/users/info?id={owner}", key=user_key)
    assert mine.headers["x-ratelimit-limit"] == "1500"


def test_a_key_over_its_limit_gets_429_with_retry_after(api, guild):
    created = make_key(api, ["xp:read"], [guild], rateLimitPerMinute=2)
    away_from_window_end()
    first = api.get(f"/api/xp/users/{guild}", key=created["key"])
    assert first.headers["x-ratelimit-limit"] == "2" and first.headers["x-ratelimit-remaining"] == "1"
    assert api.get(f"/api/xp/users/{guild}", key=created["key"]).headers["x-ratelimit-remaining"] == "0"
    refused = api.get(f"/api/xp/users/{guild}", key=created["key"])
    assert refused.status == 429 and refused.error["code"] == "RATE_LIMITED"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["x-ratelimit-reset"] == first.headers["x-ratelimit-reset"]
    # errors after the gate carry the headers too (a guild the key may see, not registered)
    unknown = make_key(api, ["xp:read"], ["*"])["key"]
    missing = api.get(f"/api/xp/users/{new_guild_id()}", key=unknown)
    assert missing.status == 404 and missing.headers["x-ratelimit-remaining"] == "1499"


def test_thirty_parallel_requests_against_a_limit_of_ten(api, guild, parallel):
    created = make_key(api, ["xp:read"], [guild], rateLimitPerMinute=10)
    away_from_window_end(15)
    results = parallel.call(
        "tests.support.api_keys:request_with_key", [("GET", f"/api/xp/users/{guild}", created["key"])] * 30
    )
    statuses = Counter(status for status, _ in results)
    assert statuses == Counter({200: 10, 429: 20})
    resets = {headers["x-ratelimit-reset"] for _, headers in results}
    assert len(resets) == 1
    window = int(resets.pop()) - 60
    counter = table().get_item(Key=keys.rate_window(f"key:{created['id']}", window), ConsistentRead=True)["Item"]
    assert int(counter["n"]) == 10
    assert int(counter["ttl"]) > window + 60
    remaining = sorted(int(h["x-ratelimit-remaining"]) for s, h in results if s == 200)
    assert remaining == list(range(10))


@pytest.fixture
def anonymous_limit_of_3(monkeypatch):
    monkeypatch.setenv("RATE_LIMIT_ANONYMOUS_PER_MINUTE", "3")


def test_anonymous_callers_are_limited_per_address(api, guild, anonymous_limit_of_3):
    assert api.put(f"/api/xp/config/{guild}", {"leaderboard": {"public": True}}).status == 200
    away_from_window_end()
    for path in ("/api/xp/health", f"/api/xp/leaderboard/{guild}", f"/leaderboard/{guild}"):
        address = new_address()
        statuses = [from_address(api, "GET", path, address)[0] for _ in range(3)]
        assert statuses == [200, 200, 200], path
        status, headers, body = from_address(api, "GET", path, address)
        assert status == 429, path
        assert body["error"]["code"] == "RATE_LIMITED" and int(headers["retry-after"]) >= 1
        assert headers["x-ratelimit-limit"] == "3" and headers["x-ratelimit-remaining"] == "0"
        # a client that asks for JSON gets JSON on every route, the web board's included
        status, headers, body = from_address(api, "GET", path, address, accept="application/json")
        assert (status, body["error"]["code"]) == (429, "RATE_LIMITED") and int(headers["retry-after"]) >= 1
        # another address is counted apart
        assert from_address(api, "GET", path, new_address())[0] == 200
    # a browser on the web board gets a page (the 404's look), the same limit and Retry-After, never cached
    address = new_address()
    browser = "text/html,application/xhtml+xml,*/*;q=0.8"
    assert [from_address(api, "GET", f"/leaderboard/{guild}", address, accept=browser)[0] for _ in range(3)] == [
        200
    ] * 3
    status, headers, body = from_address(api, "GET", f"/leaderboard/{guild}", address, accept=browser)
    assert (status, body, headers["content-type"]) == (429, None, "text/html; charset=utf-8")
    assert int(headers["retry-after"]) >= 1 and headers["cache-control"] == "no-store"
    assert headers["x-ratelimit-limit"] == "3" and headers["x-ratelimit-remaining"] == "0"


def test_rank_cards_are_limited_per_address(api, guild, anonymous_limit_of_3):
    assert api.put(f"/api/xp/config/{guild}", {"leaderboard": {"public": True}}).status == 200
    user = new_user_id()
    assert api.post(f"/api/xp/users/{guild}/{user}", {"amount": 50}).status == 200
    away_from_window_end()
    address = new_address()
    path = f"/cards/{guild}/{user}.png"
    statuses = [from_address(api, "GET", path, address)[0] for _ in range(4)]
    assert statuses[:3] != [429] * 3 and statuses[3] == 429
    assert from_address(api, "GET", path, address)[1]["x-ratelimit-remaining"] == "0"


# ---------------------------------------------------------------- /xp api-key (Discord)


def _answer_text(answer: dict) -> str:
    return " ".join(e.get("description", "") for e in answer["data"].get("embeds", [])) + answer["data"].get(
        "content", ""
    )


def test_xp_api_key_issues_a_private_read_key_for_that_server(api, guild, discord_app):
    from tests.support import discord as d

    other = new_guild_id()
    assert api.put(f"/api/xp/guilds/{other}").status == 201
    manager = new_user_id()
    # Given: a member without Manage Server is refused
    status, refused = d.call(discord_app.signer, d.command(guild, new_user_id(), "xp", "api-key"))
    assert status == 200 and "Manage Server" in _answer_text(refused)
    # When: a manager asks
    status, answer = d.call(discord_app.signer, d.command(guild, manager, "xp", "api-key", permissions=d.MANAGE_GUILD))
    # Then: a private answer with a key that reads this guild only
    assert status == 200 and answer["data"]["flags"] == 64  # ephemeral
    key = next(part for part in _answer_text(answer).split("`") if part.startswith("xpk_"))
    assert api.get(f"/api/xp/users/{guild}", key=key).status == 200
    assert api.get(f"/api/xp/config/{guild}", key=key).status == 200
    assert api.get(f"/api/xp/users/{other}", key=key).status == 403
    assert api.post(f"/api/xp/users/{guild}/{new_user_id()}", {"amount": 1}, key=key).status == 403
    # named after who made it, listed for the admin
    key_id = key.split("_")[1]
    listed = {k["id"]: k for k in api.get("/api/keys").data["keys"]}[key_id]
    assert manager in listed["name"] and listed["createdBy"] == f"discord:{manager}"
    assert listed["scopes"] == ["xp:read", "config:read"] and listed["guildIds"] == [guild]


def test_browsers_may_read_the_rate_limit_headers(api, guild):
    created = make_key(api, ["xp:read"], [guild])
    answer = api.get(f"/api/xp/users/{guild}", key=created["key"], headers={"Origin": "https://dash.example"})
    exposed = {h.strip().lower() for h in answer.headers["access-control-expose-headers"].split(",")}
    assert {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "retry-after"} <= exposed


def test_a_retried_creation_with_an_idempotency_key_makes_no_second_key_and_stores_no_secret(api):
    # Given: the admin creates a key with an Idempotency-Key (its answer was lost, say)
    body = {"name": "retried", "scopes": ["xp:read"], "guildIds": ["*"]}
    idem = {"Idempotency-Key": f"create-{new_guild_id()}"}
    first = api.post("/api/keys", body, headers=idem)
    assert first.status == 201 and first.data["key"].startswith(f"xpk_{first.data['id']}_")
    # When: it retries the same request
    again = api.post("/api/keys", body, headers=idem)
    # Then: no second key is made; the answer names the one made, whose secret is not shown again
    assert again.status == 409 and again.error["code"] == "KEY_ALREADY_CREATED"
    assert first.data["id"] in again.error["message"] and first.data["key"] not in str(again.body)
    named = [k for k in api.get("/api/keys").data["keys"] if k["name"] == "retried"]
    assert [k["id"] for k in named] == [first.data["id"]]
    # and the idempotency record kept the answer without the secret (only its SHA-256 is stored anywhere)
    page: dict = {"LastEvaluatedKey": None}
    while "LastEvaluatedKey" in page:
        start = {"ExclusiveStartKey": page["LastEvaluatedKey"]} if page["LastEvaluatedKey"] else {}
        page = table().scan(ConsistentRead=True, **start)
        assert first.data["key"].rsplit("_", 1)[1] not in str(plain(page["Items"]))
    # and the same key with another body is refused as for any write
    other = api.post("/api/keys", {**body, "name": "other"}, headers=idem)
    assert other.status == 422 and other.error["code"] == "IDEMPOTENCY_KEY_REUSED"
    # and the key made works
    assert api.get("/api/xp/guilds", key=first.data["key"]).status == 200


def test_a_retried_revocation_with_an_idempotency_key_replays_its_answer(api):
    created = make_key(api, ["xp:read"], [])
    idem = {"Idempotency-Key": f"revoke-{created['id']}"}
    first = api.delete(f"/api/keys/{created['id']}", headers=idem)
    again = api.delete(f"/api/keys/{created['id']}", headers=idem)
    assert first.status == again.status == 200
    assert again.data == first.data
    assert api.delete(f"/api/keys/{created['id']}").status == 404  # without the key: already revoked
