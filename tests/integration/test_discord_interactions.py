"""The interactions webhook on DynamoDB Local: signatures, every command's happy path and permission check,
command XP with its cooldown, guild registration, context commands and deferred answers."""

from __future__ import annotations

import json
import time

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from local import events
from tests.support import discord as d
from tests.support.storage import member_item, new_guild_id, new_user_id

EPHEMERAL = 64


def _text(answer: dict) -> str:
    """Everything a user reads in a message answer (content and embed texts)."""
    data = answer["data"]
    parts = [data.get("content") or ""]
    for embed in data.get("embeds", []):
        parts += [embed.get("title") or "", embed.get("description") or ""]
        parts += [f"{f['name']}: {f['value']}" for f in embed.get("fields", [])]
        parts.append((embed.get("footer") or {}).get("text", ""))
    return "\n".join(parts)


def _forget(guild: str) -> None:
    from xpshop.service import curves

    curves.forget(guild)


# ---------------------------------------------------------------- signatures


def test_ping_is_answered_with_pong(api, discord_app):
    status, body = d.call(discord_app.signer, {"id": d.next_snowflake(), "type": 1, "application_id": d.APP_ID})
    assert (status, body) == (200, {"type": 1})


@pytest.mark.parametrize(
    "tamper",
    ["bad_signature", "missing_signature", "missing_timestamp", "stale", "future", "bad_hex", "short", "body"],
)
def test_unsigned_or_tampered_requests_are_refused_and_write_nothing(api, discord_app, tamper):
    guild = new_guild_id()  # never registered: a refused request must not register it
    payload = d.command(guild, new_user_id(), "rank")
    body = json.dumps(payload).encode()
    headers = discord_app.signer.headers(body)
    if tamper == "bad_signature":
        headers["x-signature-ed25519"] = d.Signer().headers(body)["x-signature-ed25519"]  # another key's
    elif tamper == "missing_signature":
        del headers["x-signature-ed25519"]
    elif tamper == "missing_timestamp":
        del headers["x-signature-timestamp"]
    elif tamper in ("stale", "future"):
        moved = int(time.time()) + (-310 if tamper == "stale" else 310)  # 5 min + margin for the clock
        headers = discord_app.signer.headers(body, moved)  # correctly signed, but outside the 5-minute window
    elif tamper == "bad_hex":
        headers["x-signature-ed25519"] = "zz" * 64
    elif tamper == "short":
        headers["x-signature-ed25519"] = headers["x-signature-ed25519"][:-2]
    elif tamper == "body":
        body = body.replace(b'"rank"', b'"xp"')
    handler, context = d.webhook()
    result = handler(events.interaction_event(body, headers), context)
    assert result["statusCode"] == 401
    assert api.get(f"/api/xp/users/{guild}").error["code"] == "GUILD_NOT_FOUND"


def test_base64_bodies_are_verified_on_their_bytes(api, discord_app):
    body = json.dumps({"id": d.next_snowflake(), "type": 1}).encode()
    handler, context = d.webhook()
    result = handler(events.interaction_event(body, discord_app.signer.headers(body), base64_body=True), context)
    assert (result["statusCode"], json.loads(result["body"])) == (200, {"type": 1})


def test_without_a_configured_public_key_everything_is_refused(api, discord_app, monkeypatch):
    monkeypatch.setenv("DISCORD_PUBLIC_KEY", "")
    status, _ = d.call(discord_app.signer, {"id": d.next_snowflake(), "type": 1})
    assert status == 401


# ---------------------------------------------------------------- /rank, /leaderboard, View rank


def test_rank_shows_level_xp_progress_and_position(api, guild, discord_app):
    first, second = new_user_id(), new_user_id()
    api.put(f"/api/xp/users/{guild}/{first}", {"xp": 5000})
    api.put(f"/api/xp/users/{guild}/{second}", {"xp": 200})
    api.before_read()  # the rank counters take the stream's changes (the rank index function, in AWS)
    status, answer = d.call(discord_app.signer, d.command(guild, second, "rank"))
    assert status == 200 and answer["type"] == 4
    text = _text(answer)
    assert "Rank: #2 of 2" in text
    assert "Level: 1" in text and "XP: 200" in text
    assert "45 / 220 XP (175 to go)" in text  # 200 XP: level 1, 45 into the 220 of level 2
    # the API says the same
    assert api.get(f"/api/xp/leaderboard/{guild}/{second}").data["rank"] == 2


