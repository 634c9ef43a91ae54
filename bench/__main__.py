"""Measure every /api/xp operation against DynamoDB Local and write docs/PERFORMANCE.md.

For each operation: DynamoDB requests (by API), consumed RCU/WCU (ReturnConsumedCapacity=TOTAL is added
to every call), and in-process latency p50/p95 over repeated calls, on a guild of N members.
Benchmarks are measurements, never tests: nothing here asserts a time.

    python -m bench [--members 2000] [--repeat 30] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import board
from local import REPO_ROOT, events
from local.ddb import DynamoDBLocal
from local.dev import configure_environment
from local.server import HttpRequest, LocalApi, make_api
from local.template import create_table, load_template

ADMIN_KEY = "bench-admin-key"
TABLE = "xpshop-bench"
GUILD = "900000000000000001"
FIRST_USER = 910000000000000000
OUTPUT = REPO_ROOT / "docs" / "PERFORMANCE.md"


READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}


@dataclass
class Meter:
    """Counts DynamoDB requests and consumed capacity (RCU for reads, WCU for writes) via botocore hooks."""

    calls: Counter[str] = field(default_factory=Counter)
    rcu: float = 0.0
    wcu: float = 0.0

    def attach(self, client: Any) -> None:
        client.meta.events.register("provide-client-params.dynamodb.*", self._ask_capacity)
        client.meta.events.register("before-call.dynamodb.*", self._count)
        client.meta.events.register("after-call.dynamodb.*", self._capacity)

    def reset(self) -> None:
        self.calls.clear()
        self.rcu = self.wcu = 0.0

    @staticmethod
    def _ask_capacity(params: dict[str, Any], model: Any, **_: Any) -> None:
        if "ReturnConsumedCapacity" in model.input_shape.members:
            params.setdefault("ReturnConsumedCapacity", "TOTAL")

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1

    def _capacity(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        consumed = parsed.get("ConsumedCapacity")
        entries = consumed if isinstance(consumed, list) else [consumed] if consumed else []
        units = sum(float(e.get("CapacityUnits", 0) or 0) for e in entries)
        if model.name in READS:
            self.rcu += units
        else:
            self.wcu += units


@dataclass
class Row:
    name: str
    requests: float
    by_api: str
    rcu: float
    wcu: float
    p50: float
    p95: float


def call(api: LocalApi, method: str, path: str, body: Any = None) -> dict[str, Any]:
    payload = json.dumps(body).encode() if body is not None else b""
    headers = [("host", "bench"), ("x-api-key", ADMIN_KEY), ("content-type", "application/json")]
    response = api.handle(HttpRequest(method, path, headers, payload))
    if response.status >= 300:
        raise RuntimeError(f"{method} {path} -> {response.status} {response.body[:300]!r}")
    return json.loads(response.body)


def measure(api: LocalApi, meter: Meter, name: str, op: Callable[[int], tuple[str, str, Any]], repeat: int) -> Row:
    latencies: list[float] = []
    meter.reset()
    for i in range(repeat):
        method, path, body = op(i)
        started = time.perf_counter()
        call(api, method, path, body)
        latencies.append((time.perf_counter() - started) * 1000)
    total = sum(meter.calls.values())
    by_api = ", ".join(f"{k} {v / repeat:g}" for k, v in sorted(meter.calls.items()))
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))]
    return Row(name, total / repeat, by_api, meter.rcu / repeat, meter.wcu / repeat, statistics.median(latencies), p95)


def bulk_load(guild: str, count: int, *, fine_bands: bool = False) -> float:
    """Write `count` members straight to the table (BatchWriteItem), then rebuild the guild's counters with
    the recalculation job: loading 100k members through the API would take an hour on DynamoDB Local.
    `fine_bands`: the guild switched to the fine leaderboard bands first (as a guild past
    keys.FINE_BANDS_FROM members is); otherwise it is on its single band, as every smaller guild."""
    from xpshop.levels import DEFAULT_CURVE
    from xpshop.service import curves, ranks, recalc
    from xpshop.store import config, keys
    from xpshop.store.table import table

    if fine_bands:
        config.spread_bands(guild)
    curves.forget(guild)
    fine = curves.curve_for(guild).banded
    started = time.perf_counter()
    positions = []
    with table().batch_writer() as batch:
        for i in range(count):
            user = str(FIRST_USER + i)
            # every 10th member at 0 XP (ranked by user id), every 10th + 1 at 15-25 XP (one message: the big
            # crowd of ties), the rest spread over 0-50k with some ties
            if i % 10 == 0 and i:
                xp = 0
            elif i % 10 == 1:
                xp = 15 + (i // 10) % 11
            else:
                xp = (i * 7919) % 50_000 + (100_000 if i == 0 else 0)
            positions.append((xp, user))
            p = DEFAULT_CURVE.progress(xp)
            batch.put_item(
                Item={
                    **keys.member(guild, user),
                    "userId": user,
                    "guildId": guild,
                    "xp": xp,
                    "level": p.level,
                    "inLevel": p.in_level,
                    "toNext": p.to_next,
                    "score": keys.score(xp, user),
                    "board": keys.board_of(guild, p.level, fine),
                    "messages": 0,
                    "xpMessages": 0,
                }
            )
    # a fresh table as a deployment's first recalculation run leaves it: both layouts recorded, so this run
    # is no whole-table backfill leaving a global recalculation marker behind (while one stands every page,
    # rank COUNT and stats' top member reads all keys.BANDS bands: not what is measured here)
    table().put_item(Item={**keys.rank_layout_record(), "layout": keys.RANK_LAYOUT})
    table().put_item(Item={**keys.board_layout_record(), "layout": keys.BOARD_LAYOUT})
    recalc.run(lambda: 1e9, [guild])  # stats counters
    ranks.import_members(guild, positions)  # rank counters (the stream keeps them from here on)
    return time.perf_counter() - started


def naive_rows(meter: Meter, guild: str, repeat: int, members: int) -> list[Row]:
    """The baseline most bots use: read every member of the guild, sort, pick (here with a Scan)."""
    import boto3
    from boto3.dynamodb.conditions import Attr
    from botocore.config import Config

    from xpshop.store.table import table as store_table

    # A Scan page of 1 MB can take longer than the request path's 5 s timeout on DynamoDB Local at 100k.
    resource = boto3.resource("dynamodb", config=Config(read_timeout=300, retries={"max_attempts": 2}))
    meter.attach(resource.meta.client)
    scanned = resource.Table(store_table().name)

    def everything() -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "FilterExpression": Attr("PK").eq(f"GUILD#{guild}") & Attr("SK").begins_with("MEMBER#")
        }
        items: list[dict[str, Any]] = []
        while True:
            resp = scanned.scan(**kwargs)
            items += resp.get("Items", [])
            if "LastEvaluatedKey" not in resp:
                return items
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def ranked() -> list[dict[str, Any]]:
        return sorted(everything(), key=lambda m: (-int(m["xp"]), int(m["userId"])))

    ops = {
        "naive: leaderboard page, offset 1000": lambda i: ranked()[1000:1010],
        "naive: rank (member in the middle)": lambda i: [m["userId"] for m in ranked()].index(
            str(FIRST_USER + (i * 37) % members)
        ),
        "naive: stats": lambda i: sum(int(m["xp"]) for m in everything()),
    }
    rows = []
    for name, op in ops.items():
        meter.reset()
        latencies = []
        runs = max(2, repeat // 10)
        for i in range(runs):
            started = time.perf_counter()
            op(i)
            latencies.append((time.perf_counter() - started) * 1000)
        latencies.sort()
        total = sum(meter.calls.values())
        by_api = ", ".join(f"{k} {v / runs:g}" for k, v in sorted(meter.calls.items()))
        rows.append(
            Row(
                name,
                total / runs,
                by_api,
                meter.rcu / runs,
                meter.wcu / runs,
                statistics.median(latencies),
                latencies[-1],
            )
        )
    return rows


def import_times() -> list[Any]:
    """Cold import of each function against `import boto3` in the same run (bench/imports.py), in instructions
    too where valgrind is installed (a bench prerequisite: the ratio the machine's load does not move)."""
    import shutil

    from bench import imports

    return imports.measure(count_instructions=shutil.which("valgrind") is not None)


def _import_ms(code: Path, layer: Path, runtime: Path) -> float:
    """Median of 3 fresh processes importing the handler module (`python -X importtime`)."""
    samples = []
    for _ in range(3):
        out = subprocess.run(
            [
                sys.executable,
                "-S",
                "-X",
                "importtime",
                "-c",
                f"import sys; sys.path[:0] = [{str(code)!r}, {str(layer)!r}, {str(runtime)!r}]; import app",
            ],
            capture_output=True,
            text=True,
            check=False,
            env={
                "PATH": os.environ["PATH"],
                "TABLE_NAME": "t",
                "AWS_DEFAULT_REGION": "us-east-1",
                "POWERTOOLS_TRACE_DISABLED": "true",
                "PYTHONDONTWRITEBYTECODE": "1",  # /opt is read-only on Lambda: only shipped bytecode counts
            },
        )
        line = next((ln for ln in out.stderr.splitlines() if ln.rstrip().endswith("| app")), None)
        if line:
            samples.append(int(line.split("|")[1]) / 1000)
    return statistics.median(samples) if samples else float("nan")


def measure_messages(meter: Meter, repeat: int, guild: str) -> list[Row]:
    """The consumer on batches of 10 messages from 10 members (outside cooldown, inside a level): per message,
    without and with the author's display data (written by the same UpdateItem: the requests must match)."""
    return [_measure_messages(meter, repeat, guild, display=shown) for shown in (False, True)]


def _measure_messages(meter: Meter, repeat: int, guild: str, *, display: bool) -> Row:
    import json as _json

    from local.lambdas import FakeLambdaContext, load_handler
    from local.template import functions

    spec = functions(load_template())["XpConsumerFunction"]
    handler = load_handler(REPO_ROOT, spec)
    base_mid = 1_400_000_000_000_000_000 + (50_000 if display else 0)
    first_user = FIRST_USER + (5100 if display else 5000)

    def batch(round_: int) -> dict[str, Any]:
        records = []
        for j in range(10):
            user = str(first_user + j)
            body: dict[str, Any] = {
                "messageId": str(base_mid + round_ * 100 + j),
                "guildId": guild,
                "channelId": "300000000000000001",
                "userId": user,
                "roleIds": [],
                "timestamp": 1_795_400_000_000 + round_ * 61_000,
                "bot": False,
            }
            if display:  # a name, a username and an avatar hash, changing every round (each one is written)
                body.update(
                    displayName=f"Member {j} · round {round_}",
                    username=f"member{j}",
                    avatar=f"{round_:04x}{j:028x}",
                )
            records.append(
                events.sqs_record(
                    _json.dumps(body),
                    queue="q.fifo",
                    message_id=f"b{round_}-{j}",
                    receipt_handle="r",
                    attributes={"MessageGroupId": f"{guild}:{user}", "SequenceNumber": str(j)},
                )
            )
        return events.records_event(records)

    handler(batch(0), FakeLambdaContext.for_function(spec))  # members and config cache warm
    meter.reset()
    latencies = []
    for i in range(1, repeat + 1):
        started = time.perf_counter()
        handler(batch(i), FakeLambdaContext.for_function(spec))
        latencies.append((time.perf_counter() - started) * 1000 / 10)
    latencies.sort()
    per = repeat * 10
    by_api = ", ".join(f"{k} {v / per:g}" for k, v in sorted(meter.calls.items()))
    throughput = 1000 / statistics.median(latencies)
    what = "with display data: name, username, avatar" if display else "no display data"
    return Row(
        f"message award via the consumer, {what} (per message; ~{throughput:.0f} msg/s here)",
        sum(meter.calls.values()) / per,
        by_api,
        meter.rcu / per,
        meter.wcu / per,
        statistics.median(latencies),
        latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))],
    )


