"""A late leave or ban on DynamoDB Local: an event is stale when the member earned XP after its `at` (a message,
a command, Give XP) or an earlier reset already covered its time; a stale event changes nothing, decided in
the reset's own transaction (no read-then-write race with a message)."""

from __future__ import annotations

import time

from tests.integration.test_member_events import _stats_exact, member_event
from tests.integration.test_ranking import _check as check_ranks
from tests.support.sqs import consume, message
from tests.support.storage import member_item, new_user_id

DISCORD_EPOCH_MS = 1_420_070_400_000


def _sf(ms: int, n: int = 0) -> int:
    """A snowflake created at `ms` (Discord's ids encode their creation time)."""
    return ((ms - DISCORD_EPOCH_MS) << 22) + n


def _member(api, guild: str, reset_on: str, xp: int = 5_000) -> str:
    assert api.put(f"/api/xp/config/{guild}", {"resetOn": reset_on}).status == 200
    user = new_user_id()
    assert api.put(f"/api/xp/users/{guild}/{user}", {"xp": xp}).status == 200
    return user


def _queued_message(guild: str, user: str, at: int, received_at: int | None = None) -> dict:
    body = message(guild, user, _sf(at, 1), at)
    if received_at is not None:
        body["receivedAt"] = received_at
    return body


def test_a_leave_delivered_after_the_member_rejoined_and_chatted_changes_nothing(api, guild):
    user = _member(api, guild, "leave")
    now = int(time.time() * 1000)
    left_at = now - 600_000
    consume([_queued_message(guild, user, now - 300_000)])  # back and chatting 5 minutes after leaving
    earned = member_item(guild, user)["xp"]
    assert earned > 5_000
    late = member_event(guild, user, "late-leave", "leave", at=left_at)
    assert consume([late]) == {"batchItemFailures": []}
    assert member_item(guild, user)["xp"] == earned  # nothing erased
    assert consume([late]) == {"batchItemFailures": []}  # its redelivery: still nothing
    assert member_item(guild, user)["xp"] == earned
    _stats_exact(api, guild)
    check_ranks(api, guild, {user: earned})


def test_a_leave_after_the_last_message_still_resets(api, guild):
    user = _member(api, guild, "leave")
    now = int(time.time() * 1000)
    consume([_queued_message(guild, user, now - 300_000)])
    consume([member_event(guild, user, "leave-after", "leave", at=now - 200_000)])
    assert member_item(guild, user)["xp"] == 0
    _stats_exact(api, guild)


def test_a_message_relayed_over_an_hour_late_before_the_leave_does_not_make_it_stale(api, guild):
    """Its award time is bounded by its arrival (arrival - 1 hour), later than the leave; its own time is not."""
    user = _member(api, guild, "leave")
    now = int(time.time() * 1000)
    consume([_queued_message(guild, user, now - 3 * 3_600_000, received_at=now)])  # written 3 h ago
    assert member_item(guild, user)["lastAwardedAt"] == now - 3_600_000
    consume([member_event(guild, user, "leave-2h", "leave", at=now - 2 * 3_600_000)])  # left 2 h ago
    assert member_item(guild, user)["xp"] == 0


def test_give_xp_or_command_xp_after_the_event_makes_it_stale(api, guild):
    from xpshop.service import members as members_service
    from xpshop.service import messages as messages_service

    now = int(time.time() * 1000)
    given = _member(api, guild, "ban")
    members_service.add_xp(guild, given, 50, "helpful message", "discord", earned=True)  # Give XP, now
    consume([member_event(guild, given, "ban-given", "ban", at=now - 60_000)])
    assert member_item(guild, given)["xp"] == 5_050

    commanded = _member(api, guild, "ban")
    messages_service.count_command(
        guild, commanded, str(_sf(now - 30_000)), channel_id="300000000000000001", role_ids=[], at_ms=now - 30_000
    )
    kept = member_item(guild, commanded)["xp"]
    assert kept > 5_000
    consume([member_event(guild, commanded, "ban-commanded", "ban", at=now - 60_000)])
    assert member_item(guild, commanded)["xp"] == kept

    # XP an admin grants is not the member's activity: a leave or ban from before it still resets
    granted = _member(api, guild, "ban")
    consume([member_event(guild, granted, "ban-granted", "ban", at=now - 60_000)])
    assert member_item(guild, granted)["xp"] == 0


