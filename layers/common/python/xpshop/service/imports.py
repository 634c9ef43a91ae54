"""Importing a leaderboard (issue 15): read the file, apply its role rewards, then its rows, either in the request
(up to `sync_max_rows()` rows, for at most `sync_seconds()`) or as a background job of chunks on a queue (the
rows past either limit).

Each row is one guarded UpdateItem on its member (store/imports.py), sent from a pool of threads (no read
per row, no BatchWriteItem: a member item holds more than the file knows, so a put would lose it). The
writes are ordinary member writes, so everything downstream happens as for earned XP: the stored level,
progress and score are derived with the guild's curve; the table's stream brings the rank index and the
effects function (role rewards reconciled; no announcements and no credits for imported levels, see
service/effects.py); the guild's counter shards get the summed deltas, one write per chunk. The import record
(`IMPORT#<run>`) is its audit trail: mode, counts, the first errors; every member it changed names it
(`importRun`).

Exactness when things fail: a row already written by this run (a chunk delivered again after a crash, or a
request retried with its Idempotency-Key) is not written again, but whether its counter delta reached the
shards is unknown, so the guild is marked for the recalculation job, which recounts the counters from the
members (the same repair as for any lost counter write).
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import os
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger

from .. import message_queue, metrics
from ..clock import now_ms
from ..errors import Conflict, ErrorCode, InvalidInput, NotFound
from ..guild_config import MAX_REWARDS, apply_patch, merge
from ..levels import Curve
from ..store import config as config_store
from ..store import imports as store
from ..store import recalc as recalc_store
from ..store import stats
from ..transfer import MAX_ERRORS, Mode, Parsed, Rejected, Row, parse, refusal, target
from ..transfer import rewards as reward_rules
from . import bands, curves

logger = Logger(child=True)

THREADS = 16  # concurrent member writes (each a few ms on DynamoDB; the calls wait, the CPU does not)
CHUNK_ROWS = 2_000  # rows per counter flush, and per job chunk (one item, one queue message)
DEFAULT_SYNC_MAX_ROWS = 5_000  # more rows than this become a background job
DEFAULT_SYNC_SECONDS = 20.0  # a request applies rows this long at most (API Gateway gives up after 30 s)
PREVIEW_READ_IDS = 1_000  # members a dry-run thread reads (ten BatchGetItem)
REQUEST_STEP = 500  # rows per counter flush (and per time check) in a request
REQUEST_LOCK_SECONDS = 60  # a request holds the guild's lock at most this long (its Lambda timeout is 30 s)
JOB_LOCK_SECONDS = 3_600  # a job at most this long (released when it finishes or fails)


def sync_max_rows() -> int:
    raw = os.environ.get("IMPORT_SYNC_MAX_ROWS", "").strip()
    return int(raw) if raw.isdigit() else DEFAULT_SYNC_MAX_ROWS


def sync_seconds() -> float:
    raw = os.environ.get("IMPORT_SYNC_SECONDS", "").strip()
    try:
        return float(raw) if raw else DEFAULT_SYNC_SECONDS
    except ValueError:
        return DEFAULT_SYNC_SECONDS


@dataclass
class Options:
    mode: Mode = Mode.REPLACE
    dry_run: bool = False
    replace_rewards: bool = False
    run_key: str | None = None  # an Idempotency-Key scope: a retry of the same request is the same run
    # Who may add the file's reward roles, when the caller is not the admin key (`/xp import` in Discord: the
    # invoker's Manage Roles and role hierarchy): given the role ids the import would add, why not, or None.
    reward_check: Callable[[list[str]], str | None] | None = None


@dataclass
class Outcome:
    """What a run of rows did."""

    imported: int = 0
    unchanged: int = 0
    already: int = 0
    rejected: list[Rejected] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        # a row written by an earlier delivery of this run was imported (by that delivery)
        return {
            "processed": self.imported + self.unchanged + self.already + len(self.rejected),
            "imported": self.imported + self.already,
            "unchanged": self.unchanged,
            "rejected": len(self.rejected),
        }


# ---------------------------------------------------------------- the request


def import_file(
    guild_id: str, body: bytes, content_type: str | None, content_encoding: str | None, options: Options
) -> tuple[dict[str, Any], int]:
    """POST /api/xp/import/{guildId}: (answer, status). 200 with the counts when the rows were applied (or
    only validated: dry run), 202 with a job id when they were queued: more than `sync_max_rows()` rows, or
    the rows that did not fit the request's time (`sync_seconds()`: slow or throttled storage)."""
    parsed = parse(body, content_type, content_encoding)
    _check_reward_roles(guild_id, parsed, options)  # before anything is written, dry run or not
    errors = sorted(parsed.rejected, key=lambda r: r.row)
    if options.dry_run:
        merged = _merged_rewards(guild_id, parsed, options)
        preview = _preview(guild_id, parsed.rows, options.mode)
        rejected = sorted(errors + preview.rejected, key=lambda r: r.row)
        answer = _answer(
            options, parsed, imported=preview.imported, unchanged=preview.unchanged, rejected=rejected, merged=merged
        )
        return answer, 200
    run_id = _run_id(options.run_key)
    job = len(parsed.rows) > sync_max_rows()
    _lock(guild_id, run_id, JOB_LOCK_SECONDS if job else REQUEST_LOCK_SECONDS)
    queued = False
    try:
        merged = _apply_rewards(guild_id, parsed, options)
        done, rest = Outcome(), parsed.rows
        if not job:
            deadline = time.monotonic() + sync_seconds()
            done, rest = apply_rows(guild_id, parsed.rows, options.mode, run_id, deadline=deadline, step=REQUEST_STEP)
        if rest:
            if not job:  # the rest becomes a job: the run keeps the lock for as long as a job may
                _lock(guild_id, run_id, JOB_LOCK_SECONDS)
            answer = _submit(guild_id, run_id, parsed, errors, rest=rest, done=done, options=options, merged=merged)
            queued = True  # the job holds the lock until its last chunk
            return answer, 202
    finally:
        if not queued:
            store.unlock(guild_id, run_id)
    rejected = sorted(errors + done.rejected, key=lambda r: r.row)
    counts = done.counts()
    store.put_run(
        _run_record(
            guild_id,
            run_id,
            parsed,
            options=options,
            counts=counts,
            rejected=rejected,
            merged=merged,
            job=False,
            status=store.DONE,
            finished_at=now_ms(),
        )
    )
    logger.info("import applied", extra={"guildId": guild_id, "runId": run_id, **counts})
    answer = _answer(
        options, parsed, imported=counts["imported"], unchanged=counts["unchanged"], rejected=rejected, merged=merged
    )
    return {**answer, "jobId": run_id}, 200