def _rank_interaction(guild: str, user: str, n: int) -> dict[str, Any]:
    from local.discord_events import APP_ID
    from xpshop.ids import snowflake_at

    return {
        "id": str(snowflake_at(1_795_400_000_000) + n * (1 << 22)),
        "application_id": APP_ID,
        "type": 2,
        "token": f"bench-{n}",
        "guild_id": guild,
        "channel_id": "300000000000000001",
        "member": {"user": {"id": user, "username": "bench"}, "roles": [], "permissions": "0"},
        "data": {"id": "1", "name": "rank", "type": 1},
    }


def measure_discord(meter: Meter, repeat: int, members: int, guild: str) -> list[Row]:
    """The interactions webhook, warm: PING, and /rank of a member in the middle (verify, read, rank, answer,
    plus the command's own XP write)."""
    from local.discord_events import SAMPLE_PUBLIC_KEY, signed_event
    from local.lambdas import FakeLambdaContext, load_handler
    from local.template import functions

    os.environ["DISCORD_PUBLIC_KEY"] = SAMPLE_PUBLIC_KEY
    spec = functions(load_template())["DiscordInteractionsFunction"]
    handler = load_handler(REPO_ROOT, spec)
    rows = []
    for name, make in (
        ("Discord PING (signature check only)", lambda i: {"id": "1", "type": 1}),
        (
            "Discord /rank (member in the middle; includes its command XP write)",
            lambda i: _rank_interaction(guild, str(FIRST_USER + (i * 53) % members), i + 1),
        ),
    ):
        handler(signed_event(make(10_000)), FakeLambdaContext.for_function(spec))  # warm
        meter.reset()
        latencies = []
        for i in range(repeat):
            event = signed_event(make(i))
            started = time.perf_counter()
            result = handler(event, FakeLambdaContext.for_function(spec))
            latencies.append((time.perf_counter() - started) * 1000)
            assert result["statusCode"] == 200, result
        latencies.sort()
        by_api = ", ".join(f"{k} {v / repeat:g}" for k, v in sorted(meter.calls.items()))
        rows.append(
            Row(
                name,
                sum(meter.calls.values()) / repeat,
                by_api or "none",
                meter.rcu / repeat,
                meter.wcu / repeat,
                statistics.median(latencies),
                latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))],
            )
        )
    return rows


