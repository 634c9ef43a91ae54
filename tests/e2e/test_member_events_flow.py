"""Reset on leave or ban end to end over HTTP: the relay's forwarder sends a ban to the session server
(POST /api/xp/ingest/members), the local queue poller hands it to the consumer, and the member's XP goes to
0 under `resetOn: "ban"`; the same event again changes nothing, and the member then earns from 0. The relay's
discord.py client is driven through its ban callback with a stand-in user (no gateway)."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

import requests

from relay.bot import RelayClient
from relay.forwarder import Forwarder
from tests.e2e.conftest import E2E_KEY
from tests.support.storage import new_guild_id, new_user_id

RELAY_KEY = E2E_KEY + "-relay"  # make dev's default when XPSHOP_RELAY_KEY is unset


class _NoMessages:
    def submit(self, event: object) -> bool:
        raise AssertionError("no chat message is expected here")

    def flush(self, member: tuple[str, str] | None = None) -> None:  # a member event flushes first: nothing here
        pass


def _send(server: str, *events_of_the_client) -> tuple[dict, list[dict]]:
    """Run the relay's member events path: RelayClient callbacks -> Forwarder.for_members -> the server.
    Returns the forwarder's counters and the events it took."""
    taken: list[dict] = []

    async def main() -> dict:
        fwd = Forwarder.for_members(f"{server}/api/xp/ingest/members", RELAY_KEY, max_delay=0.01)
        submit = fwd.submit
        fwd.submit = lambda event: bool(taken.append(dict(event)) or submit(event))  # type: ignore[method-assign]
        client = RelayClient(_NoMessages(), fwd)
        await fwd.start()
        for call in events_of_the_client:
            await call(client)
        await fwd.stop()
        return fwd.stats()

    return asyncio.run(main()), taken


def _user(http, guild: str, user: str) -> dict:
    return http.get(f"{http.base_url}/api/xp/users/{guild}/{user}", timeout=10).json()["data"]["user"]


def _wait(condition, limit: float = 20.0) -> None:
    deadline = time.monotonic() + limit  # the local poller delivers within a second or two
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    raise AssertionError("not delivered in time")


def test_the_relay_forwarding_a_ban_resets_the_member(http):
    guild, user, other = new_guild_id(), new_user_id(), new_user_id()
    base = http.base_url
    assert http.put(f"{base}/api/xp/guilds/{guild}", timeout=10).status_code == 201
    assert http.put(f"{base}/api/xp/config/{guild}", json={"resetOn": "ban"}, timeout=10).status_code == 200
    for who, xp in ((user, 3_000), (other, 500)):
        assert http.put(f"{base}/api/xp/users/{guild}/{who}", json={"xp": xp}, timeout=10).status_code == 200

    banned = SimpleNamespace(id=int(user), bot=False)
    stats, taken = _send(
        http.base_url,
        lambda c: c.on_raw_member_remove(SimpleNamespace(guild_id=int(guild), user=banned)),  # resetOn ban: kept
        lambda c: c.on_member_ban(SimpleNamespace(id=int(guild)), banned),
    )
    assert (stats["sent"], stats["dropped"]) == (2, 0)
    assert [e["type"] for e in taken] == ["leave", "ban"]
    _wait(lambda: _user(http, guild, user)["xp"] == 0)
    assert _user(http, guild, user)["level"] == 0
    expected = [(other, 500, 1), (user, 0, 2)]

    def _board() -> list[tuple[str, int, int]]:
        board = http.get(f"{base}/api/xp/leaderboard/{guild}", timeout=10).json()["data"]
        return [(e["userId"], e["xp"], e["rank"]) for e in board["entries"]]

    # pages come from the rank counters, which the stream keeps about a second behind the member writes
    _wait(lambda: _board() == expected)

    def stats() -> tuple[int, int]:
        got = http.get(f"{base}/api/xp/stats/{guild}", timeout=10).json()["data"]
        return got["users"]["total"], got["xp"]["total"]

    _wait(lambda: stats() == (2, 500))  # the reset's counters come from the stream (make dev polls it)

    # the member comes back and earns; the same ban delivered again (same event id) changes nothing
    assert http.post(f"{base}/api/xp/users/{guild}/{user}", json={"amount": 40}, timeout=10).status_code == 200
    again = requests.post(
        f"{base}/api/xp/ingest/members",
        json={"events": [taken[1]]},
        headers={"X-API-Key": RELAY_KEY},
        timeout=10,
    )
    assert again.status_code == 202
    # a message of the same member queues behind it (one FIFO group per member): once it is counted, the
    # repeated ban has been consumed before it
    message = {
        "messageId": str(1_300_000_000_000_900_000 + int(user) % 1000),
        "guildId": guild,
        "channelId": "300000000000000001",
        "userId": user,
        "roleIds": [],
        "timestamp": int(time.time() * 1000),
        "bot": False,
    }
    r = requests.post(
        f"{base}/api/xp/ingest/messages", json={"messages": [message]}, headers={"X-API-Key": RELAY_KEY}, timeout=10
    )
    assert r.status_code == 202
    _wait(lambda: _user(http, guild, user)["messages"] == 1)
    assert _user(http, guild, user)["xp"] >= 40  # not reset again
