"""Import and export on DynamoDB Local, through the API and the table's real stream: 2,000 imported rows against a
brute-force oracle (leaderboard, ranks, stats), each mode on members that exist (hidden ones stay hidden),
dry runs that write nothing, awards racing an import from other processes, one Idempotency-Key applying once,
a run resumed after a crash, background jobs (chunks delivered twice, a failed last delivery), role rewards
from a MEE6 file reaching Discord, and export -> import round trips."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from tests.support.imports import check_against_oracle, deliver, leaderboard, rows
from tests.support.sqs import receive_all
from tests.support.storage import member_item, new_guild_id, recorded_calls

A, B, C, D = "710000000000000001", "710000000000000002", "710000000000000003", "710000000000000004"


@pytest.fixture(autouse=True)
def unhurried(monkeypatch):
    """DynamoDB Local on a busy machine is slow: a request's rows are not cut short by its time limit here
    (test_rows_that_do_not_fit_the_request_become_a_job tests that)."""
    monkeypatch.setenv("IMPORT_SYNC_SECONDS", "600")


def _import(api, guild, body, query="", **kw):
    if isinstance(body, str):
        kw.setdefault("headers", {})
        kw["headers"].setdefault("Content-Type", "text/csv")
        return api.post(f"/api/xp/import/{guild}{query}", raw=body, **kw)
    return api.post(f"/api/xp/import/{guild}{query}", body, **kw)


def _expected(listed):
    return {r["id"]: (r["xp"], r.get("messages", 0)) for r in listed}


def _new_guild(api):
    guild = new_guild_id()
    assert api.put(f"/api/xp/guilds/{guild}").status == 201
    return guild


def _recalc_marked(guild: str) -> bool:
    from xpshop.store import keys
    from xpshop.store.table import table

    return "Item" in table().get_item(Key=keys.recalc_marker(guild), ConsistentRead=True)


# ---------------------------------------------------------------- 2,000 rows against the oracle


def test_two_thousand_rows_match_the_oracle(api, guild):
    listed = rows(2_000, seed=1)
    answer = _import(api, guild, listed)
    assert answer.status == 200, answer.body
    data = answer.data
    assert (data["received"], data["imported"], data["unchanged"], data["rejected"]) == (2_000, 2_000, 0, 0)
    assert data["mode"] == "replace" and data["dryRun"] is False and data["format"] == "json"
    check_against_oracle(api, guild, _expected(listed), ranks=80)
    item = member_item(guild, listed[0]["id"])
    assert item["levelSource"] == "imported" and item["importRun"] == data["jobId"]
    record = api.get(f"/api/xp/import/{guild}/jobs/{data['jobId']}").data
    assert record["status"] == "done" and record["imported"] == 2_000 and record["processed"] == 2_000


def test_rejected_rows_are_listed_and_the_rest_imported(api, guild):
    listed = [{"id": A, "xp": 10}, {"id": "1", "xp": 5}, {"id": B, "xp": -1}, {"id": A, "xp": 3}, {"id": C, "xp": 7}]
    data = _import(api, guild, listed).data
    assert (data["received"], data["imported"], data["rejected"]) == (5, 2, 3)
    assert data["errors"] == [
        {"row": 2, "id": "1", "reason": "id must be a Discord snowflake (17-20 digits, at most 2^64-1)"},
        {"row": 3, "id": B, "reason": "xp must be >= 0, got -1"},
        {"row": 4, "id": A, "reason": "id repeated: already at row 1"},
    ]
    check_against_oracle(api, guild, {A: (10, 0), C: (7, 0)})


def test_a_mee6_files_rejected_rows_name_its_own_fields(api, guild):
    players = [
        {"id": A, "username": "a", "xp": 400, "message_count": 12, "level": 1},
        {"id": B, "username": "b", "xp": 300, "message_count": -1, "level": 1},
        {"id": C, "username": "c", "xp": 200, "message_count": "x", "level": 1},
    ]
    data = _import(api, guild, {"players": players}).data
    assert (data["format"], data["received"], data["imported"], data["rejected"]) == ("mee6", 3, 1, 2)
    assert data["errors"] == [
        {"row": 2, "id": B, "reason": "message_count must be >= 0, got -1"},
        {"row": 3, "id": C, "reason": "message_count must be a whole number, got 'x'"},
    ]
    check_against_oracle(api, guild, {A: (400, 12)})
    assert member_item(guild, B) is None and member_item(guild, C) is None


# ---------------------------------------------------------------- modes on members that exist


@pytest.fixture
def existing(api, guild):
    """A: 1,000 XP, 40 messages, hidden; B: 200 XP; C: 5,000 XP (not in the files below)."""
    first = [{"id": A, "xp": 1_000, "messages": 40}, {"id": B, "xp": 200}, {"id": C, "xp": 5_000}]
    assert _import(api, guild, first).status == 200
    assert api.put(f"/api/xp/users/{guild}/{A}/privacy", {"hidden": True}).status == 200
    return guild


FILE = [{"id": A, "xp": 600, "messages": 50}, {"id": B, "xp": 200}, {"id": D, "xp": 155, "messages": 3}]


@pytest.mark.parametrize(
    ("mode", "after", "imported", "unchanged"),
    [
        ("replace", {A: (600, 50), B: (200, 0), C: (5_000, 0), D: (155, 3)}, 2, 1),
        ("add", {A: (1_600, 90), B: (400, 0), C: (5_000, 0), D: (155, 3)}, 3, 0),
        ("max", {A: (1_000, 50), B: (200, 0), C: (5_000, 0), D: (155, 3)}, 2, 1),
    ],
)
def test_each_mode(api, existing, mode, after, imported, unchanged):
    data = _import(api, existing, FILE, f"?mode={mode}").data
    assert (data["mode"], data["imported"], data["unchanged"], data["rejected"]) == (mode, imported, unchanged, 0)
    check_against_oracle(api, existing, after)
    assert member_item(existing, A)["hidden"] is True  # the privacy choice survives any import


def test_a_file_equal_to_the_members_writes_nothing(api, existing):
    same = [{"id": A, "xp": 1_000, "messages": 40}, {"id": B, "xp": 200}]
    with recorded_calls() as calls:
        data = _import(api, existing, same).data
    assert (data["imported"], data["unchanged"]) == (0, 2)
    assert calls["UpdateItem"] == 2  # the two conditional row writes, both refused: no counter write
    assert member_item(existing, A)["importRun"] != data["jobId"]


def test_add_above_the_maximum_rejects_that_row_only(api, guild):
    from xpshop.levels import MAX_XP

    _import(api, guild, [{"id": A, "xp": MAX_XP - 5}])
    data = _import(api, guild, [{"id": A, "xp": 10}, {"id": B, "xp": 10}], "?mode=add").data
    assert (data["imported"], data["rejected"]) == (1, 1)
    assert data["errors"][0]["row"] == 1 and "above the maximum" in data["errors"][0]["reason"]
    check_against_oracle(api, guild, {A: (MAX_XP - 5, 0), B: (10, 0)})


# ---------------------------------------------------------------- dry run


def test_a_dry_run_validates_and_counts_and_writes_nothing(api, existing):
    before = {u: member_item(existing, u) for u in (A, B, C)}
    with recorded_calls() as calls:
        data = _import(api, existing, [*FILE, {"id": "x", "xp": 1}], "?mode=add&dryRun=true").data
    assert data["dryRun"] is True
    assert (data["received"], data["imported"], data["unchanged"], data["rejected"]) == (4, 3, 0, 1)
    writes = {op for op in calls if op not in ("GetItem", "BatchGetItem", "Query")}
    assert writes == set(), calls
    assert {u: member_item(existing, u) for u in (A, B, C)} == before
    assert member_item(existing, D) is None


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("?dry_run=true", "dry_run is not a parameter of this route: did you mean dryRun?"),
        ("?dryrun=true", "dryrun is not a parameter of this route: did you mean dryRun?"),
        ("?dry-run=1&mode=add", "dry-run is not a parameter of this route: did you mean dryRun?"),
        ("?Mode=add", "Mode is not a parameter of this route: did you mean mode?"),
    ],
)
def test_a_misspelled_dry_run_is_refused_and_writes_nothing(api, existing, query, named):
    """`dry_run` is /xp import's option name: sent to the API it was ignored, and the "dry run" imported for real."""
    before = {u: member_item(existing, u) for u in (A, B, C, D)}
    with recorded_calls() as calls:
        answer = _import(api, existing, FILE, query)
    assert answer.status == 400
    assert answer.body["error"]["code"] == "INVALID_REQUEST"
    assert answer.body["error"]["message"].startswith(named)
    assert {op for op in calls if op not in ("GetItem", "BatchGetItem", "Query")} == set(), calls
    assert {u: member_item(existing, u) for u in (A, B, C, D)} == before


