"""Soak: mixed traffic against a local server for a bounded time, then the invariants that must still hold.

    make soak                      # SOAK_SECONDS (300), SOAK_WORKERS (4), SOAK_GUILDS (3), SOAK_URL
    python -m bench.soak [--url http://127.0.0.1:3000] [--seconds 300] [--workers 4] [--guilds 3] [--json out.json]
                         [--no-start]

The target is a running `make dev` (http://127.0.0.1:${XPSHOP_PORT:-3000}); only 127.0.0.1/localhost is
accepted. When nothing answers there, the soak starts `python -m local.dev` itself on that port, with its
data in a temporary directory (your `.local/` is not touched), and stops it at the end (`--no-start`: it
fails instead). Keys as `make demo` reads them: XPSHOP_ADMIN_KEY, else `.local/admin-key`; XPSHOP_RELAY_KEY,
else `<admin key>-relay`.

Every run works in guilds, users, cosmetics, coupons and a creator code of its own (ids from the clock and a
random part), so it can run against a server that holds anything else. `--workers` processes send, as fast
as the server answers, a weighted mix of: XP awards (add, set, remove), relay messages (ingestion endpoint
-> queue -> consumer), reads (member, rank, stats, member list), leaderboard pages (API and the web board),
purchases (some by supporters of the creator code, which pays its owner), revokes (so purchases keep
succeeding), credit top-ups, coupon redeems (coupons of 3 uses for many users: they race) and config changes
(cooldown, multipliers). Then it waits for the queue and the stream consumers to catch up and checks:

- no 5xx, no connection error, and no status an operation never expects (the count of each per operation);
- every relayed message was counted (the queue drained);
- per guild: the stats' XP and message totals equal the sums over the members (export), the member count;
- every member's level is the curve's level for their XP (levels.py, the guild's curve), and the stats'
  level distribution (stored levels) is the histogram of those levels;
- ranks: GET rank of a sample of members and every leaderboard page equal a brute-force sort of the members
  by the API's rule (XP descending, then user id ascending);
- every shop profile's credits equal its ledger replayed (users/transactions);
- no coupon used more than its uses, and each one's count equals the redeems that succeeded.

It prints throughput (overall and per operation) and p50/p95/p99 latency per operation, and exits 1 when
any invariant fails (2 for a refused target). Latency depends on the machine: nothing here is a test of speed.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from local import REPO_ROOT
from local.ddb import free_port
from local.lambdas import DEFAULT_LAYER_DIR

DISCORD_EPOCH_MS = 1_420_070_400_000
ALLOWED_HOSTS = {"127.0.0.1", "localhost"}
DEFAULT_SECONDS = 300
DEFAULT_WORKERS = 4
DEFAULT_GUILDS = 3
USERS_PER_GUILD = 150  # SEEDED of them imported before traffic, the rest created by it (creation races included)
SEEDED = 110  # more than a web board page (100), so its page 2 exists from the start
HOT = 10  # half of the picks go to the first HOT members: writes race on them
SHOP_USERS = 24
COSMETICS = 16
COUPON_USES = 3
COUPON_CREDITS = 25
START_CREDITS = 400
ROLE = "500000000000000777"  # a role in relayed messages, with a multiplier the config op changes
CHANNEL = "300000000000000777"
TIMEOUT = 60  # seconds per request: a loaded laptop is slow, a hang is still caught
SETTLE_SECONDS = 90  # how long the checks wait for the queue and the streams to catch up

# Statuses an operation may answer besides 2xx; anything else is reported as unexpected.
EXPECTED: dict[str, set[int]] = {
    "award_remove": {404},  # removing XP from a member nobody created yet
    "read_user": {404},
    "read_rank": {404},
    "buy": {409},  # ALREADY_OWNED, INSUFFICIENT_CREDITS, CONFLICT
    "buy_creator": {409},
    "revoke": {404, 409},
    "redeem": {409},  # COUPON_EXHAUSTED, COUPON_ALREADY_REDEEMED, CONFLICT
    "credits": {409},
}


class SoakError(Exception):
    """The soak cannot run (refused target, no key, server not starting)."""


# ---------------------------------------------------------------- the plan: what this run works on


@dataclass
class Plan:
    url: str
    admin_key: str
    relay_key: str
    run: str  # digits unique to this run
    guilds: list[str]
    users: list[str]  # members of every guild (ids are per guild in the API: the same ids in each)
    seeded: list[str]
    shop_users: list[str]
    cosmetics: list[dict[str, Any]]  # {id, cost}
    coupons: list[str]
    creator_code: str
    creator_owner: str
    supporters: list[str]
    workers: int = 1
    deadline: float = 0.0  # time.time() when traffic stops


def new_ids(prefix: str, count: int, stamp: str) -> list[str]:
    """`count` snowflakes (18 digits) unique to this run: a prefix digit, the run's stamp, a counter."""
    return [f"{prefix}{stamp}{i:04d}" for i in range(count)]