def _preview(guild_id: str, rows: list[Row], mode: Mode) -> Outcome:
    """What applying `rows` would do to the members as stored now (a dry run): the same rule as the writes
    (`transfer.target`), from one read per 100 members and no write. Awards landing meanwhile may change it."""
    user_ids = [row.user_id for row in rows]
    parts = [user_ids[i : i + PREVIEW_READ_IDS] for i in range(0, len(user_ids), PREVIEW_READ_IDS)]
    stored: dict[str, tuple[int, int, bool]] = {}
    with ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="preview") as pool:
        for found in pool.map(lambda ids: store.stored_progress(guild_id, ids), parts):
            stored.update(found)
    outcome = Outcome()
    for row in rows:
        before = stored.get(row.user_id)
        stored_xp, stored_messages, hidden = before or (0, 0, False)
        after = target(mode, stored_xp, stored_messages, row.xp, row.messages)
        refused = refusal(after[0])
        if refused:
            outcome.rejected.append(Rejected(row.row, row.user_id, refused))
        elif before is not None and after == (stored_xp, stored_messages) and (hidden or row.hidden is not True):
            outcome.unchanged += 1
        else:
            outcome.imported += 1
    return outcome


def _run_record(
    guild_id: str,
    run_id: str,
    parsed: Parsed,
    *,
    options: Options,
    counts: dict[str, int],
    rejected: list[Rejected],
    merged: reward_rules.Merged | None,
    job: bool,
    status: str,
    chunks: int = 0,
    finished_at: int | None = None,
) -> store.ImportRun:
    """The import's record as a request leaves it (answered, or handed to a job)."""
    return store.ImportRun(
        run_id=run_id,
        guild_id=guild_id,
        job=job,
        status=status,
        mode=str(options.mode),
        format=parsed.format,
        received=parsed.received,
        total=len(parsed.rows),
        processed=counts["processed"],
        imported=counts["imported"],
        unchanged=counts["unchanged"],
        rejected=len(rejected),
        errors=[r.as_dict() for r in rejected[:MAX_ERRORS]],
        role_rewards=merged.counts(len(parsed.rewards), parsed.skipped_rewards) if merged is not None else None,
        chunks=chunks,
        created_at=now_ms(),
        finished_at=finished_at,
    )


