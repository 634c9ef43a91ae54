"""The relay's member window (RELAY_MEMBER_WINDOW, relay/hold.py): each member's messages held together, then
sent as one group, so the backend counts them with one write."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from relay.bot import RelayClient, RelayConfig, forwarders
from relay.hold import MAX_WINDOW, MemberHold
from tests.unit.test_relay import CREATED_MS, GUILD, FakeIngest, forwarder, ids, run_with_server, until

USERS = [333333333333333333 + i for i in range(4)]


def message(n: int, user: int = USERS[0], guild: int = GUILD) -> dict[str, Any]:
    return {
        "messageId": str(1_300_000_000_000_000_000 + n),
        "guildId": str(guild),
        "channelId": "222222222222222222",
        "userId": str(user),
        "roleIds": [],
        "timestamp": CREATED_MS + n,
        "bot": False,
    }


# --- the rules, with explicit clocks --------------------------------------------------------------------


def test_a_members_messages_are_released_together_when_their_first_has_waited_the_window() -> None:
    hold = MemberHold(60.0)
    a1, b1, a2, b2, a3 = (
        message(1, USERS[0]),
        message(2, USERS[1]),
        message(3, USERS[0]),
        message(4, USERS[1]),
        message(5, USERS[0]),
    )
    assert hold.add(a1, 0.0) == []
    assert hold.add(b1, 10.0) == []
    assert hold.add(a2, 30.0) == []
    assert hold.add(b2, 50.0) == []
    assert hold.add(a3, 59.0) == []
    assert len(hold) == 5
    assert hold.next_due() == 60.0
    assert hold.due(59.9) == []
    assert hold.due(60.0) == [a1, a2, a3]  # the whole group, in arrival order
    assert hold.next_due() == 70.0
    assert hold.due(100.0) == [b1, b2]
    assert len(hold) == 0 and hold.next_due() is None


def test_a_member_writing_after_their_group_went_opens_a_new_one_behind_the_others() -> None:
    hold = MemberHold(60.0)
    a1, b1, a2 = message(1, USERS[0]), message(2, USERS[1]), message(3, USERS[0])
    hold.add(a1, 0.0)
    hold.add(b1, 20.0)
    assert hold.due(60.0) == [a1]
    hold.add(a2, 61.0)
    assert hold.next_due() == 80.0  # b's group, opened before a's new one
    assert hold.due(1000.0) == [b1, a2]


def test_groups_are_per_guild_and_member() -> None:
    hold = MemberHold(5.0)
    here, there = message(1, USERS[0], GUILD), message(2, USERS[0], GUILD + 1)
    hold.add(here, 0.0)
    hold.add(there, 1.0)
    assert hold.due(5.0) == [here]
    assert hold.due(6.0) == [there]


def test_a_full_group_goes_at_once() -> None:
    hold = MemberHold(60.0, max_group=3)
    events = [message(i) for i in range(3)]
    assert hold.add(events[0], 0.0) == []
    assert hold.add(events[1], 1.0) == []
    assert hold.add(events[2], 2.0) == events
    assert len(hold) == 0


def test_a_full_hold_releases_its_oldest_groups_whole() -> None:
    hold = MemberHold(60.0, max_held=4)
    a = [message(1, USERS[0]), message(2, USERS[0])]
    b = [message(3, USERS[1]), message(4, USERS[1])]
    for i, event in enumerate(a + b):
        assert hold.add(event, float(i)) == []
    c = message(5, USERS[2])
    assert hold.add(c, 5.0) == a  # the oldest group, whole; memory stays bounded
    assert len(hold) == 3
    assert hold.drain() == [*b, c]
    assert len(hold) == 0


@pytest.mark.parametrize("window", [0.0, -1.0, MAX_WINDOW + 1, float("nan"), float("inf")])
def test_the_window_is_checked(window: float) -> None:
    with pytest.raises(ValueError, match="member window"):
        MemberHold(window)


# --- the forwarder with the window on -------------------------------------------------------------------


def test_the_forwarder_sends_each_members_messages_as_one_group() -> None:
    async def scenario(server: FakeIngest) -> None:
        fwd = forwarder(server, max_delay=0.0, member_window=0.2)
        await fwd.start()
        events = [message(i, USERS[i % 3]) for i in range(9)]
        assert all(fwd.submit(e) for e in events)
        assert fwd.held == 9 and fwd.queued == 0
        assert (fwd.stats()["held"], fwd.stats()["queued"]) == (9, 0)
        await until(lambda: fwd.counters.sent == 9)
        await fwd.stop()
        delivered = server.delivered()
        assert sorted(ids(delivered)) == sorted(ids(events))
        # member by member, each in its own order
        assert [e["userId"] for e in delivered] == [str(u) for u in USERS[:3] for _ in range(3)]
        for user in USERS[:3]:
            mine = [e for e in delivered if e["userId"] == str(user)]
            assert ids(mine) == ids([e for e in events if e["userId"] == str(user)])
        assert fwd.held == 0 and fwd.counters.dropped == 0

    run_with_server(scenario)


def test_nothing_held_goes_before_its_window() -> None:
    async def scenario(server: FakeIngest) -> None:
        fwd = forwarder(server, max_delay=0.0, member_window=MAX_WINDOW)
        await fwd.start()
        fwd.submit(message(1))
        fwd.submit(message(2, USERS[1]))
        await asyncio.sleep(0.1)
        assert server.calls == [] and fwd.held == 2
        fwd.flush()  # a leave: what the window holds goes first
        await until(lambda: fwd.counters.sent == 2)
        assert fwd.held == 0
        await fwd.stop()
        assert len(server.accepted) == 1

    run_with_server(scenario)


def test_stop_sends_what_is_held() -> None:
    async def scenario(server: FakeIngest) -> None:
        fwd = forwarder(server, max_delay=30.0, member_window=MAX_WINDOW)
        await fwd.start()
        events = [message(i, USERS[i % 2]) for i in range(4)]
        for event in events:
            fwd.submit(event)
        await fwd.stop()
        assert sorted(ids(server.delivered())) == sorted(ids(events))
        assert fwd.counters.sent == 4 and fwd.counters.dropped == 0

    run_with_server(scenario)


def test_stop_timing_out_counts_the_held_messages_as_dropped() -> None:
    async def scenario(server: FakeIngest) -> None:
        server.fail_next(503, times=1000)
        fwd = forwarder(server, max_delay=0.0, member_window=MAX_WINDOW, max_attempts=1000)
        await fwd.start()
        fwd.submit(message(1))
        fwd.submit(message(2, USERS[1]))
        await fwd.stop(timeout=0.2)
        assert fwd.counters.dropped == 2 and fwd.held == 0 and fwd.queued == 0

    run_with_server(scenario)


def test_a_leave_sends_the_members_held_messages_before_the_leave() -> None:
    async def scenario(server: FakeIngest) -> None:
        fwd = forwarder(server, max_delay=0.0, member_window=MAX_WINDOW)

        class Members:
            def __init__(self) -> None:
                self.events: list[dict[str, Any]] = []

            def submit(self, event: dict[str, Any]) -> bool:
                # the leave is queued only once the leaver's held messages were released to the queue
                assert not any(e["userId"] == str(USERS[0]) and e["guildId"] == str(GUILD) for e in held())
                self.events.append(event)
                return True

            def flush(self, member: tuple[str, str] | None = None) -> None:
                pass

        def held() -> list[dict[str, Any]]:
            assert fwd._hold is not None
            return [e for _, group in fwd._hold._groups.values() for e in group]

        members = Members()
        await fwd.start()
        fwd.submit(message(1, USERS[1]))  # another member, held before the leaver
        fwd.submit(message(2, USERS[0]))
        fwd.submit(message(3, USERS[0], GUILD + 1))  # the leaver in another server
        fwd.submit(message(4, USERS[0]))
        client = RelayClient(fwd, members)
        user = SimpleNamespace(id=USERS[0], bot=False)
        await client.on_raw_member_remove(SimpleNamespace(guild_id=GUILD, user=user))  # type: ignore[arg-type]
        await until(lambda: fwd.counters.sent == 2)
        assert ids(server.delivered()) == ids([message(2, USERS[0]), message(4, USERS[0])])
        assert [e["type"] for e in members.events] == ["leave"]
        assert fwd.held == 2  # the other member's group, and the leaver's in the other server, stay held
        await fwd.stop()
        assert fwd.counters.sent == 4

    run_with_server(scenario)


def test_the_member_window_from_the_environment() -> None:
    env = {"DISCORD_BOT_TOKEN": "t", "XPSHOP_INGEST_URL": "https://api.example.com/i", "XPSHOP_RELAY_KEY": "k"}
    assert RelayConfig.from_env(env).member_window == 0.0  # off by default: XP shows within RELAY_MAX_DELAY
    config = RelayConfig.from_env({**env, "RELAY_MEMBER_WINDOW": "120"})
    assert config.member_window == 120.0
    messages, members = forwarders(config)
    assert messages.held == 0 and messages._hold is not None and messages._hold.window == 120.0
    assert members is None
    with_members = RelayConfig.from_env(
        {**env, "RELAY_MEMBER_WINDOW": "120", "RELAY_MEMBER_EVENTS": "1", "XPSHOP_MEMBERS_INGEST_URL": "https://a.b/m"}
    )
    _, member_events = forwarders(with_members)
    assert member_events is not None and member_events._hold is None  # leaves and bans are never held
    for bad in ("-1", "901", "nan", "inf"):
        with pytest.raises(ValueError, match="RELAY_MEMBER_WINDOW must be between 0 and 900 seconds"):
            RelayConfig.from_env({**env, "RELAY_MEMBER_WINDOW": bad})
    with pytest.raises(ValueError, match="RELAY_MEMBER_WINDOW must be a number"):
        RelayConfig.from_env({**env, "RELAY_MEMBER_WINDOW": "two minutes"})


def test_one_members_group_can_be_released_alone() -> None:
    hold = MemberHold(60.0)
    a, b = message(1, USERS[0]), message(2, USERS[1])
    hold.add(a, 0.0)
    hold.add(b, 1.0)
    assert hold.release((str(GUILD), str(USERS[1]))) == [b]
    assert hold.release((str(GUILD), str(USERS[1]))) == []
    assert len(hold) == 1 and hold.due(60.0) == [a]
