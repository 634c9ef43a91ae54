"""Member display data on DynamoDB Local: written by the write that counts the message or command (no request
of its own, on every path: award in level, count in cooldown, level crossing), kept when a record carries
none (older relays), refused at ingestion when malformed."""

from __future__ import annotations

import time

import pytest

from tests.support import discord as d
from tests.support.sqs import consume, message
from tests.support.storage import member_item, new_user_id, recorded_calls

T0 = 1_795_400_000_000
MID = 1_310_000_000_000_000_000
HASH = "0123456789abcdef0123456789abcdef"
ANIMATED = "a_fedcba9876543210fedcba9876543210"
ADA = {"displayName": "Ada", "username": "ada", "avatar": HASH}


def named(guild: str, user: str, mid: int, at: int, **display: object) -> dict:
    return {**message(guild, user, mid, at), **display}


def stored(guild: str, user: str) -> dict:
    item = member_item(guild, user) or {}
    return {k: item.get(k) for k in ("displayName", "username", "avatar")}


def test_the_message_path_writes_display_data_in_its_own_write(api, guild):
    user = new_user_id()
    consume([named(guild, user, MID, T0, **ADA)])  # creates the member (the level-crossing write)
    assert stored(guild, user) == ADA
    renamed = {"displayName": "Countess", "username": "ada", "avatar": ANIMATED}
    with recorded_calls() as calls:  # an award inside the level
        consume([named(guild, user, MID + 1, T0 + 61_000, **renamed)])
    assert dict(calls) == {"UpdateItem": 2}, calls  # the member and the counter shard: nothing more
    assert stored(guild, user) == renamed
    consume([named(guild, user, MID + 2, T0 + 62_000, displayName="Lady Lovelace")])  # in cooldown: counted only
    assert stored(guild, user) == {**renamed, "displayName": "Lady Lovelace"}
    item = member_item(guild, user)
    assert (item["messages"], item["xpMessages"]) == (3, 2)


def test_display_data_adds_no_request_on_any_path(api, guild):
    """The same sequences with and without display data cost the same DynamoDB requests."""

    def run(with_names: bool) -> list[dict[str, int]]:
        user = new_user_id()
        extra = ADA if with_names else {}
        api.put(f"/api/xp/users/{guild}/{user}", {"xp": 150})  # 5 XP short of level 1
        counts = []
        for mid, at in ((MID + 10, T0), (MID + 11, T0 + 1_000), (MID + 12, T0 + 61_000)):  # cross, cooldown, award
            with recorded_calls() as calls:
                consume([named(guild, user, mid, at, **extra)])
            counts.append(dict(calls))
        assert (member_item(guild, user) or {}).get("displayName") == ("Ada" if with_names else None)
        return counts

    assert run(True) == run(False)


def test_records_without_display_data_keep_what_is_stored(api, guild):
    user = new_user_id()
    consume([named(guild, user, MID + 20, T0, **ADA)])
    consume([message(guild, user, MID + 21, T0 + 61_000)])  # an older relay: no display fields
    assert stored(guild, user) == ADA
    consume([named(guild, user, MID + 22, T0 + 122_000, avatar=None)])  # the member removed their avatar
    assert stored(guild, user) == {**ADA, "avatar": None}


def test_a_no_xp_channel_message_still_records_display_data(api, guild):
    channel = "400000000000000077"
    api.put(f"/api/xp/config/{guild}", {"noXpChannelIds": [channel]})
    from xpshop.service import curves

    curves.forget(guild)
    user = new_user_id()
    consume([{**message(guild, user, MID + 30, T0, channel=channel), **ADA}])
    assert stored(guild, user) == ADA
    assert member_item(guild, user)["xp"] == 0


def _member_payload(guild: str, user: str, **member_user: object) -> dict:
    payload = d.command(guild, user, "leaderboard")
    payload["member"]["user"].update(member_user)
    return payload


def test_the_interaction_path_records_the_invoker_without_an_extra_request(api, guild, discord_app):
    user = new_user_id()
    first = _member_payload(guild, user, username="ada", global_name="Ada L.", avatar=HASH)
    first["member"]["nick"] = "Countess <@1> **x**"
    d.call(discord_app.signer, first)
    assert stored(guild, user) == {"displayName": "Countess <@1> **x**", "username": "ada", "avatar": HASH}

    def calls_for(**member_user: object) -> dict[str, int]:
        with recorded_calls() as calls:
            status, _ = d.call(discord_app.signer, _member_payload(guild, user, **member_user))
        assert status == 200
        return dict(calls)

    with_names = calls_for(username="ada", global_name="Ada", avatar=ANIMATED)
    assert stored(guild, user) == {"displayName": "Ada", "username": "ada", "avatar": ANIMATED}
    without = calls_for(username=None, global_name=None, avatar="not a hash")  # nothing usable: nothing written
    assert stored(guild, user) == {"displayName": "Ada", "username": "ada", "avatar": ANIMATED}
    assert with_names == without


# ---------------------------------------------------------------- ingestion


RELAY = "test-relay-key"
G, U = "111111111111111119", "222222222222222229"


@pytest.fixture
def relay_key(monkeypatch):
    monkeypatch.setenv("XPSHOP_RELAY_KEY", RELAY)


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"displayName": "n" * 101}, "messages.1.displayName"),
        ({"username": 7}, "messages.1.username"),
        ({"avatar": "javascript:alert(1)"}, "messages.1.avatar"),
        ({"avatar": HASH.upper()}, "messages.1.avatar"),
    ],
)
def test_ingestion_refuses_bad_display_data_naming_the_field(api, messages_queue, relay_key, extra, field):
    now = int(time.time() * 1000)
    batch = [message(G, U, MID + 40, now), {**message(G, U, MID + 41, now), **extra}]
    r = api.post("/api/xp/ingest/messages", {"messages": batch}, key=RELAY)
    assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST")
    assert r.error["message"].startswith(field), r.error["message"]


def test_ingestion_queues_cleaned_names_and_only_the_fields_sent(api, messages_queue, relay_key):
    import json

    from tests.support.sqs import receive_all

    now = int(time.time() * 1000)
    batch = [
        {**message(G, U, MID + 50, now), "displayName": "Ada\u202e\n", "avatar": None},
        message(G, "222222222222222230", MID + 51, now),
    ]
    assert api.post("/api/xp/ingest/messages", {"messages": batch}, key=RELAY).status == 202
    bodies = sorted((json.loads(m["Body"]) for m in receive_all(messages_queue)), key=lambda b: b["messageId"])
    assert (bodies[0]["displayName"], bodies[0]["avatar"]) == ("Ada", None)
    assert "username" not in bodies[0]
    assert not {"displayName", "username", "avatar"} & set(bodies[1])
