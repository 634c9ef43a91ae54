"""Load a demo guild into the running `make dev` server, through the API as any client would.

    make demo        # or: python -m local.demo [--members 300] [--url http://127.0.0.1:3000]

The admin key comes from XPSHOP_ADMIN_KEY, else from .local/admin-key (written by `make dev`); the relay key
from XPSHOP_RELAY_KEY, else `<admin key>-relay` (make dev's default). Members get XP through the admin API,
then one chat message each through the relay's ingestion endpoint, carrying display names and avatar hashes
(fake but well-formed) as the gateway relay would; a couple of members hide themselves.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from local import REPO_ROOT
from local.dev import KEY_FILE
from local.lambdas import DEFAULT_LAYER_DIR

DEMO_GUILD = "100000000000000001"
FIRST_USER = 300000000000000001
REWARD_ROLES = {5: "500000000000000005", 10: "500000000000000010", 20: "500000000000000020"}
DEMO_CHANNEL = "300000000000000001"

FIRST = ["Ada", "Linus", "Grace", "Alan", "Margaret", "Ken", "Barbara", "Dennis", "Radia", "Guido", "Sophie", "Mateo"]
FIRST += ["Amara", "Priya", "Chen", "Olga", "Kwame", "Lucía", "Noor", "Hiro", "Ines", "Tomasz", "Aiyana", "Bjørn"]
SECOND = ["Builder", "Miner", "Crafter", "Redstone", "Ender", "Creeper", "Sky", "Pixel", "Nether", "Diamond", "Blaze"]
# Names that exercise the views: other scripts (Cyrillic, Greek, CJK, Arabic right-to-left), emoji, a long one,
# markup that must show as text (HTML on the board, Markdown and mentions in Discord).
SPECIAL = [
    "Кирилл Строитель",
    "<script>alert('xss')</script>",
    "Ελένη ⚡",
    "山田太郎",
    "🐉 Dragon Tamer 🔥",
    "محمد الصخري",
    "Sir Reginald Maximilian Fortescue-Worthington III of the Northern Block Chunks",
    "**bold** _markdown_ <@1> @everyone",
    'Quote "&" Ampersand',
    "👩‍💻",
]
SPECIAL_RANKS = [0, 2, 3, 5, 6, 8, 9, 11, 12, 14]  # places on the first page (0-based ranks)
HIDDEN_RANKS = [1, 7]  # two members who chose /privacy hide


def _key() -> str:
    key = os.environ.get("XPSHOP_ADMIN_KEY", "").strip()
    if not key and KEY_FILE.is_file():
        key = KEY_FILE.read_text(encoding="utf-8").strip()
    if not key:
        raise SystemExit("No admin key: set XPSHOP_ADMIN_KEY (the one `make dev` printed)")
    return key


def _relay_key(admin_key: str) -> str:
    return os.environ.get("XPSHOP_RELAY_KEY", "").strip() or admin_key + "-relay"


def _fake_hash(rng: random.Random) -> str:
    """A well-formed Discord avatar hash (32 hex digits; "a_" for an animated one): it points at no image."""
    return ("a_" if rng.random() < 0.15 else "") + f"{rng.getrandbits(128):032x}"


def display_data(members: int, amounts: list[int], seed: int) -> list[dict[str, Any]]:
    """Display data per member (index -> fields the relay would send), deterministic for a seed: ordinary
    names, the SPECIAL ones on the first page, some members without an avatar or a display name."""
    rng = random.Random(seed + 1)
    by_rank = sorted(range(members), key=lambda i: (-amounts[i], FIRST_USER + i))
    special = {by_rank[r]: name for r, name in zip(SPECIAL_RANKS, SPECIAL, strict=False) if r < members}
    found = []
    for i in range(members):
        shown = special.get(i) or f"{rng.choice(FIRST)} {rng.choice(SECOND)}"
        username = f"{''.join(c for c in shown.lower() if c.isascii() and c.isalnum())[:20] or 'member'}{i}"
        data: dict[str, Any] = {"username": username}
        if i % 7 != 3:  # some members never set a display name: views fall back to the username
            data["displayName"] = shown
        data["avatar"] = None if i % 4 == 1 else _fake_hash(rng)  # a quarter without an avatar
        found.append(data)
    return found


def _relay_messages(base: str, relay_key: str, members: int, names: list[dict[str, Any]]) -> None:
    """One chat message per member through the ingestion endpoint, as the gateway relay forwards them."""
    layer = str(REPO_ROOT / DEFAULT_LAYER_DIR)  # the id rules live in the layer (xpshop.ids)
    if layer not in sys.path:
        sys.path.append(layer)
    from xpshop.ids import snowflake_at

    now = int(time.time() * 1000)
    first_id = snowflake_at(now)  # snowflakes of now: later runs count as new messages
    events = [
        {
            "messageId": str(first_id + i),
            "guildId": DEMO_GUILD,
            "channelId": DEMO_CHANNEL,
            "userId": str(FIRST_USER + i),
            "roleIds": [],
            "timestamp": now,
            "bot": False,
            **names[i],
        }
        for i in range(members)
    ]
    for start in range(0, len(events), 100):
        r = requests.post(
            f"{base}/api/xp/ingest/messages",
            json={"messages": events[start : start + 100]},
            headers={"Authorization": f"Bearer {relay_key}"},
            timeout=10,
        )
        if r.status_code != 202:
            raise SystemExit(f"POST /api/xp/ingest/messages -> {r.status_code} {r.text} (XPSHOP_RELAY_KEY?)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=f"http://127.0.0.1:{os.environ.get('XPSHOP_PORT', '3000')}")
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    admin_key = _key()
    session = requests.Session()
    session.headers["X-API-Key"] = admin_key
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
    before = call("GET", f"/api/xp/stats/{DEMO_GUILD}")["data"]["messages"]["total"]
    names = display_data(args.members, amounts, args.seed)
    _relay_messages(base, _relay_key(admin_key), args.members, names)
    deadline = time.monotonic() + 60  # make dev's queue poller hands them to the consumer in a few seconds
    while call("GET", f"/api/xp/stats/{DEMO_GUILD}")["data"]["messages"]["total"] < before + args.members:
        if time.monotonic() > deadline:
            print("The relayed messages are not all counted yet: names appear as they are.", file=sys.stderr)
            break
        time.sleep(0.5)
    by_rank = sorted(range(args.members), key=lambda i: (-amounts[i], FIRST_USER + i))
    for rank in HIDDEN_RANKS:
        if rank < args.members:
            call("PUT", f"/api/xp/users/{DEMO_GUILD}/{FIRST_USER + by_rank[rank]}/privacy", {"hidden": True})
    public = requests.get(f"{base}/api/xp/leaderboard/{DEMO_GUILD}?limit=10", timeout=10).json()["data"]
    print(f"Loaded {args.members} members into guild {DEMO_GUILD}. Top 10 of {public['total']}, as the public sees it:")
    for entry in public["entries"]:
        who = "Hidden member" if entry["hidden"] else f"{entry['displayName']}  ({entry['userId']})"
        print(f"  #{entry['rank']:<3} level {entry['level']:<3} {entry['xp']:>6} XP  {who}")
    print(f"\n  {base}/leaderboard/{DEMO_GUILD}               (the web board)")
    print(f"  curl {base}/api/xp/leaderboard/{DEMO_GUILD}        (public in the demo: hidden members masked)")
    print(f"  curl -H 'X-API-Key: ...' {base}/api/xp/leaderboard/{DEMO_GUILD}   (the admin sees every id)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
