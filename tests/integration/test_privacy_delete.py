"""/privacy delete in Discord on DynamoDB Local, with signed interactions: the member is asked privately, with a
confirm and a cancel button whose custom_id names the member, the server and the moment; a click by anyone
else, elsewhere or too late changes nothing; the confirm runs the same service as
POST /api/xp/users/{g}/{u}/forget."""

from __future__ import annotations

from typing import Any

from tests.integration.test_forget import _items_naming
from tests.support import discord as d
from tests.support.storage import member_item, new_user_id
from xpshop.ids import snowflake_at

EPHEMERAL = 64
UPDATE_MESSAGE, CHANNEL_MESSAGE = 7, 4


def click(guild: str | None, user: str, custom_id: str) -> dict[str, Any]:
    """A button click (MESSAGE_COMPONENT) on the bot's message, as Discord sends it."""
    raw: dict[str, Any] = {
        "id": d.next_snowflake(),
        "application_id": d.APP_ID,
        "type": 3,
        "token": f"token-{d.next_snowflake()}",
        "version": 1,
        "channel_id": d.CHANNEL,
        "message": {"id": d.next_snowflake(), "flags": EPHEMERAL},
        "data": {"custom_id": custom_id, "component_type": 2},
    }
    if guild:
        raw["guild_id"] = guild
        raw["member"] = {"user": d.user(user), "roles": [], "permissions": "0"}
    else:
        raw["user"] = d.user(user)
    return raw


def _text(answer: dict) -> str:
    return "\n".join(e.get("description") or "" for e in answer["data"].get("embeds", []))


def _ask(discord_app, guild: str, user: str) -> dict[str, str]:
    status, answer = d.call(discord_app.signer, d.command(guild, user, "privacy", "delete"))
    assert status == 200 and answer["type"] == CHANNEL_MESSAGE
    assert answer["data"]["flags"] == EPHEMERAL
    assert "cannot be undone" in _text(answer) and "credits" in _text(answer)
    (row,) = answer["data"]["components"]
    buttons = {b["label"]: b for b in row["components"]}
    assert set(buttons) == {"Remove my XP data", "Cancel"}
    assert all(len(b["custom_id"]) <= 100 for b in buttons.values())
    return {label: b["custom_id"] for label, b in buttons.items()}


def _member_with_history(api, guild: str) -> str:
    user = new_user_id()
    assert api.put(f"/api/xp/users/{guild}/{user}", {"xp": 2_000}).status == 200
    assert api.put(f"/api/xp/users/{guild}/{user}/privacy", {"hidden": True}).status == 200
    api.get(f"/api/xp/leaderboard/{guild}")  # counted by the rank index
    return user


def test_confirm_removes_the_members_xp_data(api, guild, discord_app):
    user = _member_with_history(api, guild)
    other = _member_with_history(api, guild)
    ids = _ask(discord_app, guild, user)
    assert member_item(guild, user)["xp"] == 2_000  # asking removes nothing (and earns no command XP)

    status, answer = d.call(discord_app.signer, click(guild, user, ids["Remove my XP data"]))
    assert (status, answer["type"]) == (200, UPDATE_MESSAGE)
    assert answer["data"]["components"] == []  # the buttons are gone
    assert "removed" in _text(answer) and "1 XP record" in _text(answer) and "1 history entries" in _text(answer)
    assert _items_naming(guild, user) == []
    assert member_item(guild, other)["xp"] == 2_000
    stats = api.get(f"/api/xp/stats/{guild}").data
    assert (stats["users"]["total"], stats["xp"]["total"]) == (1, 2_000)
    assert api.get(f"/api/xp/leaderboard/{guild}").data["total"] == 1

    _, again = d.call(discord_app.signer, click(guild, user, ids["Remove my XP data"]))  # a double click
    assert again["type"] == UPDATE_MESSAGE and "nothing was kept" in _text(again)


def test_cancel_removes_nothing(api, guild, discord_app):
    user = _member_with_history(api, guild)
    ids = _ask(discord_app, guild, user)
    _, answer = d.call(discord_app.signer, click(guild, user, ids["Cancel"]))
    assert answer["type"] == UPDATE_MESSAGE and answer["data"]["components"] == []
    assert "Nothing was removed" in _text(answer)
    assert member_item(guild, user)["xp"] == 2_000


def test_only_the_member_who_asked_in_that_server_in_time(api, guild, discord_app):
    user = _member_with_history(api, guild)
    ids = _ask(discord_app, guild, user)
    confirm = ids["Remove my XP data"]

    _, by_other = d.call(discord_app.signer, click(guild, new_user_id(), confirm))
    assert by_other["type"] == CHANNEL_MESSAGE and by_other["data"]["flags"] == EPHEMERAL
    assert "Only the member who asked" in _text(by_other)
    _, elsewhere = d.call(discord_app.signer, click("100000000000009999", user, confirm))
    assert "Only the member who asked" in _text(elsewhere)
    _, in_dm = d.call(discord_app.signer, click(None, user, confirm))
    assert "only works in a server" in _text(in_dm)

    _, guild_id, user_id, _asked = confirm.split(":")
    old = str(snowflake_at(1_700_000_000_000))  # a question asked long ago
    _, expired = d.call(discord_app.signer, click(guild, user, f"privacy-delete:{guild_id}:{user_id}:{old}"))
    assert "expired" in _text(expired)
    for forged in (f"privacy-delete:{guild_id}:{user_id}", "privacy-delete:x:y:z", "other:1:2:3", ""):
        _, answer = d.call(discord_app.signer, click(guild, user, forged))
        assert answer["type"] == CHANNEL_MESSAGE and answer["data"]["flags"] == EPHEMERAL
    assert member_item(guild, user)["xp"] == 2_000  # none of these removed anything


def test_a_click_without_a_valid_signature_is_refused(api, guild, discord_app):
    user = _member_with_history(api, guild)
    ids = _ask(discord_app, guild, user)
    status, _ = d.call(d.Signer(), click(guild, user, ids["Remove my XP data"]))  # another key
    assert status == 401
    assert member_item(guild, user)["xp"] == 2_000


def test_a_question_dated_in_the_future_never_outlives_its_fifteen_minutes(api, guild, discord_app):
    """The question's time is its interaction id's: an id from after the click was never a question this bot
    asked (a forged or corrupted custom_id), and "age < 15 minutes" would hold for it for ever."""
    import time

    user = _member_with_history(api, guild)
    later = str(snowflake_at(int((time.time() + 30 * 86_400) * 1000)))
    _, answer = d.call(discord_app.signer, click(guild, user, f"privacy-delete:{guild}:{user}:{later}"))
    assert "expired" in _text(answer) or "not valid" in _text(answer), answer
    assert member_item(guild, user)["xp"] == 2_000
