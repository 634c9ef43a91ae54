"""DynamoDB failing under every write path, on DynamoDB Local (tests/support/faults.py injects the errors).

For each path (XP add inside a level and across one, set, remove, a purchase, a coupon redeem, a purchase
paying a creator, a config update, the import, the message consumer, the rank index) and each fault
(throttling twice over, a cancelled transaction or conflicting write, DynamoDB's 500):
- a few faults: retried inside (botocore's standard mode; the store's loop for cancelled transactions) and
  answered as if nothing happened, or, where nothing retries (a single-item write meeting a transaction),
  503 SERVICE_UNAVAILABLE with Retry-After and nothing written, and the client's retry applies it;
- faults on every attempt: 503 with Retry-After (never a 500), or the record reported failed for SQS or
  the stream to deliver again; nothing half-written; the retry or redelivery applies it once;
- the answer lost after DynamoDB applied the write (a 500 on the way back): the SDK's retry does not apply
  it twice.
Afterwards the stored state is what one successful attempt leaves: member XP and level, audit records,
stats counters and rank counters (checked against a brute-force oracle), credits and ledger, ownership,
coupon uses, creator payouts, config and its version.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from tests.support import shop
from tests.support.faults import CONFLICT, INTERNAL, KINDS, THROTTLE, Fault, inject, key_is, nth_item
from tests.support.imports import check_against_oracle
from tests.support.sqs import consume, message
from tests.support.storage import member_item, new_guild_id, new_user_id, reset_storage_caches
from xpshop.levels import DEFAULT_CURVE
from xpshop.store import keys

T0 = 1_795_400_000_000
MANY = 50  # more faults than any retry policy here tries


@pytest.fixture(autouse=True)
def quick_backoff(ddb_local, monkeypatch):
    """The store's retry policy as deployed (attempts, conditions), with botocore's pauses capped at 5 ms."""
    from xpshop.store import table

    monkeypatch.setattr(table, "MAX_BACKOFF_SECONDS", 0.005)
    reset_storage_caches()


def _unavailable(r: Any) -> None:
    assert r.status == 503, r.body
    assert r.error["code"] == "SERVICE_UNAVAILABLE"
    assert {k.lower(): v for k, v in r.headers.items()}.get("retry-after") == "1"


def _audits(guild: str, user: str) -> int:
    from xpshop.store import audit

    return len(audit.recent(guild, user))


# ---------------------------------------------------------------- the HTTP write paths


@dataclass
class Path:
    name: str
    operation: str  # the DynamoDB operation of its write
    setup: Callable[[Any], dict[str, Any]]
    send: Callable[[Any, dict[str, Any]], Any]
    once: Callable[[Any, dict[str, Any]], None]  # the state one successful request leaves
    before: Callable[[Any, dict[str, Any]], None]  # the state before it
    match: Callable[[dict[str, Any]], Callable[[dict[str, Any]], bool] | None] = lambda ctx: None


def _member_path(name: str, start: int, method: str, body: dict[str, Any], after: int) -> Path:
    def setup(api: Any) -> dict[str, Any]:
        guild, user = new_guild_id(), new_user_id()
        assert api.put(f"/api/xp/guilds/{guild}").status == 201
        assert api.put(f"/api/xp/users/{guild}/{user}", {"xp": start}).status == 200
        return {"guild": guild, "user": user}

    def state(xp: int, audits: int) -> Callable[[Any, dict[str, Any]], None]:
        def check(api: Any, ctx: dict[str, Any]) -> None:
            check_against_oracle(api, ctx["guild"], {ctx["user"]: (xp, 0)})  # member, stats, ranks
            stored = member_item(ctx["guild"], ctx["user"])
            assert (stored["xp"], stored["level"]) == (xp, DEFAULT_CURVE.level(xp))  # the level kept with it
            assert _audits(ctx["guild"], ctx["user"]) == audits

        return check

    return Path(
        name,
        "UpdateItem",
        setup,
        lambda api, ctx: api.request(method, f"/api/xp/users/{ctx['guild']}/{ctx['user']}", body),
        state(after, 2),
        state(start, 1),
        lambda ctx: key_is(keys.member(ctx["guild"], ctx["user"])),
    )


def _config_setup(api: Any) -> dict[str, Any]:
    guild = new_guild_id()
    assert api.put(f"/api/xp/guilds/{guild}").status == 201
    assert api.put(f"/api/xp/config/{guild}", {"cooldownSeconds": 30}).status == 200
    return {"guild": guild}


def _config_state(rate: float, version: int) -> Callable[[Any, dict[str, Any]], None]:
    def check(api: Any, ctx: dict[str, Any]) -> None:
        from xpshop.store import config

        overrides, stored_version = config.read(ctx["guild"])
        assert overrides.get("xpRate", 1.0) == rate and overrides["cooldownSeconds"] == 30
        assert stored_version == version  # written once: a second write would have bumped it again
        assert api.get(f"/api/xp/config/{ctx['guild']}").data["xpRate"] == rate

    return check


def _info(api: Any, user: str) -> dict[str, Any]:
    r = api.get(f"/api/v1/users/info?id={user}")
    assert r.status == 200, r.body
    return r.body


def _ledger(user: str, kind: str) -> int:
    from xpshop.store import ledger

    entries, _ = ledger.page(user, None, None)
    return sum(e.kind == kind for e in entries)


def _buy_setup(api: Any) -> dict[str, Any]:
    category = shop.category(api)
    hat = shop.cosmetic(api, category, cost=50)
    return {"user": shop.funded_user(api, new_user_id(), 120), "hat": hat["id"]}


def _buy_state(credits: int, owned: bool) -> Callable[[Any, dict[str, Any]], None]:
    def check(api: Any, ctx: dict[str, Any]) -> None:
        body = _info(api, ctx["user"])
        assert body["credits"] == credits
        assert body["cosmetics"]["locker"] == ([ctx["hat"]] if owned else [])
        assert _ledger(ctx["user"], "purchase") == int(owned)

    return check


def _redeem_setup(api: Any) -> dict[str, Any]:
    from xpshop.store import coupons

    code = shop.unique("FAULT")
    assert api.post("/api/v1/coupons/create", {"code": code, "credit_grant": 50, "uses": 10}).status == 201
    return {"user": shop.funded_user(api, new_user_id(), 0), "code": code, "coupon": coupons.code_id(code)}


def _redeem_state(redeemed: bool) -> Callable[[Any, dict[str, Any]], None]:
    def check(api: Any, ctx: dict[str, Any]) -> None:
        from xpshop.store import coupons

        assert _info(api, ctx["user"])["credits"] == (50 if redeemed else 0)
        coupon = coupons.get(ctx["coupon"])
        assert coupon is not None and coupon.used == int(redeemed)
        assert _ledger(ctx["user"], "redeem") == int(redeemed)

    return check


def _payout_setup(api: Any) -> dict[str, Any]:
    from xpshop.store import creators

    creator, buyer = new_user_id(), shop.funded_user(api, new_user_id(), 500)
    code = shop.unique("fault")
    assert api.post("/api/v1/creatorcodes/create", {"code": code, "assigned_user": creator}).status == 201
    assert api.post("/api/v1/creatorcodes/set", {"id": buyer, "code": code}).status == 200
    item = shop.cosmetic(api, shop.category(api), cost=50)
    return {"creator": creator, "buyer": buyer, "item": item["id"], "code": creators.code_id(code)}


def _payout_state(paid: bool) -> Callable[[Any, dict[str, Any]], None]:
    def check(api: Any, ctx: dict[str, Any]) -> None:
        from xpshop.store import creators

        assert _info(api, ctx["buyer"])["credits"] == (450 if paid else 500)
        creator = api.get(f"/api/v1/users/info?id={ctx['creator']}")
        assert (creator.body["credits"] if creator.status == 200 else 0) == (2 if paid else 0)
        assert len(creators.uses(ctx["code"])) == int(paid)
        assert _ledger(ctx["creator"], "creator_payout") == int(paid)
        assert _ledger(ctx["buyer"], "purchase") == int(paid)

    return check


PATHS = [
    _member_path("add", 90, "POST", {"amount": 10}, 100),  # inside the level: one atomic UpdateItem
    _member_path("add-level-up", 90, "POST", {"amount": 100}, 190),  # across a level: the exact write
    _member_path("set", 90, "PUT", {"xp": 5000}, 5000),
    _member_path("remove", 90, "DELETE", {"amount": 40}, 50),
    Path(
        "config",
        "UpdateItem",
        _config_setup,
        lambda api, ctx: api.put(f"/api/xp/config/{ctx['guild']}", {"xpRate": 1.5}),
        _config_state(1.5, 2),
        _config_state(1.0, 1),
        lambda ctx: key_is(keys.guild_config(ctx["guild"])),
    ),
    Path(
        "buy",
        "TransactWriteItems",
        _buy_setup,
        lambda api, ctx: api.post("/api/v1/cosmetics/buy", {"id": ctx["user"], "cosmeticid": ctx["hat"]}),
        _buy_state(70, True),
        _buy_state(120, False),
    ),
    Path(
        "redeem",
        "TransactWriteItems",
        _redeem_setup,
        lambda api, ctx: api.post("/api/v1/coupons/redeem", {"id": ctx["user"], "code": ctx["code"]}),
        _redeem_state(True),
        _redeem_state(False),
    ),
    Path(
        "creator-payout",
        "TransactWriteItems",
        _payout_setup,
        lambda api, ctx: api.post("/api/v1/cosmetics/buy", {"id": ctx["buyer"], "cosmeticid": ctx["item"]}),
        _payout_state(True),
        _payout_state(False),
    ),
]


def _retried_inside(path: Path, kind: str) -> bool:
    """botocore retries throttling and 5xx; the store retries a transaction cancelled by a conflict; a
    single-item write that meets a transaction is answered 503 at once (the client retries)."""
    return kind != CONFLICT or path.operation == "TransactWriteItems"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_a_few_faults_are_retried_or_answered_503(api, path, kind):
    ctx = path.setup(api)
    with inject(Fault(path.operation, kind, times=2, match=path.match(ctx))) as injected:
        r = path.send(api, ctx)
    assert injected.injected >= 1
    if _retried_inside(path, kind):
        assert r.status in (200, 201), r.body
    else:
        _unavailable(r)
        path.before(api, ctx)  # nothing written
        r = path.send(api, ctx)  # the client's retry
        assert r.status in (200, 201), r.body
    path.once(api, ctx)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_faults_on_every_attempt_answer_503_and_write_nothing(api, path, kind):
    ctx = path.setup(api)
    with inject(Fault(path.operation, kind, times=MANY, match=path.match(ctx))) as injected:
        r = path.send(api, ctx)
    _unavailable(r)
    from xpshop.store.table import MAX_ATTEMPTS

    if kind == CONFLICT:
        assert injected.injected in (1, 8)  # once (nothing retries it) or the store's 8 tries
    else:
        assert injected.injected == MAX_ATTEMPTS  # botocore's standard mode, as configured: no more
    path.before(api, ctx)
    assert path.send(api, ctx).status in (200, 201)  # the client's retry, later
    path.once(api, ctx)


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_a_lost_answer_is_not_applied_twice(api, path):
    ctx = path.setup(api)
    with inject(Fault(path.operation, INTERNAL, lost=True, match=path.match(ctx))) as injected:
        r = path.send(api, ctx)
    assert injected.injected == 1
    assert r.status in (200, 201), r.body
    path.once(api, ctx)


def test_the_answer_of_a_lost_write_reports_the_change(api):
    """The SDK's retry of an award whose answer was lost answers what that award changed, not a no-op."""
    ctx = PATHS[1].setup(api)  # at 90 XP
    with inject(Fault("UpdateItem", INTERNAL, lost=True, match=PATHS[1].match(ctx))):
        r = api.post(f"/api/xp/users/{ctx['guild']}/{ctx['user']}", {"amount": 100})
    assert r.data == {"oldXp": 90, "newXp": 190, "oldLevel": 0, "newLevel": 1, "leveledUp": True}