def test_other_unknown_query_parameters_are_still_ignored(api, existing):
    assert _import(api, existing, FILE, "?dryRun=true&source=mee6").data["dryRun"] is True


@pytest.mark.parametrize("mode", ["replace", "add", "max"])
def test_a_dry_run_predicts_what_the_import_then_does(api, existing, mode):
    """Against stored members (A: 1,000 XP and 40 messages, B: 200 XP): the dry run's counts are the real
    run's, rows left as they are included (replace and max leave B unchanged)."""
    from xpshop.levels import MAX_XP

    listed = [*FILE, {"id": C, "xp": MAX_XP}]  # add: C would pass the maximum
    predicted = _import(api, existing, listed, f"?mode={mode}&dryRun=true").data
    applied = _import(api, existing, listed, f"?mode={mode}").data
    counts = ("imported", "unchanged", "rejected")
    assert [predicted[k] for k in counts] == [applied[k] for k in counts]
    assert predicted["errors"] == applied["errors"]
    expected = {"replace": [3, 1, 0], "add": [3, 0, 1], "max": [3, 1, 0]}[mode]
    assert [predicted[k] for k in counts] == expected


# ---------------------------------------------------------------- idempotency and resumed runs


def test_one_idempotency_key_applies_once(api, guild):
    key = {"Idempotency-Key": f"import-{uuid.uuid4()}"}
    first = _import(api, guild, [{"id": A, "xp": 100}, {"id": B, "xp": 50}], "?mode=add", headers=dict(key))
    again = _import(api, guild, [{"id": A, "xp": 100}, {"id": B, "xp": 50}], "?mode=add", headers=dict(key))
    assert first.status == again.status == 200 and first.body == again.body
    other_mode = _import(api, guild, [{"id": A, "xp": 100}, {"id": B, "xp": 50}], "?mode=max", headers=dict(key))
    assert other_mode.status == 422 and other_mode.error["code"] == "IDEMPOTENCY_KEY_REUSED"
    check_against_oracle(api, guild, {A: (100, 0), B: (50, 0)})


