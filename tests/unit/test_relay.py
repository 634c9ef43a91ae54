"""The gateway relay: event checks, the forwarder against a real local fake ingestion server, the bot's filter."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import web

from relay import bot
from relay.bot import RelayClient, RelayConfig, message_event, relay_intents
from relay.events import InvalidEvent, event_from_message, validate_event
from relay.forwarder import DEFAULT_MAX_DELAY, Forwarder, retry_after_seconds

KEY = "relay-test-key"
GUILD = 111111111111111111
CHANNEL = 222222222222222222
USER = 333333333333333333
ROLE = 444444444444444444
# Recent: the backend (and so the relay) refuses timestamps more than 7 days old or 5 minutes ahead.
CREATED = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
CREATED_MS = int(CREATED.timestamp()) * 1000


def make_event(n: int, channel: int = CHANNEL) -> dict[str, Any]:
    return {
        "messageId": str(1_300_000_000_000_000_000 + n),
        "guildId": str(GUILD),
        "channelId": str(channel),
        "userId": str(USER),
        "roleIds": [],
        "timestamp": CREATED_MS + n,
        "bot": False,
    }


def ids(events: list[dict[str, Any]]) -> list[str]:
    return [e["messageId"] for e in events]


class FakeIngest:
    """POST /ingest on 127.0.0.1: records every call; `script` lists the next answers (status, headers)."""

    def __init__(self) -> None:
        self.calls: list[list[dict[str, Any]]] = []  # every batch received, including refused ones
        self.accepted: list[list[dict[str, Any]]] = []  # the batches answered 202
        self.keys: list[str | None] = []
        self.script: list[tuple[int, dict[str, str]]] = []
        self.refuse: Callable[[dict[str, Any]], bool] = lambda event: False  # a 400 for a batch holding one
        self.url = ""
        self._runner: web.AppRunner | None = None

    def fail_next(self, status: int, times: int = 1, headers: dict[str, str] | None = None) -> None:
        self.script.extend([(status, headers or {})] * times)

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.calls.append(body["messages"])
        self.keys.append(request.headers.get("X-API-Key"))
        if self.script:
            status, headers = self.script.pop(0)
            return web.json_response({"success": False, "error": {"code": "X"}}, status=status, headers=headers)
        if any(self.refuse(event) for event in body["messages"]):
            return web.json_response({"success": False, "error": {"code": "INVALID_REQUEST"}}, status=400)
        self.accepted.append(body["messages"])
        return web.json_response(
            {"success": True, "data": {"accepted": len(body["messages"]), "skipped": 0}}, status=202
        )

    async def __aenter__(self) -> FakeIngest:
        app = web.Application()
        app.router.add_post("/ingest", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/ingest"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    def delivered(self) -> list[dict[str, Any]]:
        return [event for batch in self.accepted for event in batch]


class Sleeps:
    """The injected backoff sleep: records the waits, returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(0)


async def until(condition: Callable[[], bool], limit: float = 5.0) -> None:
    """Wait (polling) for a condition; the limit only guards against a hang, it is not a timing check."""
    async with asyncio.timeout(limit):
        while not condition():
            await asyncio.sleep(0.005)


def run_with_server(scenario: Callable[[FakeIngest], Awaitable[None]]) -> None:
    async def main() -> None:
        async with FakeIngest() as server:
            await scenario(server)

    asyncio.run(main())


def forwarder(server: FakeIngest, sleeps: Sleeps | None = None, **options: Any) -> Forwarder:
    options.setdefault("max_delay", 0.05)
    return Forwarder(server.url, KEY, sleep=sleeps or Sleeps(), **options)


# --- events ------------------------------------------------------------------------------------------


