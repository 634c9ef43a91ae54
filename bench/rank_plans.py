"""How many moving members a second one guild's rank index takes: plans applied with their writes one after
another (WRITERS = 1) against at once (rank_counters.WRITERS), on DynamoDB Local, and modelled for AWS.

One guild's member records share a partition key, so the stream hands them to one invocation at a time, in
order, and that invocation applies them in plans of PLAN_MEMBERS, one after another: a guild's rank index
takes at most (members a plan) / (time a plan) moving members a second, whatever the number of shards.

    python -m bench.rank_plans [--members 100] [--rounds 10]      # prints the table for docs/PERFORMANCE.md

Scenarios: members from 1,000 XP moving into the next hundred (ranked item + C counters, shared by members
of one hundred) and members below 1,000 XP each moving 20 XP (ranked item + T counters each + C: the most
writes a plan of that size makes). The AWS model: every request DYNAMODB_MS (bench/cost.py's DurationModel),
a plan = its reads and take (GetItem, BatchGetItem, PutItem), then its ranked writes, its counter writes and
the release, each step's writes in waves of WRITERS. Local times are DynamoDB Local's on this machine (2
shared cores), not DynamoDB's. A benchmark, not a test: nothing here asserts anything.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from bench.cost import DURATION
from local import REPO_ROOT
from local.ddb import DynamoDBLocal
from local.dev import configure_environment
from local.template import create_table, load_template

LAYER = str(REPO_ROOT / "layers" / "common" / "python")
if LAYER not in sys.path:
    sys.path.insert(0, LAYER)

HEADING = "**One guild's rank index, measured.**"
TABLE = "xpshop-bench-rank"
GUILD = "900000000000000077"
FIRST_USER = 930000000000000000
DYNAMODB_MS = DURATION.ddb_ms
MEMORY_MB = 512  # RankIndexFunction (template.yaml Globals): ~0.29 of a vCPU on Lambda
FULL_VCPU_MB = DURATION.full_vcpu_mb  # what a vCPU would give (one Python process uses one at most: the GIL)


SHARED = "1,000+ XP, ten hundreds shared"
SPREAD = "1,000+ XP, a hundred each"
BELOW = "below 1,000 XP, 20 XP each"


@dataclass(frozen=True, slots=True)
class Result:
    scenario: str
    writers: int
    members: int  # per plan
    plans: int
    seconds: float
    cpu_seconds: float  # this process's (the rank index's side; DynamoDB Local is another process)
    requests: Counter[str]  # "ranked", "counter", "plan", "read" -> count over all plans

    def per_plan(self, kind: str) -> float:
        return self.requests[kind] / self.plans

    @property
    def writes(self) -> float:
        return self.per_plan("ranked") + self.per_plan("counter") + self.per_plan("plan")

    @property
    def local_rate(self) -> float:
        return self.members * self.plans / self.seconds

    def cpu_ms(self, memory_mb: int = MEMORY_MB) -> float:
        """CPU a plan, scaled to the function's share of a vCPU on Lambda (bench/cost.py's model)."""
        stretch = max(1.0, DURATION.full_vcpu_mb / memory_mb) / DURATION.cpu_speed
        return self.cpu_seconds * 1000 / self.plans * stretch

    @property
    def wait_ms(self) -> float:
        """Waiting on DynamoDB a plan: reads and take, ranked writes in waves, counter writes in waves, release."""
        waves = math.ceil(self.per_plan("ranked") / self.writers) + math.ceil(self.per_plan("counter") / self.writers)
        return (self.per_plan("read") + self.per_plan("plan") + waves) * DYNAMODB_MS

    def aws_plan_ms(self, memory_mb: int = MEMORY_MB) -> float:
        """One writer: waiting and CPU add up. Several: the CPU runs while the writes wait, so the larger of
        the two (an optimistic bound: the waves are not perfectly overlapped)."""
        if self.writers == 1:
            return self.wait_ms + self.cpu_ms(memory_mb)
        return max(self.wait_ms, self.cpu_ms(memory_mb))

    def aws_rate(self, memory_mb: int = MEMORY_MB) -> float:
        return self.members / self.aws_plan_ms(memory_mb) * 1000


def _meter() -> Counter[str]:
    """Every rank index request from now on, by what it writes (retries included)."""
    import json

    from xpshop.store.table import client

    seen: Counter[str] = Counter()

    def before_send(request: Any, **_: Any) -> None:
        operation = str(request.headers.get("X-Amz-Target", b"").decode()).rsplit(".", 1)[-1]
        if operation in ("GetItem", "BatchGetItem"):
            seen["read"] += 1
            return
        body = json.loads(request.body or b"{}")
        pk = str((body.get("Key") or body.get("Item") or {}).get("PK", {}).get("S", ""))
        seen["plan" if pk.endswith("#RANKPLAN") else "counter" if "#RANK#v" in pk else "ranked"] += 1

    client().meta.events.register_first("before-send.dynamodb", before_send)
    return seen


def _run(scenario: str, members: int, rounds: int, writers: int, first_user: int) -> Result:
    from xpshop.store import rank_counters

    users = [str(first_user + i) for i in range(members)]
    if scenario == SHARED:
        xp = [5_000 + (i % 10) * 100 + 90 for i in range(members)]  # ten hundreds, members sharing them
        step = 100
    elif scenario == SPREAD:
        xp = [10_000 + i * 1_000 + 90 for i in range(members)]  # a hundred each: 2 counters each, none shared
        step = 100
    else:  # below 1,000 XP: a T counter per exact XP, each member its own
        xp = [i * 3 % 700 for i in range(members)]
        step = 20
    rank_counters.import_members(GUILD, list(zip(xp, users, strict=True)))
    rank_counters.WRITERS = writers
    seen = _meter()
    seen.clear()
    started, cpu = time.perf_counter(), time.process_time()
    for r in range(1, rounds + 1):
        changes = {u: ((x + r * step, u), str(10**20 + r)) for u, x in zip(users, xp, strict=True)}
        assert len(rank_counters.apply(GUILD, changes)) == members
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return Result(scenario, writers, members, rounds, elapsed, cpu, Counter(seen))


def measure(members: int, rounds: int) -> list[Result]:
    from xpshop.store import rank_counters, table

    concurrent = rank_counters.WRITERS
    results = []
    template = load_template()
    with DynamoDBLocal() as ddb:
        create_table(ddb.client(), template, TABLE)
        configure_environment(ddb.endpoint, TABLE, "bench-admin-key", template=template)
        table.reset()
        first = FIRST_USER
        for scenario in (SHARED, SPREAD, BELOW):
            for writers in (1, concurrent):
                results.append(_run(scenario, members, rounds, writers, first))
                first += members
        rank_counters.WRITERS = concurrent
    return results


def section(results: list[Result], rounds: int) -> list[str]:
    from xpshop.store import rank_counters

    w = max(r.writers for r in results)
    lines = [
        HEADING,
        "",
        f"`python -m bench.rank_plans --members {results[0].members} --rounds {rounds}` (bench/rank_plans.py): "
        f"one guild, {rounds} plans of {results[0].members} moving members each through `rank_counters.apply`, "
        f"the plan's writes one after another (1 writer) or {w} at once (`WRITERS`), on DynamoDB Local "
        "(this machine: 2 shared cores; its times are not DynamoDB's). AWS: every request "
        f"{DYNAMODB_MS:g} ms (bench/cost.py's `DurationModel`), a plan = its reads and take, then its ranked "
        "writes, its counter writes and its release, each step in waves of the writers.",
        "",
        "| moves | writers | writes a plan (ranked + counters + plan item) | local members/s "
        f"| CPU ms a plan on Lambda ({MEMORY_MB} MB) | waiting ms a plan on AWS | AWS ms a plan "
        f"| AWS members/s, one guild ({MEMORY_MB} MB) | same at {FULL_VCPU_MB:,} MB (a vCPU) |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.scenario} | {r.writers} | {r.writes:.0f} ({r.per_plan('ranked'):.0f} + "
            f"{r.per_plan('counter'):.0f} + {r.per_plan('plan'):.0f}) | {r.local_rate:,.0f} "
            f"| {r.cpu_ms():,.0f} | {r.wait_ms:,.0f} | {r.aws_plan_ms():,.0f} | {r.aws_rate():,.0f} "
            f"| {r.aws_rate(FULL_VCPU_MB):,.0f} |"
        )
    lines += [
        "",
        f"A plan holds at most `PLAN_MEMBERS` = {rank_counters.PLAN_MEMBERS} members, and one guild's records "
        "share a partition key: the stream gives them to one invocation at a time, which applies its plans one "
        "after another. So the table's last column is one guild's bound, at any number of shards.",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.rank_plans")
    parser.add_argument("--members", type=int, default=100, help="moving members per plan (at most PLAN_MEMBERS)")
    parser.add_argument("--rounds", type=int, default=10, help="plans per scenario")
    args = parser.parse_args(argv)
    lines = section(measure(args.members, args.rounds), args.rounds)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
