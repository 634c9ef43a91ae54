"""The rank index's plans (store.rank_counters) on DynamoDB Local's real stream, for the interleavings plain
writes open: an invocation failing or dying between two of its writes and the batch delivered again (whole
or bisected), a write applied whose answer was lost, two batches of one guild at once, and a repair or a
forget while a plan is pending. Every one ends with ranks and pages equal to the brute-force oracle.

Without the plan item each of these leaves the counters wrong for good: a ranked item written before a
crash makes the redelivered record look applied (its counters never move), a counter written twice by a
retry or by two holders counts a member twice."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.test_ranking import _check
from tests.support.faults import INTERNAL, Fault, inject, nth_item


def _hold(api: Any) -> tuple[Any, list[dict[str, Any]]]:
    poller = api.before_read.__self__
    seen: list[dict[str, Any]] = []
    poller._invoke = seen.append  # hold the records back
    return poller, seen


def _held(poller: Any, seen: list[dict[str, Any]]) -> list[dict[str, Any]]:
    poller.drain()
    records = [r for event in seen for r in event["Records"]]
    seen.clear()
    return records


def _deliver(records: list[dict[str, Any]]) -> Any:
    """One invocation of the rank index function with these records, as Lambda makes it."""
    from local import REPO_ROOT
    from local.lambdas import invoke
    from local.template import functions, load_template

    return invoke(REPO_ROOT, functions(load_template())["RankIndexFunction"], {"Records": records})


def _apply(records: list[dict[str, Any]]) -> int:
    """The rank index's rank counter work for these records, called directly: `invoke` runs one invocation
    at a time, and these tests run two at once."""
    from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

    from xpshop.service import ranks

    return ranks.apply_records(
        (str(r.dynamodb.sequence_number), r.dynamodb.old_image, r.dynamodb.new_image)
        for r in DynamoDBStreamEvent({"Records": records}).records
        if r.dynamodb is not None
    )


def _rank_write(body: dict[str, Any]) -> bool:
    """A write of the rank index's own items: ranked items, counters, the plan item."""
    return "#RANK" in json.dumps(body.get("Key", {}))


START = [0, 15, 40, 990, 1234, 2500, 700, 31]
MOVES = [15, 40, 55, 1010, 1250, 3100, 40, None]  # below 1000, across 999/1000, inside a hundred, removed


def _members(guild: str, first: int) -> list[str]:
    return [str(first + i * 1_000_000_000_000_007) for i in range(len(START))]


def _start(api: Any, guild: str, *groups: list[str]) -> dict[str, int]:
    members: dict[str, int] = {}
    for users in groups:
        for user, xp in zip(users, START, strict=True):
            assert api.put(f"/api/xp/users/{guild}/{user}", {"xp": xp}).status == 200
        members |= dict(zip(users, START, strict=True))
    _check(api, guild, members)  # the stream applied them (API reads drain it)
    return members


def _move(api: Any, guild: str, users: list[str], members: dict[str, int]) -> None:
    """Every member moves (one is removed); their records are held back by the caller."""
    from xpshop.store import keys, table

    for user, xp in zip(users, MOVES, strict=True):
        if xp is None:
            table.table().delete_item(Key=keys.member(guild, user))
            members.pop(user)
        else:
            assert api.put(f"/api/xp/users/{guild}/{user}", {"xp": xp}).status == 200
            members[user] = xp


def _release_poller(poller: Any) -> None:
    poller._invoke = lambda event: None  # the held records were delivered by hand


@pytest.mark.parametrize("skip", [0, 4, 9, 14])
def test_a_batch_failing_between_two_writes_is_finished_by_its_redelivery(api, guild, skip):
    """The invocation fails at its `skip`-th write of a ranked item, counter or the plan item (every try
    refused): ranked items written, counters half moved. The batch delivered again, bisected, finishes the
    plan left pending and counts each member once."""
    users = _members(guild, 620_000_000_000_000_000)
    members = _start(api, guild, users)
    poller, seen = _hold(api)
    _move(api, guild, users, members)
    records = _held(poller, seen)
    crash = Fault("UpdateItem", INTERNAL, times=5, match=nth_item(_rank_write, skip))  # botocore's 5 tries
    with inject(crash) as injected, pytest.raises(ClientError):
        _deliver(records)
    assert injected.injected == 5
    half = len(records) // 2
    _deliver(records[:half])
    _deliver(records[half:])
    _deliver(records)  # and the whole batch once more
    _release_poller(poller)
    _check(api, guild, members)


