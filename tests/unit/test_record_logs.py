"""Structured record logs (issue 16, part 7): every queue, stream or schedule record a function handles logs one
compact line (xpshop.record_log) with its correlation id, guild, kind, outcome and time, and no key, secret,
token or message content ever reaches a log line (the request lines' test: tests/unit/test_request_logs.py)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError

from local import REPO_ROOT, events
from local.lambdas import FakeLambdaContext, load_handler
from local.template import functions, load_template
from tests.conftest import ADMIN_KEY
from tests.support.sqs import consume, message, sqs_event
from tests.support.storage import member_item, new_guild_id, new_user_id
from tests.unit.test_request_logs import BOT_TOKEN, RELAY_KEY, _Collect

MID = 1_330_000_000_000_000_000
INTERACTION_TOKEN = "aW50ZXJhY3Rpb246c2VjcmV0LXRva2VuLWZvci1sb2dz"  # an interaction's webhook token
CONTENT = "the message text: never logged"
KEYS = {"rec", "id", "g", "k", "o", "ms"}
RECORD_FUNCTIONS = (
    "XpConsumerFunction",
    "RankIndexFunction",
    "EffectsFunction",
    "DiscordWorkerFunction",
    "XpImportJobsFunction",
    "RecalcFunction",
)


@pytest.fixture
def lines(api_moto, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Iterator[_Lines]:
    """The record lines the functions write (stdout), every record level on (the session logs at WARNING),
    and every other line of the `xpshop` loggers, for the secret grep."""
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "INFO")
    monkeypatch.setenv("XPSHOP_RELAY_KEY", RELAY_KEY)
    monkeypatch.setenv("DISCORD_BOT_TOKEN", BOT_TOKEN)
    specs = functions(load_template())
    for logical_id in RECORD_FUNCTIONS:  # loaded first: their Logger sets up the `xpshop` logger's handler
        load_handler(REPO_ROOT, specs[logical_id])
    root = logging.getLogger("xpshop")
    collect = _Collect(next((h.formatter for h in root.handlers if h.formatter is not None), None))
    root.addHandler(collect)
    try:
        yield _Lines(capsys, collect)
    finally:
        root.removeHandler(collect)


class _Lines:
    def __init__(self, capsys: pytest.CaptureFixture[str], collect: _Collect) -> None:
        self._capsys, self._collect, self.text = capsys, collect, ""

    def take(self) -> list[dict[str, Any]]:
        """The record lines written since the last call (each checked to be one compact JSON line)."""
        out = self._capsys.readouterr().out
        self.text += out
        found = []
        for raw in out.splitlines():
            if raw.startswith('{"rec":'):
                line = json.loads(raw)
                assert line.keys() >= KEYS and len(raw.encode()) <= 250, raw
                assert line["ms"] >= 0
                found.append(line)
        return found

    def everything(self) -> str:
        self.take()
        return self.text + "\n".join(self._collect.lines)


def _now() -> int:
    return int(time.time() * 1000) - 60_000


def _chat(guild: str, user: str, n: int, at: int, **kw: Any) -> dict[str, Any]:
    return {**message(guild, user, MID + n, at, **kw), "content": CONTENT}


def _by_id(event: dict[str, Any], found: list[dict[str, Any]]) -> list[tuple[str, str | None, str, str]]:
    """(kind, guild, outcome, ...) of each line, in the event's record order, checked one line a record."""
    ids = [r["messageId"] for r in event["Records"]]
    assert sorted(line["id"] for line in found) == sorted(ids)
    by = {line["id"]: line for line in found}
    return [(by[i]["k"], by[i]["g"], by[i]["o"], by[i].get("err")) for i in ids]


def _consume_event(event: dict[str, Any]) -> dict[str, Any]:
    spec = functions(load_template())["XpConsumerFunction"]
    return load_handler(REPO_ROOT, spec)(event, FakeLambdaContext.for_function(spec))


# ---------------------------------------------------------------- the message consumer