def test_an_award_is_one_member_write_and_nothing_else(api):
    """The request's only write is the member's UpdateItem: a fault on any other write cannot reach it (the
    audit record and counters follow from the stream)."""
    ctx = PATHS[0].setup(api)
    api.before_read()  # the setup's records delivered
    others = Fault("PutItem", THROTTLE, times=MANY), Fault("TransactWriteItems", THROTTLE, times=MANY)
    with inject(*others, Fault("UpdateItem", THROTTLE, times=MANY, match=_not(PATHS[0].match(ctx)))) as injected:
        r = api.post(f"/api/xp/users/{ctx['guild']}/{ctx['user']}", {"amount": 10})
    assert r.status == 200
    assert injected.injected == 0
    PATHS[0].once(api, ctx)


@pytest.mark.parametrize("kind", KINDS)
def test_the_audit_and_counters_failing_on_the_stream_are_written_once_on_redelivery(api, rank_stream, kind):
    """The stream's transaction of audit records and counter deltas fails on every try of the first
    invocation: the batch fails (the award stands), the stream delivers it again, and each change is
    recorded and counted once."""
    ctx = PATHS[0].setup(api)
    rank_stream.drain()
    assert api.post(f"/api/xp/users/{ctx['guild']}/{ctx['user']}", {"amount": 10}).status == 200
    tries = 8 if kind == CONFLICT else 5  # the store's tries for a conflict; botocore's for the others
    with inject(Fault("TransactWriteItems", kind, times=tries, match=_writes_audit)) as injected:
        rank_stream.drain()  # fails, then the poller's next attempt (the redelivery) goes through
    assert injected.injected == tries
    PATHS[0].once(api, ctx)


