"""The clock every stored timestamp comes from: epoch milliseconds, as the table keeps them."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now_ms() -> int:
    return int(time.time() * 1000)


def now_s() -> int:
    return int(time.time())


def sleep(seconds: float) -> None:
    """A pause measured by this clock: whoever waits for a stored time sleeps here, so tests that simulate
    time (now_ms replaced) replace this too and nothing waits for real."""
    time.sleep(seconds)


def iso(ms: int | None) -> str | None:
    """A stored time (epoch ms) as the API shows it: ISO 8601 in UTC, millisecond precision."""
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
