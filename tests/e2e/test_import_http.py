"""Import and export over HTTP against `make dev` (python -m local.dev): a MEE6-shaped file (two leaderboard pages
with role rewards), its export as CSV imported into another guild, and a file too big for one request going
through the local import queue and worker as a background job."""

from __future__ import annotations

import gzip
import json
import time
from typing import Any

import requests

from tests.e2e.conftest import E2E_IMPORT_SYNC_MAX_ROWS

GUILD, COPY, BIG = "613000000000000001", "613000000000000002", "613000000000000003"
ROLE5, ROLE10 = "613900000000000005", "613900000000000010"


def _register(http: requests.Session, guild: str) -> None:
    assert http.put(f"{http.base_url}/api/xp/guilds/{guild}", json={}, timeout=30).status_code in (200, 201)


def _mee6_pages() -> list[dict[str, Any]]:
    rewards = [{"rank": 5, "role": {"id": ROLE5, "name": "Regular"}}, {"rank": 10, "role": {"id": ROLE10}}]
    players = [
        {
            "id": str(614000000000000000 + n),
            "username": f"member{n}",
            "discriminator": "0",
            "avatar": None,
            "level": 0,
            "xp": (n * 389) % 9000,
            "message_count": n * 3,
            "detailed_xp": [0, 155, (n * 389) % 9000],
        }
        for n in range(150)
    ]
    return [
        {"page": 0, "players": players[:100], "role_rewards": rewards, "xp_per_message": [15, 25], "xp_rate": 1},
        {"page": 1, "players": players[100:], "role_rewards": rewards, "xp_per_message": [15, 25], "xp_rate": 1},
    ]


def _board(http: requests.Session, guild: str, total: int) -> list[tuple[str, int, int]]:
    """The whole leaderboard once the rank counters (kept from the stream in the background) count `total`."""
    deadline = time.monotonic() + 120
    while True:
        first = http.get(f"{http.base_url}/api/xp/leaderboard/{guild}?limit=100", timeout=30).json()["data"]
        if first["total"] == total or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert first["total"] == total
    entries = [(e["userId"], e["xp"], e["level"]) for e in first["entries"]]
    for offset in range(100, total, 100):
        page = http.get(f"{http.base_url}/api/xp/leaderboard/{guild}?offset={offset}&limit=100", timeout=30).json()
        entries += [(e["userId"], e["xp"], e["level"]) for e in page["data"]["entries"]]
    return entries


def test_a_mee6_file_then_its_export_into_another_guild(http):
    for guild in (GUILD, COPY):
        _register(http, guild)
    pages = _mee6_pages()
    sent = http.post(
        f"{http.base_url}/api/xp/import/{GUILD}?mode=replace",
        data=gzip.compress(json.dumps(pages).encode()),
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip", "Idempotency-Key": "e2e-mee6"},
        timeout=120,
    )
    assert sent.status_code == 200, sent.text
    data = sent.json()["data"]
    assert (data["format"], data["received"], data["imported"], data["rejected"]) == ("mee6", 150, 150, 0)
    assert data["roleRewards"] == {"received": 2, "added": 2, "replaced": 0, "kept": 0, "skipped": 0, "errors": []}
    rewards = http.get(f"{http.base_url}/api/xp/config/{GUILD}/rewards", timeout=30).json()["data"]["rewards"]
    assert rewards == [{"level": 5, "roleId": ROLE5}, {"level": 10, "roleId": ROLE10}]
    players = [p for page in pages for p in page["players"]]
    expected = sorted(((p["id"], p["xp"]) for p in players), key=lambda e: (-e[1], int(e[0])))
    board = _board(http, GUILD, 150)
    assert [(u, xp) for u, xp, _ in board] == expected
    stats = http.get(f"{http.base_url}/api/xp/stats/{GUILD}", timeout=30).json()["data"]
    assert stats["messages"]["total"] == sum(p["message_count"] for p in players)

    exported = http.get(f"{http.base_url}/api/xp/export/{GUILD}?format=csv", timeout=60)
    assert exported.status_code == 200 and exported.headers["Content-Type"].startswith("text/csv")
    assert "Link" not in exported.headers
    again = http.post(
        f"{http.base_url}/api/xp/import/{COPY}",
        data=exported.content,
        headers={"Content-Type": "text/csv"},
        timeout=120,
    )
    assert again.status_code == 200 and again.json()["data"]["imported"] == 150, again.text
    assert _board(http, COPY, 150) == board


def test_a_file_too_big_for_one_request_is_a_job_run_by_the_local_queue(http):
    _register(http, BIG)
    rows = E2E_IMPORT_SYNC_MAX_ROWS + 100
    listed = [{"id": str(615000000000000000 + n), "xp": (n * 7919) % 20_000} for n in range(rows)]
    sent = http.post(f"{http.base_url}/api/xp/import/{BIG}", json=listed, timeout=120)
    assert sent.status_code == 202, sent.text
    job = sent.json()["data"]
    assert job["status"] in ("queued", "running") and job["total"] == rows
    deadline = time.monotonic() + 600
    while True:
        # the local server runs one handler at a time, like one execution environment: a GET waits for the
        # worker's chunk (and the rank index's batches) in progress
        status = http.get(f"{http.base_url}{job['statusUrl']}", timeout=300).json()["data"]
        if status["status"] in ("done", "failed") or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert (status["status"], status["processed"], status["imported"]) == ("done", rows, rows), status
    part = http.get(f"{http.base_url}/api/xp/export/{BIG}?limit=10", timeout=300)
    top = sorted(listed, key=lambda r: (-r["xp"], int(r["id"])))[:10]
    assert [(m["id"], m["xp"]) for m in part.json()["data"]["members"]] == [(r["id"], r["xp"]) for r in top]
    assert part.headers["Link"].endswith('>; rel="next"')
    # the rank index has taken in every imported member before the next module uses the server
    assert len(_board(http, BIG, rows)) == rows