def test_a_run_resumed_after_a_crash_adds_once_and_recounts(api, guild):
    """A request that died after writing some rows, retried with its Idempotency-Key: the rows written before
    are not added again; their counter deltas are unknown, so the guild is recounted by the recalculation."""
    from xpshop.levels import DEFAULT_CURVE
    from xpshop.service import imports
    from xpshop.store import imports as store
    from xpshop.transfer import Mode, Row

    _import(api, guild, [{"id": A, "xp": 1_000}, {"id": B, "xp": 10}])
    key = f"import-{uuid.uuid4()}"
    run_id = imports._run_id(f"{guild} {key}")
    store.apply_row(guild, Row(1, A, 500, 5), Mode.ADD, DEFAULT_CURVE, run_id)  # the crashed attempt's write
    listed = [{"id": A, "xp": 500, "messages": 5}, {"id": B, "xp": 20}, {"id": C, "xp": 30}]
    data = _import(api, guild, listed, "?mode=add", headers={"Idempotency-Key": key}).data
    assert data["jobId"] == run_id and (data["imported"], data["unchanged"]) == (3, 0)
    expected = {A: (1_500, 5), B: (30, 0), C: (30, 0)}
    assert _recalc_marked(guild)
    assert api.post(f"/api/xp/recalc/{guild}").status == 200
    check_against_oracle(api, guild, expected)


# ---------------------------------------------------------------- concurrent awards


def test_awards_racing_an_import_lose_nothing(api, guild, parallel):
    """Awards from 8 other processes (real parallel requests) while an add-mode import of the same members
    runs: every award and every row counts exactly once; counters and ranks stay exact."""
    base = rows(300, seed=7)
    _import(api, guild, base)
    adding = [{"id": r["id"], "xp": 1 + n % 97, "messages": n % 5} for n, r in enumerate(base)]
    adding += [{"id": str(720_000_000_000_000_000 + n), "xp": n * 13} for n in range(100)]
    awards = [
        ("POST", f"/api/xp/users/{guild}/{base[n % 300]['id']}", {"amount": 5 + n % 11}, None) for n in range(400)
    ]
    result: dict[str, Any] = {}

    base_run = member_item(guild, base[0]["id"])["importRun"]

    def run_import() -> None:
        result["answer"] = _import(api, guild, adding, "?mode=add")
        result["ended"] = time.monotonic()

    importer = threading.Thread(target=run_import)
    importer.start()
    while member_item(guild, base[0]["id"])["importRun"] == base_run:  # the import is writing
        time.sleep(0.01)
    awards_started = time.monotonic()
    statuses = [status for status, _ in parallel.run(awards)]
    importer.join()
    assert awards_started < result["ended"], "the awards did not overlap the import"
    assert statuses == [200] * len(awards)
    answer = result["answer"]
    assert answer.status == 200 and answer.data["imported"] == 400, answer.body
    expected = _expected(base)
    for r in adding:
        xp, messages = expected.get(r["id"], (0, 0))
        expected[r["id"]] = (xp + r["xp"], messages + r.get("messages", 0))
    for _, path, body, _ in awards:
        user = path.rsplit("/", 1)[1]
        xp, messages = expected[user]
        expected[user] = (xp + body["amount"], messages)
    check_against_oracle(api, guild, expected)


