"""Counting a member's messages one at a time and in runs (store.members.count_messages), side by side on
two members, for the property tests on moto (tests/unit) and on DynamoDB Local (tests/integration)."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import strategies as st

from tests.support.storage import member_item

G = "111111111111111111"
T0 = 1_795_400_000_000
MID = 1_320_000_000_000_000_000
COMPARED = ("xp", "level", "inLevel", "toNext", "messages", "xpMessages", "lastAwardedAt", "lastMessageId")
COMPARED += ("levelSource", "displayName", "username", "avatar")
_users = itertools.count(300_000_000_000_000_001)


def new_user() -> str:
    return str(next(_users))


def chat(mid: int, at: int, xp: int | None, cooldown: int, name: str | None) -> Any:
    from xpshop.store import members

    return members.Message(mid, at, xp, cooldown, {"displayName": name} if name else None)


def one_by_one(user: str, m: Any) -> Any:
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


def as_run(user: str, run: list[Any]) -> list[Any]:
    from xpshop.levels import DEFAULT_CURVE
    from xpshop.store import members

    return members.count_messages(G, user, run, curve=DEFAULT_CURVE)


def stored(user: str) -> dict[str, Any]:
    item = member_item(G, user) or {}
    return {k: item.get(k) for k in COMPARED}


def outcome(result: Any) -> tuple[Any, ...]:
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
seed_xp_st = st.one_of(st.none(), st.integers(0, 5_000), st.just(999_999_999_999_990))
flags_st = st.lists(st.booleans(), min_size=1, max_size=14)
cuts_st = st.lists(st.integers(1, 6), min_size=1, max_size=14)


def check_runs_equal_one_by_one(
    seed_xp: int | None,
    events: list[tuple[Any, ...]],
    cuts: list[int],
    forget: list[bool],
    elsewhere: list[bool],
    replay: bool,
) -> None:
    """The same messages, counted one at a time on one member and in runs (random cuts, the cache kept or
    dropped between runs, some runs counted by "another container" so that this one's cache is stale, a
    whole run delivered again) on another: the same item, and each message the same outcome."""
    from xpshop.levels import DEFAULT_CURVE
    from xpshop.store import members

    single, merged = new_user(), new_user()
    if seed_xp is not None:  # a member with XP from elsewhere (the API), at any point of a level
        for user in (single, merged):
            members.set_xp(G, user, seed_xp, DEFAULT_CURVE)
    msgs = [chat(MID + i, T0 + t, xp, cd, name) for i, t, xp, cd, name in events]

    alone = [outcome(one_by_one(single, m)) for m in msgs]

    together: list[tuple[Any, ...]] = []
    start, n = 0, 0
    while start < len(msgs):
        size = cuts[n % len(cuts)]
        run = msgs[start : start + size]
        if forget[n % len(forget)]:
            members.forget_known()
        if elsewhere[n % len(elsewhere)]:  # another container: this one's cache does not see it
            together += [outcome(one_by_one(merged, m)) for m in run]
        else:
            together += [outcome(r) for r in as_run(merged, run)]
        if replay and n == 0:  # the same run again (a redelivery): nothing counts twice
            assert all(not r.counted for r in as_run(merged, run))
        start, n = start + size, n + 1

    context = {"seed_xp": seed_xp, "events": events, "cuts": cuts, "forget": forget, "elsewhere": elsewhere}
    assert together == alone, (together, alone, context)
    assert stored(merged) == stored(single), (stored(merged), stored(single), context)
