"""The clock every stored timestamp comes from: epoch milliseconds, as the table keeps them."""

from __future__ import annotations

import time


def now_ms() -> int:
    return int(time.time() * 1000)


def now_s() -> int:
    return int(time.time())
