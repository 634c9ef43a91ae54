"""Imports (issue 15) in the table: one guarded UpdateItem per member row, no read first; the import record
(a request answered at once, or a background job) with its progress; a job's chunks of rows; the guild's
import lock.

A member row is one `UpdateItem` that writes the member's XP with its level, progress and leaderboard score
(derived with the guild's curve, exactly what an award writes), the run's id (`importRun`) and, when the row
has it, the message count. Its condition says when the write is due:

- `replace`: the member is absent or differs from the row (an equal member is not rewritten: no stream
  record, nothing for the rank index or the effects to do);
- `max`: the member is absent or below the row;
- `add`: the member is absent.

When the condition fails, DynamoDB hands back the item (ReturnValuesOnConditionCheckFailure), so the exact
values are computed from it and written with a second UpdateItem guarded by the XP seen (a concurrent award
wins and the row is tried again from the item handed back). Every write also requires that the member does
not carry this run's id yet: a chunk delivered again after a crash never adds twice, and the row is reported
`already` (its counter delta is then unknown: the service asks the recalculation to recount the guild).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from .. import retry
from ..clock import now_ms
from ..errors import Unavailable
from ..levels import Curve
from ..transfer import Mode, Row, refusal, target
from . import keys, tx
from .members import LEVEL_IMPORTED as SOURCE
from .members import MAX_ATTEMPTS, Change
from .table import batch_get, failed_item, is_condition_failure, plain, table

IMPORTED, UNCHANGED, ALREADY, REJECTED = "imported", "unchanged", "already", "rejected"
RUN_ATTRIBUTE = "importRun"
CHUNK_TTL_DAYS = 7
DEFAULT_RETENTION_DAYS = 90  # the import record is the import's audit trail: kept as long as audit records


@dataclass(frozen=True, slots=True)
class Applied:
    """What one row did: `outcome` IMPORTED (changed the member: `change`, `messages` delta), UNCHANGED,
    ALREADY (written by this run before: a redelivery) or REJECTED (`reason`)."""

    outcome: str
    change: Change | None = None
    messages: int = 0
    reason: str | None = None


_SET = (
    "SET xp = :xp, #level = :level, inLevel = :in, toNext = :to, score = :score, board = :board, updatedAt = :now, "
    "userId = :uid, guildId = :gid, createdAt = if_not_exists(createdAt, :now), levelSource = :src, "
    "xpMessages = if_not_exists(xpMessages, :zero), #run = :run, "
)
_NOT_THIS_RUN = "(attribute_not_exists(#run) OR #run <> :run)"


def _values(guild_id: str, row: Row, xp: int, curve: Curve, run_id: str) -> dict[str, Any]:
    p = curve.progress(xp)
    return {
        ":xp": xp,
        ":level": p.level,
        ":in": p.in_level,
        ":to": p.to_next,
        ":score": keys.score(xp, row.user_id),
        ":board": keys.board_of(guild_id, p.level, curve.banded),
        ":now": now_ms(),
        ":uid": row.user_id,
        ":gid": guild_id,
        ":src": SOURCE,
        ":zero": 0,
        ":run": run_id,
    }


def _update(key: dict[str, str], expression: str, condition: str, values: dict[str, Any]) -> dict[str, Any] | None:
    """One guarded UpdateItem: the item before it (None when it created the member); raises _Refused with
    the item DynamoDB hands back when the condition fails."""
    names = {"#level": "level", "#run": RUN_ATTRIBUTE}
    if "#hidden" in expression or "#hidden" in condition:  # DynamoDB refuses a name the expressions don't use
        names["#hidden"] = "hidden"  # HIDDEN is one of DynamoDB's reserved words
    try:
        resp = table().update_item(
            Key=key,
            UpdateExpression=expression,
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_OLD",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        if not is_condition_failure(exc):
            raise
        raise _Refused(plain(failed_item(exc)) or None) from None
    return plain(resp.get("Attributes")) or None


class _Refused(Exception):
    def __init__(self, seen: dict[str, Any] | None) -> None:
        super().__init__("condition failed")
        self.seen = seen


_HIDE = ", #hidden = :hidden"  # a row that says hidden: the member is hidden (an import never shows one)
_SHOWN = "attribute_not_exists(#hidden)"  # shown: the flag is absent (service/members.set_privacy)


def _first_write(mode: Mode, row: Row) -> tuple[str, str, dict[str, Any]]:
    """(messages clause, condition, extra values) of the first attempt; a row that says hidden also sets the
    flag, and under `replace` is due when only the flag differs (`add` and `max` combine it with the stored
    member in the second write)."""
    clause, condition, extra = _first_write_of_counts(mode, row)
    if row.hidden is not True:
        return clause, condition, extra
    if mode is Mode.REPLACE:
        condition = condition[:-1] + f" OR {_SHOWN})"
    return clause + _HIDE, condition, {**extra, ":hidden": True}


def _first_write_of_counts(mode: Mode, row: Row) -> tuple[str, str, dict[str, Any]]:
    if mode is Mode.ADD:
        return "messages = :m", "attribute_not_exists(PK)", {":m": row.messages or 0}
    if mode is Mode.REPLACE:
        if row.messages is None:
            return (
                "messages = if_not_exists(messages, :zero)",
                f"{_NOT_THIS_RUN} AND (attribute_not_exists(PK) OR xp <> :xp)",
                {},
            )
        return (
            "messages = :m",
            f"{_NOT_THIS_RUN} AND (attribute_not_exists(PK) OR xp <> :xp OR attribute_not_exists(messages) "
            "OR messages <> :m)",
            {":m": row.messages},
        )
    if row.messages is None:
        return (
            "messages = if_not_exists(messages, :zero)",
            f"{_NOT_THIS_RUN} AND (attribute_not_exists(PK) OR xp < :xp)",
            {},
        )
    return (
        "messages = :m",
        f"{_NOT_THIS_RUN} AND (attribute_not_exists(PK) OR (xp < :xp AND messages <= :m))",
        {":m": row.messages},
    )


def apply_row(guild_id: str, row: Row, mode: Mode, curve: Curve, run_id: str) -> Applied:
    """Apply one row to its member (see the module docstring): one UpdateItem when the member is absent (any
    mode) or, for `replace`, always; two when `add` or `max` must combine the file with a stored member."""
    key = keys.member(guild_id, row.user_id)
    clause, condition, extra = _first_write(mode, row)
    first_xp = row.xp
    try:
        old = _update(key, _SET + clause, condition, {**_values(guild_id, row, first_xp, curve, run_id), **extra})
        return _applied(old, first_xp, curve, messages=row.messages)
    except _Refused as refused:
        seen = refused.seen
    for _ in retry.attempts(MAX_ATTEMPTS, base=0.005, cap=0.1):
        if seen is None:  # gone since (members are not deleted today): create it as the first write would
            seen = {"xp": 0, "level": 0, "messages": 0, "_absent": True}
        if seen.get(RUN_ATTRIBUTE) == run_id:
            return Applied(ALREADY)
        stored_xp, stored_messages = int(seen.get("xp", 0)), int(seen.get("messages", 0) or 0)
        new_xp, new_messages = target(mode, stored_xp, stored_messages, row.xp, row.messages)
        too_large = refusal(new_xp)
        if too_large:
            return Applied(REJECTED, reason=too_large)
        hide = row.hidden is True and seen.get("hidden") is not True
        if (new_xp, new_messages) == (stored_xp, stored_messages) and not seen.get("_absent") and not hide:
            return Applied(UNCHANGED)
        values = _values(guild_id, row, new_xp, curve, run_id)
        clause, condition = _exact_write(mode, row, seen, new_messages, values)
        try:
            old = _update(key, _SET + clause, condition, values)
        except _Refused as again:
            seen = again.seen
            continue
        if mode is Mode.ADD and not seen.get("_absent"):  # added atomically: the delta is the row's
            return _applied(old, new_xp, curve, added_messages=row.messages or 0)
        return _applied(old, new_xp, curve, messages=new_messages)
    raise Unavailable("Members are being updated concurrently; retry shortly")


def _exact_write(
    mode: Mode, row: Row, seen: dict[str, Any], new_messages: int, values: dict[str, Any]
) -> tuple[str, str]:
    """(messages clause, condition) of a write of the values computed from `seen` (the item the refused write
    handed back), guarded by what was seen; `values` gets the ones they use."""
    stored_xp, stored_messages = int(seen.get("xp", 0)), int(seen.get("messages", 0) or 0)
    if seen.get("_absent"):
        condition, clause = "attribute_not_exists(PK)", "messages = :m"
        values[":m"] = new_messages
    elif mode is Mode.ADD:  # messages added atomically: a message counted meanwhile is kept
        condition, clause = f"xp = :seen AND {_NOT_THIS_RUN}", "messages = if_not_exists(messages, :zero) + :dm"
        values.update({":seen": stored_xp, ":dm": row.messages or 0})
    else:
        guard = "messages = :seenm" if "messages" in seen else "attribute_not_exists(messages)"
        condition, clause = f"xp = :seen AND {guard} AND {_NOT_THIS_RUN}", "messages = :m"
        values.update({":seen": stored_xp, ":m": new_messages})
        if "messages" in seen:
            values[":seenm"] = stored_messages
    if row.hidden is True:
        clause += _HIDE
        values[":hidden"] = True
    return clause, condition


def _applied(
    old: dict[str, Any] | None,
    new_xp: int,
    curve: Curve,
    *,
    messages: int | None = None,
    added_messages: int | None = None,
) -> Applied:
    """The change one write made, from the item before it (`old`, ALL_OLD): the message count delta is the
    count written (`messages`; None: the stored count stayed) or, when the write added it, `added_messages`
    (a message counted meanwhile is then not mistaken for part of the import)."""
    old_xp = int(old["xp"]) if old else 0
    old_messages = int(old.get("messages", 0) or 0) if old else 0
    delta = 0 if messages is None else messages - old_messages
    if added_messages is not None:
        delta = added_messages
    change = Change(
        created=old is None,
        old_xp=old_xp,
        new_xp=new_xp,
        old_level=int(old.get("level", 0)) if old else 0,
        new_level=curve.level(new_xp),
    )
    return Applied(IMPORTED, change, delta)


def stored_progress(guild_id: str, user_ids: list[str]) -> dict[str, tuple[int, int, bool]]:
    """(xp, messages, hidden) of those of these members who have an item: one BatchGetItem per 100 (a dry
    run's prediction; nothing is written)."""
    if not user_ids:
        return {}
    found = batch_get(
        [keys.member(guild_id, u) for u in dict.fromkeys(user_ids)],
        consistent=False,
        projection="SK, xp, messages, #hidden",
        names={"#hidden": "hidden"},
    )
    return {
        keys.user_id_from_member_sk(str(item["SK"])): (
            int(item.get("xp", 0)),
            int(item.get("messages", 0) or 0),
            item.get("hidden") is True,
        )
        for item in (plain(i) for i in found)
    }


# ---------------------------------------------------------------- the guild's lock


def lock(guild_id: str, run_id: str, until_ms: int) -> str | None:
    """Take the guild's import lock for `run_id` until `until_ms` (one conditional put). None when taken;
    otherwise the run holding it."""
    now = now_ms()
    try:
        table().put_item(
            Item={**keys.import_lock(guild_id), "runId": run_id, "until": until_ms, "lockedAt": now},
            ConditionExpression="attribute_not_exists(PK) OR #until < :now OR runId = :run",
            ExpressionAttributeNames={"#until": "until"},
            ExpressionAttributeValues={":now": now, ":run": run_id},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        if not is_condition_failure(exc):
            raise
        return str((failed_item(exc) or {}).get("runId", "?"))
    return None


def unlock(guild_id: str, run_id: str) -> None:
    """Release the lock if `run_id` still holds it."""
    try:
        table().delete_item(
            Key=keys.import_lock(guild_id),
            ConditionExpression="runId = :run",
            ExpressionAttributeValues={":run": run_id},
        )
    except ClientError as exc:
        if not is_condition_failure(exc):
            raise


# ---------------------------------------------------------------- the import record

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


@dataclass(frozen=True, slots=True)
class ImportRun:
    run_id: str
    guild_id: str
    job: bool  # a background job (else a request answered at once)
    status: str
    mode: str
    format: str
    received: int
    total: int  # valid rows to apply
    processed: int = 0
    imported: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    chunks: int = 0
    role_rewards: dict[str, Any] | None = None
    created_at: int = 0
    finished_at: int | None = None
    failure: str | None = None

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> ImportRun:
        item = plain(item)
        return cls(
            run_id=str(item["runId"]),
            guild_id=str(item["guildId"]),
            job=bool(item.get("job")),
            status=str(item["status"]),
            mode=str(item["mode"]),
            format=str(item.get("format", "")),
            received=int(item.get("received", 0)),
            total=int(item.get("total", 0)),
            processed=int(item.get("processed", 0)),
            imported=int(item.get("imported", 0)),
            unchanged=int(item.get("unchanged", 0)),
            rejected=int(item.get("rejected", 0)),
            errors=list(item.get("errors") or []),
            chunks=int(item.get("chunks", 0)),
            role_rewards=item.get("roleRewards"),
            created_at=int(item.get("createdAt", 0)),
            finished_at=int(item["finishedAt"]) if item.get("finishedAt") is not None else None,
            failure=item.get("failure"),
        )

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            **keys.import_run(self.guild_id, self.run_id),
            "runId": self.run_id,
            "guildId": self.guild_id,
            "job": self.job,
            "status": self.status,
            "mode": self.mode,
            "format": self.format,
            "received": self.received,
            "total": self.total,
            "processed": self.processed,
            "imported": self.imported,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "errors": self.errors,
            "chunks": self.chunks,
            "createdAt": self.created_at,
            "ttl": self.created_at // 1000 + _retention_days() * 86_400,
        }
        if self.role_rewards is not None:
            item["roleRewards"] = self.role_rewards
        if self.finished_at is not None:
            item["finishedAt"] = self.finished_at
        return item


def _retention_days() -> int:
    return int(os.environ.get("AUDIT_RETENTION_DAYS", DEFAULT_RETENTION_DAYS))


def put_run(run: ImportRun) -> None:
    table().put_item(Item=run.to_item())


def get_run(guild_id: str, run_id: str) -> ImportRun | None:
    item = table().get_item(Key=keys.import_run(guild_id, run_id), ConsistentRead=True).get("Item")
    return ImportRun.from_item(item) if item else None


def mark_running(guild_id: str, run_id: str) -> None:
    try:
        table().update_item(
            Key=keys.import_run(guild_id, run_id),
            UpdateExpression="SET #status = :running, startedAt = :now",
            ConditionExpression="#status = :queued",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":running": RUNNING, ":queued": QUEUED, ":now": now_ms()},
        )
    except ClientError as exc:
        if not is_condition_failure(exc):
            raise