def test_rank_of_another_member_and_of_a_member_without_xp(api, guild, discord_app):
    other = new_user_id()
    api.put(f"/api/xp/users/{guild}/{other}", {"xp": 1000})
    api.before_read()
    asker = new_user_id()
    _, answer = d.call(discord_app.signer, d.command(guild, asker, "rank", options=[d.option("user", other, 6)]))
    assert "Rank: #1 of 1" in _text(answer) and "XP: 1,000" in _text(answer)
    nobody = new_user_id()
    _, answer = d.call(discord_app.signer, d.command(guild, asker, "rank", options=[d.option("user", nobody, 6)]))
    assert answer["data"]["flags"] == EPHEMERAL and "no XP yet" in _text(answer)


def test_view_rank_user_command(api, guild, discord_app):
    target = new_user_id()
    api.put(f"/api/xp/users/{guild}/{target}", {"xp": 700})
    api.before_read()
    _, answer = d.call(discord_app.signer, d.user_command(guild, new_user_id(), target))
    assert "Level: 3" in _text(answer) and "XP: 700" in _text(answer)


def test_leaderboard_pages(api, guild, discord_app):
    users = [new_user_id() for _ in range(12)]
    for n, user in enumerate(users):
        api.put(f"/api/xp/users/{guild}/{user}", {"xp": 1000 - n})
    api.before_read()
    _, first = d.call(discord_app.signer, d.command(guild, users[0], "leaderboard"))
    text = _text(first)
    api.before_read()  # the first command's own XP (command XP) moved its author
    assert "Page 1 of 2 · 12 members" in text and f"<@{users[0]}>" in text and f"<@{users[10]}>" not in text
    _, second = d.call(discord_app.signer, d.command(guild, users[0], "leaderboard", options=[d.option("page", 2, 4)]))
    text = _text(second)
    assert f"`#11` <@{users[10]}>" in text and f"`#12` <@{users[11]}>" in text
    assert second["data"]["allowed_mentions"] == {"parse": []}  # listing members never pings them


def test_commands_outside_a_server_are_refused(api, discord_app):
    _, answer = d.call(discord_app.signer, d.command(None, new_user_id(), "rank"))
    assert answer["data"]["flags"] == EPHEMERAL and "only works in a server" in _text(answer)


# ---------------------------------------------------------------- /xp


def test_xp_give_remove_set_need_manage_server(api, guild, discord_app):
    target, mod = new_user_id(), new_user_id()
    give = [d.option("user", target, 6), d.option("amount", 300, 4)]
    _, refused = d.call(discord_app.signer, d.command(guild, mod, "xp", "give", options=give))
    assert refused["data"]["flags"] == EPHEMERAL and "Manage Server" in _text(refused)
    assert api.get(f"/api/xp/users/{guild}/{target}").status == 404  # nothing written

    _, given = d.call(discord_app.signer, d.command(guild, mod, "xp", "give", options=give, permissions=d.MANAGE_GUILD))
    assert "Gave **300** XP" in _text(given) and "0 → **300** XP" in _text(given)
    _, removed = d.call(
        discord_app.signer,
        d.command(
            guild,
            mod,
            "xp",
            "remove",
            options=[d.option("user", target, 6), d.option("amount", 100, 4)],
            permissions=d.MANAGE_GUILD,
        ),
    )
    assert "300 → **200** XP" in _text(removed)
    _, was_set = d.call(
        discord_app.signer,
        d.command(
            guild,
            mod,
            "xp",
            "set",
            options=[d.option("user", target, 6), d.option("xp", 1525, 4)],
            permissions=d.ADMINISTRATOR,
        ),
    )
    assert "level 1 → **5**" in _text(was_set)
    assert member_item(guild, target)["xp"] == 1525


