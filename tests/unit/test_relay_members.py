"""The relay's member events (reset on leave or ban): events built from discord.py's member-remove and ban
callbacks, checked with the backend's rules, and forwarded to POST /api/xp/ingest/members in `{"events"}`
batches."""

from __future__ import annotations

import asyncio
import re
import time
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import web

from relay.bot import RelayClient, RelayConfig, member_event, members_url_for, relay_intents
from relay.events import InvalidEvent, event_from_member, validate_member_event
from relay.forwarder import Forwarder

KEY = "relay-test-key"
GUILD = 111111111111111111
USER = 333333333333333333
NOW_MS = int(time.time() * 1000)


class Recorder:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def submit(self, event: dict[str, Any]) -> bool:
        self.events.append(event)
        return True

    def flush(self, member: tuple[str, str] | None = None) -> None:
        pass


def test_a_member_remove_and_a_ban_become_events() -> None:
    messages, members = Recorder(), Recorder()
    client = RelayClient(messages, members)
    user = SimpleNamespace(id=USER, bot=False)
    asyncio.run(client.on_raw_member_remove(SimpleNamespace(guild_id=GUILD, user=user)))  # type: ignore[arg-type]
    asyncio.run(client.on_member_ban(SimpleNamespace(id=GUILD), user))  # type: ignore[arg-type]
    assert messages.events == []
    leave, ban = members.events
    assert (leave["type"], ban["type"]) == ("leave", "ban")
    for event, kind in ((leave, "leave"), (ban, "ban")):
        assert (event["guildId"], event["userId"]) == (str(GUILD), str(USER))
        assert abs(event["at"] - NOW_MS) < 3_600_000
        assert event["eventId"] == f"{kind}-{GUILD}-{USER}-{event['at']}"
    # the backend accepts them as they are
    from xpshop.api.xp.member_events import MembersIngestBody

    assert len(MembersIngestBody.model_validate({"events": members.events}).events) == 2


def test_bots_and_a_relay_without_member_events_forward_nothing() -> None:
    members = Recorder()
    client = RelayClient(Recorder(), members)
    asyncio.run(client.on_member_ban(SimpleNamespace(id=GUILD), SimpleNamespace(id=USER, bot=True)))  # type: ignore[arg-type]
    assert members.events == []
    off = RelayClient(Recorder())  # RELAY_MEMBER_EVENTS unset: nothing to submit to
    asyncio.run(off.on_raw_member_remove(SimpleNamespace(guild_id=GUILD, user=SimpleNamespace(id=USER))))  # type: ignore[arg-type]
    assert member_event("leave", GUILD, SimpleNamespace(id=1)) is None  # not a snowflake: logged, dropped


def test_event_building_checks_every_field() -> None:
    event = event_from_member(kind="ban", guild_id=GUILD, user_id=str(USER), at=NOW_MS, event_id="ban:1")
    assert event == {"eventId": "ban:1", "type": "ban", "guildId": str(GUILD), "userId": str(USER), "at": NOW_MS}
    assert validate_member_event(event) == event
    for change, field in [
        ({"type": "kick"}, "type"),
        ({"guildId": "abc"}, "guildId"),
        ({"userId": 12}, "userId"),
        ({"at": 5}, "timestamp"),
        ({"eventId": "has space"}, "eventId"),
        ({"eventId": "x" * 65}, "eventId"),
    ]:
        with pytest.raises(InvalidEvent, match=field):
            validate_member_event({**event, **change})
    with pytest.raises(InvalidEvent, match="missing eventId"):
        validate_member_event({k: v for k, v in event.items() if k != "eventId"})


def test_relay_copies_the_backend_event_id_rule() -> None:
    from relay import events as relay_events
    from xpshop.api.xp import member_events

    assert relay_events.EVENT_ID_PATTERN == member_events.EVENT_ID_PATTERN
    assert relay_events.MEMBER_EVENT_TYPES == (member_events.LEAVE, member_events.BAN)
    longest = f"leave-{2**64 - 1}-{2**64 - 1}-{NOW_MS}"
    assert re.fullmatch(member_events.EVENT_ID_PATTERN, longest)


def test_member_events_need_the_members_intent_only_when_on() -> None:
    assert not relay_intents().members and not relay_intents().moderation
    on = relay_intents(member_events=True)
    assert on.members and on.moderation and not on.message_content and not on.presences


def test_config_turns_member_events_on() -> None:
    env = {"DISCORD_BOT_TOKEN": "t", "XPSHOP_INGEST_URL": "https://x.example/api/xp/ingest/messages"}
    env["XPSHOP_RELAY_KEY"] = "k"
    assert RelayConfig.from_env(env).members_url is None
    assert RelayConfig.from_env({**env, "RELAY_MEMBER_EVENTS": "1"}).members_url == (
        "https://x.example/api/xp/ingest/members"
    )
    custom = {**env, "RELAY_MEMBER_EVENTS": "true", "XPSHOP_MEMBERS_INGEST_URL": "https://y.example/m"}
    assert RelayConfig.from_env(custom).members_url == "https://y.example/m"
    assert members_url_for("https://x.example/api/xp/ingest/messages/") == "https://x.example/api/xp/ingest/members"
    with pytest.raises(ValueError, match="XPSHOP_MEMBERS_INGEST_URL"):
        RelayConfig.from_env({**env, "XPSHOP_INGEST_URL": "https://x.example/i", "RELAY_MEMBER_EVENTS": "1"})


