"""Commands that move a file through Discord, end to end on DynamoDB Local: signed interactions through the
webhook, the interactions queue and the worker, the fake Discord (multipart uploads read back) and the fake
CDN (attachments): /xp import of JSON and CSV files, refusals (too large, not on the CDN, not an admin),
/xp export then /xp import into another guild, and /privacy export's file."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from tests.support import discord as d
from tests.support.fake_cdn import FakeCdn
from tests.support.imports import leaderboard, rows
from tests.support.sqs import receive_all, run_worker
from tests.support.storage import member_item, new_guild_id, new_user_id

EPHEMERAL = 64
ATTACHMENT = 11
A, B, C = "720000000000000001", "720000000000000002", "720000000000000003"


@pytest.fixture
def cdn(monkeypatch):
    with FakeCdn() as fake:
        monkeypatch.setenv("DISCORD_CDN_BASE_URL", fake.base_url)
        yield fake


@pytest.fixture(autouse=True)
def unhurried(monkeypatch):
    """DynamoDB Local on a busy machine is slow: an import's rows are not cut short by its time limit here."""
    monkeypatch.setenv("IMPORT_SYNC_SECONDS", "600")


def _attachment(cdn: FakeCdn, name: str, data: bytes, content_type: str | None, **override: Any) -> dict[str, Any]:
    """A file attached to a command: served by the fake CDN, described as Discord resolves it."""
    attachment_id = d.next_snowflake()
    path = f"/ephemeral-attachments/{d.CHANNEL}/{attachment_id}/{name}"
    cdn.serve(path, data, content_type=content_type or "application/octet-stream")
    described = {
        "id": attachment_id,
        "filename": name,
        "size": len(data),
        "url": f"{cdn.base_url}{path}?ex=6790&is=678f&hm=abc123",
        "proxy_url": f"{cdn.base_url}{path}?ex=6790&is=678f&hm=abc123",
        "ephemeral": True,
    }
    if content_type:
        described["content_type"] = content_type
    return {**described, **override}


def _import_command(guild: str, attachment: dict[str, Any], *options: dict[str, Any], permissions=d.MANAGE_GUILD):
    return d.command(
        guild,
        new_user_id(),
        "xp",
        "import",
        options=[d.option("file", attachment["id"], ATTACHMENT), *options],
        permissions=permissions,
        resolved={"attachments": {attachment["id"]: attachment}},
    )


