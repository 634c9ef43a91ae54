"""Import helpers for tests: rows of a guild, the oracle a guild must match after an import, and the import
queue delivered to the import worker as Lambda's event source mapping would (redeliveries included)."""

from __future__ import annotations

import random
from typing import Any

from local import REPO_ROOT, events, lambdas
from local.template import functions, load_template
from tests.support.storage import half_up

QUEUE = "xpshop-imports"
EDGE_XP = [0, 0, 1, 154, 155, 999, 1000, 1001, 5500, 999_999, 1_000_000, 1_000_001]


def rows(count: int, seed: int, *, first: int = 700_000_000_000_000_000) -> list[dict[str, Any]]:
    """`count` distinct members: ties (0 XP, edges of the rank counters, a small XP range) and a spread of ids
    over many of the rank index's tie ranges; a message count on most rows."""
    rng = random.Random(seed)
    found = []
    for i in range(count):
        user = str(first + i * 3_000_000_000_017 + seed)
        xp = rng.choice(EDGE_XP) if rng.random() < 0.25 else rng.randrange(0, 3_000)
        row: dict[str, Any] = {"id": user, "xp": xp}
        if rng.random() < 0.8:
            row["messages"] = rng.randrange(0, 500)
        found.append(row)
    return found


def leaderboard(api: Any, guild: str) -> tuple[list[tuple[str, int, int]], int]:
    """The whole leaderboard through the API, 100 a page: [(userId, xp, level)], total."""
    entries: list[tuple[str, int, int]] = []
    offset, total = 0, 0
    while True:
        page = api.get(f"/api/xp/leaderboard/{guild}?offset={offset}&limit=100").data
        total = page["total"]
        entries += [(e["userId"], e["xp"], e["level"]) for e in page["entries"]]
        offset += 100
        if offset >= total:
            return entries, total


def check_against_oracle(api: Any, guild: str, expected: dict[str, tuple[int, int]], *, ranks: int = 60) -> None:
    """Leaderboard (every page), a sample of ranks, and the stats equal what a brute-force recount of
    `expected` (user -> (xp, messages)) says."""
    from xpshop.levels import DEFAULT_CURVE

    order = sorted(expected, key=lambda u: (-expected[u][0], int(u)))
    board, total = leaderboard(api, guild)
    assert total == len(order)
    assert board == [(u, expected[u][0], DEFAULT_CURVE.level(expected[u][0])) for u in order]
    rng = random.Random(len(order))
    positions = sorted({0, len(order) - 1, *rng.sample(range(len(order)), min(ranks, len(order)))})
    for position in positions:
        user = order[position]
        got = api.get(f"/api/xp/leaderboard/{guild}/{user}").data
        assert got == {"rank": position + 1, "total": len(order)}, (user, expected[user], position, got)
    stats = api.get(f"/api/xp/stats/{guild}").data
    levels = [DEFAULT_CURVE.level(xp) for xp, _ in expected.values()]
    distribution: dict[str, int] = {}
    for level in levels:
        distribution[str(level)] = distribution.get(str(level), 0) + 1
    xp_total = sum(xp for xp, _ in expected.values())
    top = order[0]
    assert stats["users"] == {
        "total": len(order),
        "topUser": {"userId": top, "xp": expected[top][0], "level": DEFAULT_CURVE.level(expected[top][0])},
    }
    assert stats["xp"] == {"total": xp_total, "average": half_up(xp_total, len(order))}
    assert stats["messages"]["total"] == sum(m for _, m in expected.values())
    assert stats["levels"] == {"average": half_up(sum(levels), len(levels)), "distribution": distribution}


def deliver(messages: list[dict[str, Any]], *, receive_count: int = 1) -> list[Any]:
    """Hand queue messages (as ReceiveMessage returned them) to the import worker, one per invocation (the
    template's BatchSize), as delivery number `receive_count`; the worker's answers."""
    spec = functions(load_template())["XpImportJobsFunction"]
    answers = []
    for message in messages:
        attributes = {**message.get("Attributes", {}), "ApproximateReceiveCount": str(receive_count)}
        record = events.received_record(message, queue=QUEUE, attributes=attributes)
        answers.append(lambdas.invoke(REPO_ROOT, spec, events.records_event([record])))
    return answers
