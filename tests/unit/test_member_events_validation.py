"""Validation tables of the member events ingestion (POST /api/xp/ingest/members) and of `resetOn`, on one
moto table per module: a bad batch is refused whole before anything is queued, with a 400 naming the field."""

from __future__ import annotations

import time

import pytest

RELAY = "test-relay-key"
G, U = "111111111111111112", "222222222222222224"
PATH = "/api/xp/ingest/members"


@pytest.fixture(scope="module")
def api(api_moto_of_module):  # -> ApiClient
    return api_moto_of_module


@pytest.fixture(scope="module")
def guild(guild_moto_of_module: str) -> str:
    return guild_moto_of_module


@pytest.fixture(autouse=True)
def relay_key(monkeypatch):
    monkeypatch.setenv("XPSHOP_RELAY_KEY", RELAY)
    monkeypatch.setenv("MESSAGES_QUEUE_URL", "")  # nothing may be queued: a 503 would show that it tried


def event(**change) -> dict:
    base = {"eventId": "ban-1", "type": "ban", "guildId": G, "userId": U, "at": int(time.time() * 1000)}
    return {k: v for k, v in {**base, **change}.items() if v is not ...}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"events": []}, "events"),
        ({"events": [event()] * 101}, "events"),
        ({}, "events"),
        ({"events": "ban"}, "events"),
        ({"events": [event()], "extra": 1}, "extra"),
        ({"events": [event(eventId=...)]}, "eventId"),
        ({"events": [event(eventId="")]}, "eventId"),
        ({"events": [event(eventId="a" * 65)]}, "eventId"),
        ({"events": [event(eventId="no spaces")]}, "eventId"),
        ({"events": [event(eventId=12)]}, "eventId"),
        ({"events": [event(type="kick")]}, "type"),
        ({"events": [event(type=None)]}, "type"),
        ({"events": [event(type=...)]}, "type"),
        ({"events": [event(guildId="abc")]}, "guildId"),
        ({"events": [event(guildId=...)]}, "guildId"),
        ({"events": [event(userId="123")]}, "userId"),
        ({"events": [event(userId=True)]}, "userId"),
        ({"events": [event(at=5)]}, "at"),
        ({"events": [event(at="yesterday")]}, "at"),
        ({"events": [event(at=int(time.time() * 1000) + 3_600_000)]}, "at"),
        ({"events": [event(at=...)]}, "at"),
        ({"events": [event(), event(reason="x")]}, "reason"),
    ],
)
def test_a_bad_batch_is_refused_naming_the_field(api, body, field):
    r = api.post(PATH, body, key=RELAY)
    assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST"), r.body
    assert field in r.error["message"]


DAY_MS = 24 * 3600 * 1000


def test_an_event_older_than_the_ingestion_window_is_refused(api, monkeypatch):
    """Like a message's timestamp (issue 12, finding 7): no older than INGEST_MAX_AGE_SECONDS (7 days). An
    event id is applied once while its mark lasts (90 days); an event only accepted within 7 days of when it
    happened can never outlive its mark, so a replay of an old leave never resets a member who came back."""
    monkeypatch.delenv("INGEST_MAX_AGE_SECONDS", raising=False)
    r = api.post(PATH, {"events": [event(at=int(time.time() * 1000) - 8 * DAY_MS)]}, key=RELAY)
    assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST"), r.body
    assert "events.0.at" in r.error["message"] and "old" in r.error["message"]
    recent = api.post(PATH, {"events": [event(at=int(time.time() * 1000) - 6 * DAY_MS)]}, key=RELAY)
    assert recent.status == 503  # valid: only the queue is missing
    monkeypatch.setenv("INGEST_MAX_AGE_SECONDS", "60")
    r = api.post(PATH, {"events": [event(at=int(time.time() * 1000) - 120_000)]}, key=RELAY)
    assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST"), r.body


