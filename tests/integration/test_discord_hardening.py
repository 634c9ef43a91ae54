"""The interactions webhook against payloads Discord's current registration would not send (a stale
registration, a server's edited copy): options are checked against the definitions before any handler runs,
answered privately with the option's name, and nothing is written."""

from __future__ import annotations

import pytest

from tests.support import discord as d
from tests.support.storage import member_item, new_guild_id, new_user_id, recorded_calls

EPHEMERAL = 64
TARGET = "123456789012345678"


def _text(answer: dict) -> str:
    return "\n".join(e.get("description") or "" for e in answer["data"].get("embeds", []))


@pytest.mark.parametrize(
    ("action", "options", "named"),
    [
        ("give", [d.option("user", "abc", 6), d.option("amount", 5, 4)], "user"),
        ("give", [d.option("user", TARGET, 6), d.option("amount", 10**30, 4)], "amount"),
        ("give", [d.option("user", TARGET, 6), d.option("amount", -5, 4)], "amount"),
        ("give", [d.option("user", TARGET, 6), d.option("amount", "12", 3)], "amount"),
        ("give", [d.option("user", TARGET, 6), d.option("amount", 1.5, 10)], "amount"),
        ("give", [d.option("user", TARGET, 6)], "amount"),
        ("give", [d.option("amount", 5, 4)], "user"),
        ("set", [d.option("user", TARGET, 6), d.option("xp", 10**13, 4)], "xp"),
        ("set", [d.option("user", "1" * 40, 6), d.option("xp", 5, 4)], "user"),
    ],
)
def test_xp_changes_with_wrong_options_are_refused_naming_the_option(api, guild, discord_app, action, options, named):
    status, answer = d.call(
        discord_app.signer, d.command(guild, new_user_id(), "xp", action, options=options, permissions=d.MANAGE_GUILD)
    )
    assert (status, answer["type"], answer["data"]["flags"]) == (200, 4, EPHEMERAL)
    assert f"`{named}`" in _text(answer), answer
    assert member_item(guild, TARGET) is None


@pytest.mark.parametrize(
    ("name", "path", "options", "named"),
    [
        ("leaderboard", (), [d.option("page", "two", 3)], "page"),
        ("leaderboard", (), [d.option("page", 10**12, 4)], "page"),
        ("equip", (), [], "cosmetic"),
        ("unequip", (), [d.option("slot", "@everyone", 3)], "slot"),
        ("xp", ("config", "cooldown"), [d.option("seconds", "abc", 3)], "seconds"),
        ("xp", ("config", "reward-remove"), [d.option("level", "x", 3)], "level"),
        ("xp", ("config", "no-xp-channel"), [d.option("action", "add", 3), d.option("channel", "#x", 7)], "channel"),
        ("xp", ("config", "command-xp"), [d.option("enabled", "yes", 3)], "enabled"),
    ],
)
def test_other_commands_with_wrong_options_are_refused_naming_the_option(
    api, guild, discord_app, name, path, options, named
):
    status, answer = d.call(
        discord_app.signer,
        d.command(guild, new_user_id(), name, *path, options=options, permissions=d.MANAGE_GUILD_AND_ROLES),
    )
    assert (status, answer["type"], answer["data"]["flags"]) == (200, 4, EPHEMERAL)
    assert f"`{named}`" in _text(answer), answer
    assert "went wrong on our side" not in _text(answer)


def test_a_member_without_the_permission_learns_nothing_about_options(api, guild, discord_app):
    _, answer = d.call(
        discord_app.signer, d.command(guild, new_user_id(), "xp", "give", options=[d.option("amount", "x", 3)])
    )
    assert "Manage Server" in _text(answer) and "`amount`" not in _text(answer)


def test_config_show_fits_an_embed_with_every_list_full(api, guild, discord_app):
    """The config allows 500 no-XP channels, 250 no-XP roles and 250 rewards: listed whole they made a
    description of ~17,000 characters, which Discord refuses (4,096 at most) so the admin saw no answer."""
    channels = [str(300_000_000_000_000_000 + n) for n in range(500)]
    roles = [str(400_000_000_000_000_000 + n) for n in range(250)]
    rewards = [{"level": n + 1, "roleId": str(500_000_000_000_000_000 + n)} for n in range(250)]
    assert api.put(f"/api/xp/config/{guild}", {"noXpChannelIds": channels, "noXpRoleIds": roles}).status == 200
    assert api.put(f"/api/xp/config/{guild}", {"roleRewards": rewards}).status == 200
    _, answer = d.call(
        discord_app.signer, d.command(guild, new_user_id(), "xp", "config", "show", permissions=d.MANAGE_GUILD)
    )
    text = _text(answer)
    assert len(text) <= 4096
    assert f"<#{channels[0]}>" in text and "and 480 more" in text  # 500 channels: 20 shown
    assert "and 230 more" in text  # roles and rewards: 20 of 250 shown


