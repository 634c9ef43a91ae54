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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from local import REPO_ROOT
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


def bulk_load(guild: str, count: int) -> float:
    """Write `count` members straight to the table (BatchWriteItem), then rebuild the guild's counters with
    the recalculation job: loading 100k members through the API would take an hour on DynamoDB Local."""
    from xpshop.levels import DEFAULT_CURVE
    from xpshop.service import recalc
    from xpshop.store import keys
    from xpshop.store.table import table

    started = time.perf_counter()
    with table().batch_writer() as batch:
        for i in range(count):
            user = str(FIRST_USER + i)
            xp = (i * 7919) % 50_000
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
                    "messages": 0,
                    "xpMessages": 0,
                }
            )
    recalc.run(lambda: 1e9, [guild])
    return time.perf_counter() - started


def naive_rows(meter: Meter, guild: str, repeat: int, members: int) -> list[Row]:
    """The baseline most bots use: read every member of the guild, sort, pick (here with a Scan)."""
    from boto3.dynamodb.conditions import Attr

    from xpshop.store.table import table

    def everything() -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "FilterExpression": Attr("PK").eq(f"GUILD#{guild}") & Attr("SK").begins_with("MEMBER#")
        }
        items: list[dict[str, Any]] = []
        while True:
            resp = table().scan(**kwargs)
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


def import_times() -> list[tuple[str, float]]:
    """Cold import of each function with only what Lambda has (CodeUri + built layer + runtime boto3)."""
    from local.layer import build_layer
    from local.template import functions

    layer, runtime = build_layer()
    results = []
    for spec in sorted(functions(load_template()).values(), key=lambda f: f.logical_id):
        code = REPO_ROOT / spec.code_uri
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
                },
            )
            line = next((ln for ln in out.stderr.splitlines() if ln.rstrip().endswith("| app")), None)
            if line:
                samples.append(int(line.split("|")[1]) / 1000)
        results.append((spec.logical_id, statistics.median(samples) if samples else float("nan")))
    return results


def measure_messages(meter: Meter, repeat: int) -> list[Row]:
    """The consumer on batches of 10 messages from 10 members (outside cooldown, inside a level): per message."""
    import json as _json

    from local.lambdas import FakeLambdaContext, load_handler
    from local.template import functions

    spec = functions(load_template())["XpConsumerFunction"]
    handler = load_handler(REPO_ROOT, spec)
    base_mid = 1_400_000_000_000_000_000

    def batch(round_: int) -> dict[str, Any]:
        records = []
        for j in range(10):
            user = str(FIRST_USER + 5000 + j)
            body = {
                "messageId": str(base_mid + round_ * 100 + j),
                "guildId": GUILD,
                "channelId": "300000000000000001",
                "userId": user,
                "roleIds": [],
                "timestamp": 1_795_400_000_000 + round_ * 61_000,
                "bot": False,
            }
            records.append(
                {
                    "messageId": f"b{round_}-{j}",
                    "receiptHandle": "r",
                    "body": _json.dumps(body),
                    "attributes": {"MessageGroupId": f"{GUILD}:{user}", "SequenceNumber": str(j)},
                    "messageAttributes": {},
                    "eventSource": "aws:sqs",
                    "awsRegion": "us-east-1",
                    "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q.fifo",
                    "md5OfBody": "",
                }
            )
        return {"Records": records}

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
    row = Row(
        f"message award via the consumer (per message; ~{throughput:.0f} msg/s here)",
        sum(meter.calls.values()) / per,
        by_api,
        meter.rcu / per,
        meter.wcu / per,
        statistics.median(latencies),
        latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))],
    )
    return [row]


def _rank_interaction(user: str, n: int) -> dict[str, Any]:
    from local.discord_events import APP_ID

    return {
        "id": str(((1_795_400_000_000 - 1_420_070_400_000) << 22) + n * (1 << 22)),
        "application_id": APP_ID,
        "type": 2,
        "token": f"bench-{n}",
        "guild_id": GUILD,
        "channel_id": "300000000000000001",
        "member": {"user": {"id": user, "username": "bench"}, "roles": [], "permissions": "0"},
        "data": {"id": "1", "name": "rank", "type": 1},
    }


def measure_discord(meter: Meter, repeat: int, members: int) -> list[Row]:
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
            lambda i: _rank_interaction(str(FIRST_USER + (i * 53) % members), i + 1),
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


