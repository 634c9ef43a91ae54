"""Message XP end to end over HTTP: relay -> ingestion endpoint -> queue -> consumer -> member XP."""

from __future__ import annotations

import time

import pytest
import requests

from tests.e2e.conftest import E2E_KEY

pytestmark = pytest.mark.e2e
G, U = "123456789012345678", "234567890123456789"
RELAY_KEY = E2E_KEY + "-relay"  # make dev's default when XPSHOP_RELAY_KEY is unset
T0 = int(time.time() * 1000) - 3_600_000  # within ingestion's window (7 days old to 5 minutes ahead)


def test_relay_messages_become_xp(server):
    admin = {"Authorization": f"Bearer {E2E_KEY}"}
    batch = {
        "messages": [
            {
                "messageId": str(1_300_000_000_000_000_000 + i),
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
                "messageId": "1300000000000000099",
                "guildId": G,
                "channelId": "300000000000000001",
                "userId": "234567890123456790",
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
    assert 45 <= user["xp"] <= 75
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