def test_give_xp_on_a_webhook_message_is_refused(api, guild, discord_app):
    """A webhook's message has the webhook's id and name as its author, not a member's: the relay gives such
    messages no XP (relay/bot.py), and neither does Give XP."""
    message_id, webhook = d.next_snowflake(), new_user_id()
    raw = d.message_command(guild, new_user_id(), message_id, webhook)
    raw["data"]["resolved"]["messages"][message_id]["webhook_id"] = webhook
    _, answer = d.call(discord_app.signer, raw)
    assert answer["data"]["flags"] == EPHEMERAL and "webhook" in _text(answer)
    assert member_item(guild, webhook) is None


@pytest.mark.parametrize("target", [None, "abc", "1" * 40])
def test_context_commands_on_a_target_that_is_not_an_id_are_refused(api, guild, discord_app, target):
    raw = d.user_command(guild, new_user_id(), TARGET)
    raw["data"]["target_id"] = target
    _, answer = d.call(discord_app.signer, raw)
    assert answer["data"]["flags"] == EPHEMERAL and "used on" in _text(answer)


@pytest.mark.parametrize("author", ["abc", "1" * 40])
def test_give_xp_to_an_author_that_is_not_an_id_is_refused(api, guild, discord_app, author):
    _, answer = d.call(discord_app.signer, d.message_command(guild, new_user_id(), d.next_snowflake(), author))
    assert answer["data"]["flags"] == EPHEMERAL and "can't see that message's author" in _text(answer)


# ---------------------------------------------------------------- malformed payloads
# A signed payload whose shape Discord never sends (a guild id that is not a snowflake, `data` that is not an
# object, ...) is refused once, at the entry, privately: no guild registered, no command XP, no handler run.

_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}


def _set(*path: str, to: object) -> object:
    def change(raw: dict) -> None:
        for key in path[:-1]:
            raw = raw[key]
        raw[path[-1]] = to

    return change


def _drop(*path: str) -> object:
    def change(raw: dict) -> None:
        for key in path[:-1]:
            raw = raw[key]
        del raw[path[-1]]

    return change


_MALFORMED = {
    "guild_id": _set("guild_id", to="abc"),
    "guild_id_number": _set("guild_id", to=123),
    "channel_id": _set("channel_id", to="general"),
    "channel_parent_id": _set("channel", to={"id": "300000000000000001", "type": 11, "parent_id": "general"}),
    "user_id": _set("member", "user", "id", to="abc"),
    "user_missing": _drop("member", "user"),
    "member_not_object": _set("member", to="me"),
    "member_missing": _drop("member"),
    "data_missing": _drop("data"),
    "data_not_object": _set("data", to=["rank"]),
    "name_not_text": _set("data", "name", to=5),
    "options_not_list": _set("data", "options", to={"user": "1"}),
    "option_not_object": _set("data", "options", to=["user"]),
    "option_without_name": _set("data", "options", to=[{"type": 6, "value": TARGET}]),
    "sub_options_not_list": _set("data", "options", to=[{"name": "give", "type": 1, "options": "x"}]),
    "id_missing": _drop("id"),
    "id_not_snowflake": _set("id", to="interaction"),
    "roles_not_list": _set("member", "roles", to="123456789012345678"),
    "role_not_snowflake": _set("member", "roles", to=["admin"]),
    "permissions_not_number": _set("member", "permissions", to="all"),
    # past int()'s 4,300-digit limit: was "something went wrong" (a ValueError), not a refusal
    "permissions_overlong": _set("member", "permissions", to="9" * 5000),
    "permissions_past_64_bits": _set("member", "permissions", to="9" * 40),
    "resolved_not_object": _set("data", "resolved", to=[]),
    "resolved_users_not_object": _set("data", "resolved", to={"users": {TARGET: "x"}}),
    "command_type": _set("data", "type", to="chat"),
}