def test_the_audit_and_counters_whose_answer_was_lost_are_written_once(api, rank_stream):
    ctx = PATHS[1].setup(api)  # across a level
    rank_stream.drain()
    assert api.post(f"/api/xp/users/{ctx['guild']}/{ctx['user']}", {"amount": 100}).status == 200
    with inject(Fault("TransactWriteItems", INTERNAL, lost=True, match=_writes_audit)) as injected:
        rank_stream.drain()
    assert injected.injected == 1
    PATHS[1].once(api, ctx)


def _writes_audit(body: dict[str, Any]) -> bool:
    """The stream's transaction of audit records (not a rank move)."""
    items = body.get("TransactItems", [])
    return any(str(i.get("Put", {}).get("Item", {}).get("SK", {}).get("S", "")).startswith("AUDIT#") for i in items)


def _not(match: Callable[[dict[str, Any]], bool] | None) -> Callable[[dict[str, Any]], bool]:
    return lambda body: match is not None and not match(body)


@pytest.mark.parametrize("times", [2, MANY])
def test_the_idempotency_record_follows_the_same_policy(api, times):
    """Powertools' Idempotency-Key records go through a client with the store's retry policy: a few
    throttles are ridden out, a table that keeps throttling is a 503 before anything is written."""
    ctx = PATHS[0].setup(api)
    prefix = keys.idempotency_pk("")  # whatever the function's name

    def record(body: dict[str, Any]) -> bool:
        return str(body.get("Item", {}).get("PK", {}).get("S", "")).startswith(prefix)

    with inject(Fault("PutItem", THROTTLE, times=times, match=record)) as injected:
        r = api.post(
            f"/api/xp/users/{ctx['guild']}/{ctx['user']}", {"amount": 10}, headers={"Idempotency-Key": ctx["user"]}
        )
    from xpshop.store.table import MAX_ATTEMPTS

    assert injected.injected == min(times, MAX_ATTEMPTS)
    if times < MAX_ATTEMPTS:
        assert r.status == 200, r.body
    else:
        _unavailable(r)
        PATHS[0].before(api, ctx)
    again = api.post(
        f"/api/xp/users/{ctx['guild']}/{ctx['user']}", {"amount": 10}, headers={"Idempotency-Key": ctx["user"]}
    )
    assert again.status == 200 and again.data["newXp"] == 100  # the first answer, or the first application
    PATHS[0].once(api, ctx)