def test_xp_remove_from_a_member_without_xp_is_a_clear_message(api, guild, discord_app):
    _, answer = d.call(
        discord_app.signer,
        d.command(
            guild,
            new_user_id(),
            "xp",
            "remove",
            options=[d.option("user", new_user_id(), 6), d.option("amount", 5, 4)],
            permissions=d.MANAGE_GUILD,
        ),
    )
    assert answer["data"]["flags"] == EPHEMERAL and "has no XP record" in _text(answer)


def test_xp_config_commands_change_the_guild_config(api, guild, discord_app):
    from tests.support.fake_discord import role as discord_role

    admin, admin_role = new_user_id(), "510000000000000009"
    channel, role, role2, user = "310000000000000001", "510000000000000001", "510000000000000002", new_user_id()
    discord_app.fake.set_guild(guild, "1", [discord_role(role2, position=1), discord_role(admin_role, position=4)])

    def config(*path, options=()):
        resolved = {
            "roles": {o["value"]: discord_role(o["value"], position=1) for o in options if o["type"] == 8},
            "channels": {o["value"]: d.channel(o["value"]) for o in options if o["type"] == 7},
        }
        _, answer = d.call(
            discord_app.signer,
            d.command(
                guild,
                admin,
                "xp",
                "config",
                *path,
                options=list(options),
                permissions=d.MANAGE_GUILD_AND_ROLES,
                roles=[admin_role],
                resolved=resolved if resolved["roles"] or resolved["channels"] else None,
            ),
        )
        assert answer["type"] == 4
        return answer

    config("cooldown", options=[d.option("seconds", 30, 4)])
    config("rate", options=[d.option("rate", 1.5, 10)])
    config("no-xp-channel", options=[d.option("action", "add"), d.option("channel", channel, 7)])
    config("no-xp-role", options=[d.option("action", "add"), d.option("role", role, 8)])
    config("reward-add", options=[d.option("level", 5, 4), d.option("role", role2, 8)])
    config("reward-mode", options=[d.option("mode", "replace")])
    config("remove-on-loss", options=[d.option("enabled", True, 5)])
    config("multiplier", options=[d.option("value", 2.0, 10)])
    config("multiplier", options=[d.option("value", 1.5, 10), d.option("role", role2, 8)])
    config("multiplier", options=[d.option("value", 3.0, 10), d.option("user", user, 6)])
    config("command-xp", options=[d.option("enabled", False, 5)])
    config("announce", options=[d.option("channel", channel, 7), d.option("message", "{user} is now {level}!")])
    cfg = api.get(f"/api/xp/config/{guild}").data
    assert cfg["cooldownSeconds"] == 30 and cfg["xpRate"] == 1.5
    assert cfg["noXpChannelIds"] == [channel] and cfg["noXpRoleIds"] == [role]
    assert cfg["roleRewards"] == [{"level": 5, "roleId": role2}]
    assert (cfg["rewardsMode"], cfg["removeRewardOnXpLoss"]) == ("replace", True)
    assert cfg["multipliers"] == {"server": 2.0, "role": {role2: 1.5}, "user": {user: 3.0}}
    assert cfg["commandXp"] is False  # creditsPerLevel: admin key only (tests/security/test_money.py)
    assert cfg["levelUpAnnouncement"] == {"channelId": channel, "message": "{user} is now {level}!"}

    shown = _text(config("show"))
    assert "30 s" in shown and f"<#{channel}>" in shown and f"L5 <@&{role2}>" in shown

    config("no-xp-channel", options=[d.option("action", "remove"), d.option("channel", channel, 7)])
    config("reward-remove", options=[d.option("level", 5, 4)])
    config("multiplier", options=[d.option("value", 0, 10), d.option("role", role2, 8)])
    config("announce")
    cfg = api.get(f"/api/xp/config/{guild}").data
    assert cfg["noXpChannelIds"] == [] and cfg["roleRewards"] == []
    assert cfg["multipliers"]["role"] == {} and cfg["levelUpAnnouncement"]["channelId"] is None