def test_event_from_message_normalises_plain_values() -> None:
    event = event_from_message(
        message_id=1_300_000_000_000_000_001,
        guild_id=GUILD,
        channel_id=str(CHANNEL),
        user_id=USER,
        role_ids=[ROLE, str(ROLE)],
        timestamp=CREATED,
    )
    assert event == {
        "messageId": "1300000000000000001",
        "guildId": str(GUILD),
        "channelId": str(CHANNEL),
        "userId": str(USER),
        "roleIds": [str(ROLE)],
        "timestamp": CREATED_MS,
        "bot": False,
    }
    iso = CREATED.strftime("%Y-%m-%dT%H:%M:%S")
    for stamp in (iso + "Z", iso + "+00:00", iso, str(CREATED_MS), CREATED_MS):
        assert validate_event({**event, "timestamp": stamp})["timestamp"] == CREATED_MS


@pytest.mark.parametrize(
    "change",
    [
        {"messageId": "12"},
        {"guildId": "abc"},
        {"userId": True},
        {"channelId": None},
        {"roleIds": ["1"]},
        {"roleIds": "444444444444444444"},
        {"roleIds": [str(10**17 + i) for i in range(251)]},
        {"timestamp": "yesterday"},
        {"timestamp": 1_000},
        {"timestamp": None},
        {"bot": "no"},
    ],
)
def test_invalid_events_are_refused(change: dict[str, Any]) -> None:
    with pytest.raises(InvalidEvent):
        validate_event({**make_event(1), **change})


# The relay keeps its own copy of the backend's id rules (it runs without the layer): they must agree.
SNOWFLAKE_CASES = [
    ("80351110224678912", True),  # 17 digits, the shortest real ids
    ("1234567890123456789", True),  # 19
    ("12345678901234567890", True),  # 20
    (str(2**64 - 1), True),  # the largest 64-bit id
    (str(2**64), False),  # 20 digits, one past 64 bits
    ("123456789012345678901", False),  # 21 digits
    ("1234567890123456", False),  # 16 digits
    ("123456789012345678\n", False),  # "$" alone would let a trailing newline through
    ("\n123456789012345678", False),
    ("0123456789012345678", False),  # leading zero
    ("00000000000000000123", False),
    ("", False),
    ("+123456789012345678", False),
    ("-123456789012345678", False),
    (" 123456789012345678", False),
    ("123456789012345678 ", False),
    ("123456789 012345678", False),
    ("١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦٧٨", False),  # Arabic-Indic digits: str.isdigit() and int() accept them
    ("１２３４５６７８９０１２３４５６７８", False),  # fullwidth digits
    ("123456789012345678.0", False),
    ("1_23456789012345678", False),
]


def test_relay_copies_the_backend_id_rules() -> None:
    from relay import events as relay_events
    from xpshop import ids

    assert relay_events.DISCORD_EPOCH_MS == ids.DISCORD_EPOCH_MS
    assert relay_events.SNOWFLAKE_PATTERN == ids.SNOWFLAKE_PATTERN
    assert relay_events._MAX_SNOWFLAKE == ids.MAX_SNOWFLAKE


@pytest.mark.parametrize(("value", "valid"), SNOWFLAKE_CASES)
def test_relay_snowflake_check_agrees_with_the_backend(value: str, valid: bool) -> None:
    import re

    from relay import events as relay_events
    from xpshop import ids

    assert bool(re.fullmatch(relay_events.SNOWFLAKE_PATTERN, value)) == bool(re.fullmatch(ids.SNOWFLAKE_PATTERN, value))
    assert ids.is_snowflake(value) is valid
    try:
        relay_events._snowflake(value, "userId")
    except InvalidEvent:
        relay_valid = False
    else:
        relay_valid = True
    assert relay_valid is valid


def test_missing_field_is_refused() -> None:
    event = make_event(1)
    del event["userId"]
    with pytest.raises(InvalidEvent, match="userId"):
        validate_event(event)


def test_retry_after_header_forms() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds("0.5") == 0.5
    assert retry_after_seconds("Thu, 01 Jan 2026 00:00:10 GMT", now=now) == 10.0
    assert retry_after_seconds("Wed, 31 Dec 2025 00:00:00 GMT", now=now) == 0.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None


