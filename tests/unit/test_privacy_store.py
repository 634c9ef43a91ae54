"""Display data and privacy on moto: the member writes (what each leaves on the item), the public masking
and the anonymous/admin split of the leaderboard handler (logic; the engine is tested on DynamoDB Local)."""

from __future__ import annotations

import pytest

from tests.support.storage import member_item, recorded_calls

G, U, V = "111111111111111111", "222222222222222222", "222222222222222223"
HASH = "0123456789abcdef0123456789abcdef"
T0 = 1_795_400_000_000


@pytest.fixture
def api(api_moto):
    assert api_moto.put(f"/api/xp/guilds/{G}").status == 201
    return api_moto


def _count(mid: int, at: int, display: dict | None, xp: int | None = 20) -> None:
    from xpshop.levels import DEFAULT_CURVE
    from xpshop.store import members

    members.count_message(G, U, str(mid), at_ms=at, xp=xp, cooldown_ms=60_000, curve=DEFAULT_CURVE, display=display)


def _shown(user: str = U) -> dict:
    item = member_item(G, user) or {}
    return {k: item[k] for k in ("displayName", "username", "avatar") if k in item}


def test_each_message_write_sets_given_fields_and_keeps_the_others(api):
    base = 1_310_000_000_000_000_000
    with recorded_calls() as calls:
        _count(base, T0, {"displayName": "Ada", "username": "ada", "avatar": HASH})  # creates: the exact write
    assert calls["UpdateItem"] == 2 and _shown() == {"displayName": "Ada", "username": "ada", "avatar": HASH}
    with recorded_calls() as calls:
        _count(base + 1, T0 + 61_000, {"displayName": "Countess"})  # an award in level: one write
    assert dict(calls) == {"UpdateItem": 1}
    assert _shown() == {"displayName": "Countess", "username": "ada", "avatar": HASH}
    _count(base + 2, T0 + 62_000, {"avatar": None})  # in cooldown: counted only, avatar removed
    _count(base + 3, T0 + 63_000, None, xp=None)  # a no-XP message without display data
    assert _shown() == {"displayName": "Countess", "username": "ada"}
    assert member_item(G, U)["messages"] == 4


def test_hiding_is_one_write_and_showing_never_creates(api):
    from xpshop.levels import DEFAULT_CURVE
    from xpshop.store import members

    with recorded_calls() as calls:
        assert members.set_hidden(G, U, False, DEFAULT_CURVE) is False
    assert dict(calls) == {"UpdateItem": 1} and member_item(G, U) is None
    assert members.set_hidden(G, U, True, DEFAULT_CURVE) is True
    item = member_item(G, U)
    assert (item["hidden"], item["xp"], item["level"], item["messages"], item["toNext"]) == (True, 0, 0, 0, 155)
    assert members.set_hidden(G, U, True, DEFAULT_CURVE) is False  # already there
    assert members.get(G, U).profile.hidden is True
    assert members.set_hidden(G, U, False, DEFAULT_CURVE) is False
    assert "hidden" not in member_item(G, U) and members.get(G, U).profile.hidden is False


def test_public_entries_mask_hidden_members_only():
    from xpshop.service.members import public_entry
    from xpshop.store.members import Profile

    entry = {"userId": U, "xp": 10, "level": 0, "rank": 3}
    assert public_entry(entry, Profile("Ada", "ada", HASH, hidden=True)) == {
        "userId": None,
        "xp": 10,
        "level": 0,
        "rank": 3,
        "hidden": True,
        "displayName": None,
        "avatar": None,
    }
    assert public_entry(entry, Profile(None, "ada", None))["displayName"] == "ada"  # the username as fallback
    assert public_entry(entry, None) == {**entry, "hidden": False, "displayName": None, "avatar": None}


def test_the_leaderboard_handler_tells_anonymous_callers_from_the_admin(api):
    api.put(f"/api/xp/users/{G}/{U}", {"xp": 500})
    api.put(f"/api/xp/users/{G}/{V}", {"xp": 100})
    api.put(f"/api/xp/users/{G}/{U}/privacy", {"hidden": True})
    api.put(f"/api/xp/config/{G}", {"leaderboard": {"public": True}})
    admin = api.get(f"/api/xp/leaderboard/{G}").data["entries"]
    assert admin == [{"userId": U, "xp": 500, "level": 2, "rank": 1}, {"userId": V, "xp": 100, "level": 0, "rank": 2}]
    public = api.get(f"/api/xp/leaderboard/{G}", key=None).data["entries"]
    assert [(e["userId"], e["hidden"], e["rank"]) for e in public] == [(None, True, 1), (V, False, 2)]
    assert api.get(f"/api/xp/leaderboard/{G}/{U}", key=None).error["code"] == "USER_NOT_FOUND"
    assert api.get(f"/api/xp/leaderboard/{G}/{U}").data == {"rank": 1, "total": 2}
    assert api.get(f"/api/xp/leaderboard/{G}/{U}", key="wrong").status == 401  # a bad key is never anonymous