# ---------------------------------------------------------------- one import at a time


def test_a_second_import_while_one_runs_is_a_conflict(api, guild):
    from xpshop.clock import now_ms
    from xpshop.store import imports as store

    assert store.lock(guild, "r-someone-else", now_ms() + 60_000) is None
    busy = _import(api, guild, [{"id": A, "xp": 1}])
    assert busy.status == 409 and busy.error["code"] == "CONFLICT"
    assert "still running (run r-someone-else)" in busy.error["message"]
    assert busy.headers["retry-after"] == "5"
    assert _import(api, guild, [{"id": A, "xp": 1}], "?dryRun=true").status == 200  # a dry run takes no lock
    store.unlock(guild, "r-someone-else")
    assert _import(api, guild, [{"id": A, "xp": 1}]).status == 200


# ---------------------------------------------------------------- background jobs


def test_a_big_import_is_a_job(api, guild, import_queue):
    listed = rows(1_000, seed=3)
    listed.append({"id": "bad", "xp": 1})
    answer = _import(api, guild, listed, "?mode=add")
    assert answer.status == 202, answer.body
    job = answer.data
    assert (job["status"], job["total"], job["received"], job["rejected"], job["imported"]) == (
        "queued",
        1_000,
        1_001,
        1,
        0,
    )
    assert job["statusUrl"] == f"/api/xp/import/{guild}/jobs/{job['jobId']}"
    assert api.get(job["statusUrl"]).data["status"] == "queued"
    assert _import(api, guild, [{"id": A, "xp": 1}]).status == 409  # the job holds the guild's lock
    messages = receive_all(import_queue)
    assert len(messages) == 5
    deliver(messages[:2])
    progress = api.get(job["statusUrl"]).data
    assert (progress["status"], progress["processed"]) == ("running", 400)
    deliver(messages[2:])
    deliver(messages)  # every chunk delivered again: skipped, nothing added twice
    done = api.get(job["statusUrl"]).data
    assert (done["status"], done["processed"], done["imported"], done["rejected"]) == ("done", 1_000, 1_000, 1)
    assert done["errors"] == [
        {"row": 1_001, "id": "bad", "reason": "id must be a Discord snowflake (17-20 digits, at most 2^64-1)"}
    ]
    assert done["finishedAt"] is not None
    check_against_oracle(api, guild, _expected(listed[:-1]))
    assert not _recalc_marked(guild)
    assert _import(api, guild, [{"id": A, "xp": 1}]).status == 200  # lock released


def test_rows_that_do_not_fit_the_request_become_a_job(api, guild, import_queue, monkeypatch):
    from xpshop.service import imports

    monkeypatch.setenv("IMPORT_SYNC_SECONDS", "0")  # every step after the first is past the time limit
    monkeypatch.setattr(imports, "REQUEST_STEP", 100)
    listed = rows(300, seed=13)
    answer = _import(api, guild, listed, "?mode=add")
    assert answer.status == 202, answer.body
    job = answer.data
    assert (job["status"], job["total"], job["imported"]) == ("running", 300, 100)
    progress = api.get(job["statusUrl"]).data
    assert (progress["processed"], progress["imported"]) == (100, 100)
    messages = receive_all(import_queue)
    assert len(messages) == 1  # the 200 rows left: one chunk
    deliver(messages)
    done = api.get(job["statusUrl"]).data
    assert (done["status"], done["processed"], done["imported"]) == ("done", 300, 300)
    check_against_oracle(api, guild, _expected(listed))