def _deferred(discord_app, queue: str, payload: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """Webhook ("thinking"), queue, worker: the edited answer and the file attached to it (or None)."""
    status, answer = d.call(discord_app.signer, payload)
    assert status == 200 and answer == {"type": 5, "data": {"flags": EPHEMERAL}}, answer
    queued = receive_all(queue)
    assert len(queued) == 1
    assert run_worker(queued) == {"batchItemFailures": []}
    key = (d.APP_ID, payload["token"])
    edit = discord_app.fake.webhook_messages[key][-1]
    files = discord_app.fake.webhook_files[key][-1]
    assert "flags" not in edit
    return edit, (files[0] if files else None)


def _text(edit: dict[str, Any]) -> str:
    return "\n".join(e.get("description", "") for e in edit.get("embeds", []))


def _new_guild(api) -> str:
    guild = new_guild_id()
    assert api.put(f"/api/xp/guilds/{guild}").status == 201
    return guild


# ---------------------------------------------------------------- /xp import


def test_import_of_a_json_attachment(api, guild, discord_app, interactions_queue, cdn):
    api.put(f"/api/xp/users/{guild}/{C}", {"xp": 900})
    body = json.dumps([{"id": A, "xp": 1500, "messages": 12}, {"id": B, "xp": 40}, {"id": C, "xp": 100}]).encode()
    attachment = _attachment(cdn, "levels.json", body, "application/json; charset=utf-8")
    edit, file = _deferred(discord_app, interactions_queue, _import_command(guild, attachment, d.option("mode", "max")))
    assert file is None
    text = _text(edit)
    assert "Imported **levels.json** (max, json)" in text
    assert "Received 3 rows: 2 imported, 1 unchanged, 0 rejected." in text
    assert [(member_item(guild, u) or {}).get("xp") for u in (A, B, C)] == [1500, 40, 900]
    assert member_item(guild, A)["messages"] == 12
    assert cdn.paths() == [attachment["url"].split("?")[0].removeprefix(cdn.base_url)]
    board, total = leaderboard(api, guild)
    assert total == 4  # and the admin, who earned command XP
    assert [u for u, _, _ in board if u in (A, B, C)] == [A, C, B]
    # the import is recorded like one made over HTTP: its job status answers
    runs = [r for r in _import_runs(guild)]
    assert len(runs) == 1 and runs[0]["imported"] == 2 and runs[0]["mode"] == "max"


def _import_runs(guild: str) -> list[dict[str, Any]]:
    from boto3.dynamodb.conditions import Key

    from xpshop.store.table import plain, table

    items = table().query(KeyConditionExpression=Key("PK").eq(f"GUILD#{guild}") & Key("SK").begins_with("IMPORT#"))
    return [plain(i) for i in items["Items"] if "#CHUNK#" not in i["SK"] and "#DONE#" not in i["SK"]]


def test_import_of_a_csv_attachment_with_rejected_rows_and_a_dry_run(api, guild, discord_app, interactions_queue, cdn):
    text = "\ufeffname,xp,id,messages\r\nalice,300,720000000000000001,3\r\nbob,-5,720000000000000002,1\r\n"
    text += "carol,77,not-an-id,0\r\ndave,120,720000000000000003,\r\n"
    # no content type from Discord: the file name says CSV
    attachment = _attachment(cdn, "board.csv", text.encode(), None)
    dry, _ = _deferred(
        discord_app, interactions_queue, _import_command(guild, attachment, d.option("dry_run", True, 5))
    )
    assert "Dry run of **board.csv** (replace, csv): nothing was written." in _text(dry)
    assert "Received 4 rows: 2 would be imported, 2 rejected." in _text(dry)
    assert member_item(guild, A) is None

    edit, _ = _deferred(
        discord_app, interactions_queue, _import_command(guild, _attachment(cdn, "b.csv", text.encode(), None))
    )
    shown = _text(edit)
    assert "Received 4 rows: 2 imported, 0 unchanged, 2 rejected." in shown
    # rows are the file's line numbers (the header is line 1)
    assert "• row 3 (id 720000000000000002): " in shown and "• row 4" in shown
    assert shown.index("• row 3") < shown.index("• row 4")
    assert member_item(guild, A)["xp"] == 300 and member_item(guild, C)["xp"] == 120
    assert member_item(guild, B) is None


def test_an_import_delivered_twice_runs_once(api, guild, discord_app, interactions_queue, cdn):
    body = json.dumps([{"id": A, "xp": 10}]).encode()
    payload = _import_command(guild, _attachment(cdn, "x.json", body, "application/json"), d.option("mode", "add"))
    d.call(discord_app.signer, payload)
    queued = receive_all(interactions_queue)
    assert run_worker(queued) == {"batchItemFailures": []}
    assert run_worker(queued, receive_count=2) == {"batchItemFailures": []}  # SQS delivers it again
    edits = discord_app.fake.webhook_messages[(d.APP_ID, payload["token"])]
    assert len(edits) == 2 and edits[0] == edits[1]  # the kept answer, edited again
    assert member_item(guild, A)["xp"] == 10 and len(_import_runs(guild)) == 1
    assert len(cdn.paths()) == 1  # downloaded once


def test_a_big_file_becomes_a_job_the_answer_says_how_to_follow(
    api, guild, discord_app, interactions_queue, import_queue, cdn
):
    from tests.support.imports import deliver

    listed = rows(500, seed=31)
    attachment = _attachment(cdn, "big.json", json.dumps(listed).encode(), "application/json")
    edit, _ = _deferred(discord_app, interactions_queue, _import_command(guild, attachment))
    text = _text(edit)
    (job,) = _import_runs(guild)
    assert "Received 500 rows: 0 imported, 0 unchanged, 0 rejected." in text
    assert f"job `{job['runId']}` (500 rows)" in text
    assert f"`GET /api/xp/import/{guild}/jobs/{job['runId']}`" in text
    deliver(receive_all(import_queue))
    status = api.get(f"/api/xp/import/{guild}/jobs/{job['runId']}").data
    assert (status["status"], status["imported"]) == ("done", 500)
    assert member_item(guild, listed[0]["id"])["xp"] == listed[0]["xp"]


def test_an_unreadable_file_is_answered_not_imported(api, guild, discord_app, interactions_queue, cdn):
    attachment = _attachment(cdn, "broken.json", b'[{"id": "720000000000000001", "xp": 5}', "application/json")
    edit, _ = _deferred(discord_app, interactions_queue, _import_command(guild, attachment))
    assert "broken.json was not imported: Invalid JSON" in _text(edit)
    assert member_item(guild, A) is None


def test_a_too_large_attachment_is_refused_without_downloading_it(api, guild, discord_app, interactions_queue, cdn):
    attachment = _attachment(cdn, "huge.json", b"[]", "application/json", size=10 * 1024 * 1024 + 1)
    edit, _ = _deferred(discord_app, interactions_queue, _import_command(guild, attachment))
    assert "huge.json is 10,485,761 bytes; an import reads at most 10,485,760 bytes (10 MB)" in _text(edit)
    assert cdn.paths() == []  # refused by its declared size: nothing downloaded


def test_an_attachment_larger_than_declared_is_cut_off_while_reading(api, guild, discord_app, interactions_queue, cdn):
    data = b"[" + b" " * (10 * 1024 * 1024) + b"]"
    attachment = _attachment(cdn, "liar.json", data, "application/json", size=100)
    cdn.serve(attachment["url"].split("?")[0].removeprefix(cdn.base_url), data, chunked=True)  # no Content-Length
    edit, _ = _deferred(discord_app, interactions_queue, _import_command(guild, attachment))
    assert "liar.json is larger than 10,485,760 bytes: split the file." in _text(edit)


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.com/ephemeral-attachments/1/2/x.json",
        "https://cdn.discordapp.com.evil.example.com/attachments/1/2/x.json",
        "http://cdn.discordapp.com/attachments/1/2/x.json",
        "https://cdn.discordapp.com/avatars/1/2.png",
        "file:///etc/passwd",
    ],
)
def test_a_url_off_discords_cdn_is_refused(api, guild, discord_app, interactions_queue, cdn, url):
    attachment = _attachment(cdn, "x.json", b'[{"id": "720000000000000001", "xp": 5}]', "application/json", url=url)
    edit, _ = _deferred(discord_app, interactions_queue, _import_command(guild, attachment))
    assert "That file is not on Discord's CDN" in _text(edit)
    assert cdn.paths() == [] and member_item(guild, A) is None


