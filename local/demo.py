"""Load a demo guild into the running `make dev` server, through the API as any client would.

    make demo        # or: python -m local.demo [--members 300] [--url http://127.0.0.1:3000]

The admin key comes from XPSHOP_ADMIN_KEY, else from .local/admin-key (written by `make dev`).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from concurrent.futures import ThreadPoolExecutor

import requests

from local.dev import KEY_FILE

DEMO_GUILD = "100000000000000001"
FIRST_USER = 300000000000000001
REWARD_ROLES = {5: "500000000000000005", 10: "500000000000000010", 20: "500000000000000020"}


def _key() -> str:
    key = os.environ.get("XPSHOP_ADMIN_KEY", "").strip()
    if not key and KEY_FILE.is_file():
        key = KEY_FILE.read_text(encoding="utf-8").strip()
    if not key:
        raise SystemExit("No admin key: set XPSHOP_ADMIN_KEY (the one `make dev` printed)")
    return key


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=f"http://127.0.0.1:{os.environ.get('XPSHOP_PORT', '3000')}")
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    session = requests.Session()
    session.headers["X-API-Key"] = _key()
    base = args.url.rstrip("/")

    def call(method: str, path: str, body: object = None) -> dict:
        r = session.request(method, f"{base}{path}", json=body, timeout=10)
        if r.status_code >= 300 and not (r.status_code == 400 and "DUPLICATE_REWARD" in r.text):
            raise SystemExit(f"{method} {path} -> {r.status_code} {r.text}")
        return r.json()

    try:
        call("PUT", f"/api/xp/guilds/{DEMO_GUILD}", {"name": "xpshop demo"})
    except requests.ConnectionError:
        print(f"Nothing answers on {base}: start `make dev` first.", file=sys.stderr)
        return 1
    call("PUT", f"/api/xp/config/{DEMO_GUILD}", {"leaderboard": {"public": True}, "xpRate": 1.25})
    for level, role in REWARD_ROLES.items():
        call("POST", f"/api/xp/config/{DEMO_GUILD}/rewards", {"level": level, "roleId": role})
    rng = random.Random(args.seed)
    # A long tail like a real community: most members have a little XP, a few have a lot.
    amounts = [min(int(rng.paretovariate(1.2) * 120), 60_000) for _ in range(args.members)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(
            pool.map(
                lambda i: call(
                    "PUT", f"/api/xp/users/{DEMO_GUILD}/{FIRST_USER + i}", {"xp": amounts[i], "reason": "demo"}
                ),
                range(args.members),
            )
        )
    top = call("GET", f"/api/xp/leaderboard/{DEMO_GUILD}?limit=5")["data"]
    print(f"Loaded {args.members} members into guild {DEMO_GUILD}. Top 5 of {top['total']}:")
    for entry in top["entries"]:
        print(f"  #{entry['rank']:<3} {entry['userId']}  level {entry['level']:<3} {entry['xp']} XP")
    print(f"\n  {base}/leaderboard/{DEMO_GUILD}        (the web leaderboard: open it in a browser)")
    print(f"  curl {base}/api/xp/leaderboard/{DEMO_GUILD}        (public in the demo)")
    print(f"  curl -H 'X-API-Key: ...' {base}/api/xp/stats/{DEMO_GUILD}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