@pytest.mark.parametrize("how", list(_MALFORMED))
def test_malformed_interactions_are_refused_privately_and_write_nothing(api, discord_app, how):
    from xpshop.store import guilds

    guild, user = new_guild_id(), new_user_id()
    raw = d.command(guild, user, "rank")
    _MALFORMED[how](raw)
    with recorded_calls() as calls:
        status, answer = d.call(discord_app.signer, raw)
    assert (status, answer["type"], answer["data"]["flags"]) == (200, 4, EPHEMERAL), answer
    assert "malformed" in _text(answer) and "went wrong" not in _text(answer)
    assert not _WRITES & set(calls), calls
    assert not guilds.exists(guild) and not guilds.exists("abc")
    assert member_item(guild, user) is None


def test_a_malformed_button_click_is_refused_privately(api, guild, discord_app):
    raw = d.command(guild, new_user_id(), "rank")
    raw.update(type=3, data={"custom_id": "privacy-cancel:1:2:3", "component_type": 2}, guild_id="abc")
    status, answer = d.call(discord_app.signer, raw)
    assert (status, answer["type"], answer["data"]["flags"]) == (200, 4, EPHEMERAL)
    assert "malformed" in _text(answer)


def test_a_direct_message_command_is_still_answered(api, discord_app):
    """No guild_id and a top-level `user`: a DM, well formed (the command says it needs a server)."""
    _, answer = d.call(discord_app.signer, d.command(None, new_user_id(), "rank"))
    assert "only works in a server" in _text(answer) and "malformed" not in _text(answer)


# ---------------------------------------------------------------- other interaction types


def test_autocomplete_is_answered_with_choices(api, guild, discord_app):
    """Type 4 (APPLICATION_COMMAND_AUTOCOMPLETE) must be answered with type 8: a message is refused by Discord."""
    typed = {"name": "cosmetic", "type": 3, "value": "ha", "focused": True}
    raw = d.command(guild, new_user_id(), "buy", options=[typed])
    raw["type"] = 4
    with recorded_calls() as calls:
        status, answer = d.call(discord_app.signer, raw)
    assert (status, answer) == (200, {"type": 8, "data": {"choices": []}})
    assert not _WRITES & set(calls)


@pytest.mark.parametrize("kind", [5, 6, 99, None, "2"])
def test_modal_submits_and_unknown_types_are_not_supported_privately(api, discord_app, kind):
    guild = new_guild_id()
    raw = d.command(guild, new_user_id(), "rank")
    raw["type"] = kind
    with recorded_calls() as calls:
        status, answer = d.call(discord_app.signer, raw)
    assert (status, answer["type"], answer["data"]["flags"]) == (200, 4, EPHEMERAL)
    assert "not supported" in _text(answer)
    assert not _WRITES & set(calls)


# ---------------------------------------------------------------- config values Discord would refuse later


@pytest.mark.parametrize("message", ["   ", "\n\t", "\u3000"])
def test_a_blank_announcement_template_is_refused_by_the_command_and_the_api(api, guild, discord_app, message):
    before = api.get(f"/api/xp/config/{guild}").data["levelUpAnnouncement"]
    _, answer = d.call(
        discord_app.signer,
        d.command(
            guild,
            new_user_id(),
            "xp",
            "config",
            "announce",
            options=[d.option("channel", TARGET, 7), d.option("message", message)],
            permissions=d.MANAGE_GUILD,
            resolved={"channels": {TARGET: d.channel(TARGET)}},
        ),
    )
    assert answer["data"]["flags"] == EPHEMERAL and "levelUpAnnouncement.message" in _text(answer), answer
    refused = api.put(f"/api/xp/config/{guild}", {"levelUpAnnouncement": {"message": message}})
    assert (refused.status, refused.error["code"]) == (400, "INVALID_CONFIG")
    assert "levelUpAnnouncement.message" in refused.error["message"]
    assert api.get(f"/api/xp/config/{guild}").data["levelUpAnnouncement"] == before


# ---------------------------------------------------------------- who a command may be used on, and where


