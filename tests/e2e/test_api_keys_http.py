"""API keys v2 over HTTP against the session's local server: the admin makes a key, a dashboard uses it,
hits its limit, and the key is revoked."""

from __future__ import annotations

import time

import requests

from tests.support.storage import new_guild_id, new_user_id


def test_a_key_from_creation_to_revocation(http):
    base = http.base_url
    guild, other, user = new_guild_id(), new_guild_id(), new_user_id()
    assert http.put(f"{base}/api/xp/guilds/{guild}").status_code == 201
    assert http.put(f"{base}/api/xp/guilds/{other}").status_code == 201
    assert http.post(f"{base}/api/xp/users/{guild}/{user}", json={"amount": 120}).status_code == 200

    # the admin makes a read key for one guild, limited to 3 requests a minute
    made = http.post(
        f"{base}/api/keys",
        json={"name": "e2e dashboard", "scopes": ["xp:read"], "guildIds": [guild], "rateLimitPerMinute": 3},
    )
    assert made.status_code == 201, made.text
    key_id, secret = made.json()["data"]["id"], made.json()["data"]["key"]
    dashboard = requests.Session()
    dashboard.headers["X-API-Key"] = secret

    if 60 - time.time() % 60 < 8:  # keep the burst inside one one-minute window (setup, not an assertion)
        time.sleep(60 - time.time() % 60 + 0.05)
    # it reads its guild, with the limit's headers
    read = dashboard.get(f"{base}/api/xp/users/{guild}/{user}")
    assert read.status_code == 200 and read.json()["data"]["user"]["xp"] == 120
    assert read.headers["X-RateLimit-Limit"] == "3" and read.headers["X-RateLimit-Remaining"] == "2"
    # it may not write, nor read another guild, nor manage keys
    refused = dashboard.post(f"{base}/api/xp/users/{guild}/{user}", json={"amount": 1})
    assert refused.status_code == 403 and "xp:write" in refused.json()["error"]["message"]
    other_guild = dashboard.get(f"{base}/api/xp/users/{other}")
    assert other_guild.status_code == 403 and other in other_guild.json()["error"]["message"]
    # the limit: 3 requests counted (refusals count too), the next is refused with Retry-After
    limited = dashboard.get(f"{base}/api/xp/leaderboard/{guild}")
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "RATE_LIMITED"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.headers["X-RateLimit-Remaining"] == "0"

    # the list shows it, used, without its secret
    listed = {k["id"]: k for k in http.get(f"{base}/api/keys").json()["data"]["keys"]}
    assert listed[key_id]["lastUsedAt"] and secret not in str(listed)

    # revoked: refused (this server is one container; elsewhere within the 30 s cache)
    assert http.delete(f"{base}/api/keys/{key_id}").status_code == 200
    gone = dashboard.get(f"{base}/api/xp/users/{guild}")
    assert gone.status_code == 401 and gone.headers["WWW-Authenticate"].startswith("Bearer")