def test_a_job_chunk_that_crashed_midway_adds_once(api, guild, import_queue):
    from xpshop.levels import DEFAULT_CURVE
    from xpshop.store import imports as store
    from xpshop.transfer import Mode

    listed = rows(400, seed=5)
    job = _import(api, guild, listed, "?mode=add").data
    first_chunk = store.get_chunk(guild, job["jobId"], 0)
    assert first_chunk is not None
    for row in first_chunk[:120]:  # the attempt that died wrote these, not its counters
        store.apply_row(guild, row, Mode.ADD, DEFAULT_CURVE, job["jobId"])
    deliver(receive_all(import_queue))
    done = api.get(f"/api/xp/import/{guild}/jobs/{job['jobId']}").data
    assert (done["status"], done["imported"]) == ("done", 400)
    assert _recalc_marked(guild)
    assert api.post(f"/api/xp/recalc/{guild}").status == 200
    check_against_oracle(api, guild, _expected(listed))


def test_a_job_failing_on_its_last_delivery_is_marked_failed(api, guild, import_queue, monkeypatch):
    from xpshop.store import imports as store

    job = _import(api, guild, rows(400, seed=9)).data
    messages = receive_all(import_queue)
    deliver(messages[:1])

    def broken(*_args, **_kw):
        raise RuntimeError("storage on fire")

    monkeypatch.setattr(store, "apply_row", broken)
    with pytest.raises(BatchProcessingError):  # the whole (one-record) batch failed: SQS delivers it again
        deliver(messages[1:2], receive_count=1)
    assert api.get(f"/api/xp/import/{guild}/jobs/{job['jobId']}").data["status"] == "running"
    deliver(messages[1:], receive_count=3)
    failed = api.get(f"/api/xp/import/{guild}/jobs/{job['jobId']}").data
    assert (failed["status"], failed["processed"]) == ("failed", 200)
    assert failed["failure"].startswith("chunk ") and failed["failure"].endswith(": RuntimeError")
    assert _recalc_marked(guild)
    monkeypatch.undo()
    assert _import(api, guild, [{"id": A, "xp": 1}]).status == 200  # lock released


def test_an_unknown_job_is_404(api, guild):
    for job in ("r" + "0" * 23, "nope", "../../x"):
        got = api.get(f"/api/xp/import/{guild}/jobs/{job}")
        assert got.status == 404 and got.error["code"] in ("JOB_NOT_FOUND", "NOT_FOUND"), got.body


# ---------------------------------------------------------------- MEE6 role rewards reach Discord


def test_a_mee6_file_gives_roles_but_posts_no_announcements(api, guild, discord_app, table_stream):
    role5, role10, kept = "611000000000000005", "611000000000000010", "611000000000000099"
    channel = "311000000000000001"
    assert (
        api.put(
            f"/api/xp/config/{guild}",
            {"roleRewards": [{"level": 10, "roleId": kept}], "levelUpAnnouncement": {"channelId": channel}},
        ).status
        == 200
    )
    for user in (A, B):
        discord_app.fake.set_member(guild, user, roles=[])
    page = {
        "players": [{"id": A, "xp": 5675, "message_count": 12}, {"id": B, "xp": 1525}],
        "role_rewards": [{"rank": 5, "role": {"id": role5}}, {"rank": 10, "role": {"id": role10}}],
    }
    data = _import(api, guild, page).data
    assert data["format"] == "mee6"
    assert data["roleRewards"] == {"received": 2, "added": 1, "replaced": 0, "kept": 1, "skipped": 0, "errors": []}
    rewards = api.get(f"/api/xp/config/{guild}/rewards").data["rewards"]
    assert rewards == [{"level": 5, "roleId": role5}, {"level": 10, "roleId": kept}]
    table_stream.drain()
    assert discord_app.fake.member_roles(guild, A) == {role5, kept}
    assert discord_app.fake.member_roles(guild, B) == {role5}
    assert discord_app.fake.calls_to("POST", f"/channels/{channel}/messages") == []
    replaced = _import(api, guild, page, "?rewards=replace").data
    assert replaced["roleRewards"] == {"received": 2, "added": 0, "replaced": 1, "kept": 1, "skipped": 0, "errors": []}
    assert api.get(f"/api/xp/config/{guild}/rewards").data["rewards"][1] == {"level": 10, "roleId": role10}