# --- the forwarder -----------------------------------------------------------------------------------


def test_batches_by_size() -> None:
    async def scenario(server: FakeIngest) -> None:
        fwd = forwarder(server, max_delay=30.0)
        await fwd.start()
        events = [make_event(i) for i in range(250)]
        assert all(fwd.submit(e) for e in events)
        await until(lambda: len(server.accepted) == 2)  # two full batches go without waiting for max_delay
        await fwd.stop()  # the last 50 go on stop
        assert [len(b) for b in server.accepted] == [100, 100, 50]
        assert ids(server.delivered()) == ids(events)
        assert set(server.keys) == {KEY}
        assert fwd.counters.sent == 250
        assert fwd.counters.dropped == fwd.counters.retried == fwd.counters.failed_batches == 0

    run_with_server(scenario)


def test_batches_by_delay() -> None:
    async def scenario(server: FakeIngest) -> None:
        fwd = forwarder(server, max_delay=0.05)
        await fwd.start()
        for i in range(3):
            fwd.submit(make_event(i))
        await until(lambda: len(server.accepted) == 1)  # sent by the delay, the forwarder still running
        assert fwd.queued == 0
        fwd.submit(make_event(3))
        await until(lambda: len(server.accepted) == 2)
        await fwd.stop()
        assert [len(b) for b in server.accepted] == [3, 1]
        assert fwd.counters.sent == 4

    run_with_server(scenario)


def test_smaller_max_batch() -> None:
    async def scenario(server: FakeIngest) -> None:
        fwd = forwarder(server, max_batch=10, max_delay=30.0)
        await fwd.start()
        for i in range(25):
            fwd.submit(make_event(i))
        await fwd.stop()
        assert [len(b) for b in server.accepted] == [10, 10, 5]

    run_with_server(scenario)


def test_the_default_window_is_five_seconds() -> None:
    """A deliberate trade-off (relay/README.md): per-request charges against how soon XP shows."""
    assert DEFAULT_MAX_DELAY == 5.0
    assert Forwarder("http://x", KEY).max_delay == 5.0
    assert Forwarder.for_members("http://x", KEY).max_delay == 5.0


def test_a_full_batch_goes_at_once_whatever_the_window() -> None:
    async def scenario(server: FakeIngest) -> None:
        fwd = forwarder(server, max_batch=10, max_delay=3600.0)
        await fwd.start()
        events = [make_event(i) for i in range(10)]
        for e in events:
            fwd.submit(e)
        await until(lambda: len(server.accepted) == 1)  # an hour's window, yet sent while running
        assert ids(server.delivered()) == ids(events)
        assert fwd.queued == 0
        fwd.submit(make_event(10))  # the next batch waits for its own window (or stop)
        await fwd.stop()
        assert [len(b) for b in server.accepted] == [10, 1]

    run_with_server(scenario)


def test_flush_sends_what_is_queued_without_waiting() -> None:
    async def scenario(server: FakeIngest) -> None:
        fwd = forwarder(server, max_batch=5, max_delay=3600.0)
        await fwd.start()
        fwd.flush()  # nothing queued: nothing sent, nothing armed
        events = [make_event(i) for i in range(7)]
        for e in events:
            fwd.submit(e)
        fwd.flush()
        await until(lambda: fwd.counters.sent == 7)  # 5 (full) + the 2 flushed, within an hour's window
        fwd.submit(make_event(7))  # after the flush: waits its window
        assert fwd.queued == 1
        await fwd.stop()
        assert [len(b) for b in server.accepted] == [5, 2, 1]
        assert ids(server.delivered()) == ids([*events, make_event(7)])

    run_with_server(scenario)


