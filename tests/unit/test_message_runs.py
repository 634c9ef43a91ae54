"""A member's messages counted in one write (store.members.count_messages) on moto: the same outcome as
counting them one at a time (count_message), whatever the runs, redeliveries, cooldowns and what this
container remembers; and the number of writes the guessed shape takes (the same on DynamoDB Local in
tests/integration/test_message_runs.py)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.message_runs import (
    MID,
    T0,
    G,
    as_run,
    chat,
    check_runs_equal_one_by_one,
    cuts_st,
    flags_st,
    messages_st,
    new_user,
    seed_xp_st,
)
from tests.support.storage import member_item, recorded_calls


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed_xp_st, messages_st, cuts_st, flags_st, flags_st, st.booleans())
def test_runs_equal_one_message_at_a_time(moto_table, seed_xp, events, cuts, forget, elsewhere, replay):
    check_runs_equal_one_by_one(seed_xp, events, cuts, forget, elsewhere, replay)


def test_a_known_member_in_cooldown_is_one_count_write(moto_table):
    """The guess from this container's last write: a message inside the cooldown is counted by its own first
    write (no award tried first)."""
    user = new_user()
    as_run(user, [chat(MID, T0, 20, 60_000, None)])
    with recorded_calls() as calls:
        (result,) = as_run(user, [chat(MID + 1, T0 + 1_000, 20, 60_000, None)])
    assert dict(calls) == {"UpdateItem": 1}
    assert (result.counted, result.awarded, result.xp_message) == (True, 0, False)
    assert (member_item(G, user)["messages"], member_item(G, user)["xpMessages"]) == (2, 1)


def test_a_known_member_past_the_cooldown_is_one_award_write(moto_table):
    user = new_user()
    as_run(user, [chat(MID, T0, 20, 60_000, None)])
    with recorded_calls() as calls:
        (result,) = as_run(user, [chat(MID + 1, T0 + 61_000, 20, 60_000, None)])
    assert dict(calls) == {"UpdateItem": 1}
    assert (result.awarded, member_item(G, user)["xp"]) == (20, 40)


def test_a_wrong_guess_fails_once_and_the_right_write_follows(moto_table):
    """Another container counted an award this one does not know of: the guess ("past the cooldown") fails
    on the stored award time, the item comes back, and the message is counted in cooldown."""
    from xpshop.store import members

    user = new_user()
    as_run(user, [chat(MID, T0, 20, 60_000, None)])
    known = dict(members._known)
    as_run(user, [chat(MID + 1, T0 + 61_000, 20, 60_000, None)])  # "the other container"
    members._known.clear()
    members._known.update(known)  # this one still remembers the member as after its first message
    with recorded_calls() as calls:
        (result,) = as_run(user, [chat(MID + 2, T0 + 62_000, 20, 60_000, None)])
    assert dict(calls) == {"UpdateItem": 2}
    assert (result.counted, result.awarded) == (True, 0)
    item = member_item(G, user)
    assert (item["messages"], item["xpMessages"], item["xp"], item["lastAwardedAt"]) == (3, 2, 40, T0 + 61_000)


def test_duplicates_known_from_the_cache_are_confirmed_by_the_table(moto_table):
    """What the cache says was counted is only believed from the table: a member deleted (forgotten) in
    between counts the message again, as one write at a time would."""
    from xpshop.levels import DEFAULT_CURVE
    from xpshop.store import members

    user = new_user()
    as_run(user, [chat(MID, T0, 20, 60_000, None)])
    assert members.delete(G, user) is not None
    (result,) = as_run(user, [chat(MID, T0, 20, 60_000, None)])
    assert result.counted and member_item(G, user)["messages"] == 1
    (again,) = as_run(user, [chat(MID, T0, 20, 60_000, None)])
    assert not again.counted
    assert members.count_message(
        G, user, str(MID), at_ms=T0, xp=20, cooldown_ms=60_000, curve=DEFAULT_CURVE
    ) == members.MessageCount(False, 0, None)


def test_a_run_of_ten_messages_is_one_write(moto_table):
    user = new_user()
    as_run(user, [chat(MID, T0, 20, 60_000, None)])
    run = [chat(MID + 1 + i, T0 + 20_000 * (i + 1), 20, 60_000, "Ada") for i in range(10)]
    with recorded_calls() as calls:
        results = as_run(user, run)
    assert dict(calls) == {"UpdateItem": 1}
    assert [r.awarded for r in results] == [0, 0, 20, 0, 0, 20, 0, 0, 20, 0]
    item = member_item(G, user)
    assert (item["messages"], item["xpMessages"], item["xp"], item["lastAwardedAt"]) == (11, 4, 80, T0 + 180_000)
    assert (item["lastMessageId"], item["displayName"]) == (MID + 10, "Ada")


@pytest.mark.parametrize("cached", [True, False])
def test_a_run_crossing_a_level_writes_the_exact_values(moto_table, cached):
    from xpshop.levels import DEFAULT_CURVE
    from xpshop.store import members

    user = new_user()
    as_run(user, [chat(MID, T0, 100, 60_000, None)])
    if not cached:
        members.forget_known()
    results = as_run(user, [chat(MID + 1 + i, T0 + 61_000 * (i + 1), 100, 60_000, None) for i in range(3)])
    levels = [(r.change.old_level, r.change.new_level) for r in results]
    item = member_item(G, user)
    assert item["xp"] == 400 and item["level"] == DEFAULT_CURVE.level(400) > 0
    assert levels[0][0] == 0 and levels[-1][1] == item["level"]
    assert all(a[1] == b[0] for a, b in itertools.pairwise(levels))  # each from where the one before left it
    assert item["levelSource"] == "earned"