def test_a_second_role_at_one_level_is_counted_and_named_not_dropped_silently(api, guild):
    role_a, role_b, role_c = "611000000000000021", "611000000000000022", "611000000000000023"
    page = {
        "players": [{"id": A, "xp": 100}],
        "role_rewards": [
            {"rank": 5, "role": {"id": role_a}},
            {"rank": 5, "role": {"id": role_b}},
            {"rank": 8, "role": {"id": role_c}},
        ],
    }
    skipped = {
        "entry": "role_rewards[1]",
        "level": 5,
        "roleId": role_b,
        "reason": f"role_rewards[1]: level 5 already has role {role_a} (role_rewards[0]): one reward per level, "
        f"so role {role_b} was not imported",
    }
    expected = {"received": 3, "added": 2, "replaced": 0, "kept": 0, "skipped": 1, "errors": [skipped]}
    dry = _import(api, guild, page, "?dryRun=true").data
    assert dry["roleRewards"] == expected
    data = _import(api, guild, page).data
    assert data["roleRewards"] == expected
    assert api.get(f"/api/xp/import/{guild}/jobs/{data['jobId']}").data["roleRewards"] == expected
    rewards = api.get(f"/api/xp/config/{guild}/rewards").data["rewards"]
    assert rewards == [{"level": 5, "roleId": role_a}, {"level": 8, "roleId": role_c}]


# ---------------------------------------------------------------- export -> import


def test_export_then_import_into_another_guild_gives_an_identical_leaderboard(api, guild):
    listed = rows(1_200, seed=11)
    _import(api, guild, listed)
    parts, cursor = [], None
    while True:
        query = f"?limit=500&cursor={cursor}" if cursor else "?limit=500"
        got = api.get(f"/api/xp/export/{guild}{query}")
        assert got.status == 200
        parts.append(got.data)
        cursor = got.data["next"]
        if cursor is None:
            assert "link" not in got.headers
            break
        assert got.headers["link"] == f'</api/xp/export/{guild}?format=json&limit=500&cursor={cursor}>; rel="next"'
    assert [len(p["members"]) for p in parts] == [500, 500, 200]
    exported = [m for p in parts for m in p["members"]]
    assert [m["id"] for m in exported] == [u for u, _, _ in leaderboard(api, guild)[0]]
    copy = _new_guild(api)
    for part in parts:  # each part as saved (the API's envelope included) is an import file
        assert _import(api, copy, {"success": True, "data": part}).data["imported"] == len(part["members"])
    assert leaderboard(api, copy) == leaderboard(api, guild)
    check_against_oracle(api, copy, _expected(listed))
    # the same through CSV, one file for the whole guild
    csv_text = api.get(f"/api/xp/export/{guild}?format=csv")
    assert csv_text.headers["content-type"] == "text/csv; charset=utf-8"
    assert csv_text.content.decode().splitlines()[0] == "id,xp,level,messages,hidden"
    third = _new_guild(api)
    assert _import(api, third, csv_text.content.decode()).data["imported"] == 1_200
    assert leaderboard(api, third) == leaderboard(api, guild)
    assert api.get(f"/api/xp/stats/{third}").data["messages"] == api.get(f"/api/xp/stats/{guild}").data["messages"]


def test_export_of_an_empty_guild_and_bad_parameters(api, guild):
    empty = api.get(f"/api/xp/export/{guild}")
    assert empty.status == 200 and empty.data == {"guildId": guild, "members": [], "next": None}
    assert api.get(f"/api/xp/export/{guild}?format=csv").content == b"id,xp,level,messages,hidden\r\n"
    for query, field in (
        ("limit=0", "limit"),
        ("limit=10001", "limit"),
        ("format=xml", "format"),
        ("cursor=%%%", "cursor"),
    ):
        bad = api.get(f"/api/xp/export/{guild}?{query}")
        assert bad.status == 400 and bad.error["code"] == "INVALID_REQUEST", (query, bad.body)
        assert field in bad.error["message"], (query, bad.body)
    crafted = json.dumps({"u": "1", "x": 5}).encode()
    import base64

    token = base64.urlsafe_b64encode(crafted).decode().rstrip("=")
    assert api.get(f"/api/xp/export/{guild}?cursor={token}").status == 400