def test_an_earlier_event_after_a_reset_changes_nothing(api, guild):
    """A ban applied, the XP then given back by an admin: the member-remove stamped before the ban, delivered
    after it, does not take it again (the reset already covered its time); a later one does."""
    user = _member(api, guild, "leaveOrBan")
    now = int(time.time() * 1000)
    consume([member_event(guild, user, "ban-t2", "ban", at=now - 60_000)])
    assert member_item(guild, user)["xp"] == 0
    assert api.put(f"/api/xp/users/{guild}/{user}", {"xp": 700}).status == 200
    consume([member_event(guild, user, "leave-t1", "leave", at=now - 120_000)])  # earlier: stale
    assert member_item(guild, user)["xp"] == 700
    consume([member_event(guild, user, "leave-t2", "leave", at=now - 60_000)])  # the same instant: covered
    assert member_item(guild, user)["xp"] == 700
    consume([member_event(guild, user, "leave-t3", "leave", at=now - 30_000)])  # later: resets
    assert member_item(guild, user)["xp"] == 0
    _stats_exact(api, guild)


def test_a_message_landing_between_the_reset_read_and_its_write_wins(api, guild, monkeypatch):
    """The reset reads the member, then a message written after the leave lands, then the reset writes: the
    write's own condition sees the message, so the stale leave erases nothing."""
    from xpshop.store import members as store

    user = _member(api, guild, "leave")
    now = int(time.time() * 1000)
    real_table = store.table
    injected: list[bool] = []

    class _Racing:
        def __init__(self, inner):
            self._inner = inner

        def __getattr__(self, name):
            return getattr(self._inner, name)

        def get_item(self, **kwargs):
            found = self._inner.get_item(**kwargs)
            if not injected:  # once: the message lands right after the reset's read
                injected.append(True)
                monkeypatch.setattr(store, "table", real_table)
                consume([_queued_message(guild, user, now - 300_000)])
                monkeypatch.setattr(store, "table", lambda: _Racing(real_table()))
            return found

    monkeypatch.setattr(store, "table", lambda: _Racing(real_table()))
    consume([member_event(guild, user, "raced-leave", "leave", at=now - 600_000)])
    monkeypatch.setattr(store, "table", real_table)
    assert injected
    assert member_item(guild, user)["xp"] > 5_000
    _stats_exact(api, guild)


# ---------------------------------------------------------------- earned times only grow, whatever writes them
# Each way of earning XP records its own time (Give XP: the click, by the server's clock; a command: its
# interaction's time; a relayed message: its own time, and messages are held back by the relay's batching
# window), so a later write of one must not pull the member's last earned time back below another's.


def _give_xp(discord_app, guild: str, author: str) -> tuple[int, int]:
    """Give XP on one of `author`'s messages through the interactions webhook; the instants around the click."""
    from tests.support import discord as d

    before = int(time.time() * 1000)
    status, _ = d.call(discord_app.signer, d.message_command(guild, new_user_id(), d.next_snowflake(), author))
    assert status == 200
    return before, int(time.time() * 1000)