def finish_chunk(guild_id: str, run_id: str, chunk: int, counts: dict[str, int]) -> bool:
    """Record the chunk applied and add its counts to the job, in one transaction; False when it was already
    (a duplicate delivery finished it first: its counts are in)."""
    run_key = keys.import_run(guild_id, run_id)
    now = now_ms()
    parts = ", ".join(f"#{name} :{name}" for name in counts)  # names: PROCESSED is a reserved word
    try:
        tx.write(
            [
                tx.put(
                    {**keys.import_chunk_done(guild_id, run_id, chunk), "doneAt": now, "ttl": _chunk_ttl(now)},
                    "attribute_not_exists(PK)",
                ),
                tx.update(
                    run_key,
                    f"ADD {parts}",
                    "attribute_exists(PK)",
                    names={f"#{k}": k for k in counts},
                    values={f":{k}": v for k, v in counts.items()},
                ),
            ]
        )
    except tx.Cancelled as exc:
        if exc.failed(0):
            return False
        raise
    return True


def add_errors(guild_id: str, run_id: str, errors: list[dict[str, Any]], limit: int) -> None:
    """Append rejected rows to the record while it lists fewer than `limit` (so it holds at most 2 x limit)."""
    if not errors:
        return
    try:
        table().update_item(
            Key=keys.import_run(guild_id, run_id),
            UpdateExpression="SET errors = list_append(errors, :e)",
            ConditionExpression="size(errors) < :limit",
            ExpressionAttributeValues={":e": errors[:limit], ":limit": limit},
        )
    except ClientError as exc:
        if not is_condition_failure(exc):
            raise