def test_import_and_export_need_manage_server(api, guild, discord_app, interactions_queue, cdn):
    attachment = _attachment(cdn, "x.json", b'[{"id": "720000000000000001", "xp": 5}]', "application/json")
    for payload in (
        _import_command(guild, attachment, permissions=d.NO_PERMISSIONS),
        d.command(guild, new_user_id(), "xp", "export"),
    ):
        status, answer = d.call(discord_app.signer, payload)
        assert status == 200 and answer["type"] == 4
        assert "Manage Server" in answer["data"]["embeds"][0]["description"]
    assert receive_all(interactions_queue) == [] and cdn.paths() == []
    assert member_item(guild, A) is None


# ---------------------------------------------------------------- /xp export


def test_export_then_import_into_another_guild_gives_the_same_leaderboard(
    api, guild, discord_app, interactions_queue, cdn
):
    copy = _new_guild(api)
    for g in (guild, copy):  # the admins' own command XP stays out of both leaderboards
        assert api.put(f"/api/xp/config/{g}", {"commandXp": False}).status == 200
    listed = rows(300, seed=23)
    assert api.post(f"/api/xp/import/{guild}", listed).status == 200
    export = d.command(guild, new_user_id(), "xp", "export", permissions=d.MANAGE_GUILD)
    edit, file = _deferred(discord_app, interactions_queue, export)
    assert file is not None and file.filename == f"xp-{guild}.json" and file.content_type == "application/json"
    assert edit["attachments"] == [{"id": 0, "filename": f"xp-{guild}.json"}]
    assert "300 members, XP descending" in _text(edit)
    document = json.loads(file.data)
    assert document == api.get(f"/api/xp/export/{guild}").data  # what the HTTP export answers
    assert len(document["members"]) == 300 and document["next"] is None

    attachment = _attachment(cdn, file.filename, file.data, "application/json")
    done, _ = _deferred(discord_app, interactions_queue, _import_command(copy, attachment))
    assert "Received 300 rows: 300 imported, 0 unchanged, 0 rejected." in _text(done)
    assert leaderboard(api, copy) == leaderboard(api, guild)
    assert api.get(f"/api/xp/stats/{copy}").data == api.get(f"/api/xp/stats/{guild}").data


