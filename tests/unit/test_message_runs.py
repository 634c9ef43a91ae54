"""A member's messages counted in one write (store.members.count_messages) on moto: the same outcome as
counting them one at a time (count_message), whatever the runs, redeliveries, cooldowns and what this
container remembers; and the number of writes the guessed shape takes (logic; the engine on DynamoDB Local
in tests/integration/test_message_runs.py)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.storage import member_item, recorded_calls

G = "111111111111111111"
T0 = 1_795_400_000_000
MID = 1_320_000_000_000_000_000
COMPARED = ("xp", "level", "inLevel", "toNext", "messages", "xpMessages", "lastAwardedAt", "lastMessageId")
COMPARED += ("levelSource", "displayName", "username", "avatar")
_users = itertools.count(300_000_000_000_000_001)


def _message(mid: int, at: int, xp: int | None, cooldown: int, name: str | None) -> Any:
    from xpshop.store import members

    return members.Message(mid, at, xp, cooldown, {"displayName": name} if name else None)


def _one_by_one(user: str, m: Any) -> Any:
    from xpshop.levels import DEFAULT_CURVE
    from xpshop.store import members

    return members.count_message(
        G,
        user,
        str(m.message_id),
        at_ms=m.at_ms,
        xp=m.xp,
        cooldown_ms=m.cooldown_ms,
        curve=DEFAULT_CURVE,
        display=m.display,
    )


def _run(user: str, run: list[Any]) -> list[Any]:
    from xpshop.levels import DEFAULT_CURVE
    from xpshop.store import members

    return members.count_messages(G, user, run, curve=DEFAULT_CURVE)


def _stored(user: str) -> dict[str, Any]:
    item = member_item(G, user) or {}
    return {k: item.get(k) for k in COMPARED}


def _outcome(result: Any) -> tuple[Any, ...]:
    change = result.change
    levels = (change.old_level, change.new_level, change.created) if change else None
    return (result.counted, result.awarded, result.xp_message, levels)


messages_st = st.lists(
    st.tuples(
        st.integers(0, 30),  # message id offset: repeats and older ids are redeliveries
        st.integers(0, 400_000),  # time offset (ms): not in id order, as relays may send them
        st.one_of(st.none(), st.integers(0, 400)),  # XP (None: a no-XP channel); big awards cross levels
        st.sampled_from([0, 30_000, 60_000]),  # cooldown
        st.one_of(st.none(), st.sampled_from(["Ada", "Bob"])),
    ),
    min_size=1,
    max_size=14,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed_xp=st.one_of(st.none(), st.integers(0, 5_000), st.just(999_999_999_999_990)),
    events=messages_st,
    cuts=st.lists(st.integers(1, 6), min_size=1, max_size=14),
    forget=st.lists(st.booleans(), min_size=1, max_size=14),
    elsewhere=st.lists(st.booleans(), min_size=1, max_size=14),
    replay=st.booleans(),
)
def test_runs_equal_one_message_at_a_time(moto_table, seed_xp, events, cuts, forget, elsewhere, replay):
    """Property: the same messages, counted one at a time on one member and in runs (random cuts, the cache
    kept or dropped between runs, some runs counted by "another container" so that this one's cache is
    stale, a whole run delivered again) on another, leave the same item and give each message the same
    outcome."""
    from xpshop.levels import DEFAULT_CURVE
    from xpshop.store import members

    single, merged = str(next(_users)), str(next(_users))
    if seed_xp is not None:  # a member with XP from elsewhere (the API), at any point of a level
        for user in (single, merged):
            members.set_xp(G, user, seed_xp, DEFAULT_CURVE)
    msgs = [_message(MID + i, T0 + t, xp, cd, name) for i, t, xp, cd, name in events]

    alone = [_outcome(_one_by_one(single, m)) for m in msgs]

    together: list[tuple[Any, ...]] = []
    start, n = 0, 0
    while start < len(msgs):
        size = cuts[n % len(cuts)]
        run = msgs[start : start + size]
        if forget[n % len(forget)]:
            members.forget_known()
        if elsewhere[n % len(elsewhere)]:  # another container: this one's cache does not see it
            together += [_outcome(_one_by_one(merged, m)) for m in run]
        else:
            together += [_outcome(r) for r in _run(merged, run)]
        if replay and n == 0:  # the same run again (a redelivery): nothing counts twice
            assert all(not r.counted for r in _run(merged, run))
        start, n = start + size, n + 1

    assert together == alone
    assert _stored(merged) == _stored(single)


def test_a_known_member_in_cooldown_is_one_count_write(moto_table):
    """The guess from this container's last write: a message inside the cooldown is counted by its own first
    write (no award tried first)."""
    user = str(next(_users))
    _run(user, [_message(MID, T0, 20, 60_000, None)])
    with recorded_calls() as calls:
        (result,) = _run(user, [_message(MID + 1, T0 + 1_000, 20, 60_000, None)])
    assert dict(calls) == {"UpdateItem": 1}
    assert (result.counted, result.awarded, result.xp_message) == (True, 0, False)
    assert (member_item(G, user)["messages"], member_item(G, user)["xpMessages"]) == (2, 1)


def test_a_known_member_past_the_cooldown_is_one_award_write(moto_table):
    user = str(next(_users))
    _run(user, [_message(MID, T0, 20, 60_000, None)])
    with recorded_calls() as calls:
        (result,) = _run(user, [_message(MID + 1, T0 + 61_000, 20, 60_000, None)])
    assert dict(calls) == {"UpdateItem": 1}
    assert (result.awarded, member_item(G, user)["xp"]) == (20, 40)


def test_a_wrong_guess_fails_once_and_the_right_write_follows(moto_table):
    """Another container counted an award this one does not know of: the guess ("past the cooldown") fails
    on the stored award time, the item comes back, and the message is counted in cooldown."""
    from xpshop.store import members

    user = str(next(_users))
    _run(user, [_message(MID, T0, 20, 60_000, None)])
    known = dict(members._known)
    _run(user, [_message(MID + 1, T0 + 61_000, 20, 60_000, None)])  # "the other container"
    members._known.clear()
    members._known.update(known)  # this one still remembers the member as after its first message
    with recorded_calls() as calls:
        (result,) = _run(user, [_message(MID + 2, T0 + 62_000, 20, 60_000, None)])
    assert dict(calls) == {"UpdateItem": 2}
    assert (result.counted, result.awarded) == (True, 0)
    item = member_item(G, user)
    assert (item["messages"], item["xpMessages"], item["xp"], item["lastAwardedAt"]) == (3, 2, 40, T0 + 61_000)


def test_duplicates_known_from_the_cache_are_confirmed_by_the_table(moto_table):
    """What the cache says was counted is only believed from the table: a member deleted (forgotten) in
    between counts the message again, as one write at a time would."""
    from xpshop.levels import DEFAULT_CURVE
    from xpshop.store import members

    user = str(next(_users))
    _run(user, [_message(MID, T0, 20, 60_000, None)])
    assert members.delete(G, user) is not None
    (result,) = _run(user, [_message(MID, T0, 20, 60_000, None)])
    assert result.counted and member_item(G, user)["messages"] == 1
    (again,) = _run(user, [_message(MID, T0, 20, 60_000, None)])
    assert not again.counted
    assert members.count_message(
        G, user, str(MID), at_ms=T0, xp=20, cooldown_ms=60_000, curve=DEFAULT_CURVE
    ) == members.MessageCount(False, 0, None)


def test_a_run_of_ten_messages_is_one_write(moto_table):
    user = str(next(_users))
    _run(user, [_message(MID, T0, 20, 60_000, None)])
    run = [_message(MID + 1 + i, T0 + 20_000 * (i + 1), 20, 60_000, "Ada") for i in range(10)]
    with recorded_calls() as calls:
        results = _run(user, run)
    assert dict(calls) == {"UpdateItem": 1}
    assert [r.awarded for r in results] == [0, 0, 20, 0, 0, 20, 0, 0, 20, 0]
    item = member_item(G, user)
    assert (item["messages"], item["xpMessages"], item["xp"], item["lastAwardedAt"]) == (11, 4, 80, T0 + 180_000)
    assert (item["lastMessageId"], item["displayName"]) == (MID + 10, "Ada")


@pytest.mark.parametrize("cached", [True, False])
def test_a_run_crossing_a_level_writes_the_exact_values(moto_table, cached):
    from xpshop.levels import DEFAULT_CURVE
    from xpshop.store import members

    user = str(next(_users))
    _run(user, [_message(MID, T0, 100, 60_000, None)])
    if not cached:
        members.forget_known()
    results = _run(user, [_message(MID + 1 + i, T0 + 61_000 * (i + 1), 100, 60_000, None) for i in range(3)])
    levels = [(r.change.old_level, r.change.new_level) for r in results]
    item = member_item(G, user)
    assert item["xp"] == 400 and item["level"] == DEFAULT_CURVE.level(400) > 0
    assert levels[0][0] == 0 and levels[-1][1] == item["level"]
    assert all(a[1] == b[0] for a, b in itertools.pairwise(levels))  # each from where the one before left it
    assert item["levelSource"] == "earned"
