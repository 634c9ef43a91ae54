"""Rank counters (see xpshop.rank_tree), the position each member is counted at, and the score-index reads
that resolve ties and fill pages.

Once nothing is pending, the counters add up to the members' *ranked* items (the XP a member is counted at,
rank_tree.counted: the bottom of its bucket, and the stream sequence number of the last change applied).
Two kinds of writers keep it so:

- The rank index (`apply`): a guild's member changes of one stream batch become one *plan*. The guild's
  plan item (keys.rank_plan) is read, then the members' ranked items (one BatchGetItem), then the plan is
  taken with one conditional PutItem of that item: the plan's number, and each member's ranked item as read
  and as it will be. Then plain writes, 1 WRU each (a transaction bills 2 an item): each ranked item,
  conditional on its state as read; each counter the plan moves, once, with the plan's net delta (members
  of one batch sharing a counter share its write), conditional on the counter's last plan number `j` being
  lower; and the release (no plan pending, the version set to the plan's number).
- Repairs (the recalculation) and forget: one TransactWriteItems each, the ranked item guarded as read and
  the counters with it, which also bumps the plan item's version and requires that no plan is pending.

Why that is exact whatever fails or races. While a plan is pending nobody else writes the guild's ranked
items or counters: a transaction checks the plan item, another plan must take it. A plan's reads are exact:
the plan item's version was read before them and is still the same when the plan is taken, and every
writer changes it (a transaction bumps it, a plan releases at its own number), so nothing was written in
between (a seqlock). So every ranked item is either still as the plan read it or as the plan makes it, and
a plan left pending (the invocation failed or died midway) is finished by whoever comes next, the
redelivered batch first: ranked items still as read are written, counters whose `j` is lower take the
delta, the plan is released; each step is a no-op when done. A holder writes only within its lease
(`until`, LEASE_MS), gives the plan up when it fails, and nobody takes over a plan not given up before its
lease is past by SLACK_MS, so two never apply one plan at once (and a late write of a plan already finished
is refused: counters by `j`, ranked items by their state). Lambda, besides, never runs two invocations of
one guild's records at once, nor a retry before the failed invocation ended.

An invocation's time is bounded (`deadline`: the rank index's remaining time). It takes or takes over a
plan only with RESERVE_MS left, its lease ends LEASE_END_MS before its deadline at the latest, and it waits
for a pending plan only until RESERVE_MS before it: short of time it fails with Unavailable having written
nothing (a plan met pending stays exactly as it was; its retry takes it over), or, out of lease midway,
gives its plan up, instead of being killed by the Lambda timeout with a plan pending that the retry must
then wait out (lease + slack).

A change inside one bucket (most awards from 1000 XP on) moves no counter and writes nothing, the ranked
item included: it still says where the member is counted, and its sequence number is only compared with
records that move the member. Counter items are small ({n, j}), one partition per parent, so a level is
one Query.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from functools import partial
from typing import Any

from botocore.exceptions import ClientError

from .. import clock, rank_tree, retry
from ..errors import Unavailable
from ..rank_tree import Counter, Position, canonical
from . import keys, tx
from .conditions import Key
from .table import batch_get, client, failed_item, is_condition_failure, plain, resource, table, table_name, write_id

SEQ_WIDTH = 40  # stream sequence numbers are 21-40 digits: zero-padded, they compare as strings
REPAIR_SEQ = "0" * SEQ_WIDTH  # a repair is older than any stream record: the record wins afterwards
PLAN_MEMBERS = 100  # members per plan: the plan item (written twice) stays under ~8 KB
LEASE_MS = 20_000  # a plan's holder writes nothing of it after this long (it fails; the retry finishes it)
# Nobody takes over a plan its holder has not given up before its lease is past by this much: a write the
# holder sent just before its lease ended is answered by then, botocore's retries included (5 tries).
SLACK_MS = 40_000
PATIENCE_MS = 2_000  # how long a repair or forget waits for a pending plan before answering "try later"
# The time an invocation keeps for a plan's writes: it takes (or takes over) a plan, or goes on waiting for
# one, only while this much is left before its deadline. A plan's writes take ~0.1-2.7 s at 512 MB (up to
# 502 writes, CPU bound: PERFORMANCE.md, "Rank index throughput"); 5 s is about twice the slowest, with
# room for a throttled write's retries. Each plan of a batch checks it again, so a batch short of time
# stops between two plans: those applied stay applied, the retry finds them so (their sequence numbers).
RESERVE_MS = 5_000
# A lease ends at least this long before the holder's deadline: a write in flight at its end is answered
# (normally in ms) and the plan given up before Lambda would kill the holder with the plan still held.
LEASE_END_MS = 1_000
# A plan's writes in flight at once: one after another, a plan of 100 members (100-500 writes at ~6 ms) would
# wait 0.6-3 s on DynamoDB; at once, ~0.1-0.2 s (botocore's CPU a request does not overlap: PERFORMANCE.md,
# "Rank index throughput"). They write through store.table's
# client (boto3 clients are thread-safe, resources and Table objects are not), each on a pooled connection
# (table.MAX_POOL_CONNECTIONS).
WRITERS = 16

State = tuple[int, str] | None  # a ranked item as stored, (xp, seq); None: none, the member is not counted
_NAMES = {"#v": "v", "#tok": "tok", "#holder": "holder", "#until": "until", "#plan": "plan"}


def seq_key(sequence_number: str) -> str:
    return sequence_number.zfill(SEQ_WIDTH)


class PlanBroken(RuntimeError):
    """A ranked item of a pending plan is neither as the plan read it nor as it makes it: something wrote it
    without the plan item (never, by the rules above). The batch fails and is retried, and alarms."""


@dataclass(frozen=True, slots=True)
class Entry:
    user_id: str
    before: State
    after: State


@dataclass(frozen=True, slots=True)
class Plan:
    number: int  # the plan item's version + 1: above every counter's `j` so far
    holder: str  # who is applying it (a write id), so a holder knows its own writes of the plan item
    until: int  # epoch ms: the end of the holder's lease
    entries: tuple[Entry, ...]

    def check_lease(self) -> None:
        if clock.now_ms() >= self.until:
            raise Unavailable("The rank index's lease on this guild ran out; the retry finishes the plan")


def _state(item: Mapping[str, Any] | None) -> State:
    return None if item is None else (int(item["xp"]), seq_key(str(item["seq"])))


def _position(state: State, user_id: str) -> Position | None:
    return None if state is None else canonical((state[0], user_id))


def _state_text(state: State) -> str:
    return "" if state is None else f"{state[0]}:{state[1].lstrip('0') or '0'}"


def _parse_state(text: str) -> State:
    if not text:
        return None
    xp, seq = text.split(":")
    return int(xp), seq_key(seq)


def _encode(entries: Iterable[Entry]) -> str:
    return ";".join(f"{e.user_id},{_state_text(e.before)},{_state_text(e.after)}" for e in entries)


def _decode(text: str) -> tuple[Entry, ...]:
    entries = []
    for part in text.split(";"):
        user_id, before, after = part.split(",")
        entries.append(Entry(user_id, _parse_state(before), _parse_state(after)))
    return tuple(entries)


def _as_read(state: State) -> tuple[str, dict[str, Any]]:
    """The condition that the ranked item is still as read: absent, or the same sequence number AND XP. A
    repair moves the XP and keeps the sequence number, so the sequence number alone would let a write based
    on a read from before a repair move the member out of a bucket it has already left."""
    if state is None:
        return "attribute_not_exists(PK)", {}
    return "seq = :seen AND xp = :seen_xp", {":seen": state[1], ":seen_xp": state[0]}


# ---------------------------------------------------------------- the rank index: plans


def apply(
    guild_id: str, changes: Mapping[str, tuple[Position | None, str]], *, deadline: int | None = None
) -> set[str]:
    """Apply the members' changes of one stream batch (user id -> (position after its last record, None:
    removed; that record's sequence number)) once, in plans of PLAN_MEMBERS. A member whose ranked item
    holds this record or a newer one is left alone (a redelivery, or records reordered). Returns the members
    that moved in the counters. `deadline` (epoch ms, clock.now_ms): when the caller is stopped (the rank
    index's remaining time); Unavailable when too little of it is left for the next plan (see above)."""
    users = list(changes)
    moved: set[str] = set()
    for start in range(0, len(users), PLAN_MEMBERS):
        moved |= _apply_plan(guild_id, {u: changes[u] for u in users[start : start + PLAN_MEMBERS]}, deadline)
    return moved


def move(guild_id: str, user_id: str, old: Position | None, new: Position | None, sequence_number: str) -> bool:
    """Apply one member change (old -> new, as the stream record says; None = absent) once: a plan of one.
    Whether the counters changed (False: applied before, or nothing moved)."""
    if canonical(old) == canonical(new):
        return False
    return bool(apply(guild_id, {user_id: (new, sequence_number)}))


def _apply_plan(guild_id: str, changes: Mapping[str, tuple[Position | None, str]], deadline: int | None) -> set[str]:
    for _ in retry.attempts():
        item = _plan_item(guild_id)
        if item is not None and "tok" in item:
            _settle(guild_id, item, LEASE_MS + SLACK_MS, deadline)  # a plan left pending: finished first
            continue
        entries = _entries(_ranked_items(guild_id, list(changes)), changes)
        if not entries:
            return set()
        _check_time(deadline)  # before the take: short of time, nothing of this plan is written
        plan = _take(guild_id, item, entries, deadline)
        if plan is None:
            continue  # written since the version was read (a repair, another plan): read again
        _run(guild_id, plan, fresh=True)
        return {e.user_id for e in entries if _position(e.before, e.user_id) != _position(e.after, e.user_id)}
    raise Unavailable("Rank counters busy (a recalculation repairing this guild); the batch is retried")


def _entries(found: Mapping[str, Mapping[str, Any]], changes: Mapping[str, tuple[Position | None, str]]) -> list[Entry]:
    entries = []
    for user_id, (new, sequence_number) in changes.items():
        seq = seq_key(sequence_number)
        before = _state(found.get(user_id))
        if before is not None and before[1] >= seq:
            continue  # this record, or a newer one, is applied
        if before is None and new is None:
            continue  # not counted, and gone
        # counted == new (a repair got there first): the sequence number alone moves, no counter does
        after = None if new is None else (rank_tree.counted(new[0]), seq)
        entries.append(Entry(user_id, before, after))
    return entries


def _last_start(deadline: int | None) -> float:
    """The last moment a plan may be taken (or a pending one waited for) before `deadline`."""
    return float("inf") if deadline is None else deadline - RESERVE_MS


def _lease_end(deadline: int | None) -> int:
    """The end of a lease taken now by a caller stopped at `deadline` (None: never)."""
    until = clock.now_ms() + LEASE_MS
    return until if deadline is None else min(until, deadline - LEASE_END_MS)


def _check_time(deadline: int | None) -> None:
    if clock.now_ms() > _last_start(deadline):
        raise Unavailable("The rank index is short of time for this guild's plan; the batch is retried")


def _plan_item(guild_id: str) -> dict[str, Any] | None:
    item = table().get_item(Key=keys.rank_plan(guild_id), ConsistentRead=True).get("Item")
    return plain(item) if item else None


def _take(guild_id: str, item: Mapping[str, Any] | None, entries: list[Entry], deadline: int | None) -> Plan | None:
    """Take the guild's plan item for these entries if its version is still as read (None: it is not)."""
    version = int(item["v"]) if item else 0
    plan = Plan(version + 1, write_id(), _lease_end(deadline), tuple(entries))
    kwargs: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(PK)"}
    if item is not None:
        kwargs = {
            "ConditionExpression": "attribute_not_exists(#tok) AND #v = :v",
            "ExpressionAttributeNames": {"#tok": "tok", "#v": "v"},
            "ExpressionAttributeValues": {":v": version},
        }
    stored = {"v": version, "tok": plan.number, "holder": plan.holder, "until": plan.until, "plan": _encode(entries)}
    try:
        _conflicts_retried(lambda: table().put_item(Item={**keys.rank_plan(guild_id), **stored}, **kwargs))
    except ClientError as exc:
        if not is_condition_failure(exc):
            raise
        again = _plan_item(guild_id)  # ours after all when botocore retried a put whose answer was lost
        return plan if again is not None and again.get("holder") == plan.holder else None
    return plan


def _run(guild_id: str, plan: Plan, *, fresh: bool) -> None:
    """Apply a plan taken (`fresh`: just now, nothing of it written) or taken over (some of it may be
    written): ranked items, then counters, then release, the writes of each step at once (WRITERS). Each
    write is a no-op when it is done already."""
    try:
        current = None if fresh else _ranked_items(guild_id, [e.user_id for e in plan.entries])
        todo = []
        for entry in plan.entries:
            if current is not None:
                state = _state(current.get(entry.user_id))
                if state == entry.after:
                    continue
                if state != entry.before:
                    raise PlanBroken(f"ranked item of {entry.user_id} in guild {guild_id}: {state}, plan {entry}")
            todo.append(entry)
        moves = [(_position(e.before, e.user_id), _position(e.after, e.user_id)) for e in plan.entries]
        # Worker threads are named after the caller's (logs, tests). Counters only once every ranked item is
        # written: a taken-over plan then finds each ranked item as read or as made.
        with ThreadPoolExecutor(WRITERS, thread_name_prefix=threading.current_thread().name) as pool:
            _all_at_once(pool, [partial(_write_ranked, guild_id, plan, e) for e in todo])
            deltas = rank_tree.deltas(moves).items()
            _all_at_once(pool, [partial(_add, guild_id, plan, c, d) for c, d in deltas])
        _release(guild_id, plan)
    except BaseException:
        _give_up(guild_id, plan)  # only once nothing of ours is in flight: _all_at_once waited for it
        raise


def _all_at_once(pool: ThreadPoolExecutor, writes: list[Callable[[], None]]) -> None:
    """Run these writes on the pool and wait for every one. After a failure the writes not started yet are
    skipped, and those in flight are still waited for before the failure is raised: the holder gives the
    plan up only when none of its writes can land any more."""
    failed = threading.Event()

    def run(write: Callable[[], None]) -> None:
        if failed.is_set():
            return
        try:
            write()
        except BaseException:
            failed.set()
            raise

    futures = [pool.submit(run, write) for write in writes]
    wait(futures)
    for future in futures:
        future.result()  # the first failure, raised


def _conflicts_retried(write: Callable[[], Any], lease: Plan | None = None) -> None:
    """A plain write, tried again while a transaction holds one of its items (botocore does not retry that:
    a repair's transaction refused by the plan item may still hold a counter for a moment). With `lease`:
    each try only while the plan's lease holds (a try can take botocore's retries, tens of seconds: a try
    after the lease could land after another holder took the plan over)."""
    for attempt in retry.attempts():
        if lease is not None:
            lease.check_lease()
        try:
            write()
            return
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code != "TransactionConflictException" or attempt == retry.ATTEMPTS - 1:
                raise


def _write_ranked(guild_id: str, plan: Plan, entry: Entry) -> None:
    key = keys.ranked(guild_id, entry.user_id)
    condition, values = _as_read(entry.before)
    kwargs: dict[str, Any] = {"ConditionExpression": condition, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
    try:
        if entry.after is None:
            if values:
                kwargs["ExpressionAttributeValues"] = values
            _conflicts_retried(lambda: client().delete_item(TableName=table_name(), Key=key, **kwargs), plan)
        else:
            kwargs["UpdateExpression"] = "SET xp = :xp, seq = :seq"
            kwargs["ExpressionAttributeValues"] = {":xp": entry.after[0], ":seq": entry.after[1], **values}
            _conflicts_retried(lambda: client().update_item(TableName=table_name(), Key=key, **kwargs), plan)
    except ClientError as exc:
        if not is_condition_failure(exc):
            raise
        found = failed_item(exc)
        if _state(found) != entry.after:  # else: its own write, applied once already (a lost answer retried)
            raise PlanBroken(f"ranked item of {entry.user_id} in guild {guild_id}: {_state(found)}") from exc


def _add(guild_id: str, plan: Plan, counter: Counter, delta: int) -> None:
    """Add the plan's delta to one counter, unless it took this plan (or a later one) already."""
    try:
        _conflicts_retried(
            lambda: client().update_item(
                TableName=table_name(),
                Key=keys.rank_counter(guild_id, counter.level, counter.parent, counter.key),
                UpdateExpression="ADD n :d SET j = :j",
                ConditionExpression="attribute_not_exists(j) OR j < :j",
                ExpressionAttributeValues={":d": delta, ":j": plan.number},
            ),
            plan,
        )
    except ClientError as exc:
        if not is_condition_failure(exc):
            raise


def _release(guild_id: str, plan: Plan) -> None:
    try:
        _conflicts_retried(
            lambda: table().update_item(
                Key=keys.rank_plan(guild_id),
                UpdateExpression="SET #v = :n REMOVE #tok, #holder, #until, #plan",
                ConditionExpression="#tok = :n AND #holder = :h",
                ExpressionAttributeNames=_NAMES,
                ExpressionAttributeValues={":n": plan.number, ":h": plan.holder},
            )
        )
    except ClientError as exc:
        if not is_condition_failure(exc):
            raise  # else released already (a retried release whose answer was lost)


def _give_up(guild_id: str, plan: Plan) -> None:
    """The holder failed midway: it writes nothing more of the plan, so anyone may finish it now."""
    with contextlib.suppress(Exception):
        table().update_item(
            Key=keys.rank_plan(guild_id),
            UpdateExpression="SET #until = :zero",
            ConditionExpression="#tok = :n AND #holder = :h",
            ExpressionAttributeNames={"#tok": "tok", "#holder": "holder", "#until": "until"},
            ExpressionAttributeValues={":zero": 0, ":n": plan.number, ":h": plan.holder},
        )


def _settle(guild_id: str, item: Mapping[str, Any] | None, patience_ms: int, deadline: int | None = None) -> None:
    """A plan is pending: wait while its holder may still be applying it, then take it over and finish it
    (given up, or its lease past by SLACK_MS). Unavailable when it is still held after `patience_ms`, or
    RESERVE_MS before `deadline` (the caller's end: it would be killed waiting, or midway through the plan):
    the plan item is then left exactly as found, for the retry to take over."""
    give_up_at = min(clock.now_ms() + patience_ms, _last_start(deadline))
    pause = 0.01
    while item is not None and "tok" in item:
        until = int(item["until"])
        now = clock.now_ms()
        if until == 0 or now > until + SLACK_MS:
            _check_time(deadline)  # ours to finish, if there is time for it
            plan = _take_over(guild_id, item, deadline)
            if plan is not None:
                _run(guild_id, plan, fresh=False)
                return
        elif now >= give_up_at:
            if now >= _last_start(deadline):
                raise Unavailable("A rank plan of this guild is pending past the rank index's time; retried")
            raise Unavailable("Rank counters busy (a batch is being applied); try again shortly")
        else:
            clock.sleep(min(pause, (give_up_at - now) / 1000))  # not past the moment to give up
            pause = min(pause * 2, 0.5)
        item = _plan_item(guild_id)


def _take_over(guild_id: str, item: Mapping[str, Any], deadline: int | None) -> Plan | None:
    plan = Plan(int(item["tok"]), write_id(), _lease_end(deadline), _decode(str(item["plan"])))
    try:
        table().update_item(
            Key=keys.rank_plan(guild_id),
            UpdateExpression="SET #holder = :h, #until = :u",
            ConditionExpression="#tok = :n AND #holder = :was AND #until = :was_until",
            ExpressionAttributeNames={"#tok": "tok", "#holder": "holder", "#until": "until"},
            ExpressionAttributeValues={
                ":h": plan.holder,
                ":u": plan.until,
                ":n": plan.number,
                ":was": item["holder"],
                ":was_until": item["until"],
            },
        )
    except ClientError as exc:
        if not is_condition_failure(exc):
            raise
        again = _plan_item(guild_id)
        return plan if again is not None and again.get("holder") == plan.holder else None
    return plan


# ---------------------------------------------------------------- repairs and forget: transactions


def _counter_updates(guild_id: str, changes: Mapping[Counter, int]) -> list[dict[str, Any]]:
    return [
        tx.update(keys.rank_counter(guild_id, c.level, c.parent, c.key), "ADD n :d", values={":d": d})
        for c, d in changes.items()
    ]


def _no_plan_pending(guild_id: str) -> dict[str, Any]:
    """The plan item in a transaction: no plan pending, and its version bumped (a plan that read before this
    transaction cannot be taken with what it read)."""
    return tx.update(
        keys.rank_plan(guild_id),
        "SET #v = if_not_exists(#v, :zero) + :one",
        "attribute_not_exists(#tok)",
        names={"#v": "v", "#tok": "tok"},
        values={":zero": 0, ":one": 1},
    )


def _ranked_write(
    guild_id: str, user_id: str, new: Position | None, seq: str, guard: tuple[str, dict[str, Any]]
) -> dict[str, Any]:
    key = keys.ranked(guild_id, user_id)
    condition, values = guard
    if new is None:
        return tx.delete(key, condition, values=values or None)
    return tx.update(key, "SET xp = :xp, seq = :seq", condition, values={":xp": new[0], ":seq": seq, **values})


def _try(
    guild_id: str,
    user_id: str,
    move_: tuple[Position | None, Position | None],
    seq: str,
    guard: tuple[str, dict[str, Any]],
) -> bool:
    """One transaction: move the member's ranked item from `counted` to `new` (canonical positions) and the
    counters with it, if the ranked item is as `guard` says. False when it was not (nothing written). A plan
    pending is waited for (PATIENCE_MS)."""
    counted, new = move_
    items = [_ranked_write(guild_id, user_id, new, seq, guard)]
    items += _counter_updates(guild_id, rank_tree.deltas([(counted, new)]))
    items.append(_no_plan_pending(guild_id))
    for _ in retry.attempts():
        try:
            tx.write(items)
        except tx.Cancelled as exc:
            if exc.failed(0):
                return False
            if not exc.failed(len(items) - 1):
                raise
            _settle(guild_id, _plan_item(guild_id), PATIENCE_MS)
            continue
        return True
    raise Unavailable("Rank counters busy; try again shortly")


def forget(guild_id: str, user_id: str) -> bool:
    """Take a member out of the rank counters now (a forgotten member, whose member item is already
    deleted): its ranked item deleted and the counters it sat in decremented, in one transaction guarded by
    the ranked item as read and by the member item still being absent. Returns whether it was taken out.
    The member item's own REMOVE record, when the stream brings it, then finds nothing to move; a record of
    an older change still in flight may count the member again, and that REMOVE record, which always comes
    after it, takes it out again. A member written again since its deletion is left to the stream: its
    records (the removal, then the return) may have been applied already, and the ranked item then counts
    the member as it is now."""
    for _ in retry.attempts():
        item = table().get_item(Key=keys.ranked(guild_id, user_id), ConsistentRead=True).get("Item")
        if item is None:
            return False
        items = [
            _ranked_write(guild_id, user_id, None, str(item["seq"]), _as_read(_state(item))),
            tx.check(keys.member(guild_id, user_id), "attribute_not_exists(PK)"),
        ]
        items += _counter_updates(guild_id, rank_tree.deltas([(from_item(item, user_id), None)]))
        items.append(_no_plan_pending(guild_id))
        try:
            tx.write(items)
        except tx.Cancelled as exc:
            if exc.failed(1):
                return False  # the member is back
            if exc.failed(0):
                continue  # the ranked item moved since it was read: read it again
            if not exc.failed(len(items) - 1):
                raise
            _settle(guild_id, _plan_item(guild_id), PATIENCE_MS)  # a plan pending: then read again
            continue
        return True
    return False


def repair(guild_id: str, members: Iterable[Position]) -> int:
    """Bring the ranked items (and counters) of these members in line with their XP: one BatchGetItem per
    100 members, then for those that differ a fresh read of the member and one transaction each.

    Safe beside the stream: the move is guarded by the ranked item's sequence number and XP as read, and
    keeps the sequence number (a repair is never newer than a record still in flight, which then applies
    over it). The member is read again after its ranked item, so a change the stream applied after the
    caller's read is not undone: whatever the repair writes was the member's XP at or after the ranked
    item's state."""
    fixed = 0
    batch = list(members)
    for start in range(0, len(batch), 100):
        chunk = batch[start : start + 100]
        found = _ranked_items(guild_id, [user for _, user in chunk])
        differ = [user for xp, user in chunk if from_item(found.get(user), user) != canonical((xp, user))]
        if not differ:
            continue
        current = _member_xp(guild_id, differ)
        for user in differ:
            item = found.get(user)
            counted = from_item(item, user)
            target = canonical((current[user], user)) if user in current else None  # None: removed since
            if counted == target:
                continue
            seq = str(item["seq"]) if item else REPAIR_SEQ
            if _try(guild_id, user, (counted, target), seq, _as_read(_state(item))):
                fixed += 1
    return fixed


def from_item(item: Mapping[str, Any] | None, user_id: str) -> Position | None:
    """The position a ranked item counts its member at (None: no ranked item, the member is not counted).
    Canonical as written; canonicalised again so an item of any shape compares with canonical positions."""
    return canonical((int(item["xp"]), user_id)) if item else None


def _ranked_items(guild_id: str, user_ids: list[str]) -> dict[str, dict[str, Any]]:
    found = batch_get([keys.ranked(guild_id, u) for u in user_ids], consistent=True, projection="PK, xp, seq")
    return {str(item["PK"]).rsplit("#", 1)[-1]: plain(item) for item in found}


def _member_xp(guild_id: str, user_ids: list[str]) -> dict[str, int]:
    """user id -> XP now, for the members that exist (strongly consistent)."""
    found = batch_get([keys.member(guild_id, u) for u in user_ids], consistent=True, projection="SK, xp")
    return {keys.user_id_from_member_sk(str(item["SK"])): int(item["xp"]) for item in found}


def counts(guild_id: str, level: str, parent: tuple[int, ...] = ()) -> dict[int, int]:
    """key -> count for the counters under one parent (one Query; zeros left out)."""
    kwargs: dict[str, Any] = {
        "KeyConditionExpression": Key("PK").eq(keys.rank_counters_pk(guild_id, level, parent)),
        "ProjectionExpression": "SK, n",
    }
    found: dict[int, int] = {}
    while True:
        resp = table().query(**kwargs)
        for item in resp.get("Items", []):
            n = int(item.get("n", 0))
            if n:
                found[int(item["SK"])] = n
        if "LastEvaluatedKey" not in resp:
            return found
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def count_scores(guild_id: str, band: int, low_exclusive: int, high_inclusive: int) -> int:
    """How many members of one leaderboard band have a score in (low, high] (COUNT: no items returned)."""
    if high_inclusive <= low_exclusive:
        return 0  # e.g. the lowest user id of its range: nobody in it comes first
    kwargs: dict[str, Any] = {
        "IndexName": keys.LEADERBOARD_INDEX,
        "KeyConditionExpression": Key("board").eq(keys.board(guild_id, band))
        & Key("score").between(low_exclusive + 1, high_inclusive),
        "Select": "COUNT",
    }
    total = 0
    while True:
        resp = table().query(**kwargs)
        total += int(resp.get("Count", 0))
        if "LastEvaluatedKey" not in resp:
            return total
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def scores_from(guild_id: str, band: int, start_score: int, wanted: int) -> list[dict[str, Any]]:
    """Up to `wanted` index entries of one leaderboard band from `start_score` down (leaderboard order);
    fewer when the band ends first."""
    kwargs: dict[str, Any] = {
        "IndexName": keys.LEADERBOARD_INDEX,
        "KeyConditionExpression": Key("board").eq(keys.board(guild_id, band)) & Key("score").lte(start_score),
        "ScanIndexForward": False,
    }
    found: list[dict[str, Any]] = []
    while len(found) < wanted:
        resp = table().query(Limit=wanted - len(found), **kwargs)
        found += resp.get("Items", [])
        if "LastEvaluatedKey" not in resp:
            break
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
    return [plain(item) for item in found]


def import_members(guild_id: str, members: Iterable[Position]) -> None:
    """Ranked items and counters written outright, for a guild loaded in bulk with nothing else writing
    (the bench). Anything live goes through `move` / `repair`."""
    members = [(rank_tree.counted(xp), user) for xp, user in members]
    totals = rank_tree.deltas((None, position) for position in members)
    with resource().Table(table().name).batch_writer() as batch:
        for xp, user in members:
            batch.put_item(Item={**keys.ranked(guild_id, user), "xp": xp, "seq": REPAIR_SEQ})
        for counter, n in totals.items():
            batch.put_item(Item={**keys.rank_counter(guild_id, counter.level, counter.parent, counter.key), "n": n})