def test_xp_config_errors_are_reported_not_raised(api, guild, discord_app):
    admin = new_user_id()
    _, answer = d.call(
        discord_app.signer,
        d.command(
            guild,
            admin,
            "xp",
            "config",
            "reward-remove",
            options=[d.option("level", 9, 4)],
            permissions=d.MANAGE_GUILD_AND_ROLES,
        ),
    )
    assert answer["data"]["flags"] == EPHEMERAL and "No role reward found at level 9" in _text(answer)
    _, refused = d.call(
        discord_app.signer, d.command(guild, admin, "xp", "config", "cooldown", options=[d.option("seconds", 5, 4)])
    )
    assert "Manage Server" in _text(refused)
    assert api.get(f"/api/xp/config/{guild}").data["cooldownSeconds"] == 60


# ---------------------------------------------------------------- command XP, registration


def test_commands_earn_xp_once_per_cooldown(api, guild, discord_app):
    user = new_user_id()
    d.call(discord_app.signer, d.command(guild, user, "leaderboard"))
    first = member_item(guild, user)
    assert 15 <= first["xp"] <= 25 and (first["messages"], first["xpMessages"]) == (1, 1)
    d.call(discord_app.signer, d.command(guild, user, "leaderboard"))  # within the 60 s cooldown
    second = member_item(guild, user)
    assert (second["xp"], second["messages"], second["xpMessages"]) == (first["xp"], 2, 1)


def test_command_xp_honours_no_xp_rules_and_the_switch(api, guild, discord_app):
    quiet_role = "520000000000000001"
    api.put(f"/api/xp/config/{guild}", {"noXpRoleIds": [quiet_role]})
    _forget(guild)
    muted = new_user_id()
    d.call(discord_app.signer, d.command(guild, muted, "leaderboard", roles=[quiet_role]))
    assert (member_item(guild, muted)["xp"], member_item(guild, muted)["messages"]) == (0, 1)

    api.put(f"/api/xp/config/{guild}", {"commandXp": False})
    _forget(guild)
    user = new_user_id()
    d.call(discord_app.signer, d.command(guild, user, "leaderboard"))
    assert member_item(guild, user) is None


@pytest.mark.parametrize("thread_type", [10, 11, 12])  # announcement, public and private threads
def test_command_xp_in_a_thread_follows_its_parent_channels_no_xp_rule(api, guild, discord_app, thread_type):
    """As the relay counts a thread's messages in its parent channel (admins list the channel; threads come and
    go), a command used in a thread of a no-XP channel earns no XP either."""
    quiet_channel, thread = "300000000000000901", "300000000000000902"
    api.put(f"/api/xp/config/{guild}", {"noXpChannelIds": [quiet_channel], "cooldownSeconds": 0})
    _forget(guild)
    user = new_user_id()
    payload = d.command(guild, user, "leaderboard", channel_id=thread)
    payload["channel"] = {"id": thread, "type": thread_type, "parent_id": quiet_channel, "guild_id": guild}
    d.call(discord_app.signer, payload)
    assert (member_item(guild, user)["xp"], member_item(guild, user)["messages"]) == (0, 1)

    elsewhere = d.command(guild, user, "leaderboard", channel_id=thread)  # a thread of another channel earns
    elsewhere["channel"] = {"id": thread, "type": thread_type, "parent_id": "300000000000000903", "guild_id": guild}
    d.call(discord_app.signer, elsewhere)
    assert member_item(guild, user)["xp"] >= 15


def test_a_channel_with_a_parent_that_is_not_a_thread_keeps_its_own_rules(api, guild, discord_app):
    """A text channel's parent_id is its category: no-XP rules name channels, not categories."""
    category, channel = "300000000000000911", "300000000000000912"
    api.put(f"/api/xp/config/{guild}", {"noXpChannelIds": [category]})
    _forget(guild)
    user = new_user_id()
    payload = d.command(guild, user, "leaderboard", channel_id=channel)
    payload["channel"] = {"id": channel, "type": 0, "parent_id": category, "guild_id": guild}
    d.call(discord_app.signer, payload)
    assert member_item(guild, user)["xp"] >= 15