# ---------------------------------------------------------------- the import


def _import_setup(api: Any) -> tuple[str, list[dict[str, Any]]]:
    guild = new_guild_id()
    assert api.put(f"/api/xp/guilds/{guild}").status == 201
    rows = [{"id": new_user_id(), "xp": 100 * (n + 1), "messages": n} for n in range(4)]
    return guild, rows


@pytest.mark.parametrize("kind", KINDS)
def test_an_import_failing_midway_is_answered_503_and_its_retry_imports_once(api, kind, monkeypatch):
    monkeypatch.setenv("IMPORT_SYNC_SECONDS", "600")
    guild, rows = _import_setup(api)
    third = key_is(keys.member(guild, rows[2]["id"]))
    headers = {"Idempotency-Key": f"fault-{guild}"}
    with inject(Fault("UpdateItem", kind, times=MANY, match=third)):
        r = api.post(f"/api/xp/import/{guild}?mode=add", rows, headers=dict(headers))
    _unavailable(r)
    assert member_item(guild, rows[2]["id"]) is None
    again = api.post(f"/api/xp/import/{guild}?mode=add", rows, headers=dict(headers))
    assert again.status == 200, again.body
    api.post(f"/api/xp/recalc/{guild}")  # rows written before the failure left their counters to a recount
    check_against_oracle(api, guild, {r["id"]: (r["xp"], r["messages"]) for r in rows})