def test_a_backlogged_message_older_than_give_xp_does_not_unstale_an_earlier_leave(api, guild, discord_app):
    """Give XP at T; a message written at T - 30 s, held by the relay, earns after it; a leave stamped at
    T - 10 s, delivered last, came before the Give XP: it is stale and takes nothing."""
    user = _member(api, guild, "leave")
    given_at, _ = _give_xp(discord_app, guild, user)
    assert member_item(guild, user)["xp"] == 5_050
    consume([_queued_message(guild, user, given_at - 30_000)])  # the backlogged message: it earns
    earned = member_item(guild, user)["xp"]
    assert earned > 5_050
    consume([member_event(guild, user, "leave-between", "leave", at=given_at - 10_000)])
    assert member_item(guild, user)["xp"] == earned
    _stats_exact(api, guild)


def test_a_leave_after_give_xp_and_a_backlogged_message_still_resets(api, guild, discord_app):
    user = _member(api, guild, "leave")
    given_at, done_at = _give_xp(discord_app, guild, user)
    consume([_queued_message(guild, user, given_at - 30_000)])
    assert member_item(guild, user)["xp"] > 5_050
    consume([member_event(guild, user, "leave-after-all", "leave", at=done_at + 1)])
    assert member_item(guild, user)["xp"] == 0
    _stats_exact(api, guild)


def test_a_command_counted_after_give_xp_but_used_before_it_does_not_unstale_an_earlier_leave(api, guild, discord_app):
    """A command's XP is dated by its interaction (Discord's clock); Give XP by the click (the server's): a
    command used at T - 5 s and counted after a Give XP at T leaves a ban stamped at T - 2 s stale."""
    from tests.support import discord as d

    user = _member(api, guild, "ban")
    given_at, _ = _give_xp(discord_app, guild, user)
    payload = d.command(guild, user, "leaderboard", interaction_id=str(_sf(given_at - 5_000)))
    assert d.call(discord_app.signer, payload)[0] == 200
    earned = member_item(guild, user)["xp"]
    assert earned > 5_050  # the command earned
    consume([member_event(guild, user, "ban-between", "ban", at=given_at - 2_000)])
    assert member_item(guild, user)["xp"] == earned
    consume([member_event(guild, user, "ban-after", "ban", at=int(time.time() * 1000))])
    assert member_item(guild, user)["xp"] == 0


def _stamp(guild: str, user: str, **times: int) -> None:
    """Give a member item the times an older version of xpshop wrote (only `earnedAt`, or only
    `lastAwardedAt`), as the table holds them for members not written since."""
    from xpshop.store import keys
    from xpshop.store.table import table

    sets = ", ".join(f"{name} = :{name}" for name in times)
    table().update_item(
        Key=keys.member(guild, user),
        UpdateExpression=f"SET {sets}",
        ExpressionAttributeValues={f":{name}": value for name, value in times.items()},
    )


def test_items_written_before_keep_their_earned_time(api, guild):
    now = int(time.time() * 1000)
    only_earned = _member(api, guild, "leave")
    _stamp(guild, only_earned, earnedAt=now - 60_000)  # earned at T (say a Give XP)
    consume([_queued_message(guild, only_earned, now - 90_000)])  # then a message written at T - 30 s earns
    earned = member_item(guild, only_earned)["xp"]
    assert earned > 5_000
    consume([member_event(guild, only_earned, "legacy-e1", "leave", at=now - 70_000)])  # between: stale
    assert member_item(guild, only_earned)["xp"] == earned
    consume([member_event(guild, only_earned, "legacy-e2", "leave", at=now - 50_000)])  # after both: resets
    assert member_item(guild, only_earned)["xp"] == 0

    only_awarded = _member(api, guild, "leave")
    _stamp(guild, only_awarded, lastAwardedAt=now - 60_000)  # from before the earned time was recorded
    consume([member_event(guild, only_awarded, "legacy-a1", "leave", at=now - 70_000)])  # before it: stale
    assert member_item(guild, only_awarded)["xp"] == 5_000
    consume([member_event(guild, only_awarded, "legacy-a2", "leave", at=now - 50_000)])  # after it: resets
    assert member_item(guild, only_awarded)["xp"] == 0
    _stats_exact(api, guild)
