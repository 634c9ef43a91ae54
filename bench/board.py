"""The public web leaderboard's figures: DynamoDB requests, RCU and latency per page, and the render alone.

Part of `make bench` (a section of docs/PERFORMANCE.md); `python -m bench --board-only [--members N]` measures
only this on a fresh guild and replaces that section in place, leaving the other figures as they are.
"""

from __future__ import annotations

import gzip
import statistics
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from local.server import HttpRequest, LocalApi

if TYPE_CHECKING:  # the bench's own types; imported lazily at run time (bench/__main__ imports this module)
    from bench.__main__ import Meter, Row

HEADING = "## Web leaderboard"
NAMED_MEMBERS = 300  # display data on the first pages' members, as the relay would have recorded it


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def _row(name: str, meter: Meter, runs: int, latencies: list[float]) -> Row:
    from bench.__main__ import Row

    by_api = ", ".join(f"{k} {v / runs:g}" for k, v in sorted(meter.calls.items()))
    return Row(
        name,
        sum(meter.calls.values()) / runs,
        by_api or "none",
        meter.rcu / runs,
        meter.wcu / runs,
        statistics.median(latencies),
        _percentile(latencies, 0.95),
    )


def _get(api: LocalApi, target: str, status: int = 200) -> bytes:
    response = api.handle(HttpRequest("GET", target, [("host", "bench")], b""))
    if response.status != status:
        raise RuntimeError(f"GET {target} -> {response.status}, expected {status}")
    return response.body


def _forget() -> None:
    from xpshop.service import board, curves

    curves.forget()
    board.forget()


def _measure(
    api: LocalApi, meter: Meter, name: str, target: str, repeat: int, *, cold: bool = False, status: int = 200
) -> Row:
    _get(api, target, status)  # warm: handler imported, config/curve/name cached
    latencies: list[float] = []
    meter.reset()
    for _ in range(repeat):
        if cold:
            _forget()
        started = time.perf_counter()
        _get(api, target, status)
        latencies.append((time.perf_counter() - started) * 1000)
    return _row(name, meter, repeat, latencies)


def _name_members(guild: str, first_user: int, members: int) -> None:
    from xpshop.store import keys
    from xpshop.store.table import table

    for i in range(min(members, NAMED_MEMBERS)):
        table().update_item(
            Key=keys.member(guild, str(first_user + i)),
            UpdateExpression="SET displayName = :d, username = :u, avatar = :a",
            ExpressionAttributeValues={":d": f"Member {i}", ":u": f"member{i}", ":a": f"{i:032x}"},
        )