def test_an_import_row_whose_answer_was_lost_is_imported_once(api, monkeypatch):
    monkeypatch.setenv("IMPORT_SYNC_SECONDS", "600")
    guild, rows = _import_setup(api)
    api.post(f"/api/xp/import/{guild}", rows)  # the members exist: add mode combines with them
    second = key_is(keys.member(guild, rows[1]["id"]))
    with inject(Fault("UpdateItem", INTERNAL, lost=True, match=second)) as injected:
        r = api.post(f"/api/xp/import/{guild}?mode=add", rows)
    assert injected.injected == 1 and r.status == 200, r.body
    api.post(f"/api/xp/recalc/{guild}")
    check_against_oracle(api, guild, {r["id"]: (2 * r["xp"], 2 * r["messages"]) for r in rows})


@pytest.mark.parametrize("kind", [THROTTLE, CONFLICT, INTERNAL])
def test_an_import_job_chunk_failing_midway_is_delivered_again_and_adds_once(api, import_queue, kind, monkeypatch):
    """The import worker (a chunk of rows per delivery) meets a row that keeps failing: the delivery fails,
    the rows it wrote stand, and the redelivery adds each row once (the others by their run id)."""
    from tests.support.imports import deliver, rows
    from tests.support.sqs import receive_all
    from xpshop.service import imports

    monkeypatch.setenv("IMPORT_SYNC_MAX_ROWS", "20")  # small jobs: two chunks of 20 rows
    monkeypatch.setattr(imports, "CHUNK_ROWS", 20)
    guild = new_guild_id()
    assert api.put(f"/api/xp/guilds/{guild}").status == 201
    listed = rows(40, seed=21)
    job = api.post(f"/api/xp/import/{guild}?mode=add", listed)
    assert job.status == 202, job.body
    chunks = receive_all(import_queue)
    stuck = key_is(keys.member(guild, listed[5]["id"]))
    with inject(Fault("UpdateItem", kind, times=MANY, match=stuck)), pytest.raises(BatchProcessingError):
        deliver(chunks[:1])  # the whole (one-record) batch failed: SQS delivers it again
    assert member_item(guild, listed[5]["id"]) is None
    deliver(chunks)  # the failed chunk again, and the other one
    done = api.get(job.data["statusUrl"]).data
    assert (done["status"], done["imported"]) == ("done", 40)
    assert api.post(f"/api/xp/recalc/{guild}").status == 200
    check_against_oracle(api, guild, {r["id"]: (r["xp"], r.get("messages", 0)) for r in listed})


# ---------------------------------------------------------------- the message consumer


def _consumer_setup(api: Any) -> tuple[str, str, dict[str, Any]]:
    """A member with one message counted; the next message (past the cooldown) is an award inside the level."""
    guild, user = new_guild_id(), new_user_id()
    assert api.put(f"/api/xp/guilds/{guild}").status == 201
    assert consume([message(guild, user, 900_000_000_000_000_001, T0)]) == {"batchItemFailures": []}
    return guild, user, message(guild, user, 900_000_000_000_000_002, T0 + 61_000)


def _failed(bodies: list[dict[str, Any]]) -> int:
    """How many records of this delivery the consumer reported failed (a batch failing whole raises: Lambda
    then fails the invocation and SQS delivers every record again)."""
    try:
        return len(consume(bodies)["batchItemFailures"])
    except BatchProcessingError:
        return len(bodies)


