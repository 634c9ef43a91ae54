"""Discord end to end over HTTP against `make dev`: a signed interaction to /discord/interactions, a deferred
command finished by the local queue's worker, and a level-up whose effects (role reward, announcement)
reach the fake Discord through the table's stream."""

from __future__ import annotations

import json
import time

import pytest
import requests

from tests.e2e.conftest import E2E_KEY, Stack
from tests.support import discord as d
from tests.support.fake_discord import FakeDiscord

G, MOD, MEMBER = "123456789012345601", "234567890123456701", "234567890123456702"
ROLE, CHANNEL = "345678901234567801", "456789012345678901"
ADMIN = {"Authorization": f"Bearer {E2E_KEY}"}


@pytest.fixture
def discord_stack(stack: Stack) -> tuple[str, d.Signer, FakeDiscord]:
    return stack.url, stack.signer, stack.discord


def _post(url: str, signer: d.Signer, payload: dict, *, sign: bool = True) -> requests.Response:
    body = json.dumps(payload).encode()
    headers = signer.headers(body) if sign else {"content-type": "application/json"}
    return requests.post(f"{url}/discord/interactions", data=body, headers=headers, timeout=30)


def _eventually(check, seconds: float = 20.0):
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


def test_ping_and_unsigned_requests(discord_stack):
    url, signer, _ = discord_stack
    assert _post(url, signer, {"id": "1", "type": 1}).json() == {"type": 1}
    assert _post(url, signer, {"id": "1", "type": 1}, sign=False).status_code == 401


def test_slash_command_then_level_up_effects_reach_discord(discord_stack):
    url, signer, fake = discord_stack
    fake.set_member(G, MEMBER, roles=[])
    config = {"roleRewards": [{"level": 2, "roleId": ROLE}], "levelUpAnnouncement": {"channelId": CHANNEL}}
    # The guild registers itself with its first interaction; then it can be configured over the API.
    give = d.command(
        G,
        MOD,
        "xp",
        "give",
        options=[d.option("user", MEMBER, 6), d.option("amount", 100, 4)],
        permissions=d.MANAGE_GUILD,
    )
    answer = _post(url, signer, give).json()
    assert "Gave **100** XP" in answer["data"]["embeds"][0]["description"]
    assert requests.put(f"{url}/api/xp/config/{G}", json=config, headers=ADMIN, timeout=10).status_code == 200
    time.sleep(0.1)
    more = d.command(
        G,
        MOD,
        "xp",
        "give",
        options=[d.option("user", MEMBER, 6), d.option("amount", 300, 4)],
        permissions=d.MANAGE_GUILD,
    )
    _post(url, signer, more)
    # level 2 (400 XP): the stream poller hands the change to the effects function
    assert _eventually(lambda: ROLE in fake.member_roles(G, MEMBER)), fake.calls
    assert _eventually(lambda: fake.messages.get(CHANNEL))
    assert fake.messages[CHANNEL][0]["content"] == f"GG <@{MEMBER}>, you reached level 2!"


def test_deferred_command_is_finished_by_the_worker(discord_stack):
    url, signer, fake = discord_stack
    payload = d.command(G, MOD, "xp", "recalc", permissions=d.MANAGE_GUILD)
    assert _post(url, signer, payload).json() == {"type": 5, "data": {"flags": 64}}
    key = (d.APP_ID, payload["token"])
    assert _eventually(lambda: fake.webhook_messages.get(key)), fake.calls
    assert "Recalculation done" in fake.webhook_messages[key][-1]["embeds"][0]["description"]