def run_stamp() -> str:
    """13 digits: seconds since the epoch and 3 random digits (two runs in one second differ but 1 time in 1,000)."""
    return f"{int(time.time()):010d}{secrets.randbelow(1000):03d}"


def make_plan(url: str, admin_key: str, relay_key: str, guilds: int, workers: int) -> Plan:
    stamp = run_stamp()
    users = new_ids("8", USERS_PER_GUILD, stamp)
    shop_users = new_ids("9", SHOP_USERS, stamp)
    return Plan(
        url=url,
        admin_key=admin_key,
        relay_key=relay_key,
        run=stamp,
        guilds=new_ids("7", guilds, stamp),
        users=users,
        seeded=users[:SEEDED],
        shop_users=shop_users,
        cosmetics=[],
        coupons=[],
        creator_code=f"SOAK{stamp[-9:]}",
        creator_owner=shop_users[0],
        supporters=shop_users[1 : SHOP_USERS // 2],
        workers=workers,
    )


def target_url(url: str) -> str:
    """The base URL, refused unless it is http on 127.0.0.1/localhost."""
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in ALLOWED_HOSTS:
        raise SoakError(f"refusing {url!r}: the soak only targets http://127.0.0.1 or http://localhost")
    return f"http://{parts.hostname}:{parts.port or 80}"


def admin_key_from_env() -> str | None:
    key = os.environ.get("XPSHOP_ADMIN_KEY", "").strip()
    key_file = REPO_ROOT / ".local" / "admin-key"
    if not key and key_file.is_file():
        key = key_file.read_text(encoding="utf-8").strip()
    return key or None


def relay_key_for(admin_key: str) -> str:
    return os.environ.get("XPSHOP_RELAY_KEY", "").strip() or admin_key + "-relay"


# ---------------------------------------------------------------- HTTP


class Client:
    """Admin-keyed calls that return (status, parsed body or text, seconds)."""

    def __init__(self, plan: Plan) -> None:
        self.base = plan.url
        self.session = requests.Session()
        self.session.headers["X-API-Key"] = plan.admin_key
        self.relay_headers = {"Authorization": f"Bearer {plan.relay_key}"}

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        anonymous: bool = False,
    ) -> tuple[int, Any, float]:
        started = time.perf_counter()
        try:
            if anonymous:
                r = requests.request(method, self.base + path, timeout=TIMEOUT)
            else:
                r = self.session.request(method, self.base + path, json=body, headers=headers, timeout=TIMEOUT)
        except requests.RequestException as error:
            return 0, repr(error), time.perf_counter() - started
        took = time.perf_counter() - started
        try:
            data: Any = r.json()
        except ValueError:
            data = r.text
        return r.status_code, data, took

    def ok(self, method: str, path: str, body: Any = None) -> Any:
        """A setup or check call that must succeed: its `data` (XP API) or body (shop API)."""
        status, data, _ = self.call(method, path, body)
        if not 200 <= status < 300:
            raise SoakError(f"{method} {path} -> {status}: {str(data)[:300]}")
        return data.get("data", data) if isinstance(data, dict) and "success" in data else data