def _consumed_once(api: Any, guild: str, user: str, before_xp: int) -> None:
    stored = member_item(guild, user)
    assert (stored["messages"], stored["xpMessages"]) == (2, 2)
    assert 15 <= stored["xp"] - before_xp <= 25  # one award
    check_against_oracle(api, guild, {user: (stored["xp"], 2)})


@pytest.mark.parametrize("kind", KINDS)
def test_the_consumer_reports_a_failed_record_and_its_redelivery_counts_once(api, kind):
    guild, user, second = _consumer_setup(api)
    before_xp = member_item(guild, user)["xp"]
    with inject(Fault("UpdateItem", kind, times=MANY, match=key_is(keys.member(guild, user)))):
        assert _failed([second]) == 1  # SQS delivers it again
    assert member_item(guild, user)["messages"] == 1
    assert consume([second]) == {"batchItemFailures": []}  # the redelivery
    assert consume([second]) == {"batchItemFailures": []}  # and one more (a duplicate): dropped
    _consumed_once(api, guild, user, before_xp)


@pytest.mark.parametrize("kind", [THROTTLE, INTERNAL])
def test_the_consumer_rides_out_a_few_faults(api, kind):
    guild, user, second = _consumer_setup(api)
    before_xp = member_item(guild, user)["xp"]
    with inject(Fault("UpdateItem", kind, times=2, match=key_is(keys.member(guild, user)))):
        assert consume([second]) == {"batchItemFailures": []}
    _consumed_once(api, guild, user, before_xp)


def test_the_consumer_counts_a_message_whose_answer_was_lost_once(api):
    guild, user, second = _consumer_setup(api)
    before_xp = member_item(guild, user)["xp"]
    member = key_is(keys.member(guild, user))
    with inject(Fault("UpdateItem", INTERNAL, lost=True, match=member)) as injected:
        assert consume([second]) == {"batchItemFailures": []}
    assert injected.injected == 1
    _consumed_once(api, guild, user, before_xp)


def test_the_consumer_counts_stats_once_when_their_answer_is_lost(api):
    guild, user, second = _consumer_setup(api)
    before_xp = member_item(guild, user)["xp"]
    shard = keys.stats_shard(guild, user)
    with inject(Fault("UpdateItem", INTERNAL, lost=True, match=key_is(shard))) as injected:
        assert consume([second]) == {"batchItemFailures": []}
    assert injected.injected == 1
    _consumed_once(api, guild, user, before_xp)


def test_counters_failing_for_good_keep_the_batch_and_mark_a_recount(api):
    """Messages counted on their members stay counted (failing the batch would only make their redelivery
    duplicates); the guild is marked and the recalculation rebuilds the counters."""
    guild, user, second = _consumer_setup(api)
    before_xp = member_item(guild, user)["xp"]
    shard = keys.stats_shard(guild, user)
    with inject(Fault("UpdateItem", THROTTLE, times=MANY, match=key_is(shard))):
        assert consume([second]) == {"batchItemFailures": []}
    assert "Item" in _marker(guild)
    assert api.post(f"/api/xp/recalc/{guild}").status == 200
    _consumed_once(api, guild, user, before_xp)


def _marker(guild: str) -> dict[str, Any]:
    from xpshop.store import keys
    from xpshop.store.table import table

    return dict(table().get_item(Key=keys.recalc_marker(guild), ConsistentRead=True))


# ---------------------------------------------------------------- the rank index (stream consumer)


def _ranked_setup(api: Any, rank_stream: Any) -> tuple[str, dict[str, tuple[int, int]]]:
    guild = new_guild_id()
    assert api.put(f"/api/xp/guilds/{guild}").status == 201
    rank_stream.drain()
    expected = {new_user_id(): (xp, 0) for xp in (50, 1_500, 1_500, 2_000_000)}
    for user, (xp, _) in expected.items():
        assert api.put(f"/api/xp/users/{guild}/{user}", {"xp": xp}).status == 200
    return guild, expected