def measure(api: LocalApi, meter: Meter, *, guild: str, members: int, first_user: int, repeat: int) -> dict[str, Any]:
    """Rows for the section, plus the page's size and the render alone."""
    headers = [("host", "bench"), ("x-api-key", _admin_key()), ("content-type", "application/json")]
    body = b'{"leaderboard": {"public": true}}'
    assert api.handle(HttpRequest("PUT", f"/api/xp/config/{guild}", headers, body)).status == 200
    _name_members(guild, first_user, members)
    board = f"/leaderboard/{guild}"
    pages = -(-members // 100)
    from xpshop.service.board import DIRECT_READ_MAX

    direct = DIRECT_READ_MAX // 100 + 1  # the last page read straight from the top of the index
    numbers = sorted({1, 2, direct, direct + 1, pages // 2, pages} - {0})
    targets = [
        (
            f"page {n:,} (ranks {(n - 1) * 100 + 1:,}+; "
            + ("from the top of the index)" if n <= direct else "located through the rank counters)"),
            f"{board}?page={n}" if n > 1 else board,
        )
        for n in numbers
        if n <= pages
    ]
    rows = [_measure(api, meter, f"board {label}, warm", target, repeat) for label, target in targets]
    rows.append(_measure(api, meter, "board page 1, cold (registry + config read again)", board, repeat, cold=True))
    if direct + 1 <= pages:
        deep = f"{board}?page={direct + 1}"
        rows.append(_measure(api, meter, f"board page {direct + 1}, cold", deep, repeat, cold=True))
    unknown = "/leaderboard/999999999999999999"
    rows.append(_measure(api, meter, "board 404 (unknown guild)", unknown, repeat, status=404))
    rows.append(_measure(api, meter, "board 404 (page past the end)", f"{board}?page={pages + 1}", repeat, status=404))
    html = _get(api, board)
    render = _render_only(meter, guild, repeat)
    return {"rows": rows, "html_bytes": len(html), "gzip_bytes": len(gzip.compress(html, 6, mtime=0)), **render}


def _render_only(meter: Meter, guild: str, repeat: int) -> dict[str, Any]:
    """The HTML render of page 1 (100 rows) from data already read: what the page costs on top of the reads."""
    from xpshop.service import board as boards
    from xpshop.web import leaderboard

    opened = boards.open_board(guild)
    assert opened is not None
    page = boards.page(opened, 1)
    assert page is not None
    leaderboard.render_board(opened, page, "https://bench")
    latencies = []
    for _ in range(max(repeat, 50)):
        started = time.perf_counter()
        leaderboard.render_board(opened, page, "https://bench")
        latencies.append((time.perf_counter() - started) * 1000)
    return {"render_p50": statistics.median(latencies), "render_p95": _percentile(latencies, 0.95)}


def _admin_key() -> str:
    from bench.__main__ import ADMIN_KEY

    return ADMIN_KEY


def section(result: dict[str, Any], members: int, table: Callable[[list[Row]], list[str]]) -> list[str]:
    cold = result.get("import_ms")
    imports = (
        [f"Cold import of `WebLeaderboardFunction` (handler, Jinja2, templates compiled): {cold:.0f} ms.", ""]
        if cold
        else []
    )
    return [
        "",
        f"{HEADING} (guild of {members:,} members, `GET /leaderboard/{{guildId}}`, 100 members a page)",
        "",
        *table(result["rows"]),
        "",
        f"Rendering page 1 alone (100 rows, Jinja2, data already read): p50 {result['render_p50']:.1f} ms,"
        f" p95 {result['render_p95']:.1f} ms. The page is {result['html_bytes'] / 1024:.0f} KB of HTML,"
        f" {result['gzip_bytes'] / 1024:.0f} KB gzipped (sent gzipped to clients that accept it).",
        "",
        *imports,
        "- Requests: the guild's registry record and both config layers in one `BatchGetItem` (kept by the",
        "  container for 30 s, so only the cold rows pay it), the rank counters (A for the total; B, C and, below",
        "  1,000 XP, T to locate a page further down), one index `Query`, and one `BatchGetItem` of the page's",
        "  display data (the `LeaderboardBands` index does not project it). Pages starting within `DIRECT_READ_MAX`",
        "  (200) members of the top are read straight from the top of the index: reading past those entries",
        "  costs ~1.5 RCU per 100 and saves the 2-3 counter requests. Every row includes the per-address rate",
        "  limit's `UpdateItem` (`AnonymousRateLimitPerMinute`, 0 turns it off): without it, each row is one",
        "  request fewer.",
        "- Bands: the guild measured is on its single band (every guild below `FINE_BANDS_FROM`, 15,000",
        "  members): one index `Query` per page, as before the bands. On the fine bands (`--fine-bands`) a page",
        '  pays +1 `Query` per band it runs into and the top pages the B counters (the table "Reads with the',
        '  bands" under "Capacity at 5,000 messages/s in one guild").',
        "- RCU: most of a page's RCU is the display-data `BatchGetItem`: DynamoDB rounds every item read up to",
        "  4 KB (0.5 RCU eventually consistent), so 100 members cost ~50 RCU whatever the projection.",
        "  Projecting displayName, username, avatar and hidden into the `LeaderboardBands` index would make it part of",
        "  the index `Query` (~2-3 RCU for 100 entries) and drop one request; not done here (an index's",
        "  projection cannot change in place: the index is rebuilt). `Cache-Control: public, max-age=60` lets a",
        "  CDN or browser absorb repeated views.",
        "- 404s: DynamoDB Local reports no capacity for keys it does not find; AWS bills each key asked for at",
        "  least 0.5 RCU, so the unknown-guild 404 costs ~1.5 RCU there (three keys).",
    ]


def replace_section(text: str, lines: list[str]) -> str:
    """PERFORMANCE.md with this section replaced (or added before the cold imports / the notes)."""
    body = "\n".join(lines).strip("\n")
    parts = text.split("\n## ")
    kept = [p for p in parts if not ("## " + p).startswith(HEADING)]
    insert_at = next(
        (i for i, p in enumerate(kept) if p.startswith(("Discord webhook, cold", "Cold import", "Notes"))), len(kept)
    )
    kept.insert(insert_at, body.removeprefix("## ") + "\n")
    return "\n## ".join(kept)