def setup(plan: Plan) -> None:
    """Guilds (public boards, a cooldown), seeded members, the shop: cosmetics, funded users, a creator code
    and its supporters, coupons of COUPON_USES uses."""
    c = Client(plan)
    for g in plan.guilds:
        c.ok("PUT", f"/api/xp/guilds/{g}", {"name": f"Soak {plan.run}"})
        c.ok("PUT", f"/api/xp/config/{g}", {"cooldownSeconds": 2, "leaderboard": {"public": True}})
        rows = [{"id": u, "xp": (i * 7919) % 6000} for i, u in enumerate(plan.seeded)]
        c.ok("POST", f"/api/xp/import/{g}", rows)
    category = c.ok("POST", "/api/v1/categories/create", {"name": f"Soak {plan.run}"})["id"]
    for i in range(COSMETICS):
        cost = 20 + (i * 37) % 180
        made = c.ok(
            "POST",
            "/api/v1/cosmetics/create",
            {
                "name": f"Soak {plan.run} hat {i}",
                "type": "hat",
                "description": "soak",
                "categoryid": category,
                "cost": cost,
                "showcase_image_url": "https://cdn.example/s.png",
                "texture_source_url": "https://cdn.example/t.png",
                "model_source_url": "https://cdn.example/m.cfg",
            },
        )
        plan.cosmetics.append({"id": made["id"], "cost": cost})
    for user in plan.shop_users:
        c.ok("PATCH", "/api/v1/credits/set", {"id": user, "new_amount": START_CREDITS})
    c.ok("POST", "/api/v1/creatorcodes/create", {"code": plan.creator_code, "assigned_user": plan.creator_owner})
    for user in plan.supporters:
        c.ok("POST", "/api/v1/creatorcodes/set", {"id": user, "code": plan.creator_code})
    for i in range(coupon_count(plan.deadline - time.time())):
        code = f"SK{plan.run[-9:]}C{i}"
        c.ok("POST", "/api/v1/coupons/create", {"code": code, "uses": COUPON_USES, "credit_grant": COUPON_CREDITS})
        plan.coupons.append(code)


