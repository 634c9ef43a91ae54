"""Message XP end to end over HTTP: relay -> ingestion endpoint -> queue -> consumer -> member XP."""

from __future__ import annotations

import time

import requests

from tests.e2e.conftest import E2E_KEY

# ids of this module only: the e2e session shares one server (tests/e2e/conftest.py)
G, U = "123456789012345604", "234567890123456741"
RELAY_KEY = E2E_KEY + "-relay"  # make dev's default when XPSHOP_RELAY_KEY is unset
T0 = int(time.time() * 1000) - 1_800_000  # late, but within the award window (an hour) and ingestion's (7 days)


def test_relay_messages_become_xp(server):
    admin = {"Authorization": f"Bearer {E2E_KEY}"}
    batch = {
        "messages": [
            {
                "messageId": str(1_300_000_000_000_400_000 + i),
                "guildId": G,
                "channelId": "300000000000000001",
                "userId": U,
                "roleIds": [],
                "timestamp": T0 + i * 61_000,
                "bot": False,
            }
            for i in range(3)
        ]
        + [
            {
                "messageId": "1300000000000400099",
                "guildId": G,
                "channelId": "300000000000000001",
                "userId": "234567890123456742",
                "roleIds": [],
                "timestamp": T0,
                "bot": True,
            }
        ]
    }
    r = requests.post(
        f"{server}/api/xp/ingest/messages", json=batch, headers={"Authorization": f"Bearer {RELAY_KEY}"}, timeout=10
    )
    assert r.status_code == 202, r.text
    assert r.json()["data"] == {"accepted": 3, "skipped": 1}
    assert requests.post(f"{server}/api/xp/ingest/messages", json=batch, headers=admin, timeout=10).status_code == 401
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # the local poller delivers within a second or two
        member = requests.get(f"{server}/api/xp/users/{G}/{U}", headers=admin, timeout=10)
        if member.status_code == 200 and member.json()["data"]["user"]["messages"] == 3:
            break
        time.sleep(0.3)
    user = member.json()["data"]["user"]
    assert (user["messages"], user["xpMessages"]) == (3, 3)
    # the session's server is shared: another module may have changed the global xpRate (the seed sequence does)
    rate = float(requests.get(f"{server}/api/xp/config/{G}", headers=admin, timeout=10).json()["data"]["xpRate"])
    assert 3 * int(15 * rate) <= user["xp"] <= 3 * int(25 * rate)
    # the relay retries the same batch: nothing is counted twice
    requests.post(
        f"{server}/api/xp/ingest/messages", json=batch, headers={"Authorization": f"Bearer {RELAY_KEY}"}, timeout=10
    )
    time.sleep(3)
    again = requests.get(f"{server}/api/xp/users/{G}/{U}", headers=admin, timeout=10).json()["data"]["user"]
    assert again == user
    bad = requests.post(
        f"{server}/api/xp/ingest/messages",
        json={"messages": []},
        headers={"Authorization": f"Bearer {RELAY_KEY}"},
        timeout=10,
    )
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "INVALID_REQUEST")


def test_demo_relays_display_data_and_hides_two_members(server):
    """`make demo` against the running server: names and avatars arrive through the relay's endpoint, two
    members hide themselves, and the public leaderboard masks them while the admin still sees every id."""
    import os
    import subprocess
    import sys

    from local import REPO_ROOT
    from local.demo import DEMO_GUILD, HIDDEN_RANKS

    env = {**os.environ, "XPSHOP_ADMIN_KEY": E2E_KEY}
    env.pop("XPSHOP_RELAY_KEY", None)
    out = subprocess.run(
        [sys.executable, "-m", "local.demo", "--url", server, "--members", "40"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Hidden member" in out.stdout
    public = requests.get(f"{server}/api/xp/leaderboard/{DEMO_GUILD}?limit=40", timeout=10).json()["data"]
    admin = requests.get(
        f"{server}/api/xp/leaderboard/{DEMO_GUILD}?limit=40", headers={"X-API-Key": E2E_KEY}, timeout=10
    ).json()["data"]
    hidden = [e for e in public["entries"] if e["hidden"]]
    assert len(hidden) == len(HIDDEN_RANKS)
    assert all(e["userId"] is None and e["displayName"] is None and e["avatar"] is None for e in hidden)
    assert all(e["userId"] for e in admin["entries"]) and set(admin["entries"][0]) == {"userId", "xp", "level", "rank"}
    assert [e["rank"] for e in public["entries"]] == [e["rank"] for e in admin["entries"]]
    names = {e["displayName"] for e in public["entries"]}
    assert "<script>alert('xss')</script>" in names and "Кирилл Строитель" in names  # text, as sent
    assert all(e["displayName"] for e in public["entries"] if not e["hidden"])
    shown = [e for e in public["entries"] if not e["hidden"]]
    assert any(e["avatar"] for e in shown) and any(e["avatar"] is None for e in shown)