def test_csv_export(api, guild, discord_app, interactions_queue):
    assert api.post(f"/api/xp/import/{guild}", [{"id": A, "xp": 500, "messages": 4}, {"id": B, "xp": 9}]).status == 200
    payload = d.command(
        guild, new_user_id(), "xp", "export", options=[d.option("format", "csv")], permissions=d.MANAGE_GUILD
    )
    _, file = _deferred(discord_app, interactions_queue, payload)
    assert file.filename == f"xp-{guild}.csv" and file.content_type == "text/csv"
    lines = list(csv.reader(io.StringIO(file.data.decode())))
    assert lines[0] == ["id", "xp", "level", "messages", "hidden"]
    assert lines[1][:2] == [A, "500"] and lines[1][3] == "4"
    assert file.data == api.get(f"/api/xp/export/{guild}?format=csv").content


def test_an_export_larger_than_discord_accepts_points_to_the_http_route(api, guild, discord_app, interactions_queue):
    assert api.post(f"/api/xp/import/{guild}", rows(200, seed=5)).status == 200
    payload = d.command(guild, new_user_id(), "xp", "export", permissions=d.MANAGE_GUILD)
    payload["attachment_size_limit"] = 20_000  # what Discord says this answer may carry
    edit, file = _deferred(discord_app, interactions_queue, payload)
    assert file is None
    assert f"`GET /api/xp/export/{guild}?format=json`" in _text(edit)
    assert "The export is larger than the 20,000 bytes Discord lets me attach here." in _text(edit)


# ---------------------------------------------------------------- /privacy export


def test_privacy_export_is_the_members_own_data(api, guild, discord_app, interactions_queue, rank_stream):
    from tests.support.board import set_profile
    from xpshop.levels import DEFAULT_CURVE

    member = new_user_id()
    api.put(f"/api/xp/users/{guild}/{member}", {"xp": 900})
    api.put(f"/api/xp/users/{guild}/{new_user_id()}", {"xp": 2_000})
    assert api.post(f"/api/xp/users/{guild}/{member}", {"amount": 50, "reason": "helped at the event"}).status == 200
    d.call(discord_app.signer, d.command(guild, member, "privacy", "hide"))
    set_profile(guild, member, display_name="Ünïcode <b>", username="member_1", avatar="a" * 32)
    rank_stream.drain()
    payload = d.command(guild, member, "privacy", "export")
    edit, file = _deferred(discord_app, interactions_queue, payload)
    assert file.filename == f"my-xp-data-{guild}.json" and file.content_type == "application/json"
    assert "2 XP audit records" in _text(edit)
    document = json.loads(file.data)
    stored = member_item(guild, member)
    audits = _audit_items(guild, member)
    assert document == {
        "format": "xpshop-member-data/1",
        "guildId": guild,
        "userId": member,
        "exportedAt": document["exportedAt"],
        "member": {
            "xp": 950,
            "level": DEFAULT_CURVE.level(950),
            "messages": 0,
            "xpMessages": 0,
            "lastAwardedAt": None,
            "createdAt": stored["createdAt"],
            "levelSource": "granted",
            "importRun": None,
            "hidden": True,
            "displayName": "Ünïcode <b>",
            "username": "member_1",
            "avatar": "a" * 32,
        },
        "rank": {"rank": 2, "total": 2},
        "audit": [
            {
                "at": audits[0]["at"],
                "delta": 900,
                "oldXp": 0,
                "newXp": 900,
                "oldLevel": 0,
                "newLevel": DEFAULT_CURVE.level(900),
                "reason": audits[0].get("reason"),
                "source": audits[0]["source"],
            },
            {
                "at": audits[1]["at"],
                "delta": 50,
                "oldXp": 900,
                "newXp": 950,
                "oldLevel": DEFAULT_CURVE.level(900),
                "newLevel": DEFAULT_CURVE.level(950),
                "reason": "helped at the event",
                "source": audits[1]["source"],
            },
        ],
    }
    assert stored["createdAt"] <= document["exportedAt"] and audits[1]["at"] <= document["exportedAt"]
    # someone else's export does not hold this member's data, and is theirs only
    other = d.command(guild, new_user_id(), "privacy", "export")
    _, theirs = _deferred(discord_app, interactions_queue, other)
    assert json.loads(theirs.data)["member"] is None and json.loads(theirs.data)["audit"] == []
    assert member not in theirs.data.decode()


def _audit_items(guild: str, user: str) -> list[dict[str, Any]]:
    from boto3.dynamodb.conditions import Key

    from xpshop.store.table import plain, table

    resp = table().query(
        KeyConditionExpression=Key("PK").eq(f"GUILD#{guild}") & Key("SK").begins_with(f"AUDIT#{user}#")
    )
    return [plain(i) for i in resp["Items"]]