def test_each_message_record_logs_its_outcome(api_moto, lines):
    guild, user, at = new_guild_id(), new_user_id(), _now()
    assert api_moto.put(f"/api/xp/guilds/{guild}").status == 201
    quiet = "300000000000000099"
    assert api_moto.put(f"/api/xp/config/{guild}", {"noXpChannelIds": [quiet]}).status == 200
    lines.take()
    bot, other = new_user_id(), new_user_id()
    event = sqs_event(
        [
            _chat(guild, user, 1, at),  # awarded
            _chat(guild, user, 2, at + 1_000),  # inside the cooldown: counted, no XP
            _chat(guild, other, 3, at, channel=quiet),  # a no-XP channel
            _chat(guild, bot, 4, at, bot=True),
        ]
    )
    assert _consume_event(event) == {"batchItemFailures": []}
    found = lines.take()
    assert _by_id(event, found) == [
        ("message", guild, "applied", None),
        ("message", guild, "cooldown", None),
        ("message", guild, "no-xp", None),
        ("message", guild, "bot", None),
    ]
    assert {line["rec"] for line in found} == {"xp_consumer"}
    run = [line for line in found if line["id"] in (event["Records"][0]["messageId"], event["Records"][1]["messageId"])]
    assert all(line.get("ap") == 1 for line in run)  # one write for the member's two: each gets half its time
    assert member_item(guild, user)["messages"] == 2 and member_item(guild, other)["xp"] == 0

    again = sqs_event([_chat(guild, user, 1, at)])
    assert _consume_event(again) == {"batchItemFailures": []}
    assert _by_id(again, lines.take()) == [("message", guild, "duplicate", None)]


def test_runs_and_member_events_log_one_line_each(api_moto, lines):
    guild, user, at = new_guild_id(), new_user_id(), _now()
    assert api_moto.put(f"/api/xp/guilds/{guild}").status == 201
    lines.take()
    run = {
        "kind": "messages",
        "guildId": guild,
        "userId": user,
        "messages": [_chat(guild, user, i, at + i) for i in (5, 6, 7)],
    }
    leave = {"kind": "member", "eventId": "leave-1", "type": "leave", "guildId": guild, "userId": user, "at": at}
    event = sqs_event([run, leave])
    assert _consume_event(event) == {"batchItemFailures": []}
    found = lines.take()
    assert _by_id(event, found) == [("messages", guild, "applied", None), ("member-leave", guild, "kept", None)]
    assert [line.get("n") for line in found] == [3, None]
    assert _consume_event(sqs_event([leave])) and lines.take()[0]["o"] == "duplicate"


def test_set_aside_failed_and_deferred_records(api_moto, lines, monkeypatch):
    from xpshop import message_queue
    from xpshop.store import members

    guild, user, at = new_guild_id(), new_user_id(), _now()
    assert api_moto.put(f"/api/xp/guilds/{guild}").status == 201
    set_aside: list[str] = []
    monkeypatch.setattr(message_queue, "dead_letter", lambda body, **_: set_aside.append(body))
    poison = sqs_event([message(guild, user, MID + 1, 10**40 + 1), "not json"])  # out of bounds; not an event
    assert _consume_event(poison) == {"batchItemFailures": []}
    assert _by_id(poison, lines.take()) == [
        ("unreadable", None, "set-aside", None),  # no guild: the body is not read as an event
        ("unreadable", None, "set-aside", None),
    ]
    assert len(set_aside) == 2

    def throttled(*_: Any, **__: Any) -> Any:
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "UpdateItem")

    monkeypatch.setattr(members, "count_messages", throttled)
    leave = {"kind": "member", "eventId": "leave-2", "type": "leave", "guildId": guild, "userId": user, "at": at}
    event = sqs_event([_chat(guild, user, 2, at), leave])  # one group: the leave waits behind the failure
    event["Records"][1]["attributes"]["MessageGroupId"] = event["Records"][0]["attributes"]["MessageGroupId"]
    with pytest.raises(Exception, match="All records failed"):
        _consume_event(event)
    assert _by_id(event, lines.take()) == [
        ("message", guild, "failed", "ClientError:ThrottlingException"),
        ("member-leave", guild, "deferred", None),
    ]
    assert member_item(guild, user) is None  # nothing applied: both come back


def test_at_warning_only_the_troubled_records_log(api_moto, lines, monkeypatch):
    from xpshop import message_queue

    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
    monkeypatch.setattr(message_queue, "dead_letter", lambda body, **_: None)
    guild, user = new_guild_id(), new_user_id()
    event = sqs_event([message(guild, user, MID + 1, _now()), message(guild, new_user_id(), MID + 2, 10**40 + 1)])
    assert _consume_event(event) == {"batchItemFailures": []}
    assert [(line["id"], line["o"]) for line in lines.take()] == [(event["Records"][1]["messageId"], "set-aside")]
    assert member_item(guild, user)["messages"] == 1


# ---------------------------------------------------------------- the stream functions


_ser = TypeSerializer()