COLD_RANK = """
import json, sys, time
code, layer, runtime, ping, rank = sys.argv[1:6]
sys.path[:0] = [code, layer, runtime]
t0 = time.perf_counter()
import app
t1 = time.perf_counter()
app.lambda_handler(json.load(open(ping)), None)
t2 = time.perf_counter()
out = app.lambda_handler(json.load(open(rank)), None)
t3 = time.perf_counter()
assert out["statusCode"] == 200, out
print(json.dumps({"import": (t1 - t0) * 1000, "ping": (t2 - t1) * 1000, "rank": (t3 - t2) * 1000}))
"""


def cold_discord(endpoint: str, members: int, guild: str) -> dict[str, float]:
    """A fresh process with only CodeUri + layer: import, first PING, then the first /rank (median of 3)."""
    import tempfile

    from local.discord_events import SAMPLE_PUBLIC_KEY, signed_event
    from local.layer import build_layer
    from local.template import functions

    layer, runtime = build_layer()
    code = REPO_ROOT / functions(load_template())["DiscordInteractionsFunction"].code_uri
    samples: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(3):
            ping, rank = Path(tmp) / "ping.json", Path(tmp) / "rank.json"
            ping.write_text(json.dumps(signed_event({"id": "1", "type": 1})))
            user = str(FIRST_USER + (n * 101) % members)
            rank.write_text(json.dumps(signed_event(_rank_interaction(guild, user, 20_000 + n))))
            out = subprocess.run(
                [sys.executable, "-S", "-c", COLD_RANK, str(code), str(layer), str(runtime), str(ping), str(rank)],
                capture_output=True,
                text=True,
                check=False,
                env=cold_env(TABLE, endpoint, DISCORD_PUBLIC_KEY=SAMPLE_PUBLIC_KEY),
            )
            if out.returncode == 0:
                samples.append(json.loads(out.stdout.strip().splitlines()[-1]))
            else:
                print(out.stderr[-2000:], file=sys.stderr)
    return {k: statistics.median(s[k] for s in samples) for k in ("import", "ping", "rank")} if samples else {}