def test_import_checks_and_errors_over_the_api(api, guild):
    assert api.post(f"/api/xp/import/{guild}", raw="x" * 10, headers={"Content-Type": "application/xml"}).status == 415
    bad_mode = api.post(f"/api/xp/import/{guild}?mode=sum", [{"id": A, "xp": 1}])
    assert bad_mode.status == 400 and "mode" in bad_mode.error["message"]
    unknown = api.post(f"/api/xp/import/{new_guild_id()}", [{"id": A, "xp": 1}])
    assert unknown.status == 404 and unknown.error["code"] == "GUILD_NOT_FOUND"
    assert api.post(f"/api/xp/import/{guild}", [{"id": A, "xp": 1}], key=None).status == 401
    assert api.post("/api/xp/import", [{"id": A, "xp": 1}]).error["code"] == "MISSING_GUILD_ID"
    assert api.get(f"/api/xp/import/{guild}").status == 405
    not_json = api.post(f"/api/xp/import/{guild}", raw="[{", headers={"Content-Type": "application/json"})
    assert not_json.status == 400 and not_json.error["message"].startswith("Invalid JSON in request body")


def test_a_message_counted_between_an_adds_two_writes_is_not_taken_for_the_import(api, guild, monkeypatch):
    """`add` on an existing member: the first write is refused and hands the item back; a message counted
    right then (in cooldown: messages + 1, XP unchanged, so the XP guard still holds) must stay the
    message's, not be counted again in the import's counter delta."""
    from xpshop.store import imports as store
    from xpshop.store import keys
    from xpshop.store.table import table

    _import(api, guild, [{"id": A, "xp": 100, "messages": 10}])
    real = store._update
    calls = []

    def with_a_message_in_between(key, expression, condition, values):
        calls.append(condition)
        if len(calls) == 2:  # the exact write: a message lands just before it
            table().update_item(
                Key=keys.member(guild, A), UpdateExpression="ADD messages :one", ExpressionAttributeValues={":one": 1}
            )
        return real(key, expression, condition, values)

    monkeypatch.setattr(store, "_update", with_a_message_in_between)
    assert _import(api, guild, [{"id": A, "xp": 50, "messages": 5}], "?mode=add").data["imported"] == 1
    monkeypatch.undo()
    assert member_item(guild, A)["messages"] == 16
    # the message's own counter write is not part of this test: the import's delta alone is 5
    assert api.get(f"/api/xp/stats/{guild}").data["messages"]["total"] == 15


def test_an_export_cursor_of_another_guild_is_refused(api, guild):
    """docs/API.md: a cursor naming another guild's member is a 400. Before, guild B's export resumed after
    guild A's member (a position in B's order), silently leaving B's members above it out."""
    other = _new_guild(api)
    for user, xp in (("680000000000000001", 900), ("680000000000000002", 500), ("680000000000000003", 100)):
        assert api.put(f"/api/xp/users/{other}/{user}", {"xp": xp}).status == 200
    assert api.put(f"/api/xp/users/{guild}/680000000000000009", {"xp": 700}).status == 200
    assert api.put(f"/api/xp/users/{guild}/680000000000000008", {"xp": 50}).status == 200
    first = api.get(f"/api/xp/export/{other}?limit=1").data
    assert [m["id"] for m in first["members"]] == ["680000000000000001"] and first["next"]
    mixed = api.get(f"/api/xp/export/{guild}?limit=1&cursor={first['next']}")
    assert mixed.status == 400 and mixed.error["code"] == "INVALID_REQUEST", mixed.body
    assert "cursor" in mixed.error["message"]
    # the guild's own cursors still walk it whole
    own = api.get(f"/api/xp/export/{guild}?limit=1").data
    rest = api.get(f"/api/xp/export/{guild}?limit=5&cursor={own['next']}").data
    assert [m["id"] for m in own["members"] + rest["members"]] == ["680000000000000009", "680000000000000008"]


def test_the_part_that_ends_the_export_has_no_next(api, guild):
    """README: `next` (and the Link header) is null at the end. A part that happened to end exactly at the
    last member still named a next part, which was empty: a client walked one request too far and a crawler
    of Link headers saw a part that did not exist."""
    for user, xp in (("680000000000000011", 900), ("680000000000000012", 500), ("680000000000000013", 100)):
        assert api.put(f"/api/xp/users/{guild}/{user}", {"xp": xp}).status == 200
    whole = api.get(f"/api/xp/export/{guild}?limit=3")
    assert len(whole.data["members"]) == 3 and whole.data["next"] is None and "link" not in whole.headers
    first = api.get(f"/api/xp/export/{guild}?limit=2")
    assert [m["id"] for m in first.data["members"]] == ["680000000000000011", "680000000000000012"]
    assert first.data["next"] and "link" in first.headers
    last = api.get(f"/api/xp/export/{guild}?limit=1&cursor={first.data['next']}")
    assert [m["id"] for m in last.data["members"]] == ["680000000000000013"]
    assert last.data["next"] is None and "link" not in last.headers
    csv_part = api.get(f"/api/xp/export/{guild}?limit=3&format=csv")
    assert "link" not in csv_part.headers