def complete(guild_id: str, run_id: str) -> ImportRun | None:
    """Mark the job done when every row is processed (one conditional write); the run when this call did it."""
    try:
        resp = table().update_item(
            Key=keys.import_run(guild_id, run_id),
            UpdateExpression="SET #status = :done, finishedAt = :now",
            ConditionExpression="#processed >= #total AND #status IN (:queued, :running)",
            ExpressionAttributeNames={"#status": "status", "#total": "total", "#processed": "processed"},
            ExpressionAttributeValues={":done": DONE, ":now": now_ms(), ":queued": QUEUED, ":running": RUNNING},
            ReturnValues="ALL_NEW",
        )
    except ClientError as exc:
        if not is_condition_failure(exc):
            raise
        return None
    return ImportRun.from_item(resp["Attributes"])


def fail(guild_id: str, run_id: str, reason: str) -> bool:
    """Mark the job failed (unless it finished); True when this call did."""
    try:
        table().update_item(
            Key=keys.import_run(guild_id, run_id),
            UpdateExpression="SET #status = :failed, finishedAt = :now, failure = :why",
            ConditionExpression="attribute_exists(PK) AND #status IN (:queued, :running)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":failed": FAILED,
                ":now": now_ms(),
                ":why": reason[:500],
                ":queued": QUEUED,
                ":running": RUNNING,
            },
        )
    except ClientError as exc:
        if not is_condition_failure(exc):
            raise
        return False
    return True