def _image(guild: str, user: str, xp: int, level: int, **more: Any) -> dict[str, Any]:
    item = {"PK": f"GUILD#{guild}", "SK": f"MEMBER#{user}", "guildId": guild, "userId": user, "xp": xp, "level": level}
    return {k: _ser.serialize(v) for k, v in {**item, **more}.items()}


def _stream_event(changes: list[tuple[str, dict[str, Any] | None, dict[str, Any] | None]]) -> dict[str, Any]:
    records = []
    for name, old, new in changes:
        seq = str(next(_seqs))
        body: dict[str, Any] = {"Keys": {k: (new or old or {})[k] for k in ("PK", "SK")}, "SequenceNumber": seq}
        if old is not None:
            body["OldImage"] = old
        if new is not None:
            body["NewImage"] = new
        records.append(events.stream_record(name, body, event_id=f"ev{seq}", table="t", label="l"))
    return events.records_event(records)


_seqs = iter(range(10**20, 10**21))


def _stream(logical_id: str, event: dict[str, Any]) -> Any:
    spec = functions(load_template())[logical_id]
    return load_handler(REPO_ROOT, spec)(event, FakeLambdaContext.for_function(spec))


def _stream_lines(event: dict[str, Any], found: list[dict[str, Any]]) -> list[tuple[str, str | None, str]]:
    ids = [r["eventID"] for r in event["Records"]]
    assert [line["id"] for line in found] == ids
    assert [line["seq"] for line in found] == [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
    return [(line["k"], line["g"], line["o"]) for line in found]


def test_each_rank_index_record_logs_its_members_move(api_moto, lines):
    from xpshop.service import ranks

    guild, user, other = new_guild_id(), new_user_id(), new_user_id()
    new = _stream_event(
        [
            ("INSERT", None, _image(guild, user, 1500, 5)),
            ("INSERT", None, _image(guild, other, 0, 0)),
            ("MODIFY", _image(guild, other, 0, 0), _image(guild, other, 0, 0, displayName="Ann")),
        ]
    )
    assert _stream("RankIndexFunction", new) == {"batchItemFailures": []}
    found = lines.take()
    assert _stream_lines(new, found) == [
        ("member-new", guild, "applied"),
        ("member-new", guild, "applied"),  # the other member's two records: one move, from nothing to 0 XP
        ("member-write", guild, "applied"),
    ]
    assert {line["rec"] for line in found} == {"rank_index"} and all(line["ap"] == 1 for line in found)
    assert ranks.rank(guild, user, 1500, 5, _curve(guild)) == (1, 2)

    assert _stream("RankIndexFunction", new) == {"batchItemFailures": []}  # the batch again: nothing twice
    assert [line["o"] for line in lines.take()] == ["duplicate", "duplicate", "duplicate"]
    moved = _stream_event(
        [
            ("MODIFY", _image(guild, user, 1500, 5), _image(guild, user, 1510, 5)),  # same bucket
            ("REMOVE", _image(guild, other, 0, 0), None),
        ]
    )
    assert _stream("RankIndexFunction", moved) == {"batchItemFailures": []}
    assert _stream_lines(moved, lines.take()) == [("xp-change", guild, "no-move"), ("member-removed", guild, "applied")]
    assert ranks.total(guild) == 1


def _curve(guild: str) -> Any:
    from xpshop.service.curves import curve_for

    return curve_for(guild)


def test_each_effects_record_logs_its_outcome(api_moto, lines, monkeypatch):
    from xpshop.service import effects

    guild, other_guild, user = new_guild_id(), new_guild_id(), new_user_id()
    assert api_moto.put(f"/api/xp/guilds/{guild}").status == 201
    event = _stream_event(
        [
            ("MODIFY", _image(guild, user, 100, 0), _image(guild, user, 200, 1, levelSource="granted")),
            ("MODIFY", _image(guild, user, 200, 1), _image(guild, user, 201, 1)),
        ]
    )
    assert _stream("EffectsFunction", event) == {"batchItemFailures": []}
    found = lines.take()
    assert _stream_lines(event, found) == [("level-change", guild, "applied"), ("member-write", guild, "no-change")]
    assert {line["rec"] for line in found} == {"effects"} and "ap" not in found[0]

    real = effects.merged_guild

    def unavailable(guild_id: str) -> Any:
        if guild_id == other_guild:
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "x"}}, "GetItem")
        return real(guild_id)

    monkeypatch.setattr(effects, "merged_guild", unavailable)
    failing = _stream_event(
        [
            ("MODIFY", _image(guild, user, 201, 1), _image(guild, user, 400, 2)),
            ("MODIFY", _image(other_guild, user, 100, 0), _image(other_guild, user, 200, 1)),
            ("MODIFY", _image(guild, user, 400, 2), _image(guild, user, 700, 3)),
        ]
    )
    result = _stream("EffectsFunction", failing)
    assert len(result["batchItemFailures"]) == 2  # the stream retries from the first failed
    found = lines.take()
    assert _stream_lines(failing, found) == [
        ("level-change", guild, "applied"),
        ("level-change", other_guild, "failed"),
        ("level-change", guild, "deferred"),
    ]
    assert found[1]["err"] == "ClientError:InternalServerError"