def test_a_holder_that_died_is_taken_over_once_its_lease_is_past(api, guild, monkeypatch):
    """The invocation dies midway without giving the plan up (a timeout, a crash of the runtime): a repair
    meanwhile waits and answers 'try later' (the holder may be alive), and the redelivered batch takes the
    plan over only once the holder's lease is past by the slack, then finishes it."""
    from xpshop import clock
    from xpshop.errors import Unavailable
    from xpshop.levels import DEFAULT_CURVE
    from xpshop.service import ranks
    from xpshop.store import members as store
    from xpshop.store import rank_counters

    users = _members(guild, 621_000_000_000_000_000)
    members = _start(api, guild, users)
    poller, seen = _hold(api)
    _move(api, guild, users, members)
    records = _held(poller, seen)
    monkeypatch.setattr(rank_counters, "_give_up", lambda guild_id, plan: None)  # died: nothing more runs
    crash = Fault("UpdateItem", INTERNAL, times=5, match=nth_item(_rank_write, 7))
    with inject(crash), pytest.raises(ClientError):
        _deliver(records)
    pending = rank_counters._plan_item(guild)
    assert pending is not None and "tok" in pending and int(pending["until"]) > 0
    newcomer = str(621_500_000_000_000_001)  # never counted (its record is dropped): the repair counts it
    store.set_xp(guild, newcomer, 500, DEFAULT_CURVE)
    members[newcomer] = 500
    monkeypatch.setattr(rank_counters, "PATIENCE_MS", 0)
    with pytest.raises(Unavailable):  # a repair does not write beside a plan that may still be applied
        ranks.repair(guild, [(500, newcomer)])
    later = int(pending["until"]) + rank_counters.SLACK_MS + 1
    monkeypatch.setattr(clock, "now_ms", lambda: later)
    _deliver(records)
    assert "tok" not in rank_counters._plan_item(guild)
    assert ranks.repair(guild, [(500, newcomer)]) == 1
    _release_poller(poller)
    _check(api, guild, members)


class _SimulatedClock:
    """xpshop.clock with simulated time: sleeping moves it on, nothing waits for real."""

    def __init__(self, now: int) -> None:
        self.now = now
        self.slept = 0

    def now_ms(self) -> int:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept += 1
        self.now += max(1, int(seconds * 1000))


def _rank_items(guild: str) -> list[dict[str, Any]]:
    """The guild's ranked items, counters and plan item, as stored (a scan of the test table: tests only)."""
    from xpshop.store.table import plain, table

    prefix = f"GUILD#{guild}#RANK"
    found, kwargs = [], {}
    while True:
        resp = table().scan(ConsistentRead=True, **kwargs)
        found += [plain(i) for i in resp["Items"] if str(i["PK"]).startswith(prefix)]
        if "LastEvaluatedKey" not in resp:
            return sorted(found, key=lambda i: (str(i["PK"]), str(i["SK"])))
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


@pytest.mark.parametrize("remaining_s", [2, 30])
def test_an_invocation_short_of_time_leaves_a_dead_holders_plan_to_its_retry(api, guild, monkeypatch, remaining_s):
    """The holder died silently (its plan pending, not given up). The next invocation has less time left
    than the holder's lease plus the slack: instead of waiting until Lambda kills it (a timeout, the plan
    still pending), it gives up with the retryable error while it has time left, writing nothing. The
    retry, once the lease is past by the slack, takes the plan over and the counters end exact."""
    from local import REPO_ROOT
    from local.lambdas import FakeLambdaContext, load_handler
    from local.template import functions, load_template
    from xpshop import clock
    from xpshop.errors import Unavailable
    from xpshop.store import rank_counters

    users = _members(guild, 628_000_000_000_000_000)
    members = _start(api, guild, users)
    poller, seen = _hold(api)
    _move(api, guild, users, members)
    records = _held(poller, seen)
    with monkeypatch.context() as dying:
        dying.setattr(rank_counters, "_give_up", lambda guild_id, plan: None)  # died: nothing more runs
        crash = Fault("UpdateItem", INTERNAL, times=5, match=nth_item(_rank_write, 7))
        with inject(crash), pytest.raises(ClientError):
            _deliver(records)
    pending = rank_counters._plan_item(guild)
    assert pending is not None and "tok" in pending and int(pending["until"]) > 0
    stored = _rank_items(guild)

    simulated = _SimulatedClock(clock.now_ms())  # the retry comes at once (the holder's invocation ended)
    monkeypatch.setattr(clock, "now_ms", simulated.now_ms)
    monkeypatch.setattr(clock, "sleep", simulated.sleep)
    spec = functions(load_template())["RankIndexFunction"]
    handler = load_handler(REPO_ROOT, spec)
    started = simulated.now
    short = FakeLambdaContext(spec.logical_id, timeout_s=remaining_s)
    assert remaining_s * 1000 < int(pending["until"]) + rank_counters.SLACK_MS - started  # it cannot take over
    with pytest.raises(Unavailable):
        handler({"Records": records}, short)
    # It gave up with its reserve still left (simulated time: only its pauses moved the clock) ...
    assert simulated.now - started <= max(0, remaining_s * 1000 - rank_counters.RESERVE_MS)
    assert (simulated.slept > 0) == (remaining_s * 1000 > rank_counters.RESERVE_MS)  # waited while it could
    # ... and wrote nothing: the plan item (holder, lease, moves) and every counter and ranked item as left.
    assert _rank_items(guild) == stored

    simulated.now = int(pending["until"]) + rank_counters.SLACK_MS + 1
    _deliver(records)  # the retry, a whole Timeout ahead: takes the plan over and finishes it, then its own
    assert "tok" not in rank_counters._plan_item(guild)
    _release_poller(poller)
    _check(api, guild, members)