def test_order_is_kept_per_channel_across_batches_retries_and_stop() -> None:
    """The backend counts a member's messages in the order it queues them: the relay must not reorder."""
    other = CHANNEL + 1

    async def scenario(server: FakeIngest) -> None:
        fwd = forwarder(server, max_batch=7, max_delay=3600.0)
        server.fail_next(503, times=2)  # the first batch is retried, the others wait behind it
        await fwd.start()
        events = [make_event(i, CHANNEL if i % 3 else other) for i in range(40)]
        for e in events:
            fwd.submit(e)
        await fwd.stop()  # 5 full batches while running (or on stop), the last 5 on stop
        delivered = server.delivered()
        assert [len(b) for b in server.accepted] == [7, 7, 7, 7, 7, 5]
        assert ids(delivered) == ids(events)
        for channel in (str(CHANNEL), str(other)):
            assert ids([e for e in delivered if e["channelId"] == channel]) == ids(
                [e for e in events if e["channelId"] == channel]
            )
        assert fwd.counters.sent == 40 and fwd.counters.retried == 2

    run_with_server(scenario)


def test_retries_after_500_then_delivers() -> None:
    async def scenario(server: FakeIngest) -> None:
        sleeps = Sleeps()
        fwd = forwarder(server, sleeps, base_backoff=1.0)
        server.fail_next(500, times=2)
        await fwd.start()
        events = [make_event(i) for i in range(5)]
        for e in events:
            fwd.submit(e)
        await until(lambda: len(server.accepted) == 1)
        await fwd.stop()
        assert len(server.calls) == 3  # the same batch three times
        assert ids(server.delivered()) == ids(events)
        assert fwd.counters.retried == 2
        assert fwd.counters.sent == 5
        assert fwd.counters.dropped == fwd.counters.failed_batches == 0
        # exponential backoff with jitter: within [ceiling/2, ceiling] for ceilings 1 s then 2 s
        assert len(sleeps.waits) == 2
        assert 0.5 <= sleeps.waits[0] <= 1.0
        assert 1.0 <= sleeps.waits[1] <= 2.0

    run_with_server(scenario)


def test_429_retry_after_is_honoured() -> None:
    async def scenario(server: FakeIngest) -> None:
        sleeps = Sleeps()
        fwd = forwarder(server, sleeps)
        server.fail_next(429, headers={"Retry-After": "7"})
        server.fail_next(503, headers={"Retry-After": "2"})
        await fwd.start()
        fwd.submit(make_event(1))
        await fwd.stop()
        assert sleeps.waits == [7.0, 2.0]
        assert ids(server.delivered()) == ids([make_event(1)])
        assert fwd.counters.retried == 2

    run_with_server(scenario)


def test_400_of_one_event_is_dropped_without_retry() -> None:
    async def scenario(server: FakeIngest) -> None:
        sleeps = Sleeps()
        fwd = forwarder(server, sleeps)
        server.fail_next(400)
        await fwd.start()
        fwd.submit(make_event(0))
        await until(lambda: len(server.calls) == 1)
        fwd.submit(make_event(10))  # the next batch is not affected
        await fwd.stop()
        assert len(server.calls) == 2
        assert ids(server.delivered()) == ids([make_event(10)])
        assert sleeps.waits == []
        assert fwd.counters.retried == 0
        assert fwd.counters.dropped == 1
        assert fwd.counters.failed_batches == 1
        assert fwd.counters.sent == 1

    run_with_server(scenario)


def test_a_refused_batch_is_halved_until_only_the_bad_events_are_dropped() -> None:
    """One event the backend refuses (a rule the relay does not know) costs only itself, not its batch;
    the others arrive once each, in order, without backoff."""
    bad = {ids([make_event(i)])[0] for i in (3, 17)}

    async def scenario(server: FakeIngest) -> None:
        sleeps = Sleeps()
        fwd = forwarder(server, sleeps, max_delay=60.0, max_batch=20)
        server.refuse = lambda event: event["messageId"] in bad
        await fwd.start()
        events = [make_event(i) for i in range(20)]
        for e in events:
            fwd.submit(e)  # 20: a full batch, sent at once
        await fwd.stop()
        assert ids(server.delivered()) == [i for i in ids(events) if i not in bad]
        assert fwd.counters.dropped == 2
        assert fwd.counters.failed_batches == 2
        assert fwd.counters.sent == 18
        assert sleeps.waits == []
        assert len(server.calls) <= 2 * len(events)  # halving: at most 2n - 1 requests

    run_with_server(scenario)