def measure_shop(api: LocalApi, meter: Meter, repeat: int) -> list[Row]:
    """Buy, redeem and the reads around them, on a catalog of `repeat` cosmetics."""
    buyer, creator = "920000000000000001", "920000000000000002"
    category = call(api, "POST", "/api/v1/categories/create", {"name": "Bench"})["id"]
    items = [
        call(
            api,
            "POST",
            "/api/v1/cosmetics/create",
            {
                "name": f"Bench hat {i}",
                "type": "hat",
                "description": "d",
                "categoryid": category,
                "cost": 10,
                "showcase_image_url": "https://x/s.png",
                "model_source_url": "https://x/m.cfg",
                "texture_source_url": "https://x/t.png",
            },
        )["id"]
        for i in range(2 * repeat)
    ]
    call(api, "PATCH", "/api/v1/credits/set", {"id": buyer, "new_amount": 10**6})
    call(api, "POST", "/api/v1/creatorcodes/create", {"code": "bench", "assigned_user": creator})
    redeemers = [str(930000000000000000 + i) for i in range(repeat)]
    for user in redeemers:
        call(api, "PATCH", "/api/v1/credits/set", {"id": user, "new_amount": 0})
    call(api, "POST", "/api/v1/coupons/create", {"code": "BENCH", "credit_grant": 5, "cosmetic_grant": items[-1]})
    rows = [
        measure(
            api,
            meter,
            "shop: buy (no creator code)",
            lambda i: ("POST", "/api/v1/cosmetics/buy", {"id": buyer, "cosmeticid": items[i]}),
            repeat,
        )
    ]
    call(api, "POST", "/api/v1/creatorcodes/set", {"id": buyer, "code": "bench"})
    rows += [
        measure(
            api,
            meter,
            "shop: buy (supporting a creator)",
            lambda i: ("POST", "/api/v1/cosmetics/buy", {"id": buyer, "cosmeticid": items[repeat + i]}),
            repeat,
        ),
        measure(
            api,
            meter,
            "shop: redeem (credits + cosmetic)",
            lambda i: ("POST", "/api/v1/coupons/redeem", {"id": redeemers[i], "code": "BENCH"}),
            repeat,
        ),
        measure(api, meter, "shop: users/info", lambda i: ("GET", f"/api/v1/users/info?id={buyer}", None), repeat),
        measure(
            api,
            meter,
            "shop: credits/modify",
            lambda i: ("PATCH", "/api/v1/credits/modify", {"id": buyer, "amount": 1}),
            repeat,
        ),
        measure(api, meter, "shop: cosmetics/shop", lambda i: ("GET", "/api/v1/cosmetics/shop", None), repeat),
    ]
    return rows


def guild_for(size_index: int) -> str:
    return str(int(GUILD) + size_index)