def test_a_queued_event_is_not_refused_for_its_age():
    """Its age was checked at ingestion; it may then wait on the queue (retries) without becoming poison."""
    import json

    from xpshop.api.xp.member_events import MEMBER_KIND, MemberEvent, parse_record

    old = event(at=int(time.time() * 1000) - 9 * DAY_MS)
    parsed = parse_record(json.dumps({"kind": MEMBER_KIND, **old}))
    assert isinstance(parsed, MemberEvent) and parsed.at == old["at"]


def test_the_age_window_stays_inside_the_event_marks_lifetime():
    from xpshop.api.xp.messages import DEFAULT_MAX_AGE_SECONDS
    from xpshop.store.members import ONCE_TTL_SECONDS

    assert DEFAULT_MAX_AGE_SECONDS < ONCE_TTL_SECONDS


def _now_ms() -> int:
    return int(time.time() * 1000)


@pytest.mark.parametrize(
    "at",
    [
        lambda: str(_now_ms()),  # epoch ms as a string of digits: read as the number before
        lambda: f"{_now_ms():_}",
        lambda: True,  # read as 1 before (refused only by the lower bound)
        lambda: f" {_now_ms()}",
    ],
    ids=["digits", "underscores", "true", "space"],
)
def test_a_time_is_a_number_or_iso_8601_text_nothing_in_between(api, at):
    """`at` (and a message's `timestamp`) is epoch milliseconds as a JSON number, or ISO 8601 text: the
    document types it `integer`; a string of digits or a boolean is neither."""
    r = api.post(PATH, {"events": [event(at=at())]}, key=RELAY)
    assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST"), r.body
    assert r.error["message"].startswith("events.0.at: "), r.error
    message = {
        "messageId": "1234567890123456789",
        "guildId": G,
        "channelId": G,
        "userId": U,
        "roleIds": [],
        "timestamp": at(),
        "bot": False,
    }
    r = api.post("/api/xp/ingest/messages", {"messages": [message]}, key=RELAY)
    assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST"), r.body
    assert r.error["message"].startswith("messages.0.timestamp: "), r.error


def test_a_time_may_be_a_whole_number_written_with_a_fraction(api):
    r = api.post(PATH, {"events": [event(at=float(_now_ms()))]}, key=RELAY)
    assert (r.status, r.error["code"]) == (503, "SERVICE_UNAVAILABLE")  # valid: only the queue is missing


def test_not_json_is_a_400(api):
    r = api.request("POST", PATH, "{not json", key=RELAY)
    assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST")


def test_the_relay_key_only(api):
    body = {"events": [event()]}
    assert api.post(PATH, body, key=None).status == 401
    assert api.post(PATH, body).status == 401  # the admin key is not the relay's
    assert api.post(PATH, body, key="wrong").status == 401
    assert api.get(PATH, key=RELAY).status == 405


def test_iso_timestamps_are_accepted_up_to_the_queue(api):
    iso = time.strftime("%Y-%m-%dT%H:%M:%S.000+00:00", time.gmtime())
    r = api.post(PATH, {"events": [event(at=iso)]}, key=RELAY)
    assert (r.status, r.error["code"]) == (503, "SERVICE_UNAVAILABLE")  # valid: only the queue is missing


@pytest.mark.parametrize("value", ["none", "leave", "ban", "leaveOrBan"])
def test_reset_on_values(api, guild, value):
    r = api.put(f"/api/xp/config/{guild}", {"resetOn": value})
    assert r.status == 200
    assert api.get(f"/api/xp/config/{guild}").data["resetOn"] == value


@pytest.mark.parametrize("value", ["always", "Leave", "", 1, True, ["leave"]])
def test_reset_on_refuses_anything_else(api, guild, value):
    r = api.put(f"/api/xp/config/{guild}", {"resetOn": value})
    assert (r.status, r.error["code"]) == (400, "INVALID_CONFIG")
    assert "resetOn" in r.error["message"]


def test_reset_on_defaults_to_none_and_null_restores_it(api, guild):
    assert api.put(f"/api/xp/config/{guild}", {"resetOn": "ban"}).status == 200
    assert api.put(f"/api/xp/config/{guild}", {"resetOn": None}).status == 200
    assert api.get(f"/api/xp/config/{guild}").data["resetOn"] == "none"