def test_401_is_dropped_counted_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(server: FakeIngest) -> None:
        fwd = forwarder(server)
        server.fail_next(401)
        await fwd.start()
        fwd.submit(make_event(1))
        fwd.submit(make_event(2))
        await fwd.stop()
        assert len(server.calls) == 1
        assert server.accepted == []
        assert fwd.counters.dropped == 2
        assert fwd.counters.failed_batches == 1
        assert fwd.counters.retried == 0

    with caplog.at_level(logging.CRITICAL, logger="relay.forwarder"):
        run_with_server(scenario)
    assert any("XPSHOP_RELAY_KEY" in r.getMessage() for r in caplog.records if r.levelno == logging.CRITICAL)


def test_connection_errors_are_retried_until_max_attempts_with_the_queue_full() -> None:
    async def main() -> None:
        with socket.socket() as sock:  # a port nothing listens on
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        sleeps = Sleeps()
        fwd = Forwarder(
            f"http://127.0.0.1:{port}/ingest", KEY, max_delay=0.05, max_attempts=4, max_queue=2, sleep=sleeps
        )
        await fwd.start()
        fwd.submit(make_event(1))
        fwd.submit(make_event(2))  # the relay holds all it may: the batch in flight is given up
        await fwd.stop()
        assert len(sleeps.waits) == 3  # between the 4 attempts
        assert fwd.counters.retried == 3
        assert fwd.counters.failed_batches == 1
        assert fwd.counters.dropped == 2
        assert fwd.counters.sent == 0

    asyncio.run(main())


def test_an_outage_keeps_the_events_until_the_queue_is_full() -> None:
    """Past max_attempts the head batch is still retried while the queue has room: when the backend comes
    back, everything arrives once, in order."""

    async def scenario(server: FakeIngest) -> None:
        sleeps = Sleeps()
        fwd = forwarder(server, sleeps, max_attempts=3, max_batch=2, max_queue=100)
        server.fail_next(503, times=20)  # longer than 3 attempts
        await fwd.start()
        events = [make_event(i) for i in range(6)]
        for e in events:
            fwd.submit(e)
        await until(lambda: len(server.accepted) == 3)
        await fwd.stop()
        assert ids(server.delivered()) == ids(events)
        assert fwd.counters.dropped == 0
        assert fwd.counters.retried == 20

    run_with_server(scenario)


def test_queue_full_drops_the_newest() -> None:
    async def scenario(server: FakeIngest) -> None:
        fwd = forwarder(server, max_queue=5)
        events = [make_event(i) for i in range(8)]
        results = [fwd.submit(e) for e in events]  # not started: nothing drains the queue
        assert results == [True] * 5 + [False] * 3
        assert fwd.counters.queue_full == 3
        assert fwd.counters.dropped == 3
        assert fwd.queued == 5
        await fwd.start()
        await fwd.stop()
        assert ids(server.delivered()) == ids(events[:5])
        assert fwd.counters.sent == 5

    run_with_server(scenario)


def test_invalid_event_is_refused_locally_and_the_batch_goes_through() -> None:
    async def scenario(server: FakeIngest) -> None:
        fwd = forwarder(server)
        await fwd.start()
        assert fwd.submit(make_event(1))
        assert not fwd.submit({**make_event(2), "userId": "not-a-snowflake"})
        assert fwd.submit(make_event(3))
        await fwd.stop()
        assert ids(server.delivered()) == ids([make_event(1), make_event(3)])
        assert fwd.counters.invalid == 1
        assert fwd.counters.dropped == 1

    run_with_server(scenario)