def xp_ops(guild: str, members: int) -> list[tuple[str, Callable[[int], tuple[str, str, Any]]]]:
    u = lambda i: FIRST_USER + 1 + (i * 37) % (members - 1)  # noqa: E731  (index 0 is the top member)
    zero = lambda i: FIRST_USER + 10 * (1 + (i * 31) % max(1, members // 10 - 1))  # noqa: E731  (every 10th: 0 XP)
    crowd = lambda i: zero(i) + 1  # noqa: E731  (every 10th + 1: 15-25 XP)
    ops: list[tuple[str, Callable[[int], tuple[str, str, Any]]]] = [
        ("add XP (same level)", lambda i: ("POST", f"/api/xp/users/{guild}/{u(i)}", {"amount": 1})),
        ("add XP (crossing a level)", lambda i: ("POST", f"/api/xp/users/{guild}/{u(i)}", {"amount": 60_000})),
        ("set XP", lambda i: ("PUT", f"/api/xp/users/{guild}/{u(i)}", {"xp": 1234})),
        ("remove XP", lambda i: ("DELETE", f"/api/xp/users/{guild}/{u(i)}", {"amount": 1})),
        ("get member", lambda i: ("GET", f"/api/xp/users/{guild}/{u(i)}", None)),
    ]
    for offset in (0, 1000, 50_000):
        if offset < members:
            ops.append(
                (
                    f"leaderboard page, offset {offset}",
                    lambda i, o=offset: ("GET", f"/api/xp/leaderboard/{guild}?offset={o}&limit=10", None),
                )
            )
    ops += [
        ("rank (member in the middle)", lambda i: ("GET", f"/api/xp/leaderboard/{guild}/{u(i)}", None)),
        ("rank (member at 0 XP, among the ties)", lambda i: ("GET", f"/api/xp/leaderboard/{guild}/{zero(i)}", None)),
        (
            "rank (member at 15-25 XP, one message's crowd)",
            lambda i: ("GET", f"/api/xp/leaderboard/{guild}/{crowd(i)}", None),
        ),
        ("stats", lambda i: ("GET", f"/api/xp/stats/{guild}", None)),
        ("get config", lambda i: ("GET", f"/api/xp/config/{guild}", None)),
        ("health", lambda i: ("GET", "/api/xp/health", None)),
    ]
    return ops


def measure_stream(meter: Meter, events: list[dict[str, Any]], poller: Any, changes: int) -> list[Row]:
    """The rank index function's work for the XP changes made since `poller` started (it hands the batches
    to `events`), in its two parts: the audit records and counter deltas of the API's XP changes (per
    change), then the rank counters (per member write)."""
    from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

    from xpshop.service import changes as noted
    from xpshop.service import ranks

    delivered = poller.drain()
    records = [
        (str(r.dynamodb.sequence_number), r.dynamodb.old_image, r.dynamodb.new_image)
        for event in events
        for r in DynamoDBStreamEvent(event).records
        if r.dynamodb is not None
    ]
    events.clear()
    audited = _stream_row(
        meter,
        lambda: noted.apply_records(records),
        "stream: audit record + stats counters, per API XP change ({n} changes, one transaction per guild a batch)",
    )
    moved = _stream_row(
        meter,
        lambda: (ranks.apply_records(records), delivered)[1],
        f"rank index (async, from the stream): per member write ({{n}} records, {changes} XP changes)",
    )
    return [audited, moved]


def _stream_row(meter: Meter, work: Callable[[], int], name: str) -> Row:
    meter.reset()
    started = time.perf_counter()
    n = work()
    elapsed = (time.perf_counter() - started) * 1000
    per = max(1, n)
    by_api = ", ".join(f"{k} {v / per:.2f}" for k, v in sorted(meter.calls.items()))
    return Row(
        name.format(n=n),
        sum(meter.calls.values()) / per,
        by_api or "none",
        meter.rcu / per,
        meter.wcu / per,
        elapsed / per,
        elapsed / per,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--members", default="10000,100000", help="guild sizes, comma separated")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--no-write", action="store_true", help="print the table, do not write PERFORMANCE.md")
    parser.add_argument("--no-imports", action="store_true", help="skip the cold-import measurement")
    parser.add_argument(
        "--fine-bands",
        action="store_true",
        help="the guilds on the fine leaderboard bands (as past keys.FINE_BANDS_FROM members) instead of one band",
    )
    parser.add_argument(
        "--board-only",
        action="store_true",
        help="only the web leaderboard (first --members size): replaces its section of PERFORMANCE.md",
    )
    args = parser.parse_args(argv)
    sizes = [int(n) for n in str(args.members).split(",") if n.strip()]
    layer = str(REPO_ROOT / "layers" / "common" / "python")
    if layer not in sys.path:  # the handlers put it there on their first call; the bench imports it first
        sys.path.insert(0, layer)
    template = load_template()
    if args.board_only:
        return board_only(template, sizes[0], args)
    sections: list[Section] = []
    with measured_api(template) as (ddb, api, meter):
        from local.stream import RANK_INDEX, poller_for

        for index, size in enumerate(sizes):
            guild = guild_for(index)
            call(api, "PUT", f"/api/xp/guilds/{guild}")
            load_s = bulk_load(guild, size, fine_bands=args.fine_bands)
            events: list[dict[str, Any]] = []  # the stream's batches, measured part by part
            poller = poller_for(RANK_INDEX, template, ddb.endpoint, TABLE, REPO_ROOT, invoke=events.append)
            poller.start_from_now()
            rows = [measure(api, meter, name, op, args.repeat) for name, op in xp_ops(guild, size)]
            rows += measure_stream(meter, events, poller, 4 * args.repeat)
            baseline = naive_rows(meter, guild, args.repeat, size) if size <= 100_000 else []
            sections.append(Section(size, load_s, rows, baseline))
        first = guild_for(0)
        web = board.measure(api, meter, guild=first, members=sizes[0], first_user=FIRST_USER, repeat=args.repeat)
        other = measure_messages(meter, args.repeat, first)
        other += measure_shop(api, meter, args.repeat)
        other += measure_discord(meter, args.repeat, sizes[0], first)
        cold = {} if args.no_imports else cold_discord(ddb.endpoint, sizes[0], first)
        from bench import cards

        card_lines = cards.section(
            cards.render_rows(max(args.repeat, 100)),
            cards.endpoint_rows(api, meter, args.repeat, guild=first, members=sizes[0], first_user=FIRST_USER),
            {} if args.no_imports else cards.cold_rows(ddb.endpoint, TABLE, first, str(FIRST_USER + sizes[0] // 2)),
            sizes[0],
        )
    imports = [] if args.no_imports else import_times()
    text = cards.insert(
        render(sections, other, imports, args, cold=cold, web=board.section(web, sizes[0], _table)), card_lines
    )
    from bench import cost, keys, transfer

    previous = OUTPUT.read_text(encoding="utf-8") if OUTPUT.is_file() else ""
    text = keys.keep_section(previous, transfer.keep_section(previous, text))
    from bench import capacity, sections

    text = sections.insert(text, capacity.HEADING, capacity.section())  # the model: bench/capacity.py
    text = cost.keep_section(previous, text)  # the cost section (python -m bench.cost) stays at the end
    print(text)
    if not args.no_write:
        OUTPUT.write_text(text, encoding="utf-8")
        print(f"wrote {OUTPUT.relative_to(REPO_ROOT)}", file=sys.stderr)
    return 0


def cold_env(table: str, endpoint: str, **extra: str) -> dict[str, str]:
    """The environment of a cold-start measurement in a fresh process: the table on DynamoDB Local, no
    tracing, and no bytecode written (/opt is read-only on Lambda: only shipped bytecode counts)."""
    return {
        "PATH": os.environ["PATH"],
        "TABLE_NAME": table,
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "PYTHONDONTWRITEBYTECODE": "1",
        **extra,
    }


@contextmanager
def measured_api(template: dict[str, Any]) -> Iterator[tuple[DynamoDBLocal, LocalApi, Meter]]:
    """An in-memory DynamoDB Local with the table, the environment `make dev` sets, the in-process API and a
    meter counting every request the store's client sends."""
    with DynamoDBLocal() as ddb:
        create_table(ddb.client(), template, TABLE)
        configure_environment(ddb.endpoint, TABLE, ADMIN_KEY, template=template)
        os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
        api = make_api(REPO_ROOT, template)
        from xpshop.store.table import client

        meter = Meter()
        meter.attach(client())
        yield ddb, api, meter


def board_only(template: dict[str, Any], members: int, args: argparse.Namespace) -> int:
    """`--board-only`: a fresh guild, the web leaderboard's rows, its section of PERFORMANCE.md replaced."""
    with measured_api(template) as (_ddb, api, meter):
        guild = guild_for(0)
        call(api, "PUT", f"/api/xp/guilds/{guild}")
        bulk_load(guild, members, fine_bands=args.fine_bands)
        web = board.measure(api, meter, guild=guild, members=members, first_user=FIRST_USER, repeat=args.repeat)
    load = os.getloadavg()[0]
    stamp = (
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {_machine()} (load average {load:.1f} at the end),"
        " DynamoDB Local, `python -m bench --board-only"
    )
    if not args.no_imports:
        web["import_ms"] = board_import_ms()
    lines = board.section(web, members, _table)
    lines[2:2] = [
        "",
        f"{stamp} --members {args.members} --repeat {args.repeat}`. Requests and RCU are what AWS would count;",
        "latencies are local and move with the machine's load.",
    ]
    print("\n".join(lines))
    if not args.no_write:
        OUTPUT.write_text(board.replace_section(OUTPUT.read_text(encoding="utf-8"), lines), encoding="utf-8")
        print(f"updated the web leaderboard section of {OUTPUT.relative_to(REPO_ROOT)}", file=sys.stderr)
    return 0


def board_import_ms() -> float:
    """Cold import of the web leaderboard's handler alone (as in import_times, shipped bytecode)."""
    from local.layer import build_layer
    from local.template import functions

    layer, runtime = build_layer()
    return _import_ms(REPO_ROOT / functions(load_template())["WebLeaderboardFunction"].code_uri, layer, runtime)


@dataclass
class Section:
    members: int
    load_s: float
    rows: list[Row]
    baseline: list[Row]


def _machine() -> str:
    try:
        cpu = subprocess.run(["nproc"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        cpu = "?"
    return f"{platform.system()} {platform.machine()}, {cpu} cores, Python {platform.python_version()}"


NOTES = [
    "",
    "## Notes",
    "",
    "- An XP change through the API (and `/xp`) is one guarded `UpdateItem` on the member, its only request (two",
    "  when an add or remove crosses a level: the guard fails and hands back the item, then the exact write; a",
    "  set never needs more than one). Before issue 18 it was 3 (4 across a level): the member, a counter shard",
    "  `UpdateItem` and an audit `PutItem`. That write also stores who and why (`lastChange`); the audit record",
    "  and the counter deltas are written from the table's stream by the rank index function, exactly once per",
    "  change (keyed by the write id): one `TransactWriteItems` per guild per stream batch holding the batch's",
    "  audit records (99 at most) and one counter shard `ADD` -- 1 request for an award alone in its batch, 1/40",
    "  above for 40 changes in one batch. AWS bills a transactional write 2 WCU per item (~2 WCU per change plus",
    "  2 per transaction); DynamoDB Local under-reports transactions' capacity. Stats and the audit trail are",
    "  therefore exact within seconds of a change, not at once. A message award is one `UpdateItem` (the",
    "  counter shard once per guild per batch, still from the consumer), with no read. The author's display",
    "  data (name, username, avatar hash) rides in that same `UpdateItem` (extra `SET` clauses): the same",
    "  requests per message with it as without.",
    "- Ranks and pages come from the rank counters (`xpshop/rank_tree.py`): small counter items per million, per",
    "  thousand and per exact XP value, plus per user-id range within each exact XP below 1,000 (where the",
    "  crowds of ties are: 0 XP, one message's 15-25), each level one `Query` of one partition. A rank is the",
    "  member `GetItem` + A, B, C (from 1,000 XP), A, C, T (below) or A, T (0 XP) + a `COUNT` over the members",
    "  sharing its exact XP (and, below 1,000, its user-id range) when there are any; a page is A, B, C (T) +",
    "  one index `Query` from that point. The count of requests does not depend on the guild's size or the",
    "  depth; RCU grows with how many counter items a level holds (at most 1,000 for B and C; one per",
    "  distinct million of XP for A; one per user-id range, ~1,400 over today's ids, for T).",
    "- The counters are kept by the rank index function from the table's stream, asynchronously (about a",
    "  second behind in AWS): each member XP change costs it ~2 counter `UpdateItem`s (leave one C item, join",
    "  another; 2 more T items below 1,000 XP; B/A only across their boundaries), merged per stream batch and",
    "  guarded by the stream sequence number so a retried batch never counts twice. That is the price of",
    "  exact deep ranks; the award itself stays one write.",
    "- 1,000,000 members: not loaded here (DynamoDB Local took 24 min to load 100k with the counters). The",
    "  request counts above are the same at any size (the structure has a fixed depth); what grows is the",
    "  size of the counter partitions read, bounded as said above, and the tie `COUNT` for members sharing",
    "  one exact XP of 1,000 or more (about 7,000 index entries per 1 MB page: +1 request per ~7,000 such",
    "  ties; below 1,000 XP the count covers one user-id range: ~700 members even if all of a 1M guild",
    "  shared one XP, with ids spread over today's ~1,400 ranges).",
    "- Cold imports (issue 18: each function at most 1.3x `import boto3`, same run; `python -m bench.imports`). What",
    "  made the HTTP functions 3.1-3.6x (before this change, idle machine: e.g. XpStatsFunction 507 ms against",
    "  boto3's 149, 3.41x): a walk over all 1.1M code points for the invisible-character class of names (~200",
    "  ms in every function with the shop's or the keys' models; now a constant, checked against the Unicode",
    "  database by `tests/unit/test_imports.py`); boto3 and botocore's client machinery, imported by every",
    "  store module (now on the first DynamoDB call: `store/conditions.py`, `store/table.py`); Powertools'",
    "  idempotency with its DynamoDB persistence (now on the first request with an Idempotency-Key); other",
    "  routes' models (the XP field codes apart from the request models; key, config patch and account id",
    "  models where they are used); one model built at import; `from __future__ import annotations` in the",
    "  model modules (pydantic compiled every field's annotation string: ~1/3 of their import); the garbage",
    "  collector walking init's objects again and again while a function imports (now paused during a handler",
    "  module's import and resumed at its end, init's objects frozen out of its reach: `xpshop.coldstart`, ~15-20",
    "  ms per function); the other functions' response models (`api.xp.responses` and `api.shop.responses`, one",
    "  module per function) and modules only some routes use (the member writes' counters, audit and marks",
    "  stores). Then what only requests need went to the first request (`coldstart.later`: a module imported on",
    "  the first use of one of its names; `coldstart.load_later()` loads them all before a SnapStart snapshot):",
    "  the gate's checks (keys, scopes, rate limits and the guild check: `http.access`, `auth` with hmac and",
    "  hashlib, the guild service) and each HTTP function's services with the stores behind them, so no HTTP",
    "  function imports a store or botocore's exceptions at init (storage errors reach the one catch-all error",
    "  handler, which maps them as before); the request models split per function like the responses",
    "  (`api/shop/requests/`, `api/xp/requests/`: ~6 ms of other functions' models in each shop function, the",
    "  config patch's in XpUsersFunction); `Envelope[Model]` as plain per-model subclasses (the pydantic",
    "  generic built itself on its first parametrisation, at every /api/xp function's import); the import jobs'",
    "  config patch model (and pydantic with it) only for a file with role rewards. What stays is the floor",
    "  (Powertools' resolver with its OpenAPI validation and pydantic, about boto3's own time) plus each",
    "  function's route registration, its request and documented response models and the `http` package: 8-16",
    "  ms of CPU over the floor (most for XpConfigFunction: 11 routes, the config patch's 13 models). By CPU",
    "  the HTTP functions measure 1.03-1.16x in four runs at load averages 2-9 (1.19-1.34x before at load 1.6; floor",
    "  1.02-1.10x); by wall clock 0.98-1.17x in the run above (load average 2-3). The wall-clock ratio adds this",
    "  shared 2-core machine's load: with the load average between 3 and 9 a row's median of 7 moves by 0.3",
    "  from run to run (in each of the three other runs one or two rows reached 1.33-1.47, a different function",
    "  each time, while their CPU ratio stayed 1.11-1.14 and the floor's wall ratio moved 1.07-1.15), so the CPU",
    "  ratio is the figure to compare. The first requests of a fresh environment then",
    "  import what was left to them (the `+ first requests` column: every route's deferred modules at once,",
    "  then boto3): that part moved, it did not vanish, unless SnapStart loads it before the snapshot.",
    "  `tests/unit/test_imports.py` checks what each function loads at import and what it leaves to its first",
    "  request (not times). Shipping bytecode in the layer (unchecked-hash `.pyc`: read-only `/opt` on",
    "  Lambda never gets any written) saves 0.2-1.4 s per cold start against a layer of sources only (the",
    "  last column; measured on this machine, not on Lambda's arm64).",
    "- X-Ray: `Tracer()` imported the X-Ray SDK in every function even with tracing off (~150 ms of each cold",
    "  start here, the largest single import after boto3 and Powertools' OpenAPI models). Tracing is now a",
    "  template parameter (`Tracing`, off by default) and `xpshop.tracing` wraps handlers only when it is on;",
    "  `tests/unit/test_tracing.py` imports every function and checks the SDK stays out.",
    "- SnapStart (template parameter `SnapStart=PublishedVersions`, off by default): each deploy publishes a",
    "  version behind the `live` alias (every event source calls the alias), Lambda initialises it once and",
    "  starts new environments from its snapshot, so a cold start no longer pays the imports above (nor the",
    "  pydantic models, which the before-snapshot hook builds: 56 models, ~60-100 ms, for `XpUsersFunction` on",
    "  this machine under load). After each restore `xpshop.snapstart` reseeds `random` and drops every cached",
    "  connection and cache (boto3 handles, idempotency persistence, config curves, guild names, roles,",
    "  avatars, SSM keys), registered by the modules that hold them. Cost: a charge for the cached snapshot of",
    "  every version with SnapStart (per GB-second, for as long as the version exists: delete old versions) and",
    "  one per GB restored on each restore; see Lambda's pricing page. Worth it for the HTTP and Discord",
    "  functions of a busy deployment whose first request after idle should not wait a second; not for a small",
    "  community, where plain cold starts are rare and free. Not measurable here (no Lambda); the hooks are",
    "  tested by simulating the snapshot and the restore (`tests/unit/test_snapstart.py`).",
    "- A buy is one `TransactWriteItems` (debit, ownership, price check, ledger; with a creator code also the",
    "  creator check, payout, use record and the creator's ledger entry) after reading the profile, the",
    "  cosmetic and the creator code, and one read of the new balance for the answer. A redeem is one",
    "  `TransactWriteItems` after reading the coupon by code. Transactions cost twice the WCU of plain writes.",
]


def _table(rows: list[Row]) -> list[str]:
    lines = [
        "| operation | DynamoDB requests | requests by API | RCU | WCU | p50 ms | p95 ms |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.name} | {r.requests:g} | {r.by_api} | {r.rcu:.1f} | {r.wcu:.1f} | {r.p50:.1f} | {r.p95:.1f} |"
        )
    return lines


BASELINE_PAIRS = {
    "naive: leaderboard page, offset 1000": "leaderboard page, offset 1000",
    "naive: rank (member in the middle)": "rank (member in the middle)",
    "naive: stats": "stats",
}


def render(
    sections: list[Section],
    other: list[Row],
    imports: list[Any],
    args: argparse.Namespace,
    *,
    cold: dict[str, float] | None = None,
    web: list[str] | None = None,
) -> str:
    sizes = ", ".join(f"{s.members:,}" for s in sections)
    lines = [
        "# Performance",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {_machine()}, DynamoDB Local 3.3.0 (in memory),",
        f"handlers called in-process through the local API Gateway emulation. Guilds of {sizes} members,",
        f"{args.repeat} calls per operation. Command: `make bench` (`python -m bench --members {args.members}"
        f" --repeat {args.repeat}`).",
        "",
        "DynamoDB requests and consumed capacity are what the service would pay on AWS; latencies are local",
        "(DynamoDB Local is slower than DynamoDB and the machine has 2 cores) and only comparable with each other.",
    ]
    for section in sections:
        lines += ["", f"## Guild of {section.members:,} members", "", *_table(section.rows)]
        ours = {r.name: r for r in section.rows}
        pairs = [(r, ours.get(BASELINE_PAIRS[r.name])) for r in section.baseline]
        if any(mine for _, mine in pairs):
            lines += [
                "",
                f"Against the naive baseline (read the whole guild, sort), same run, {section.members:,} members:",
                "",
                "| operation | DynamoDB requests | RCU | p50 ms | requests ratio | RCU ratio | latency ratio |",
                "|---|---:|---:|---:|---:|---:|---:|",
            ]
            for r, mine in pairs:
                if mine is None:
                    continue
                ratios = (r.requests / max(mine.requests, 1), r.rcu / max(mine.rcu, 0.5), r.p50 / max(mine.p50, 0.1))
                lines.append(
                    f"| {r.name} | {r.requests:g} | {r.rcu:.1f} | {r.p50:.1f} | {ratios[0]:.1f}x"
                    f" | {ratios[1]:.1f}x | {ratios[2]:.1f}x |"
                )
        lines += [
            "",
            f"Loading {section.members:,} members (BatchWriteItem, then the recalculation job for the stats counters"
            f" and the rank counters built from the loaded members) took {section.load_s:.1f} s.",
        ]
    lines += ["", f"## Messages, shop and Discord (guild of {sections[0].members:,})", "", *_table(other)]
    lines += web or []
    if cold:
        lines += [
            "",
            "## Discord webhook, cold (fresh process, CodeUri + layer only, median of 3)",
            "",
            "| step | ms |",
            "|---|---:|",
            f"| import the handler module (signature path: PyNaCl + json) | {cold['import']:.0f} |",
            f"| first PING (verify + answer) | {cold['ping']:.0f} |",
            f"| first /rank after it (loads commands, boto3, Powertools; reads + the command XP write) |"
            f" {cold['rank']:.0f} |",
            "",
            "Discord's window is 3 s from the request; Lambda's own cold start (runtime init) comes on top.",
        ]
    if imports:
        from bench.imports import section

        lines += ["", *section(imports)]
    lines += NOTES
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
