"""Guild stats (O(1) reads of the sharded counters kept by every write path) against a brute-force recount
of the members, on random guilds and random changes (hypothesis): API adds, sets and removes, and chat
messages through the queue consumer."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.sqs import consume, message
from tests.support.storage import half_up, new_guild_id

T0 = 1_795_400_000_000

actions = st.lists(
    st.tuples(
        st.integers(0, 7),  # which member
        st.sampled_from(["add", "set", "remove", "message"]),
        st.integers(0, 3000),
    ),
    min_size=1,
    max_size=25,
)


def _recount(guild: str) -> dict:
    from boto3.dynamodb.conditions import Key

    from xpshop.levels import DEFAULT_CURVE
    from xpshop.store.table import table

    items = table().query(KeyConditionExpression=Key("PK").eq(f"GUILD#{guild}") & Key("SK").begins_with("MEMBER#"))[
        "Items"
    ]
    if not items:
        return {
            "users": {"total": 0, "topUser": None},
            "xp": {"total": 0, "average": 0},
            "messages": {"total": 0, "xpMessages": 0},
            "levels": {"average": 0, "distribution": {}},
        }
    levels = [DEFAULT_CURVE.level(int(i["xp"])) for i in items]
    xp = sum(int(i["xp"]) for i in items)
    top = min(items, key=lambda i: (-int(i["xp"]), int(i["userId"])))
    distribution: dict[str, int] = {}
    for level in levels:
        distribution[str(level)] = distribution.get(str(level), 0) + 1
    return {
        "users": {
            "total": len(items),
            "topUser": {"userId": top["userId"], "xp": int(top["xp"]), "level": levels[items.index(top)]},
        },
        "xp": {"total": xp, "average": half_up(xp, len(items))},
        "messages": {
            "total": sum(int(i["messages"]) for i in items),
            "xpMessages": sum(int(i["xpMessages"]) for i in items),
        },
        "levels": {"average": half_up(sum(levels), len(items)), "distribution": distribution},
    }


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=actions)
def test_stats_match_a_recount(api, steps):
    guild = new_guild_id()
    assert api.put(f"/api/xp/guilds/{guild}").status == 201
    users = [str(800_000_000_000_000_000 + n) for n in range(8)]
    known: set[str] = set()
    for n, (who, action, amount) in enumerate(steps):
        user = users[who]
        if action == "add":
            assert api.post(f"/api/xp/users/{guild}/{user}", {"amount": amount or 1}).status == 200
        elif action == "set":
            assert api.put(f"/api/xp/users/{guild}/{user}", {"xp": amount}).status == 200
        elif action == "remove":
            status = api.delete(f"/api/xp/users/{guild}/{user}", {"amount": amount or 1}).status
            assert status == (200 if user in known else 404)
            if status == 404:
                continue
        else:
            assert consume([message(guild, user, 1_300_000_000_000_000_000 + n, T0 + n * 61_000)]) == {
                "batchItemFailures": []
            }
        known.add(user)
    got = api.get(f"/api/xp/stats/{guild}").data
    expected = _recount(guild)
    assert {k: got[k] for k in expected} == expected