def _lock(guild_id: str, run_id: str, seconds: int) -> None:
    holder = store.lock(guild_id, run_id, now_ms() + seconds * 1000)
    if holder is not None:
        raise Conflict(
            ErrorCode.CONFLICT,
            f"An import into guild {guild_id} is still running (run {holder}); wait for it to finish",
            {"Retry-After": "5"},
        )


def _run_id(run_key: str | None) -> str:
    """A new run id, or (with an Idempotency-Key) the same one for every retry of that request."""
    if run_key:
        return "r" + hashlib.sha256(run_key.encode()).hexdigest()[:23]
    return "r" + uuid.uuid4().hex[:23]


def _answer(
    options: Options,
    parsed: Parsed,
    *,
    imported: int,
    unchanged: int,
    rejected: list[Rejected],
    merged: reward_rules.Merged | None,
) -> dict[str, Any]:
    return {
        "mode": str(options.mode),
        "dryRun": options.dry_run,
        "format": parsed.format,
        "received": parsed.received,
        "imported": imported,
        "unchanged": unchanged,
        "rejected": len(rejected),
        "errors": [r.as_dict() for r in rejected[:MAX_ERRORS]],
        "roleRewards": (
            merged.counts(len(parsed.rewards), parsed.skipped_rewards)
            if merged is not None and parsed.rewards
            else None
        ),
    }


# ---------------------------------------------------------------- role rewards


def _merged_rewards(guild_id: str, parsed: Parsed, options: Options) -> reward_rules.Merged | None:
    """The guild's rewards as the import would leave them (read only)."""
    if not parsed.rewards:
        return None
    global_overrides, guild_overrides = config_store.read_layers(guild_id)
    current = merge(global_overrides, guild_overrides)["roleRewards"]
    merged = reward_rules.merge(current, parsed.rewards, replace=options.replace_rewards)
    _check_reward_count(merged)
    return merged


def _check_reward_roles(guild_id: str, parsed: Parsed, options: Options) -> None:
    """Refuse the whole file when a role its rewards would add is not the caller's to hand out (a reward the
    guild already has at that level was allowed when it was configured)."""
    if options.reward_check is None or not parsed.rewards:
        return
    global_overrides, guild_overrides = config_store.read_layers(guild_id)
    held = {(int(r["level"]), str(r["roleId"])) for r in merge(global_overrides, guild_overrides)["roleRewards"]}
    new = list(dict.fromkeys(r.role_id for r in parsed.rewards if (r.level, r.role_id) not in held))
    refusal = options.reward_check(new) if new else None
    if refusal:
        raise InvalidInput(ErrorCode.INVALID_ROLE_ID, f"role_rewards: {refusal}")


def _check_reward_count(merged: reward_rules.Merged) -> None:
    if len(merged.rewards) > MAX_REWARDS:
        raise InvalidInput(
            ErrorCode.INVALID_LEVEL,
            f"role_rewards: the guild would have {len(merged.rewards)} role rewards; at most {MAX_REWARDS}",
        )


def _apply_rewards(guild_id: str, parsed: Parsed, options: Options) -> reward_rules.Merged | None:
    """Merge the file's role rewards into the guild's config (one versioned write, before any member, so the
    effects function already knows them when the imported levels arrive)."""
    if not parsed.rewards:
        return None
    outcome: dict[str, reward_rules.Merged] = {}

    def mutate(current: dict[str, Any]) -> dict[str, Any]:
        global_overrides, _ = config_store.read_layers(None)
        effective = merge(global_overrides, current)["roleRewards"]
        merged = reward_rules.merge(effective, parsed.rewards, replace=options.replace_rewards)
        _check_reward_count(merged)
        outcome["merged"] = merged
        if not merged.changed:
            return current
        # the config patch's model (pydantic): for files with role rewards, not for every import job's init
        from ..api.xp.requests.config import validate_patch

        return apply_patch(current, validate_patch({"roleRewards": merged.rewards}))

    config_store.update(guild_id, mutate)
    curves.forget(guild_id)
    return outcome["merged"]