def test_stop_flushes_without_waiting_for_the_delay() -> None:
    async def scenario(server: FakeIngest) -> None:
        fwd = forwarder(server, max_delay=3600.0)
        await fwd.start()
        events = [make_event(i) for i in range(130)]
        for e in events:
            fwd.submit(e)
        await fwd.stop()
        assert ids(server.delivered()) == ids(events)
        assert fwd.queued == 0
        assert not fwd.submit(make_event(999))  # stopped: refused and counted
        assert fwd.counters.dropped == 1

    run_with_server(scenario)


def test_stop_gives_up_after_its_timeout() -> None:
    async def scenario(server: FakeIngest) -> None:
        async def slow_sleep(seconds: float) -> None:
            await asyncio.sleep(3600)

        server.fail_next(500, times=10)
        fwd = Forwarder(server.url, KEY, max_delay=0.0, sleep=slow_sleep, stop_timeout=0.1)
        await fwd.start()
        fwd.submit(make_event(1))
        fwd.submit(make_event(2))
        await until(lambda: len(server.calls) == 1)
        await fwd.stop()
        assert fwd.counters.dropped == 2
        assert fwd.counters.sent == 0

    run_with_server(scenario)


def test_sigterm_sends_what_the_window_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    """`run` with the default 5 s window: SIGTERM closes the gateway and the queued events are sent at once."""
    events = [make_event(i) for i in range(3)]

    class Gateway:
        """Stands in for RelayClient: hands three messages to the forwarder, then lives until closed."""

        def __init__(self, forwarder: Forwarder, members: Forwarder | None) -> None:
            self.forwarder = forwarder
            self.closed = asyncio.Event()

        async def __aenter__(self) -> Gateway:
            return self

        async def __aexit__(self, *exc: object) -> None:
            self.closed.set()

        async def start(self, token: str) -> None:
            for e in events:
                assert self.forwarder.submit(e)
            signal.raise_signal(signal.SIGTERM)  # what systemd, ECS and Fly send
            await self.closed.wait()

        async def close(self) -> None:
            self.closed.set()

    async def scenario(server: FakeIngest) -> None:
        monkeypatch.setattr(bot, "RelayClient", Gateway)
        config = RelayConfig(token="t", ingest_url=server.url, relay_key=KEY)
        assert config.max_delay == DEFAULT_MAX_DELAY
        await bot.run(config)  # returns once the gateway is closed and the forwarder stopped
        assert ids(server.delivered()) == ids(events)

    run_with_server(scenario)