@pytest.mark.parametrize("kind", KINDS)
def test_a_failed_rank_batch_is_redelivered_and_counted_once(api, rank_stream, kind):
    """The plan's second counter write fails on every try of the first invocation: the batch fails whole
    (ranked items and a counter already written, the plan left pending), the stream delivers it again, the
    plan is finished once and the members' records are refused by their sequence numbers."""
    guild, expected = _ranked_setup(api, rank_stream)
    tries = 8 if kind == CONFLICT else 5  # the store's tries for a conflict; botocore's for the others
    with inject(Fault("UpdateItem", kind, times=tries, match=nth_item(_counts_rank, 1))) as injected:
        rank_stream.drain()
    assert injected.injected == tries
    check_against_oracle(api, guild, expected)


def test_a_rank_move_whose_answer_was_lost_counts_once(api, rank_stream):
    """botocore sends a counter's update again after its answer was lost: the counter refuses a plan it has
    taken (its plan number), so it does not count twice."""
    guild, expected = _ranked_setup(api, rank_stream)
    with inject(Fault("UpdateItem", INTERNAL, lost=True, skip=1, match=_counts_rank)) as injected:
        rank_stream.drain()
    assert injected.injected == 1
    check_against_oracle(api, guild, expected)


def _counts_rank(body: dict[str, Any]) -> bool:
    """A plan's write of a rank counter (GUILD#<g>#RANK#v<n>#...)."""
    return "#RANK#v" in str(body.get("Key", {}).get("PK", {}).get("S", ""))


# ---------------------------------------------------------------- a redrive from the dead-letter queue (RUNBOOK.md)


def test_a_redriven_message_counts_once_and_an_overtaken_one_is_dropped(api):
    """What the runbook promises for MessagesDeadLetterQueue: a message that failed every receive (throttled
    throughout) and was redriven counts once, however many times it is redriven; one that a member's later
    message overtook meanwhile is dropped: lost, never doubled."""
    guild, user, second = _consumer_setup(api)
    before_xp = member_item(guild, user)["xp"]
    older = message(guild, user, 900_000_000_000_000_003, T0 + 200_000)
    with inject(Fault("UpdateItem", THROTTLE, times=MANY, match=key_is(keys.member(guild, user)))):
        for _ in range(5):  # the queue's maxReceiveCount: then SQS moves both to the dead-letter queue
            assert _failed([second, older]) == 2  # the group stops at its first failure
    assert member_item(guild, user)["messages"] == 1
    assert consume([second]) == {"batchItemFailures": []}  # redriven
    assert consume([second]) == {"batchItemFailures": []}  # redriven twice by mistake
    _consumed_once(api, guild, user, before_xp)
    newer = message(guild, user, 900_000_000_000_000_004, T0 + 400_000)
    assert consume([newer]) == {"batchItemFailures": []}  # the member talked on before the redrive
    counted = member_item(guild, user)
    assert consume([older]) == {"batchItemFailures": []}  # redriven late: looks like a redelivery, dropped
    after = member_item(guild, user)
    assert (after["xp"], after["messages"]) == (counted["xp"], counted["messages"]) == (counted["xp"], 3)
    check_against_oracle(api, guild, {user: (after["xp"], 3)})


# ---------------------------------------------------------------- the retry policy itself


def test_the_sdk_tries_five_times_with_its_pauses_capped(ddb_local, monkeypatch):
    """botocore's standard mode as store/table.py configures it: MAX_ATTEMPTS sends of a throttled call,
    each pause at most MAX_BACKOFF_SECONDS (botocore's own backoff would wait up to 1, 2, 4 and 8 s)."""
    import threading
    import time

    from botocore.exceptions import ClientError

    from xpshop.store import table

    monkeypatch.setattr(table, "MAX_BACKOFF_SECONDS", 0.001)
    reset_storage_caches()
    pauses: list[float] = []
    real_sleep, me = time.sleep, threading.get_ident()

    def sleep(seconds: float) -> None:
        if threading.get_ident() != me:  # another thread's pause (a background poller): not this call's
            real_sleep(seconds)
            return
        pauses.append(seconds)

    monkeypatch.setattr(time, "sleep", sleep)
    with inject(Fault("GetItem", THROTTLE, times=MANY)) as injected, pytest.raises(ClientError) as raised:
        table.table().get_item(Key=keys.member(new_guild_id(), new_user_id()))
    assert table.is_throttle(raised.value)
    assert injected.injected == table.MAX_ATTEMPTS == 5
    assert len(pauses) == 4 and all(0 <= p <= 0.001 for p in pauses)