# ---------------------------------------------------------------- the other record functions


def test_import_jobs_discord_worker_and_schedule_log_their_records(api_moto, lines):
    guild = new_guild_id()
    chunks = events.records_event(
        [
            events.sqs_record(
                body, queue="q", message_id=mid, receipt_handle="r", attributes={"ApproximateReceiveCount": "1"}
            )
            for body, mid in ((json.dumps({"guildId": guild, "runId": "gone", "chunk": 0}), "c1"), ("{}", "c2"))
        ]
    )
    spec = functions(load_template())["XpImportJobsFunction"]
    assert load_handler(REPO_ROOT, spec)(chunks, FakeLambdaContext.for_function(spec)) == {"batchItemFailures": []}
    assert _by_id(chunks, lines.take()) == [
        ("import-chunk", guild, "skipped", None),
        ("import-chunk", None, "dropped", None),
    ]

    interaction = {"id": "1", "application_id": "2", "token": INTERACTION_TOKEN, "guild_id": guild, "type": 2}
    deferred = events.records_event(
        [
            events.sqs_record(
                json.dumps(interaction)[:-1],  # cut short: not JSON, failed (and retried)
                queue="q",
                message_id="d1",
                receipt_handle="r",
                attributes={"ApproximateReceiveCount": "1"},
            )
        ]
    )
    spec = functions(load_template())["DiscordWorkerFunction"]
    with pytest.raises(Exception, match="All records failed"):
        load_handler(REPO_ROOT, spec)(deferred, FakeLambdaContext.for_function(spec))
    assert _by_id(deferred, lines.take()) == [("command", None, "failed", "JSONDecodeError")]

    spec = functions(load_template())["RecalcFunction"]
    schedule = {"id": "sched-1", "source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
    report = load_handler(REPO_ROOT, spec)(schedule, FakeLambdaContext.for_function(spec))
    (line,) = lines.take()
    assert (line["rec"], line["id"], line["k"]) == ("recalc", "sched-1", "schedule")
    assert line["o"] == ("done" if report["complete"] else "partial")
    assert line.get("n", 1) == len(report["guilds"])


def test_no_key_secret_token_or_content_reaches_a_record_line(api_moto, lines, monkeypatch):
    from xpshop import message_queue

    monkeypatch.setattr(message_queue, "dead_letter", lambda body, **_: None)
    guild, user, at = new_guild_id(), new_user_id(), _now()
    assert api_moto.put(f"/api/xp/guilds/{guild}").status == 201
    secret_body = {**_chat(guild, user, 9, 10**40 + 1), "relayKey": RELAY_KEY, "token": BOT_TOKEN}
    _consume_event(sqs_event([_chat(guild, user, 1, at), secret_body]))
    consume([_chat(guild, user, 1, at)])
    _stream("EffectsFunction", _stream_event([("MODIFY", _image(guild, user, 0, 0), _image(guild, user, 200, 1))]))
    _stream("RankIndexFunction", _stream_event([("INSERT", None, _image(guild, user, 200, 1))]))
    interaction = {"id": "1", "application_id": "2", "token": INTERACTION_TOKEN, "guild_id": guild, "type": 2}
    spec = functions(load_template())["DiscordWorkerFunction"]
    bad = events.records_event(
        [events.sqs_record(json.dumps(interaction)[:-1], queue="q", message_id="d", receipt_handle="r", attributes={})]
    )
    with pytest.raises(Exception, match="All records failed"):
        load_handler(REPO_ROOT, spec)(bad, FakeLambdaContext.for_function(spec))
    text = lines.everything()
    assert text.count('{"rec":') >= 6
    for value in (ADMIN_KEY, RELAY_KEY, BOT_TOKEN, INTERACTION_TOKEN, CONTENT, user):
        assert value not in "\n".join(t for t in text.splitlines() if t.startswith('{"rec":'))
    for value in (ADMIN_KEY, RELAY_KEY, BOT_TOKEN, INTERACTION_TOKEN, CONTENT):
        assert value not in text