def test_shutdown_gives_both_queues_one_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the backend down, SIGTERM waits at most SHUTDOWN_SECONDS in all: the member-event queue gets
    what the message queue left of it, not a budget of its own (the README's "up to 60 s")."""
    given: list[float | None] = []
    real_stop = Forwarder.stop

    async def recording_stop(self: Forwarder, timeout: float | None = None) -> None:
        given.append(timeout)
        await real_stop(self, timeout)

    class Gateway:
        def __init__(self, forwarder: Forwarder, members: Forwarder | None) -> None:
            self.forwarder, self.members = forwarder, members
            self.closed = asyncio.Event()

        async def __aenter__(self) -> Gateway:
            return self

        async def __aexit__(self, *exc: object) -> None:
            self.closed.set()

        async def start(self, token: str) -> None:
            assert self.forwarder.submit(make_event(1))
            signal.raise_signal(signal.SIGTERM)
            await self.closed.wait()

        async def close(self) -> None:
            self.closed.set()

    async def scenario(server: FakeIngest) -> None:
        server.fail_next(503, times=1000)  # the backend is down for the whole shutdown
        monkeypatch.setattr(bot, "RelayClient", Gateway)
        monkeypatch.setattr(bot, "SHUTDOWN_SECONDS", 0.3)
        monkeypatch.setattr(Forwarder, "stop", recording_stop)
        config = RelayConfig(token="t", ingest_url=server.url, relay_key=KEY, members_url=server.url)
        await bot.run(config)
        assert given[0] == 0.3
        assert given[1] is not None and given[1] < 0.3  # what is left of the one budget
        assert server.delivered() == []

    run_with_server(scenario)


def test_forwarder_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        Forwarder("http://x", KEY, max_batch=101)
    with pytest.raises(ValueError, match="relay_key"):
        Forwarder("http://x", "")


# --- the bot -----------------------------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def submit(self, event: dict[str, Any]) -> bool:
        self.events.append(event)
        return True

    def flush(self, member: tuple[str, str] | None = None) -> None:
        pass


def stand_in_message(
    *,
    guild: bool = True,
    bot: bool = False,
    member: bool = True,
    system: bool = False,
    webhook: bool = False,
) -> SimpleNamespace:
    """Just what the relay reads of a discord.Message (and its Member or User author)."""
    author = SimpleNamespace(id=USER, bot=bot)
    if member:  # Member.roles starts with @everyone, whose id is the guild's
        author.roles = [SimpleNamespace(id=GUILD), SimpleNamespace(id=ROLE)]
    return SimpleNamespace(
        id=1_300_000_000_000_000_001,
        guild=SimpleNamespace(id=GUILD) if guild else None,
        channel=SimpleNamespace(id=CHANNEL),
        author=author,
        created_at=CREATED,
        webhook_id=555555555555555555 if webhook else None,
        is_system=lambda: system,
    )


def on_message(message: SimpleNamespace) -> list[dict[str, Any]]:
    recorder = Recorder()
    client = RelayClient(recorder)
    asyncio.run(client.on_message(message))  # type: ignore[arg-type]
    return recorder.events


def test_bot_forwards_a_member_message_without_everyone() -> None:
    assert on_message(stand_in_message()) == [
        {
            "messageId": "1300000000000000001",
            "guildId": str(GUILD),
            "channelId": str(CHANNEL),
            "userId": str(USER),
            "roleIds": [str(ROLE)],
            "timestamp": CREATED_MS,
            "bot": False,
        }
    ]


def test_bot_forwards_a_user_author_without_roles() -> None:
    [event] = on_message(stand_in_message(member=False))
    assert event["roleIds"] == []


@pytest.mark.parametrize(
    "kind",
    [{"guild": False}, {"bot": True}, {"system": True}, {"webhook": True}],
    ids=["dm", "bot", "system", "webhook"],
)
def test_bot_skips_what_earns_no_xp(kind: dict[str, bool]) -> None:
    assert on_message(stand_in_message(**kind)) == []
    assert message_event(stand_in_message(**kind)) is None  # type: ignore[arg-type]


def test_intents_are_not_privileged() -> None:
    intents = relay_intents()
    assert intents.guilds
    assert intents.guild_messages
    assert not intents.message_content
    assert not intents.members
    assert not intents.presences
    assert not intents.dm_messages


def test_config_from_env() -> None:
    env = {"DISCORD_BOT_TOKEN": "t", "XPSHOP_INGEST_URL": "https://api.example.com/i", "XPSHOP_RELAY_KEY": "k"}
    config = RelayConfig.from_env(env)
    assert (config.max_batch, config.max_delay) == (100, 5.0)
    assert RelayConfig.from_env({**env, "RELAY_MAX_DELAY": ""}).max_delay == 5.0
    assert RelayConfig.from_env({**env, "RELAY_MAX_DELAY": "0"}).max_delay == 0.0  # every event on its own
    assert RelayConfig.from_env({**env, "RELAY_MAX_DELAY": "60"}).max_delay == 60.0
    config = RelayConfig.from_env({**env, "RELAY_MAX_BATCH": "20", "RELAY_MAX_DELAY": "0.25"})
    assert (config.max_batch, config.max_delay) == (20, 0.25)
    with pytest.raises(ValueError, match="XPSHOP_RELAY_KEY"):
        RelayConfig.from_env({**env, "XPSHOP_RELAY_KEY": ""})
    with pytest.raises(ValueError, match="RELAY_MAX_BATCH"):
        RelayConfig.from_env({**env, "RELAY_MAX_BATCH": "500"})
    with pytest.raises(ValueError, match="RELAY_MAX_BATCH"):
        RelayConfig.from_env({**env, "RELAY_MAX_BATCH": "lots"})
    for bad in ("61", "-1", "nan"):
        with pytest.raises(ValueError, match="RELAY_MAX_DELAY must be between 0 and 60 seconds"):
            RelayConfig.from_env({**env, "RELAY_MAX_DELAY": bad})
    with pytest.raises(ValueError, match="RELAY_MAX_DELAY a number"):
        RelayConfig.from_env({**env, "RELAY_MAX_DELAY": "soon"})


def test_a_thread_message_counts_in_its_parent_channel() -> None:
    """No-XP channel rules name channels; a thread under one is covered through its parent."""
    import discord

    thread = discord.Thread.__new__(discord.Thread)
    thread.id, thread.parent_id = 777777777777777777, CHANNEL
    message = stand_in_message()
    message.channel = thread
    [event] = on_message(message)
    assert event["channelId"] == str(CHANNEL)


# --- display data ------------------------------------------------------------------------------------

HASH = "0123456789abcdef0123456789abcdef"


def test_the_bot_forwards_the_authors_display_data() -> None:
    message = stand_in_message()
    message.author.name = "ada"
    message.author.display_name = "Countess"  # a Member's: nickname, else global name, else username
    message.author.avatar = SimpleNamespace(key="a_" + HASH)
    [event] = on_message(message)
    assert (event["displayName"], event["username"], event["avatar"]) == ("Countess", "ada", "a_" + HASH)
    message.author.avatar = None  # no avatar: sent as null, so the backend forgets a stored one
    [event] = on_message(message)
    assert "avatar" in event and event["avatar"] is None


def test_display_data_is_cleaned_and_cut_never_a_reason_to_drop_the_message() -> None:
    event = event_from_message(
        message_id=1_300_000_000_000_000_001,
        guild_id=GUILD,
        channel_id=CHANNEL,
        user_id=USER,
        timestamp=CREATED,
        display={"displayName": " Ada\n\u202e" + "x" * 300, "username": 42, "avatar": "../not-a-hash"},
    )
    assert event["displayName"] == ("Ada" + "x" * 300)[:100]
    assert "username" not in event and "avatar" not in event
    assert validate_event(event) == event  # what the forwarder checks again on submit
    plain = validate_event(make_event(1))
    assert not {"displayName", "username", "avatar"} & set(plain)


def test_config_refuses_what_would_fail_every_batch_later() -> None:
    """A URL without scheme or host, or a member-events switch it can't read, is refused at start (exit 2)
    rather than accepted: otherwise every batch would be retried, then dropped, and the relay would look up."""
    env = {"DISCORD_BOT_TOKEN": "t", "XPSHOP_INGEST_URL": "https://api.example.com/i", "XPSHOP_RELAY_KEY": "k"}
    for bad in ("api.example.com/api/xp/ingest/messages", "ftp://api.example.com/i", "https:///i", "http//x/i"):
        with pytest.raises(ValueError, match="XPSHOP_INGEST_URL"):
            RelayConfig.from_env({**env, "XPSHOP_INGEST_URL": bad})
    on = {**env, "RELAY_MEMBER_EVENTS": "1"}
    with pytest.raises(ValueError, match="XPSHOP_MEMBERS_INGEST_URL"):
        RelayConfig.from_env({**on, "XPSHOP_MEMBERS_INGEST_URL": "example.com/members"})
    for unreadable in ("ture", "2", "enabled"):
        with pytest.raises(ValueError, match="RELAY_MEMBER_EVENTS"):
            RelayConfig.from_env({**env, "RELAY_MEMBER_EVENTS": unreadable})
    for off in ("", "0", "false", "No", "off"):
        assert RelayConfig.from_env({**env, "RELAY_MEMBER_EVENTS": off}).members_url is None
    assert RelayConfig.from_env({**env, "XPSHOP_INGEST_URL": "http://127.0.0.1:3000/i"}).ingest_url.startswith("http:")