# ---------------------------------------------------------------- rows


def apply_rows(
    guild_id: str,
    rows: list[Row],
    mode: Mode,
    run_id: str,
    *,
    deadline: float | None = None,
    step: int = CHUNK_ROWS,
) -> tuple[Outcome, list[Row]]:
    """Apply rows `step` at a time, each step's writes from THREADS threads and its counter deltas in one
    write; with a `deadline` (time.monotonic()), stop before a step that would not fit (judged by the slowest
    so far) and hand back the rows left. A row this run wrote before marks the guild for a recount (see the
    module docstring)."""
    curve = curves.curve_for(guild_id)
    outcome = Outcome()
    rest: list[Row] = []
    slowest = 0.0
    with ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="import") as pool:
        for start in range(0, len(rows), step):
            if deadline is not None and start and time.monotonic() + slowest > deadline:
                rest = rows[start:]
                break
            began = time.monotonic()
            try:
                _apply_chunk(
                    pool, guild_id, rows[start : start + step], mode=mode, run_id=run_id, curve=curve, outcome=outcome
                )
            except Exception:
                # some rows of this step may be written without their counter deltas: recount the guild
                recalc_store.mark(guild_id, f"import {run_id} interrupted: counters to recount")
                raise
            slowest = max(slowest, time.monotonic() - began)
    if outcome.already:
        recalc_store.mark(guild_id, f"import {run_id} resumed: counters to recount")
    if outcome.imported:
        metrics.count(metrics.IMPORTS, outcome.imported)
    return outcome, rest


def _apply_chunk(
    pool: ThreadPoolExecutor, guild_id: str, rows: list[Row], *, mode: Mode, run_id: str, curve: Curve, outcome: Outcome
) -> None:
    def one(row: Row) -> store.Applied:
        return store.apply_row(guild_id, row, mode, curve, run_id)

    # each task runs in a copy of this context: the logger's keys (and, in tests, the function name that
    # attributes AWS calls) follow the work into the threads
    results = list(pool.map(lambda row: contextvars.copy_context().run(one, row), rows))
    totals = stats.Totals()
    for row, applied in zip(rows, results, strict=True):
        if applied.outcome == store.IMPORTED and applied.change is not None:
            outcome.imported += 1
            totals.add(applied.change, messages=applied.messages)
        elif applied.outcome == store.UNCHANGED:
            outcome.unchanged += 1
        elif applied.outcome == store.ALREADY:
            outcome.already += 1
        else:
            outcome.rejected.append(Rejected(row.row, row.user_id, applied.reason or "rejected"))
    if not totals.empty():
        bands.counted(guild_id, stats.apply_totals(guild_id, rows[0].user_id, totals))


# ---------------------------------------------------------------- background jobs


def _submit(
    guild_id: str,
    run_id: str,
    parsed: Parsed,
    errors: list[Rejected],
    *,
    rest: list[Row],
    done: Outcome,
    options: Options,
    merged: reward_rules.Merged | None,
) -> dict[str, Any]:
    """Store the `rest` of the rows as chunks, record the job (with what the request already `done`), queue
    one message per chunk. The lock stays taken until the job finishes (or fails)."""
    chunks = [rest[i : i + CHUNK_ROWS] for i in range(0, len(rest), CHUNK_ROWS)]
    rejected = sorted(errors + done.rejected, key=lambda r: r.row)
    counts = done.counts()
    status = store.QUEUED if not counts["processed"] else store.RUNNING
    run = _run_record(
        guild_id,
        run_id,
        parsed,
        options=options,
        counts=counts,
        rejected=rejected,
        merged=merged,
        job=True,
        status=status,
        chunks=len(chunks),
    )
    try:
        store.put_run(run)
        with ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="import-chunks") as pool:
            list(
                pool.map(
                    lambda n: contextvars.copy_context().run(store.put_chunk, guild_id, run_id, n, chunks[n]),
                    range(len(chunks)),
                )
            )
        message_queue.enqueue_import([{"guildId": guild_id, "runId": run_id, "chunk": n} for n in range(len(chunks))])
    except Exception:
        store.fail(guild_id, run_id, "could not be queued")
        store.unlock(guild_id, run_id)
        raise
    logger.info(
        "import queued",
        extra={"guildId": guild_id, "runId": run_id, "rows": len(rest), "chunks": run.chunks, **counts},
    )
    return {
        **_answer(
            options,
            parsed,
            imported=counts["imported"],
            unchanged=counts["unchanged"],
            rejected=rejected,
            merged=merged,
        ),
        "jobId": run_id,
        "status": run.status,
        "total": run.total,
        "statusUrl": f"/api/xp/import/{guild_id}/jobs/{run_id}",
    }