# ---------------------------------------------------------------- a job's chunks of rows


def _chunk_ttl(now: int) -> int:
    return now // 1000 + CHUNK_TTL_DAYS * 86_400


def put_chunk(guild_id: str, run_id: str, chunk: int, rows: list[Row]) -> None:
    """A chunk's rows as one compact item (2,000 rows ~ 90 KB, under DynamoDB's 400 KB), written once."""
    # a row that says hidden has a fifth entry (1); other rows are as chunks written before it existed
    packed = json.dumps(
        [[r.row, r.user_id, r.xp, r.messages, *([1] if r.hidden else [])] for r in rows], separators=(",", ":")
    )
    now = now_ms()
    table().put_item(
        Item={
            **keys.import_chunk(guild_id, run_id, chunk),
            "rows": packed,
            "count": len(rows),
            "createdAt": now,
            "ttl": _chunk_ttl(now),
        }
    )


def chunk_done(guild_id: str, run_id: str, chunk: int) -> bool:
    return "Item" in table().get_item(Key=keys.import_chunk_done(guild_id, run_id, chunk), ConsistentRead=True)


def get_chunk(guild_id: str, run_id: str, chunk: int) -> list[Row] | None:
    """A chunk's rows, or None when it is not there (expired, or never written)."""
    item = table().get_item(Key=keys.import_chunk(guild_id, run_id, chunk), ConsistentRead=True).get("Item")
    if not item:
        return None
    return [
        Row(int(n), str(u), int(x), None if m is None else int(m), True if hidden else None)
        for n, u, x, m, *hidden in json.loads(item["rows"])
    ]