def test_the_same_interaction_delivered_twice_counts_once(api, guild, discord_app):
    user, interaction_id = new_user_id(), d.next_snowflake()
    payload = d.command(guild, user, "leaderboard", interaction_id=interaction_id)
    d.call(discord_app.signer, payload)
    d.call(discord_app.signer, payload)
    assert member_item(guild, user)["messages"] == 1


def test_a_command_does_not_hide_relayed_messages_sent_before_it(api, guild, discord_app):
    """Relayed messages arrive late; a command's newer id must not make them look like duplicates."""
    from tests.support.sqs import consume, message

    user = new_user_id()
    earlier_message = int(d.next_snowflake())
    d.call(discord_app.signer, d.command(guild, user, "leaderboard"))
    consume([message(guild, user, earlier_message, int(time.time() * 1000) - 1000)])
    assert member_item(guild, user)["messages"] == 2


def test_any_interaction_registers_its_guild(api, discord_app):
    guild = new_guild_id()
    assert api.get(f"/api/xp/users/{guild}").error["code"] == "GUILD_NOT_FOUND"
    d.call(discord_app.signer, d.command(guild, new_user_id(), "rank"))
    assert api.get(f"/api/xp/users/{guild}").status == 200
    assert any(g["guildId"] == guild and g["source"] == "discord" for g in _all_guilds(api))


def _all_guilds(api) -> list[dict]:
    found, cursor = [], None
    while True:
        page = api.get("/api/xp/guilds?limit=100" + (f"&cursor={cursor}" if cursor else "")).data
        found += page["guilds"]
        cursor = page.get("nextCursor")
        if not cursor:
            return found


# ---------------------------------------------------------------- Give XP (message command)


def test_give_xp_rewards_a_helpful_message_once(api, guild, discord_app):
    author, mod, other_mod = new_user_id(), new_user_id(), new_user_id()
    message_id = d.next_snowflake()
    _, answer = d.call(discord_app.signer, d.message_command(guild, mod, message_id, author))
    assert "earned **50** XP" in _text(answer)
    assert member_item(guild, author)["xp"] == 50
    _, again = d.call(discord_app.signer, d.message_command(guild, other_mod, message_id, author))
    assert "already been rewarded" in _text(again)
    assert member_item(guild, author)["xp"] == 50


def test_give_xp_refusals(api, guild, discord_app):
    mod, author = new_user_id(), new_user_id()
    _, own = d.call(discord_app.signer, d.message_command(guild, mod, d.next_snowflake(), mod))
    assert "your own message" in _text(own)
    _, bot = d.call(discord_app.signer, d.message_command(guild, mod, d.next_snowflake(), author, bot=True))
    assert "Bots don't earn XP" in _text(bot)
    _, member = d.call(
        discord_app.signer, d.message_command(guild, mod, d.next_snowflake(), author, permissions=d.NO_PERMISSIONS)
    )
    assert "Manage Server" in _text(member)
    assert member_item(guild, author) is None


def test_give_xp_clicked_in_parallel_pays_once(api, guild, discord_app, parallel):
    author, message_id = new_user_id(), d.next_snowflake()
    payloads = [d.message_command(guild, new_user_id(), message_id, author) for _ in range(6)]
    results = parallel.call(
        "tests.support.discord:call_with_key", [(discord_app.signer.key.encode().hex(), p) for p in payloads]
    )
    assert sum("earned **50** XP" in _text(r[1]) for r in results) == 1
    assert member_item(guild, author)["xp"] == 50


# ---------------------------------------------------------------- deferred answers