def run_chunk(guild_id: str, run_id: str, chunk: int, *, last_attempt: bool) -> dict[str, Any]:
    """The worker's part: apply one chunk of a job once (a chunk already done is skipped), add its counts to
    the job, finish the job after its last chunk. Raises on a failure worth retrying, unless this is the
    queue's last delivery: then the job is marked failed and the guild's lock released."""
    run = store.get_run(guild_id, run_id)
    if run is None or run.status in (store.DONE, store.FAILED):
        return {"skipped": "no such job" if run is None else run.status}
    try:
        if store.chunk_done(guild_id, run_id, chunk):
            return {"skipped": "chunk done"}
        rows = store.get_chunk(guild_id, run_id, chunk)
        if rows is None:
            raise RuntimeError(f"chunk {chunk} of job {run_id} is missing")
        store.mark_running(guild_id, run_id)
        outcome, _ = apply_rows(guild_id, rows, Mode(run.mode), run_id)
        counts = outcome.counts()
        if store.finish_chunk(guild_id, run_id, chunk, counts):
            store.add_errors(guild_id, run_id, [r.as_dict() for r in outcome.rejected], MAX_ERRORS)
    except Exception as exc:
        if not last_attempt:
            raise
        logger.exception("import chunk failed for good", extra={"guildId": guild_id, "runId": run_id, "chunk": chunk})
        _fail(guild_id, run_id, f"chunk {chunk}: {type(exc).__name__}")
        return {"failed": chunk}
    finished = store.complete(guild_id, run_id)
    if finished is not None:
        store.unlock(guild_id, run_id)
        logger.info("import job done", extra={"guildId": guild_id, "runId": run_id, "imported": finished.imported})
    return {"chunk": chunk, **counts}


def _fail(guild_id: str, run_id: str, reason: str) -> None:
    if store.fail(guild_id, run_id, reason):
        store.unlock(guild_id, run_id)
        # rows of the failed chunk may be written without their counter deltas
        recalc_store.mark(guild_id, f"import {run_id} failed: counters to recount")


def job_status(guild_id: str, run_id: str) -> dict[str, Any]:
    """GET /api/xp/import/{guildId}/jobs/{jobId}: a job's (or a finished request's) progress."""
    run = store.get_run(guild_id, run_id) if _valid_run_id(run_id) else None
    if run is None:
        raise NotFound(ErrorCode.JOB_NOT_FOUND, f"No import {run_id} in guild {guild_id}")
    return {
        "jobId": run.run_id,
        "status": run.status,
        "mode": run.mode,
        "format": run.format,
        "received": run.received,
        "total": run.total,
        "processed": run.processed,
        "imported": run.imported,
        "unchanged": run.unchanged,
        "rejected": run.rejected,
        "errors": sorted(run.errors, key=lambda e: int(e.get("row", 0)))[:MAX_ERRORS],
        "roleRewards": run.role_rewards,
        "createdAt": run.created_at,
        "finishedAt": run.finished_at,
        "failure": run.failure,
    }


def _valid_run_id(run_id: str) -> bool:
    return len(run_id) == 24 and run_id.startswith("r") and all(c in "0123456789abcdef" for c in run_id[1:])


def chunk_of(body: str) -> tuple[str, str, int] | None:
    """A queue message's (guildId, runId, chunk), or None for one that is not an import chunk."""
    try:
        data = json.loads(body)
        return str(data["guildId"]), str(data["runId"]), int(data["chunk"])
    except (ValueError, KeyError, TypeError):
        return None
