"""What API keys v2 and rate limits cost per API call (issue 17): DynamoDB requests and capacity of the same
calls made with the admin key (not limited: no counter), the admin key counted, an API key (warm: resolved
from the container's cache; cold: its one GetItem), and an anonymous caller of a public route with and
without the per-address limit. A section of docs/PERFORMANCE.md.

    python -m bench.keys [--repeat 50] [--no-write]

`make bench` regenerates the rest of PERFORMANCE.md and keeps this section as it was (`keep_section`).
Benchmarks measure, they assert nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bench import sections
from local import REPO_ROOT
from local.server import HttpRequest, LocalApi

HEADING = "## API keys and rate limits"
GUILD = "950000000000000001"
FIRST_USER = 960000000000000000
MEMBERS = 200


def keep_section(previous: str, document: str) -> str:
    """`document` (a fresh `make bench` page) with this section of `previous` carried over."""
    return sections.keep(previous, document, HEADING)


def _request(api: LocalApi, method: str, path: str, key: str | None, body: Any = None, *, address: str) -> None:
    headers = [("host", "bench"), ("content-type", "application/json")]
    if key is not None:
        headers.append(("authorization", f"Bearer {key}"))
    payload = json.dumps(body).encode() if body is not None else b""
    response = api.handle(HttpRequest(method, path, headers, payload, source_ip=address))
    if response.status >= 300:
        raise RuntimeError(f"{method} {path} -> {response.status} {response.body[:300]!r}")


def _row(
    api: LocalApi,
    meter: Any,
    name: str,
    call: tuple[str, str, Any],
    *,
    key: str | None,
    repeat: int,
    before: Callable[[], None] = lambda: None,
) -> Any:
    from bench.__main__ import Row

    method, path, body = call
    latencies: list[float] = []
    meter.reset()
    for i in range(repeat):
        before()
        started = time.perf_counter()
        _request(api, method, path, key, body, address=f"203.0.113.{i % 200 + 1}" if key is None else "127.0.0.1")
        latencies.append((time.perf_counter() - started) * 1000)
    by_api = ", ".join(f"{k} {v / repeat:g}" for k, v in sorted(meter.calls.items()))
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))]
    total = sum(meter.calls.values()) / repeat
    return Row(name, total, by_api or "none", meter.rcu / repeat, meter.wcu / repeat, statistics.median(latencies), p95)


def measure(api: LocalApi, meter: Any, repeat: int) -> list[Any]:
    from bench.__main__ import ADMIN_KEY
    from xpshop.service import access_keys

    local = "127.0.0.1"
    _request(api, "PUT", f"/api/xp/guilds/{GUILD}", ADMIN_KEY, address=local)
    for i in range(MEMBERS):
        _request(api, "POST", f"/api/xp/users/{GUILD}/{FIRST_USER + i}", ADMIN_KEY, {"amount": 10 + i}, address=local)
    _request(api, "PUT", f"/api/xp/config/{GUILD}", ADMIN_KEY, {"leaderboard": {"public": True}}, address=local)
    issued = access_keys.issue("bench", ["xp:read", "xp:write"], [GUILD], rate_limit=1_000_000)
    key = issued["key"]
    member = f"/api/xp/users/{GUILD}/{FIRST_USER + MEMBERS // 2}"
    calls = [
        ("member", ("GET", member, None)),
        ("add XP", ("POST", member, {"amount": 1})),
        ("leaderboard page", ("GET", f"/api/xp/leaderboard/{GUILD}", None)),
    ]
    rows = []
    for label, call in calls:
        os.environ["RATE_LIMIT_ADMIN_PER_MINUTE"] = "0"
        rows.append(_row(api, meter, f"{label}: admin key (not limited)", call, key=ADMIN_KEY, repeat=repeat))
        os.environ["RATE_LIMIT_ADMIN_PER_MINUTE"] = "1000000"
        rows.append(_row(api, meter, f"{label}: admin key, limited", call, key=ADMIN_KEY, repeat=repeat))
        os.environ["RATE_LIMIT_ADMIN_PER_MINUTE"] = "0"
        _request(api, call[0], call[1], key, call[2], address=local)  # resolved once: cached from here
        rows.append(_row(api, meter, f"{label}: API key, cached (30 s)", call, key=key, repeat=repeat))
        rows.append(
            _row(
                api,
                meter,
                f"{label}: API key, cache miss",
                call,
                key=key,
                repeat=repeat,
                before=access_keys.forget_cache,
            )
        )
    public = ("GET", f"/api/xp/leaderboard/{GUILD}", None)
    board = ("GET", f"/leaderboard/{GUILD}", None)
    for label, call in (("public leaderboard JSON", public), ("web leaderboard page", board)):
        os.environ["RATE_LIMIT_ANONYMOUS_PER_MINUTE"] = "0"
        rows.append(_row(api, meter, f"{label}: anonymous, no limit", call, key=None, repeat=repeat))
        os.environ["RATE_LIMIT_ANONYMOUS_PER_MINUTE"] = "1000000"
        rows.append(_row(api, meter, f"{label}: anonymous, per-address limit", call, key=None, repeat=repeat))
    os.environ["RATE_LIMIT_ANONYMOUS_PER_MINUTE"] = "600"
    return rows


def section(rows: list[Any], stamp: str) -> list[str]:
    from bench.__main__ import _table

    return [
        HEADING,
        "",
        stamp,
        "",
        *_table(rows),
        "",
        "- A counted call costs **one UpdateItem more, 1 WCU** (the caller's one-minute window: `ADD n :1` with"
        " the limit as its condition; a refused call's failed condition is billed 1 WCU too). The admin key is"
        " not counted by default (`AdminRateLimitPerMinute` 0): no extra request at all.",
        "- An API key costs nothing more to resolve while its container holds it (30 s): the cache miss adds"
        " **one GetItem of the key, 1 RCU** (consistent read of an item under 1 KB). `lastUsedAt` adds one"
        " UpdateItem per key per container at most every 5 minutes (not in the rows above: measured warm).",
        "- So at the default 1,500 requests/min an integration adds at most 25 WCU/s of counter writes, spread"
        " over one partition per caller and minute (`RATE#<subject>#<window>`), far under a partition's"
        " 1,000 WCU/s; the window items expire by TTL (deletes are free).",
    ]


def main(argv: list[str] | None = None) -> int:
    from bench.__main__ import OUTPUT, _machine, measured_api
    from local.template import load_template

    parser = argparse.ArgumentParser(prog="python -m bench.keys")
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--no-write", action="store_true", help="print the section, do not update PERFORMANCE.md")
    args = parser.parse_args(argv)
    layer = str(REPO_ROOT / "layers" / "common" / "python")
    if layer not in sys.path:
        sys.path.insert(0, layer)
    with measured_api(load_template()) as (_ddb, api, meter):
        rows = measure(api, meter, args.repeat)
    stamp = (
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {_machine()}, DynamoDB Local in memory, handlers"
        f" in-process: `python -m bench.keys --repeat {args.repeat}` (a guild of {MEMBERS} members; per call)."
        " Requests and capacity are what AWS would count; times are DynamoDB Local's on this machine."
    )
    lines = section(rows, stamp)
    print("\n".join(lines))
    if not args.no_write:
        OUTPUT.write_text(sections.insert(OUTPUT.read_text(encoding="utf-8"), HEADING, lines), encoding="utf-8")
        print(f"updated the API keys section of {OUTPUT.relative_to(REPO_ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