def test_guild_recalc_is_deferred_and_finished_through_the_webhook(api, guild, discord_app, interactions_queue):
    from tests.support.sqs import receive_all, run_worker

    member = new_user_id()
    api.put(f"/api/xp/users/{guild}/{member}", {"xp": 700})
    payload = d.command(guild, new_user_id(), "xp", "recalc", permissions=d.MANAGE_GUILD)
    _, answer = d.call(discord_app.signer, payload)
    assert answer == {"type": 5, "data": {"flags": EPHEMERAL}}
    queued = receive_all(interactions_queue)
    assert len(queued) == 1
    assert run_worker(queued) == {"batchItemFailures": []}
    edits = discord_app.fake.webhook_messages[(d.APP_ID, payload["token"])]
    # the member, and the invoker who earned command XP
    assert "Recalculation done: 2 members checked" in edits[-1]["embeds"][0]["description"]
    # redelivered: the edit is repeated, the command is not run again
    assert run_worker(queued) == {"batchItemFailures": []}
    assert len(discord_app.fake.calls_to("PATCH", f"/webhooks/{d.APP_ID}/{payload['token']}")) == 2


def test_a_deferred_command_is_refused_at_once_without_permission(api, guild, discord_app, interactions_queue):
    from tests.support.sqs import receive_all

    _, answer = d.call(discord_app.signer, d.command(guild, new_user_id(), "xp", "recalc"))
    assert answer["type"] == 4 and "Manage Server" in _text(answer)
    assert receive_all(interactions_queue) == []


def test_a_failed_edit_is_retried_by_the_queue(api, guild, discord_app, interactions_queue):
    from tests.support.sqs import receive_all, run_worker

    payload = d.command(guild, new_user_id(), "xp", "recalc", permissions=d.MANAGE_GUILD)
    d.call(discord_app.signer, payload)
    queued = receive_all(interactions_queue)
    discord_app.fake.fail("PATCH", r"/webhooks/.*", 500, times=10)
    with pytest.raises(BatchProcessingError):  # the whole batch failed: Lambda hands it back to SQS
        run_worker(queued)
    discord_app.fake.reset()
    assert run_worker(queued) == {"batchItemFailures": []}
    assert discord_app.fake.webhook_messages[(d.APP_ID, payload["token"])]


def test_a_replayed_xp_give_changes_xp_once(api, guild, discord_app):
    """The same signed interaction sent again within its 5 minutes (or delivered twice) runs once."""
    target = new_user_id()
    payload = d.command(
        guild,
        new_user_id(),
        "xp",
        "give",
        options=[d.option("user", target, 6), d.option("amount", 40, 4)],
        permissions=d.MANAGE_GUILD,
    )
    _, first = d.call(discord_app.signer, payload)
    _, again = d.call(discord_app.signer, payload)
    assert "Gave **40** XP" in _text(first) and "already handled" in _text(again)
    assert member_item(guild, target)["xp"] == 40


def test_rank_names_members_by_their_server_nickname(api, guild, discord_app):
    """What the member list, the rank card image and the web board show (nick > global name > username): the
    embed's name agrees, for the invoker (`member.nick`) and for another member (`resolved.members`)."""
    me, other = new_user_id(), new_user_id()
    for who in (me, other):
        api.put(f"/api/xp/users/{guild}/{who}", {"xp": 300})
    api.before_read()
    raw = d.command(guild, me, "rank")
    raw["member"]["nick"] = "Captain *Me*"
    _, answer = d.call(discord_app.signer, raw)
    embed = answer["data"]["embeds"][0]
    assert embed["author"]["name"] == "Captain *Me*"  # author names are plain text
    assert embed["description"].startswith("Rank card: Captain \\*Me\\*,")  # descriptions are Markdown
    raw = d.command(
        guild,
        me,
        "rank",
        options=[d.option("user", other, 6)],
        resolved={"users": {other: d.user(other, "otheruser")}, "members": {other: {"nick": "Their Nick"}}},
    )
    _, answer = d.call(discord_app.signer, raw)
    assert answer["data"]["embeds"][0]["author"]["name"] == "Their Nick"
    view = d.user_command(guild, me, other)
    view["data"]["resolved"]["members"] = {other: {"nick": "Their Nick"}}
    _, answer = d.call(discord_app.signer, view)
    assert answer["data"]["embeds"][0]["author"]["name"] == "Their Nick"