def test_the_members_forwarder_posts_events_batches() -> None:
    received: list[dict[str, Any]] = []

    async def handle(request: web.Request) -> web.Response:
        received.append({"body": await request.json(), "key": request.headers.get("X-API-Key")})
        return web.json_response({"success": True, "data": {"accepted": 1, "skipped": 0}}, status=202)

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/api/xp/ingest/members", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/api/xp/ingest/members"
        try:
            fwd = Forwarder.for_members(url, KEY, max_delay=0.01)
            await fwd.start()
            good = event_from_member(kind="leave", guild_id=GUILD, user_id=USER, at=NOW_MS)
            assert fwd.submit(good)
            assert not fwd.submit({**good, "type": "kick"})  # refused locally, never sent
            await fwd.stop()
            assert fwd.counters.sent == 1 and fwd.counters.invalid == 1
        finally:
            await runner.cleanup()

    asyncio.run(main())
    assert received == [
        {"body": {"events": [event_from_member(kind="leave", guild_id=GUILD, user_id=USER, at=NOW_MS)]}, "key": KEY}
    ]


def test_a_leave_sends_the_members_waiting_messages_first() -> None:
    """Messages wait the relay's window; a leave behind them must not reach the queue first, or the reset
    would be followed by XP for messages written before it. The leave flushes the messages' batch; its own
    waits its window."""
    received: list[tuple[str, list[str]]] = []

    async def handle(request: web.Request) -> web.Response:
        body = await request.json()
        rows = body.get("messages") or body.get("events")
        received.append((request.path.rsplit("/", 1)[1], [r.get("messageId") or r["type"] for r in rows]))
        return web.json_response({"success": True, "data": {"accepted": len(rows), "skipped": 0}}, status=202)

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/api/xp/ingest/messages", handle)
        app.router.add_post("/api/xp/ingest/members", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        base = f"http://127.0.0.1:{runner.addresses[0][1]}/api/xp/ingest"
        messages = Forwarder(f"{base}/messages", KEY, max_delay=3600.0)
        members = Forwarder.for_members(f"{base}/members", KEY, max_delay=3600.0)
        try:
            await messages.start()
            await members.start()
            client = RelayClient(messages, members)
            message = {
                "messageId": "1300000000000000001",
                "guildId": str(GUILD),
                "channelId": "222222222222222222",
                "userId": str(USER),
                "roleIds": [],
                "timestamp": NOW_MS - 1000,
                "bot": False,
            }
            assert messages.submit(message)
            user = SimpleNamespace(id=USER, bot=False)
            await client.on_raw_member_remove(SimpleNamespace(guild_id=GUILD, user=user))  # type: ignore[arg-type]
            async with asyncio.timeout(5):  # a guard against a hang, not a timing check
                while messages.counters.sent < 1:
                    await asyncio.sleep(0.005)
            assert members.queued == 1  # the leave still waits its window
            await messages.stop()
            await members.stop()
        finally:
            await runner.cleanup()

    asyncio.run(main())
    assert received == [("messages", ["1300000000000000001"]), ("members", ["leave"])]


def test_the_periodic_counters_include_the_member_events_queue(caplog: pytest.LogCaptureFixture) -> None:
    """relay/README.md: member events have "the same batching, retries and counters", logged every 5 minutes
    with the messages' ones (the members' queue used to be left out of the log)."""
    from relay import bot

    messages = Forwarder("http://ingest.invalid/api/xp/ingest/messages", "key")
    members = Forwarder.for_members("http://ingest.invalid/api/xp/ingest/members", "key")
    from relay.events import event_from_message

    messages.submit(
        event_from_message(
            message_id=1300000000000000001, guild_id=GUILD, channel_id=GUILD, user_id=USER, timestamp=NOW_MS
        )
    )
    members.submit(member_event("leave", 111111111111111113, SimpleNamespace(id=222222222222222225, bot=False)))

    async def one_round() -> None:
        task = asyncio.create_task(bot._log_stats({"messages": messages, "members": members}, every=0))
        for _ in range(100):  # a few rounds of the loop: each sleeps 0 s
            await asyncio.sleep(0)
        task.cancel()

    with caplog.at_level("INFO", logger="relay.bot"):
        asyncio.run(one_round())
    lines = [r.getMessage() for r in caplog.records]
    assert any(line.startswith("relay: messages ") and "'queued': 1" in line for line in lines), lines
    assert any(line.startswith("relay: members ") and "'queued': 1" in line for line in lines), lines


def test_both_queues_take_the_configured_batch_size_and_window() -> None:
    """RELAY_MAX_BATCH is "events per request" and member events have "the same batching" (relay/README.md):
    the members' queue used to send up to 100 whatever RELAY_MAX_BATCH said."""
    from relay import bot

    env = {
        "DISCORD_BOT_TOKEN": "t",
        "XPSHOP_INGEST_URL": "https://x.example/api/xp/ingest/messages",
        "XPSHOP_RELAY_KEY": "k",
        "RELAY_MEMBER_EVENTS": "1",
        "RELAY_MAX_BATCH": "10",
        "RELAY_MAX_DELAY": "2",
    }
    messages, members = bot.forwarders(RelayConfig.from_env(env))
    assert members is not None
    assert (messages.max_batch, messages.max_delay, messages.url) == (10, 2.0, env["XPSHOP_INGEST_URL"])
    assert (members.max_batch, members.max_delay, members.url) == (10, 2.0, "https://x.example/api/xp/ingest/members")
    assert members.body_key == "events"
    assert bot.forwarders(RelayConfig.from_env({**env, "RELAY_MEMBER_EVENTS": "0"}))[1] is None