@pytest.mark.parametrize(("action", "amount"), [("give", ("amount", 5)), ("set", ("xp", 500))])
def test_xp_is_not_given_to_bots(api, guild, discord_app, action, amount):
    """Bots earn no XP (the relay skips them, Give XP refuses their messages): /xp give and set agree."""
    bot = new_user_id()
    raw = d.command(
        guild,
        new_user_id(),
        "xp",
        action,
        options=[d.option("user", bot, 6), d.option(*amount, 4)],
        permissions=d.MANAGE_GUILD,
        resolved={"users": {bot: d.user(bot, "bot", bot=True)}},
    )
    _, answer = d.call(discord_app.signer, raw)
    assert answer["data"]["flags"] == EPHEMERAL and "Bots don't earn XP" in _text(answer)
    assert member_item(guild, bot) is None


def test_a_bots_xp_can_still_be_cleared(api, guild, discord_app):
    bot = new_user_id()
    assert api.post(f"/api/xp/users/{guild}/{bot}", {"amount": 50}).status == 200
    raw = d.command(
        guild,
        new_user_id(),
        "xp",
        "set",
        options=[d.option("user", bot, 6), d.option("xp", 0, 4)],
        permissions=d.MANAGE_GUILD,
        resolved={"users": {bot: d.user(bot, "bot", bot=True)}},
    )
    _, answer = d.call(discord_app.signer, raw)
    assert "Bots don't earn XP" not in _text(answer)
    assert member_item(guild, bot)["xp"] == 0


def test_a_server_command_in_a_direct_message_says_so(api, discord_app):
    """In a DM there is no member and so no permission bits: "needs Manage Server" would mislead."""
    raw = d.command(None, new_user_id(), "xp", "give", options=[d.option("user", TARGET, 6), d.option("amount", 5, 4)])
    _, answer = d.call(discord_app.signer, raw)
    assert answer["data"]["flags"] == EPHEMERAL and "only works in a server" in _text(answer)


# ---------------------------------------------------------------- channel options Discord resolves with a type


def _config_with_channel(guild: str, sub: str, channel: dict, *options: dict) -> dict:
    return d.command(
        guild,
        new_user_id(),
        "xp",
        "config",
        sub,
        options=[*options, d.option("channel", channel["id"], 7)],
        permissions=d.MANAGE_GUILD,
        resolved={"channels": {channel["id"]: channel}},
    )


@pytest.mark.parametrize(("kind", "what"), [(11, "public thread"), (12, "private thread"), (4, "category")])
def test_a_no_xp_channel_must_be_a_channel_messages_are_counted_in(api, guild, discord_app, kind, what):
    """Messages (and commands) in a thread count in its parent channel, and nothing is posted in a category:
    a thread or a category as a no-XP channel would be a rule that never applies, confirmed as if it did."""
    channel = {**d.channel(TARGET, kind=kind), "parent_id": d.CHANNEL} if kind != 4 else d.channel(TARGET, kind=4)
    raw = _config_with_channel(guild, "no-xp-channel", channel, d.option("action", "add"))
    _, answer = d.call(discord_app.signer, raw)
    assert answer["data"]["flags"] == EPHEMERAL and "`channel`" in _text(answer), (what, answer)
    assert api.get(f"/api/xp/config/{guild}").data["noXpChannelIds"] == []


@pytest.mark.parametrize("kind", [0, 2, 5, 13, 15, 16])  # text, voice, announcement, stage, forum, media
def test_a_no_xp_channel_may_be_any_channel_with_messages(api, guild, discord_app, kind):
    raw = _config_with_channel(guild, "no-xp-channel", d.channel(TARGET, kind=kind), d.option("action", "add"))
    _, answer = d.call(discord_app.signer, raw)
    assert "now earn no XP" in _text(answer), answer
    assert api.get(f"/api/xp/config/{guild}").data["noXpChannelIds"] == [TARGET]


@pytest.mark.parametrize("kind", [2, 4, 11, 15])  # voice, category, thread, forum: not where announcements go
def test_announcements_go_only_to_text_or_announcement_channels(api, guild, discord_app, kind):
    before = api.get(f"/api/xp/config/{guild}").data["levelUpAnnouncement"]
    _, answer = d.call(discord_app.signer, _config_with_channel(guild, "announce", d.channel(TARGET, kind=kind)))
    assert answer["data"]["flags"] == EPHEMERAL and "`channel`" in _text(answer), answer
    assert api.get(f"/api/xp/config/{guild}").data["levelUpAnnouncement"] == before