# ---------------------------------------------------------------- privacy choices travel with the export


def _public_hidden(api, guild) -> tuple[list[bool], int]:
    """Who the public leaderboard (no key) shows as hidden, in rank order, and how often the web board says
    "Hidden member" (its rows, and its footer's explanation)."""
    entries = api.get(f"/api/xp/leaderboard/{guild}?limit=100", key=None).data["entries"]
    page = api.get(f"/leaderboard/{guild}", key=None).content.decode()
    return [e["hidden"] for e in entries], page.count("Hidden member")


def test_hidden_members_stay_hidden_through_export_and_import(api, guild):
    """A guild moved by export -> import kept its XP but showed its hidden members on the new public board:
    the export did not carry the privacy choice."""
    listed = rows(40, seed=5)
    _import(api, guild, listed)
    hidden = {listed[i]["id"] for i in (0, 7, 39)}
    for user in hidden:
        assert api.put(f"/api/xp/users/{guild}/{user}/privacy", {"hidden": True}).status == 200
    assert api.put(f"/api/xp/config/{guild}", {"leaderboard": {"public": True}}).status == 200
    part = api.get(f"/api/xp/export/{guild}").data
    assert {m["id"] for m in part["members"] if m["hidden"]} == hidden
    assert all(m["hidden"] is False for m in part["members"] if m["id"] not in hidden)
    csv_body = api.get(f"/api/xp/export/{guild}?format=csv").content.decode()
    assert csv_body.splitlines()[0] == "id,xp,level,messages,hidden"
    assert sum(_public_hidden(api, guild)[0]) == 3
    for body in (part, csv_body):
        copy = _new_guild(api)
        assert api.put(f"/api/xp/config/{copy}", {"leaderboard": {"public": True}}).status == 200
        data = _import(api, copy, body).data
        assert (data["imported"], data["rejected"]) == (40, 0), data
        assert leaderboard(api, copy) == leaderboard(api, guild)
        assert _public_hidden(api, copy) == _public_hidden(api, guild)
        assert {u for u in (m["id"] for m in part["members"]) if member_item(copy, u).get("hidden")} == hidden
        assert api.get(f"/api/xp/export/{copy}").data["members"] == part["members"]


@pytest.mark.parametrize("mode", ["replace", "add", "max"])
def test_an_import_hides_and_never_shows(api, existing, mode):
    """A row that says hidden hides its member in every mode, even when its counts change nothing (it is then
    imported, not unchanged); `hidden: false` or no `hidden` leaves the member's own choice (A is hidden)."""
    listed = [
        {"id": A, "xp": 1_000, "messages": 40, "hidden": False},
        {"id": B, "xp": 200, "hidden": True},
        {"id": C, "xp": 5_000},
        {"id": D, "xp": 10, "hidden": True},
    ]
    predicted = _import(api, existing, listed, f"?mode={mode}&dryRun=true").data
    data = _import(api, existing, listed, f"?mode={mode}").data
    assert (predicted["imported"], predicted["unchanged"]) == (data["imported"], data["unchanged"])
    if mode == "add":
        assert (data["imported"], data["unchanged"]) == (4, 0)
    else:
        assert (data["imported"], data["unchanged"]) == (2, 2)
    assert member_item(existing, A)["hidden"] is True
    assert member_item(existing, B)["hidden"] is True
    assert "hidden" not in member_item(existing, C)
    assert member_item(existing, D)["hidden"] is True
    again = _import(api, existing, listed, "?mode=max").data  # now nothing left to do
    assert again["unchanged"] == 4


def test_a_job_keeps_its_rows_privacy_choices(api, guild, import_queue):
    """Rows queued as a job's chunks keep `hidden: true` (a fifth entry in the stored row)."""
    listed = rows(1_000, seed=8)
    for i in (0, 999):
        listed[i]["hidden"] = True
    listed[1]["hidden"] = False
    answer = _import(api, guild, listed)
    assert answer.status == 202, answer.body
    deliver(receive_all(import_queue))
    assert api.get(answer.data["statusUrl"]).data["imported"] == 1_000
    hidden = {u for u in (r["id"] for r in listed[:3] + listed[-2:]) if member_item(guild, u).get("hidden")}
    assert hidden == {listed[0]["id"], listed[999]["id"]}
