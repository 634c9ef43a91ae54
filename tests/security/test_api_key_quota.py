"""`/xp api-key` had no limit: a server manager could mint API keys without end, each with its own rate
limit (1,500 requests a minute), multiplying what one person may ask of the API and filling the admin's key
list. Now one manager holds at most MAX_KEYS_PER_MANAGER (5) active keys per server: the key and the count of
the manager's active keys are written in one transaction guarded by the count, so parallel commands cannot
pass it, and revoking a key (DELETE /api/keys/{id}) frees its place in the same transaction as the revocation.
Keys the admin makes (POST /api/keys) are not counted.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import discord as d
from tests.support.storage import new_guild_id, new_user_id
from xpshop.service.access_keys import MAX_KEYS_PER_MANAGER


def _text(answer: dict[str, Any]) -> str:
    data = answer["data"]
    return " ".join(e.get("description", "") for e in data.get("embeds", [])) + data.get("content", "")


def _ask(discord_app: Any, guild: str, manager: str) -> str:
    status, answer = d.call(discord_app.signer, d.command(guild, manager, "xp", "api-key", permissions=d.MANAGE_GUILD))
    assert status == 200
    return _text(answer)


def _key_of(text: str) -> str | None:
    return next((part for part in text.split("`") if part.startswith("xpk_")), None)


@pytest.mark.integration
def test_a_manager_holds_at_most_five_keys_per_server(api, guild, discord_app):
    manager = new_user_id()
    keys = [_key_of(_ask(discord_app, guild, manager)) for _ in range(MAX_KEYS_PER_MANAGER)]
    assert all(keys)

    refused = _ask(discord_app, guild, manager)

    assert _key_of(refused) is None
    assert f"{MAX_KEYS_PER_MANAGER} active API keys" in refused and "revoke" in refused
    made = [k for k in api.get("/api/keys").data["keys"] if k["createdBy"] == f"discord:{manager}"]
    assert len(made) == MAX_KEYS_PER_MANAGER  # nothing was stored for the refused one
    # the keys already made still work
    assert all(api.get(f"/api/xp/users/{guild}", key=k).status == 200 for k in keys if k)


@pytest.mark.integration
def test_the_limit_is_per_manager_and_per_server(api, guild, discord_app):
    manager, other_manager = new_user_id(), new_user_id()
    other_guild = new_guild_id()
    assert api.put(f"/api/xp/guilds/{other_guild}").status == 201
    for _ in range(MAX_KEYS_PER_MANAGER):
        assert _key_of(_ask(discord_app, guild, manager))
    assert _key_of(_ask(discord_app, guild, manager)) is None
    assert _key_of(_ask(discord_app, guild, other_manager))
    assert _key_of(_ask(discord_app, other_guild, manager))


@pytest.mark.integration
def test_revoking_a_key_frees_its_place_once(api, guild, discord_app):
    manager = new_user_id()
    keys = [_key_of(_ask(discord_app, guild, manager)) for _ in range(MAX_KEYS_PER_MANAGER)]
    first_id = str(keys[0]).split("_")[1]

    assert api.delete(f"/api/keys/{first_id}").status == 200
    assert api.delete(f"/api/keys/{first_id}").status == 404  # revoked once: its place is freed once

    assert _key_of(_ask(discord_app, guild, manager))
    assert _key_of(_ask(discord_app, guild, manager)) is None


@pytest.mark.integration
def test_parallel_commands_cannot_pass_the_limit(api, guild, discord_app, parallel):
    manager = new_user_id()
    payloads = [
        d.command(guild, manager, "xp", "api-key", permissions=d.MANAGE_GUILD) for _ in range(MAX_KEYS_PER_MANAGER + 4)
    ]
    private = discord_app.signer.key.encode().hex()
    answers = parallel.call("tests.support.discord:call_with_key", [(private, p) for p in payloads])
    issued = [a for status, a in answers if status == 200 and _key_of(_text(a))]
    assert len(issued) == MAX_KEYS_PER_MANAGER
    made = [k for k in api.get("/api/keys").data["keys"] if k["createdBy"] == f"discord:{manager}"]
    assert len(made) == MAX_KEYS_PER_MANAGER


@pytest.mark.integration
def test_admin_keys_are_not_counted(api, guild):
    for _ in range(MAX_KEYS_PER_MANAGER + 1):
        r = api.post("/api/keys", {"name": "dashboard", "scopes": ["xp:read"], "guildIds": [guild]})
        assert r.status == 201, r.body