def cold_discord(endpoint: str, members: int) -> dict[str, float]:
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
            rank.write_text(json.dumps(signed_event(_rank_interaction(user, 20_000 + n))))
            out = subprocess.run(
                [sys.executable, "-S", "-c", COLD_RANK, str(code), str(layer), str(runtime), str(ping), str(rank)],
                capture_output=True,
                text=True,
                check=False,
                env={
                    "PATH": os.environ["PATH"],
                    "TABLE_NAME": TABLE,
                    "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
                    "AWS_DEFAULT_REGION": "us-east-1",
                    "AWS_ACCESS_KEY_ID": "bench",
                    "AWS_SECRET_ACCESS_KEY": "bench",
                    "POWERTOOLS_TRACE_DISABLED": "true",
                    "POWERTOOLS_LOG_LEVEL": "WARNING",
                    "DISCORD_PUBLIC_KEY": SAMPLE_PUBLIC_KEY,
                },
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--no-write", action="store_true", help="print the table, do not write PERFORMANCE.md")
    parser.add_argument("--no-imports", action="store_true", help="skip the cold-import measurement")
    args = parser.parse_args(argv)
    template = load_template()
    with DynamoDBLocal() as ddb:
        create_table(ddb.client(), template, TABLE)
        configure_environment(ddb.endpoint, TABLE, ADMIN_KEY, template=template)
        os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
        api = make_api(REPO_ROOT, template)
        call(api, "PUT", f"/api/xp/guilds/{GUILD}")
        load_s = bulk_load(GUILD, args.members)
        from xpshop.store.table import client

        meter = Meter()
        meter.attach(client())
        u = lambda i: FIRST_USER + (i * 37) % args.members  # noqa: E731
        ops: list[tuple[str, Callable[[int], tuple[str, str, Any]]]] = [
            ("add XP (same level)", lambda i: ("POST", f"/api/xp/users/{GUILD}/{u(i)}", {"amount": 1})),
            ("add XP (crossing a level)", lambda i: ("POST", f"/api/xp/users/{GUILD}/{u(i)}", {"amount": 60_000})),
            ("set XP", lambda i: ("PUT", f"/api/xp/users/{GUILD}/{u(i)}", {"xp": 1234})),
            ("remove XP", lambda i: ("DELETE", f"/api/xp/users/{GUILD}/{u(i)}", {"amount": 1})),
            ("get member", lambda i: ("GET", f"/api/xp/users/{GUILD}/{u(i)}", None)),
            ("leaderboard page, offset 0", lambda i: ("GET", f"/api/xp/leaderboard/{GUILD}?limit=10", None)),
            (
                "leaderboard page, offset 1000",
                lambda i: ("GET", f"/api/xp/leaderboard/{GUILD}?offset=1000&limit=10", None),
            ),
            ("rank (member in the middle)", lambda i: ("GET", f"/api/xp/leaderboard/{GUILD}/{u(i)}", None)),
            ("stats", lambda i: ("GET", f"/api/xp/stats/{GUILD}", None)),
            ("get config", lambda i: ("GET", f"/api/xp/config/{GUILD}", None)),
            ("health", lambda i: ("GET", "/api/xp/health", None)),
        ]
        rows = [measure(api, meter, name, op, args.repeat) for name, op in ops]
        rows += measure_messages(meter, args.repeat)
        rows += measure_shop(api, meter, args.repeat)
        rows += measure_discord(meter, args.repeat, args.members)
        cold = {} if args.no_imports else cold_discord(ddb.endpoint, args.members)
        baseline = naive_rows(meter, GUILD, args.repeat, args.members)
    imports = [] if args.no_imports else import_times()
    text = render(rows, baseline, imports, args, load_s, cold=cold)
    print(text)
    if not args.no_write:
        OUTPUT.write_text(text, encoding="utf-8")
        print(f"wrote {OUTPUT.relative_to(REPO_ROOT)}", file=sys.stderr)
    return 0


def _machine() -> str:
    try:
        cpu = subprocess.run(["nproc"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        cpu = "?"
    return f"{platform.system()} {platform.machine()}, {cpu} cores, Python {platform.python_version()}"


def render(
    rows: list[Row],
    baseline: list[Row],
    imports: list[tuple[str, float]],
    args: argparse.Namespace,
    load_s: float,
    *,
    cold: dict[str, float] | None = None,
) -> str:
    lines = [
        "# Performance",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {_machine()}, DynamoDB Local 3.3.0 (in memory),",
        f"handlers called in-process through the local API Gateway emulation. Guild of {args.members} members,",
        f"{args.repeat} calls per operation. Command: `make bench` (`python -m bench --members {args.members}"
        f" --repeat {args.repeat}`).",
        "",
        "DynamoDB requests and consumed capacity are what the service would pay on AWS; latencies are local",
        "(DynamoDB Local is slower than DynamoDB and the machine has 2 cores) and only comparable with each other.",
        "",
        "| operation | DynamoDB requests | requests by API | RCU | WCU | p50 ms | p95 ms |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.name} | {r.requests:g} | {r.by_api} | {r.rcu:.1f} | {r.wcu:.1f} | {r.p50:.1f} | {r.p95:.1f} |"
        )
    ours = {r.name: r for r in rows}
    lines += [
        "",
        "## Against the naive baseline (read the whole guild, sort), same run",
        "",
        "| operation | DynamoDB requests | RCU | p50 ms | requests ratio | RCU ratio | latency ratio |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    pairs = {
        "naive: leaderboard page, offset 1000": "leaderboard page, offset 1000",
        "naive: rank (member in the middle)": "rank (member in the middle)",
        "naive: stats": "stats",
    }
    for r in baseline:
        mine = ours[pairs[r.name]]
        lines.append(
            f"| {r.name} | {r.requests:g} | {r.rcu:.1f} | {r.p50:.1f} | {r.requests / max(mine.requests, 1):.1f}x"
            f" | {r.rcu / max(mine.rcu, 0.5):.1f}x | {r.p50 / max(mine.p50, 0.1):.1f}x |"
        )
    if imports:
        lines += [
            "",
            "## Cold import per function (`python -X importtime`, CodeUri + layer only, median of 3)",
            "",
            "| function | import ms |",
            "|---|---:|",
        ]
        lines += [f"| {name} | {ms:.0f} |" for name, ms in imports]
    if cold:
        lines += [
            "",
            "## Discord webhook, cold (fresh process, CodeUri + layer only, median of 3)",
            "",
            "| step | ms |",
            "|---|---:|",
            f"| import the handler module (signature path: PyNaCl + json) | {cold['import']:.0f} |",
            f"| first PING (verify + answer) | {cold['ping']:.0f} |",
            f"| first /rank after it (loads commands, boto3, Powertools; 4 reads + the command XP write) |"
            f" {cold['rank']:.0f} |",
            "",
            "Discord's window is 3 s from the request; Lambda's own cold start (runtime init) comes on top.",
        ]
    lines += [
        "",
        f"Loading {args.members} members (BatchWriteItem, then the recalculation job to build the counters) took"
        f" {load_s:.1f} s.",
        "",
        "## Notes",
        "",
        "- An XP change is one guarded `UpdateItem` on the member (two when it crosses a level: the guard fails",
        "  and hands back the item, then the exact write), plus one `UpdateItem` on a counter shard and one",
        "  `PutItem` for the audit record. The guild-exists check is cached per container after the first hit.",
        "- Leaderboard pages read `offset + limit` index entries (cost grows with the offset) and a rank counts",
        "  the entries ahead with `Select=COUNT`: both grow with the position (see the rank row against the",
        "  naive baseline). Exact bounded-cost ranks and pages at 1M members are the open part of issue 6.",
        "- Cold imports miss the 300 ms target: boto3 alone is ~450 ms on this machine, then Powertools'",
        "  event handler and pydantic. Trimming them (lazy imports, lighter validation on hot paths) is open.",
        "- Stats are one `BatchGetItem` of the 16 counter shards (each its own partition key), one `Query`",
        "  for the top member and one `BatchGetItem` for the config.",
        "",
        "- A buy is one `TransactWriteItems` (debit, ownership, price check, ledger; with a creator code also the",
        "  creator check, payout, use record and the creator's ledger entry) after reading the profile, the",
        "  cosmetic and the creator code, and one read of the new balance for the answer. A redeem is one",
        "  `TransactWriteItems` (use count, redemption, credits, ledger, ownership, cosmetic check) after",
        "  reading the coupon by code. Transactions cost twice the WCU of plain writes.",
        "",
        "## Capacity at 5,000 messages/s in one guild (the math; DynamoDB Local cannot show partition limits)",
        "",
        "- SQS FIFO with `FifoThroughputLimit: perMessageGroupId` and a group per member takes 70,000 msg/s per",
        "  queue with batching: not the limit.",
        "- Consumers: one in-process consumer does ~130 msg/s against DynamoDB Local here; against DynamoDB (a",
        "  few ms per write) ~500-1,000 msg/s, so 5-10 concurrent consumers (batch 10).",
        "- Member writes: 5,000 WCU/s (items < 1 KB). They share the partition key `GUILD#<g>`; DynamoDB splits",
        "  a hot key's item collection by sort key (no LSI on this table), so distinct members spread, but the",
        "  per-partition ceiling is 1,000 WCU/s until it has split.",
        "- Counters: once per guild per batch on one of 16 shard keys: ~500 WCU/s over 16 keys, ~31 each.",
        "- The hot spot is the `Leaderboard` index: every award moves `score`, and the index's partition key is",
        "  the guild, so 5,000 index writes/s land on one index key (and index throttling pushes back on the",
        "  table). The rank structure of issue 6 has to shard the ordering (e.g. 16 index keys per guild, merged",
        "  for top pages, with counts for ranks) before one guild can sustain this rate.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