def test_a_holder_short_of_time_gives_its_plan_up_before_its_deadline(api, guild, monkeypatch):
    """An invocation takes a plan with little time left: its lease ends before its deadline, so when time
    runs out midway (ranked items written, counters not yet) it stops writing and gives the plan up before
    Lambda would kill it, and its retry takes the plan over at once (no lease + slack to wait out)."""
    from local import REPO_ROOT
    from local.lambdas import FakeLambdaContext, load_handler
    from local.template import functions, load_template
    from xpshop import clock
    from xpshop.errors import Unavailable
    from xpshop.store import rank_counters

    users = _members(guild, 629_000_000_000_000_000)
    members = _start(api, guild, users)
    poller, seen = _hold(api)
    _move(api, guild, users, members)
    records = _held(poller, seen)
    simulated = _SimulatedClock(clock.now_ms())
    monkeypatch.setattr(clock, "now_ms", simulated.now_ms)
    monkeypatch.setattr(clock, "sleep", simulated.sleep)
    remaining_ms = rank_counters.RESERVE_MS + 3_000  # enough to take a plan, less than a lease
    deadline = simulated.now + remaining_ms
    real_add = rank_counters._add

    def slow_add(*args: Any) -> None:  # the counters' turn comes as the invocation's time runs out
        simulated.now = max(simulated.now, deadline - rank_counters.LEASE_END_MS)
        real_add(*args)

    spec = functions(load_template())["RankIndexFunction"]
    with monkeypatch.context() as slow:
        slow.setattr(rank_counters, "_add", slow_add)
        with pytest.raises(Unavailable):
            load_handler(REPO_ROOT, spec)({"Records": records}, FakeLambdaContext(spec.logical_id, remaining_ms / 1000))
    assert simulated.now < deadline  # stopped before Lambda would have
    pending = rank_counters._plan_item(guild)
    assert pending is not None and "tok" in pending and int(pending["until"]) == 0  # given up
    _deliver(records)  # the retry, at the same moment: takes it over at once
    assert "tok" not in rank_counters._plan_item(guild)
    _release_poller(poller)
    _check(api, guild, members)


@pytest.mark.parametrize("operation", ["PutItem", "UpdateItem", "DeleteItem"])
def test_a_write_applied_whose_answer_was_lost_is_not_applied_twice(api, guild, operation):
    """botocore tries again a write whose answer was lost (a 500 after DynamoDB applied it): the take of the
    plan item, a ranked item or counter update, a ranked item deleted. The second try is refused by its
    condition and taken for what it is."""
    users = _members(guild, 622_000_000_000_000_000)
    members = _start(api, guild, users)
    poller, seen = _hold(api)
    _move(api, guild, users, members)
    records = _held(poller, seen)
    for skip in range(3):
        lost = Fault(operation, INTERNAL, times=1, skip=skip, lost=True, match=_rank_write)
        with inject(lost) as injected:
            _deliver(records[: len(records) - skip])
        assert injected.injected <= 1
    _release_poller(poller)
    _check(api, guild, members)


def _blocking_counters(monkeypatch: Any, blocked: threading.Event, go: threading.Event) -> None:
    """The first counter write of the thread named 'holder' (or of its plan's writer threads, named after
    it) waits for `go` (its ranked items are written, its counters not yet)."""
    from xpshop.store import rank_counters

    real_add = rank_counters._add

    def add(*args: Any) -> None:
        if threading.current_thread().name.startswith("holder") and not blocked.is_set():
            blocked.set()
            assert go.wait(60)
        real_add(*args)

    monkeypatch.setattr(rank_counters, "_add", add)


def _meets_the_pending_plan(monkeypatch: Any, met: threading.Event, go: threading.Event) -> None:
    """Whoever meets the pending plan (waits in _settle) lets the holder go on."""
    from xpshop.store import rank_counters

    real_settle = rank_counters._settle

    def settle(*args: Any) -> None:
        met.set()
        go.set()
        real_settle(*args)

    monkeypatch.setattr(rank_counters, "_settle", settle)