def coupon_count(seconds: float) -> int:
    """Enough coupons that redeems race all run long (a coupon of 3 uses is gone after a few redeems)."""
    return max(6, min(200, int(seconds) // 3))


# ---------------------------------------------------------------- traffic


@dataclass
class WorkerResult:
    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    latencies: dict[str, list[float]] = field(default_factory=dict)  # milliseconds
    accepted: Counter[str] = field(default_factory=Counter)  # relayed messages accepted, per guild
    redeemed: Counter[str] = field(default_factory=Counter)  # successful redeems, per coupon code
    errors: list[str] = field(default_factory=list)  # the first few 5xx / connection errors, for the report

    def record(self, op: str, status: int, seconds: float, data: Any) -> None:
        self.statuses.setdefault(op, Counter())[status] += 1
        self.latencies.setdefault(op, []).append(seconds * 1000)
        if (status >= 500 or status == 0) and len(self.errors) < 20:
            self.errors.append(f"{op} -> {status}: {str(data)[:300]}")


class Traffic:
    """One worker's operations; each picks its targets at random and records what it got."""

    def __init__(self, plan: Plan, worker: int) -> None:
        self.plan = plan
        self.worker = worker
        self.rng = random.Random(f"{plan.run}-{worker}")
        self.client = Client(plan)
        self.result = WorkerResult()
        self.messages = 0

    def do(self, op: str, method: str, path: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
        status, data, took = self.client.call(method, path, body, **kw)
        self.result.record(op, status, took, data)
        return status, data

    def guild(self) -> str:
        return self.rng.choice(self.plan.guilds)

    def user(self) -> str:
        return self.rng.choice(self.plan.users[:HOT] if self.rng.random() < 0.5 else self.plan.users)

    def relay_user(self) -> str:
        """Relayed messages of a member come from one worker, in order: the consumer drops a message whose
        id is below the member's last one as a redelivery, and the gateway relay (one shard per guild)
        forwards a member's messages in order too."""
        mine = self.plan.users[self.worker :: self.plan.workers]
        return self.rng.choice(mine[:HOT] if self.rng.random() < 0.5 else mine)

    def message_id(self) -> str:
        """A snowflake of now (time-ordered like Discord's), made unique by the worker and a counter."""
        self.messages += 1
        return str(
            ((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22) | (self.worker << 17) | (self.messages & 0x1FFFF)
        )

    def award_add(self) -> None:
        self.do(
            "award_add", "POST", f"/api/xp/users/{self.guild()}/{self.user()}", {"amount": self.rng.randint(1, 300)}
        )

    def award_set(self) -> None:
        self.do("award_set", "PUT", f"/api/xp/users/{self.guild()}/{self.user()}", {"xp": self.rng.randint(0, 8000)})

    def award_remove(self) -> None:
        body = {"amount": self.rng.randint(1, 150)}
        self.do("award_remove", "DELETE", f"/api/xp/users/{self.guild()}/{self.user()}", body)

    def relay(self) -> None:
        guild = self.guild()
        now = int(time.time() * 1000)
        batch = []
        for _ in range(self.rng.randint(1, 10)):
            batch.append(
                {
                    "messageId": self.message_id(),
                    "guildId": guild,
                    "channelId": CHANNEL,
                    "userId": self.relay_user(),
                    "roleIds": [ROLE] if self.rng.random() < 0.5 else [],
                    "timestamp": now,
                    "bot": False,
                }
            )
        status, data = self.do(
            "relay", "POST", "/api/xp/ingest/messages", {"messages": batch}, headers=self.client.relay_headers
        )
        if status == 202:
            self.result.accepted[guild] += data["data"]["accepted"]

    def read_user(self) -> None:
        self.do("read_user", "GET", f"/api/xp/users/{self.guild()}/{self.user()}")

    def read_rank(self) -> None:
        self.do("read_rank", "GET", f"/api/xp/leaderboard/{self.guild()}/{self.user()}")

    def read_stats(self) -> None:
        self.do("read_stats", "GET", f"/api/xp/stats/{self.guild()}")

    def read_users(self) -> None:
        self.do("read_users", "GET", f"/api/xp/users/{self.guild()}?offset={self.rng.randint(0, 40)}&limit=10")

    def board_api(self) -> None:
        self.do("board_api", "GET", f"/api/xp/leaderboard/{self.guild()}?offset={self.rng.randint(0, 40)}&limit=10")

    def board_web(self) -> None:
        page = "" if self.rng.random() < 0.7 else "?page=2"
        self.do("board_web", "GET", f"/leaderboard/{self.guild()}{page}", anonymous=True)

    def buy(self) -> None:
        buyer = self.rng.choice(self.plan.shop_users[1:])
        cosmetic = self.rng.choice(self.plan.cosmetics)["id"]
        op = "buy_creator" if buyer in self.plan.supporters else "buy"
        status, data = self.do(op, "POST", "/api/v1/cosmetics/buy", {"id": buyer, "cosmeticid": cosmetic})
        code = data.get("error", {}).get("code") if isinstance(data, dict) else None
        if status == 409 and code == "ALREADY_OWNED":  # give it back, so buying keeps succeeding
            self.do("revoke", "DELETE", "/api/v1/cosmetics/revoke", {"id": buyer, "cosmeticid": cosmetic})
        elif status == 409 and code == "INSUFFICIENT_CREDITS":
            self.credits(buyer)

    def credits(self, user: str | None = None) -> None:
        body = {"id": user or self.rng.choice(self.plan.shop_users), "amount": self.rng.randint(50, 300)}
        self.do("credits", "PATCH", "/api/v1/credits/modify", body)

    def redeem(self) -> None:
        code = self.rng.choice(self.plan.coupons)
        status, _ = self.do(
            "redeem", "POST", "/api/v1/coupons/redeem", {"id": self.rng.choice(self.plan.shop_users), "code": code}
        )
        if status == 200:
            self.result.redeemed[code] += 1

    def config(self) -> None:
        guild = self.guild()
        if self.rng.random() < 0.5:
            body: dict[str, Any] = {"cooldownSeconds": self.rng.choice([0, 1, 2, 5])}
            self.do("config_cooldown", "PUT", f"/api/xp/config/{guild}", body)
        else:
            body = {"server": self.rng.choice([1.0, 1.5, 2.0]), "role": {ROLE: self.rng.choice([1.0, 1.25, 3.0])}}
            self.do("config_multipliers", "PUT", f"/api/xp/config/{guild}/multipliers", body)

    def mix(self) -> list[tuple[Callable[[], None], int]]:
        return [
            (self.award_add, 12),
            (self.award_set, 3),
            (self.award_remove, 4),
            (self.relay, 10),
            (self.read_user, 8),
            (self.read_rank, 6),
            (self.read_stats, 4),
            (self.read_users, 3),
            (self.board_api, 6),
            (self.board_web, 3),
            (self.buy, 9),
            (self.credits, 2),
            (self.redeem, 5),
            (self.config, 2),
        ]

    def run(self) -> WorkerResult:
        ops, weights = zip(*self.mix(), strict=True)
        while time.time() < self.plan.deadline:
            self.rng.choices(ops, weights)[0]()
        return self.result


def run_worker(job: tuple[Plan, int]) -> WorkerResult:
    plan, worker = job
    return Traffic(plan, worker).run()


def drive(plan: Plan, workers: int) -> WorkerResult:
    """Run the traffic in `workers` processes until plan.deadline; their results merged."""
    jobs = [(plan, w) for w in range(workers)]
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        results = pool.map(run_worker, jobs)
    merged = WorkerResult()
    for r in results:
        for op, counts in r.statuses.items():
            merged.statuses.setdefault(op, Counter()).update(counts)
        for op, values in r.latencies.items():
            merged.latencies.setdefault(op, []).extend(values)
        merged.accepted.update(r.accepted)
        merged.redeemed.update(r.redeemed)
        merged.errors += r.errors
    return merged


# ---------------------------------------------------------------- invariants (pure: tested on crafted data)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def check_statuses(statuses: dict[str, Counter[int]], expected: dict[str, set[int]] = EXPECTED) -> list[Check]:
    """No 5xx and no connection error (status 0) anywhere; every other non-2xx one the operation expects."""
    bad = {op: {s: n for s, n in c.items() if s >= 500 or s == 0} for op, c in statuses.items()}
    bad = {op: c for op, c in bad.items() if c}
    odd = {
        op: {s: n for s, n in c.items() if 300 <= s < 500 and s not in expected.get(op, set())}
        for op, c in statuses.items()
    }
    odd = {op: c for op, c in odd.items() if c}
    return [
        Check(
            "no 5xx or connection error",
            not bad,
            f"{bad}" if bad else f"{sum(map(_total, statuses.values()))} requests",
        ),
        Check("no unexpected 4xx", not odd, f"{odd}" if odd else "every non-2xx is one its operation expects"),
    ]


def _total(c: Counter[int]) -> int:
    return sum(c.values())


@dataclass
class GuildSnapshot:
    """What the API says about one guild once traffic has stopped."""

    guild: str
    curve: dict[str, int]
    members: list[dict[str, Any]]  # export: {id, xp, messages}
    listed: list[dict[str, Any]]  # GET users pages: {userId, xp, level}
    stats: dict[str, Any]
    ranks: dict[str, int]  # GET leaderboard/{g}/{u} for a sample
    board: list[dict[str, Any]]  # GET leaderboard pages: {userId, xp, rank}
    accepted: int = 0  # relayed messages the ingestion endpoint accepted


def leaderboard_order(members: list[dict[str, Any]]) -> list[str]:
    """The API's ordering rule, brute force: XP descending, then user id ascending (as a number)."""
    return [m["id"] for m in sorted(members, key=lambda m: (-int(m["xp"]), int(m["id"])))]


def _curve(config: dict[str, int]) -> Any:
    layer = str(REPO_ROOT / DEFAULT_LAYER_DIR)  # the curve lives in the layer (xpshop.levels)
    if layer not in sys.path:
        sys.path.append(layer)
    from xpshop.levels import Curve

    return Curve.from_config(config)


def check_guild(s: GuildSnapshot) -> list[Check]:
    g = s.guild
    curve = _curve(s.curve)
    xp_sum = sum(int(m["xp"]) for m in s.members)
    msg_sum = sum(int(m.get("messages", 0)) for m in s.members)
    checks = [
        Check(
            f"{g}: stats XP total = sum of member XP",
            s.stats["xp"]["total"] == xp_sum,
            f"stats {s.stats['xp']['total']}, members {xp_sum}",
        ),
        Check(
            f"{g}: stats member count = members",
            s.stats["users"]["total"] == len(s.members),
            f"stats {s.stats['users']['total']}, members {len(s.members)}",
        ),
        Check(
            f"{g}: relayed messages all counted (queue drained)",
            s.stats["messages"]["total"] == msg_sum == s.accepted,
            f"accepted {s.accepted}, stats {s.stats['messages']['total']}, members {msg_sum}",
        ),
    ]
    wrong = [(m["userId"], m["xp"], m["level"]) for m in s.listed if m["level"] != curve.level(int(m["xp"]))]
    checks.append(
        Check(
            f"{g}: every member's level matches the curve",
            not wrong and len(s.listed) == len(s.members),
            f"{len(wrong)} wrong, e.g. {wrong[:3]} (user, xp, level)"
            if wrong
            else f"{len(s.listed)} listed of {len(s.members)} members",
        )
    )
    histogram = Counter(str(curve.level(int(m["xp"]))) for m in s.members)
    stored = {k: v for k, v in s.stats["levels"]["distribution"].items() if v}
    checks.append(
        Check(
            f"{g}: stats level distribution = levels of the members' XP",
            stored == dict(histogram),
            f"stats {sorted(stored.items())} vs members {sorted(histogram.items())}"
            if stored != dict(histogram)
            else f"{len(histogram)} levels",
        )
    )
    order = leaderboard_order(s.members)
    expected = {u: i + 1 for i, u in enumerate(order)}
    off = {u: (r, expected.get(u)) for u, r in s.ranks.items() if expected.get(u) != r}
    checks.append(
        Check(
            f"{g}: sampled ranks = brute-force recount",
            not off and bool(s.ranks),
            f"{len(off)} of {len(s.ranks)} differ, e.g. {list(off.items())[:3]} (user: (api, recount))"
            if off
            else f"{len(s.ranks)} ranks",
        )
    )
    board = [(e["userId"], int(e["xp"]), int(e["rank"])) for e in s.board]
    by_id = {m["id"]: m for m in s.members}
    want = [(u, int(by_id[u]["xp"]), i + 1) for i, u in enumerate(order)]
    checks.append(
        Check(
            f"{g}: leaderboard pages = brute-force order",
            board == want,
            f"{len(board)} entries" if board == want else first_difference(board, want),
        )
    )
    return checks


def first_difference(api: list[Any], recount: list[Any]) -> str:
    at = next((i for i, (a, b) in enumerate(zip(api, recount, strict=False)) if a != b), min(len(api), len(recount)))
    sizes = f"{len(api)} vs {len(recount)} entries"
    return f"first difference at {at}: api {api[at : at + 2]} vs recount {recount[at : at + 2]} ({sizes})"


def replay_ledger(transactions: list[dict[str, Any]]) -> int:
    """A profile's credits from its ledger, oldest first: a set changes the balance by `amount - previous` (the
    balance it replaced; a set listed before a change that committed ahead of it still adds up), or replaces
    it when it has no `previous` (recorded before sets kept it); a purchase costs `cost`, every other entry
    adds its `amount` (none for grants and revokes)."""
    balance = 0
    for t in transactions:
        if t["type"] == "credits_set" and t.get("previous") is not None:
            balance += int(t["amount"]) - int(t["previous"])
        elif t["type"] == "credits_set":
            balance = int(t["amount"])
        elif t["type"] == "purchase":
            balance -= int(t["cost"])
        else:
            balance += int(t.get("amount") or 0)
    return balance


def check_ledgers(profiles: dict[str, tuple[int, list[dict[str, Any]]]]) -> Check:
    """profiles: discord id -> (credits, ledger entries oldest first)."""
    off = {u: (credits, replay_ledger(tx)) for u, (credits, tx) in profiles.items() if credits != replay_ledger(tx)}
    return Check(
        "every profile's credits = its ledger",
        not off,
        f"{len(off)} differ, e.g. {list(off.items())[:3]} (user: (credits, ledger))"
        if off
        else f"{len(profiles)} profiles",
    )


def check_coupons(coupons: dict[str, dict[str, Any]], redeemed: Counter[str], codes: list[str]) -> Check:
    """Every coupon of the run: used <= uses, and used = the redeems that answered 200."""
    missing = [c for c in codes if c not in coupons]
    over = {c: (v["used"], v["uses"]) for c, v in coupons.items() if v["uses"] is not None and v["used"] > v["uses"]}
    miscount = {
        c: (coupons[c]["used"], redeemed.get(c, 0))
        for c in codes
        if c in coupons and coupons[c]["used"] != redeemed.get(c, 0)
    }
    ok = not missing and not over and not miscount
    used = sum(v["used"] for v in coupons.values())
    full = sum(1 for v in coupons.values() if v["used"] == v["uses"])
    detail = f"{len(codes)} coupons, {used} redemptions, {full} used up"
    if not ok:
        detail = f"missing {missing[:3]}, over uses {over} (used, uses), "
        detail += f"miscounted {dict(list(miscount.items())[:3])} (used, redeems answered 200)"
    return Check("no coupon over its uses", ok, detail)


# ---------------------------------------------------------------- reading the state back


def snapshot_guild(c: Client, guild: str, accepted: int, rng: random.Random) -> GuildSnapshot:
    curve = c.ok("GET", f"/api/xp/config/{guild}")["curve"]
    members: list[dict[str, Any]] = []
    cursor = ""
    while True:
        part = c.ok("GET", f"/api/xp/export/{guild}?format=json&limit=10000{cursor}")
        members += part["members"]
        if not part.get("next"):
            break
        cursor = f"&cursor={part['next']}"
    listed: list[dict[str, Any]] = []
    while True:
        page = c.ok("GET", f"/api/xp/users/{guild}?offset={len(listed)}&limit=100")
        listed += page["users"]
        if not page["users"] or not page["pagination"]["hasMore"]:
            break
    board: list[dict[str, Any]] = []
    while True:
        page = c.ok("GET", f"/api/xp/leaderboard/{guild}?offset={len(board)}&limit=100")
        board += page["entries"]
        if not page["entries"] or len(board) >= page["total"]:
            break
    sample = rng.sample([m["id"] for m in members], min(20, len(members)))
    ranks = {u: c.ok("GET", f"/api/xp/leaderboard/{guild}/{u}")["rank"] for u in sample}
    stats = c.ok("GET", f"/api/xp/stats/{guild}")
    return GuildSnapshot(guild, curve, members, listed, stats, ranks, board, accepted)


def shop_state(c: Client, plan: Plan) -> tuple[dict[str, tuple[int, list[dict[str, Any]]]], dict[str, dict[str, Any]]]:
    profiles = {}
    for user in plan.shop_users:
        credits = c.ok("GET", f"/api/v1/users/info?id={user}")["credits"]
        profiles[user] = (credits, c.ok("GET", f"/api/v1/users/transactions?id={user}")["transactions"])
    wanted, found, cursor = set(plan.coupons), {}, ""
    while True:
        page = c.ok("GET", f"/api/v1/coupons/list?limit=100{cursor}")
        found.update({cp["code"]: cp for cp in page["coupons"] if cp["code"] in wanted})
        if not page.get("nextCursor") or len(found) == len(wanted):
            break
        cursor = f"&cursor={page['nextCursor']}"
    return profiles, found


def check_all(plan: Plan, traffic: WorkerResult, settle_seconds: float = SETTLE_SECONDS) -> list[Check]:
    """Every invariant, re-read until they all hold or `settle_seconds` have passed (the queue and the stream
    consumers run in the background, about a second behind): the last reading is what is reported."""
    c = Client(plan)
    deadline = time.monotonic() + settle_seconds
    statuses = check_statuses(traffic.statuses)
    while True:
        rng = random.Random(plan.run)
        checks = list(statuses)
        try:
            for g in plan.guilds:
                checks += check_guild(snapshot_guild(c, g, traffic.accepted.get(g, 0), rng))
            profiles, coupons = shop_state(c, plan)
            checks += [check_ledgers(profiles), check_coupons(coupons, traffic.redeemed, plan.coupons)]
        except (
            SoakError
        ) as error:  # a read that failed (a 5xx included) is a failed check, not a soak that could not run
            checks = [*statuses, Check("the state reads back", False, str(error))]
        settled = all(ch.ok for ch in checks[len(statuses) :])
        if settled or time.monotonic() > deadline:
            return checks
        time.sleep(1.0)


# ---------------------------------------------------------------- report


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile of `values` (0 when empty)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def summary(traffic: WorkerResult, seconds: float) -> dict[str, Any]:
    ops = {}
    for op in sorted(traffic.statuses):
        lat = traffic.latencies.get(op, [])
        ops[op] = {
            "requests": _total(traffic.statuses[op]),
            "rps": round(_total(traffic.statuses[op]) / seconds, 2),
            "p50": round(percentile(lat, 50), 1),
            "p95": round(percentile(lat, 95), 1),
            "p99": round(percentile(lat, 99), 1),
            "statuses": {str(s): n for s, n in sorted(traffic.statuses[op].items())},
        }
    total = sum(o["requests"] for o in ops.values())
    return {"requests": total, "seconds": round(seconds, 1), "rps": round(total / seconds, 2), "ops": ops}


def render(figures: dict[str, Any], checks: list[Check]) -> str:
    lines = [
        f"{figures['requests']} requests in {figures['seconds']} s: {figures['rps']} requests/s "
        f"({figures['workers']} processes, {len(figures['guilds'])} guilds)",
        "",
        f"{'operation':<20} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}  statuses",
    ]
    for op, o in figures["ops"].items():
        codes = " ".join(f"{s}x{n}" for s, n in o["statuses"].items())
        lines.append(f"{op:<20} {o['requests']:>8} {o['rps']:>7} {o['p50']:>8} {o['p95']:>8} {o['p99']:>8}  {codes}")
    lines += ["", f"invariants (read back in {figures.get('checked_in', 0)} s, catching up included):"]
    lines += [f"  [{'ok' if ch.ok else 'FAIL'}] {ch.name}: {ch.detail}" for ch in checks]
    for error in figures.get("errors", []):
        lines.append(f"  error: {error}")
    return "\n".join(lines)


# ---------------------------------------------------------------- the server


def answers(url: str) -> bool:
    try:
        return requests.get(url + "/api/xp/health", timeout=5).status_code == 200
    except requests.RequestException:
        return False


@contextmanager
def server(url: str, admin_key: str | None, relay_key: str | None, *, start: bool = True) -> Iterator[tuple[str, str]]:
    """The running server's keys; or a `python -m local.dev` started on the URL's port (data in a temporary
    directory), stopped when the block ends (`start` False: none is started). Yields (admin key, relay key)."""
    if not start and not answers(url):
        raise SoakError(f"nothing answers at {url} (--no-start)")
    if answers(url):
        if not admin_key:
            raise SoakError("a server answers but there is no admin key: set XPSHOP_ADMIN_KEY (make dev prints it)")
        yield admin_key, relay_key or relay_key_for(admin_key)
        return
    admin_key = admin_key or "soak-" + secrets.token_urlsafe(16)
    relay_key = relay_key or relay_key_for(admin_key)
    port = urlsplit(url).port or 80
    with tempfile.TemporaryDirectory(prefix="xpshop-soak-") as data:
        env = {
            **os.environ,
            "XPSHOP_PORT": str(port),
            "XPSHOP_DDB_PORT": str(free_port()),
            "XPSHOP_DATA_DIR": data,
            "XPSHOP_ADMIN_KEY": admin_key,
            "XPSHOP_RELAY_KEY": relay_key,
        }
        env.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
        log_path = Path(tempfile.gettempdir()) / f"xpshop-soak-dev-{port}.log"  # kept: read it after a failure
        print(f"nothing answers at {url}: starting python -m local.dev there (log {log_path})", flush=True)
        with log_path.open("w") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "local.dev"], cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
            try:
                deadline = time.monotonic() + 120
                while not answers(url):
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise SoakError(f"local.dev did not start: {log_path.read_text()[-1500:]}")
                    time.sleep(0.5)
                yield admin_key, relay_key
            finally:
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()


# ---------------------------------------------------------------- command line


def soak(
    url: str, *, seconds: float, workers: int, guilds: int, admin_key: str, relay_key: str
) -> tuple[dict[str, Any], list[Check]]:
    plan = make_plan(url, admin_key, relay_key, guilds, workers)
    plan.deadline = time.time() + seconds  # coupons are sized for the run's length
    setup(plan)
    started = time.time()
    plan.deadline = started + seconds
    print(
        f"soak {plan.run}: {workers} processes for {seconds:g} s against {url}, guilds {', '.join(plan.guilds)}",
        flush=True,
    )
    traffic = drive(plan, workers)
    elapsed = time.time() - started
    checking = time.monotonic()
    checks = check_all(plan, traffic)
    figures = {**summary(traffic, elapsed), "workers": workers, "guilds": plan.guilds, "run": plan.run}
    figures["errors"] = traffic.errors
    figures["checked_in"] = round(time.monotonic() - checking, 1)  # waiting for the queue and streams included
    return figures, checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.splitlines()[0])
    port = os.environ.get("XPSHOP_PORT", "3000")
    parser.add_argument("--url", default=os.environ.get("SOAK_URL") or f"http://127.0.0.1:{port}")
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS") or DEFAULT_SECONDS))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("SOAK_WORKERS") or DEFAULT_WORKERS))
    parser.add_argument("--guilds", type=int, default=int(os.environ.get("SOAK_GUILDS") or DEFAULT_GUILDS))
    parser.add_argument("--json", type=Path, help="also write the figures and invariants here")
    parser.add_argument("--no-start", action="store_true", help="never start a server: fail when none answers")
    args = parser.parse_args(argv)
    try:
        url = target_url(args.url)
        if not 1 <= args.workers <= 9 or args.seconds <= 0 or not 1 <= args.guilds <= 20:
            raise SoakError("--workers 1-9, --guilds 1-20 and --seconds > 0")
        keys = admin_key_from_env(), os.environ.get("XPSHOP_RELAY_KEY") or None
        with server(url, *keys, start=not args.no_start) as (admin, relay):
            figures, checks = soak(
                url, seconds=args.seconds, workers=args.workers, guilds=args.guilds, admin_key=admin, relay_key=relay
            )
    except SoakError as error:
        print(f"soak: {error}", file=sys.stderr)
        return 2
    ok = all(ch.ok for ch in checks)
    print(render(figures, checks))
    print(f"\nsoak {'passed' if ok else 'FAILED'}")
    if args.json:
        args.json.write_text(json.dumps({**figures, "ok": ok, "invariants": [asdict(ch) for ch in checks]}, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
