"""The XP seed's curl sequence over HTTP against the local server, as a user would run it."""

from __future__ import annotations

import subprocess
import time

import requests

from tests.e2e.conftest import E2E_KEY

# ids of this module only: the e2e session shares one server (tests/e2e/conftest.py)
G, U, U2, ROLE = "123456789012345603", "234567890123456731", "234567890123456732", "456789012345678931"


def test_seed_sequence(server):
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {E2E_KEY}"

    def call(method: str, path: str, body=None, status: int = 200):
        r = s.request(method, f"{server}{path}", json=body, timeout=10)
        assert r.status_code == status, (method, path, r.text)
        assert r.headers["content-type"].startswith("application/json")
        return r.json()["data"] if r.json()["success"] else r.json()["error"]

    assert call("GET", f"/api/xp/users/{G}", status=404) == {
        "code": "GUILD_NOT_FOUND",
        "message": f"Guild {G} is not registered",
    }
    assert call("PUT", f"/api/xp/guilds/{G}", {"name": "Seed guild"}, status=201)["created"] is True
    assert call("POST", f"/api/xp/users/{G}/{U}", {"amount": 100, "reason": "api_award"}) == {
        "oldXp": 0,
        "newXp": 100,
        "oldLevel": 0,
        "newLevel": 0,
        "leveledUp": False,
    }
    got = call("GET", f"/api/xp/users/{G}/{U}")
    assert got["user"]["xp"] == 100
    assert got["progress"] == {"level": 0, "inLevel": 100, "toNext": 55}
    assert got["percentage"] == 64.52
    assert call("PUT", f"/api/xp/users/{G}/{U}", {"xp": 5000, "reason": "api_set"}) == {
        "oldXp": 100,
        "newXp": 5000,
        "oldLevel": 0,
        "newLevel": 9,
    }
    assert call("DELETE", f"/api/xp/users/{G}/{U}", {"amount": 50, "reason": "api_penalty"}) == {
        "oldXp": 5000,
        "newXp": 4950,
        "oldLevel": 9,
        "newLevel": 9,
        "leveledDown": False,
    }
    assert call("POST", f"/api/xp/users/{G}/{U}/recalc") == {
        "oldLevel": 9,
        "newLevel": 9,
        "totalXp": 4950,
        "reconciled": False,
    }
    call("POST", f"/api/xp/users/{G}/{U2}", {"amount": 200})
    # Rank counters follow the table's stream (make dev polls it like Lambda): totals catch up in a moment.
    deadline = time.monotonic() + 15
    while (board := call("GET", f"/api/xp/leaderboard/{G}?offset=0&limit=10"))["total"] < 2:
        assert time.monotonic() < deadline, board
        time.sleep(0.1)
    assert board == {
        "entries": [{"userId": U, "xp": 4950, "level": 9, "rank": 1}, {"userId": U2, "xp": 200, "level": 1, "rank": 2}],
        "total": 2,
    }
    assert call("GET", f"/api/xp/leaderboard/{G}/{U2}") == {"rank": 2, "total": 2}
    cfg = call("PUT", f"/api/xp/config/{G}", {"cooldownSeconds": 45, "xpRate": 1.5})
    assert (cfg["cooldownSeconds"], cfg["xpRate"]) == (45, 1.5)
    assert call("GET", f"/api/xp/config/{G}")["cooldownSeconds"] == 45
    glob = call("PUT", "/api/xp/config/global", {"cooldownSeconds": 45, "xpRate": 1.2})
    assert glob["xpRate"] == 1.2
    assert call("GET", f"/api/xp/config/{G}")["xpRate"] == 1.5  # the guild's override wins
    assert call("POST", f"/api/xp/config/{G}/rewards", {"level": 10, "roleId": ROLE})["added"] == {
        "level": 10,
        "roleId": ROLE,
    }
    assert call("GET", f"/api/xp/config/{G}/rewards")["count"] == 1
    assert call("DELETE", f"/api/xp/config/{G}/rewards", {"level": 10}) == {
        "removed": {"level": 10, "roleId": ROLE},
        "remaining": [],
    }
    assert call("PUT", f"/api/xp/config/{G}/multipliers", {"server": 2.0, "role": {ROLE: 1.5}}) == {
        "server": 2.0,
        "role": {ROLE: 1.5},
        "user": {},
    }
    assert call("DELETE", f"/api/xp/config/{G}/multipliers", {"role": [ROLE], "user": ["789012345678901234"]}) == {
        "server": 2.0,
        "role": {},
        "user": {},
    }
    stats = call("GET", f"/api/xp/stats/{G}")
    assert stats["users"] == {"total": 2, "topUser": {"userId": U, "xp": 4950, "level": 9}}
    assert stats["xp"] == {"total": 5150, "average": 2575.0}
    assert stats["config"]["multipliersCount"] == 1
    health = requests.get(f"{server}/api/xp/health", timeout=5).json()["data"]
    assert health["status"] == "healthy"


def test_errors_over_http(server):
    r = requests.get(f"{server}/api/xp/config/{G}", timeout=5)
    assert r.status_code == 401
    assert r.json() == {"success": False, "error": {"code": "UNAUTHORIZED", "message": "A valid admin key is required"}}
    r = requests.patch(f"{server}/api/xp/health", timeout=5)
    assert (r.status_code, r.headers["Allow"]) == (405, "GET")
    r = requests.get(f"{server}/api/xp/nowhere", timeout=5)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "NOT_FOUND"


def test_readme_curl_lines_work(server):
    """The README's curl examples, run with curl itself."""
    add = subprocess.run(
        [
            "curl",
            "-s",
            "-X",
            "POST",
            f"{server}/api/xp/users/{G}/{U}",
            "-H",
            f"Authorization: Bearer {E2E_KEY}",
            "-H",
            "Content-Type: application/json",
            "-d",
            '{"amount": 100, "reason": "api_award"}',
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert '"success":true' in add.stdout
    health = subprocess.run(["curl", "-s", f"{server}/api/xp/health"], capture_output=True, text=True, check=True)
    assert '"status":"healthy"' in health.stdout


def test_docs_over_http(server):
    assert requests.get(f"{server}/api/docs/openapi.json", timeout=5).json()["info"]["title"] == "xpshop API"
    assert "SwaggerUIBundle" in requests.get(f"{server}/api/docs", timeout=5).text