def _in_thread(name: str, work: Any) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    thread = threading.Thread(target=run, name=name)
    thread.start()
    return thread, errors


def _holder_blocked(
    monkeypatch: Any, records: list[dict[str, Any]]
) -> tuple[threading.Thread, list[BaseException], threading.Event]:
    """Apply `records` in a thread named 'holder' that stops at its first counter write (its plan pending:
    ranked items written, counters not yet) until someone meets the pending plan. Returns once it is
    stopped there: the thread, its errors, and whether someone met the plan."""
    blocked, go, met = threading.Event(), threading.Event(), threading.Event()
    _blocking_counters(monkeypatch, blocked, go)
    _meets_the_pending_plan(monkeypatch, met, go)
    holder, errors = _in_thread("holder", lambda: _apply(records))
    assert blocked.wait(60)
    return holder, errors, met


def _holder_finished(holder: threading.Thread, errors: list[BaseException], met: threading.Event) -> None:
    """The holder went on and finished without an error, after someone met its pending plan."""
    holder.join(60)
    assert not holder.is_alive() and errors == []
    assert met.is_set()


@pytest.mark.parametrize("second", ["other members", "the same batch"])
def test_two_batches_of_one_guild_at_once(api, guild, monkeypatch, second):
    """One invocation holds the guild's plan (ranked items written, counters not yet) while another brings
    records of other members sharing its counters, or the same batch again: the second waits for the plan
    to be released, then applies its own (or finds everything applied)."""
    users = _members(guild, 623_000_000_000_000_000)
    others = _members(guild, 624_000_000_000_000_000)
    members = _start(api, guild, users, others)
    poller, seen = _hold(api)
    _move(api, guild, users, members)
    first = _held(poller, seen)
    _move(api, guild, others, members)
    other = _held(poller, seen)
    holder, holder_errors, met = _holder_blocked(monkeypatch, first)
    _apply(other if second == "other members" else first)
    _holder_finished(holder, holder_errors, met)  # the second invocation did meet the pending plan
    if second == "the same batch":
        _deliver(other)
    _release_poller(poller)
    _check(api, guild, members)


def test_a_repair_while_a_plan_is_pending_waits_for_it(api, guild, monkeypatch):
    """The recalculation repairs a member whose ranked item a pending plan has just moved (its counters not
    yet): the repair's transaction is refused by the plan item, waits for the release, and moves the member
    from where the plan left it."""
    from xpshop.levels import DEFAULT_CURVE
    from xpshop.service import ranks
    from xpshop.store import members as store

    users = _members(guild, 625_000_000_000_000_000)
    members = _start(api, guild, users)
    poller, seen = _hold(api)
    _move(api, guild, users, members)
    records = _held(poller, seen)
    holder, holder_errors, met = _holder_blocked(monkeypatch, records)
    store.set_xp(guild, users[0], 333, DEFAULT_CURVE)  # moved again; its record held back
    members[users[0]] = 333
    assert ranks.repair(guild, [(333, users[0])]) == 1
    _holder_finished(holder, holder_errors, met)
    _check(api, guild, members)  # now the held record arrives too: nothing more to move


def test_a_forget_while_a_plan_is_pending_waits_for_it(api, guild, monkeypatch):
    """Forget takes a member out while a pending plan has moved it (its counters not yet): it waits for the
    plan, then takes the member out from where the plan counted it."""
    from xpshop.service import members as service

    users = _members(guild, 626_000_000_000_000_000)
    members = _start(api, guild, users)
    poller, seen = _hold(api)
    _move(api, guild, users, members)
    records = _held(poller, seen)
    holder, holder_errors, met = _holder_blocked(monkeypatch, records)
    assert service.forget(guild, users[1])["removed"]["rankedEntries"] == 1
    members.pop(users[1])
    _holder_finished(holder, holder_errors, met)
    _check(api, guild, members)


def test_a_late_counter_write_of_a_finished_plan_is_refused(api, guild):
    """A holder's write arriving after its plan was finished by someone else (and later plans applied) does
    not count again: a counter takes a plan only while its last plan number is lower."""
    from xpshop import rank_tree
    from xpshop.store import rank_counters

    users = _members(guild, 627_000_000_000_000_000)
    members = _start(api, guild, users)
    version = int(rank_counters._plan_item(guild)["v"])
    old = rank_counters.Plan(version, "gone", 2**62, ())  # the last plan applied, as its holder had it
    counter = rank_tree.counters(START[1], users[1])[0]  # A(0): every member's
    rank_counters._add(guild, old, counter, 1)
    _check(api, guild, members)
