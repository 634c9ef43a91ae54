"""Trying again what lost a race: one loop for every optimistic write (read, decide, write guarded by what
was read; a refused write reads again) and for DynamoDB's own "try later" answers.

`ATTEMPTS` is the limit: tries in all, the first included. The few callers that need another limit name
it next to the loop and say why (a configuration edit and a BatchGetItem keep their tested limits).
Between tries the pause is random in [0, min(cap, base x 2^(try - 1))] ("full jitter"), so writers that
collided once spread out instead of colliding again.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

ATTEMPTS = 8
BASE_SECONDS = 0.01
CAP_SECONDS = 0.2


def attempts(limit: int = ATTEMPTS, *, base: float = BASE_SECONDS, cap: float = CAP_SECONDS) -> Iterator[int]:
    """0, 1, ..., limit - 1, pausing (jittered, exponential) before every try after the first. Whoever
    loops raises its own error when the loop ends without success."""
    for attempt in range(limit):
        if attempt:
            time.sleep(random.uniform(0, min(cap, base * 2 ** (attempt - 1))))
        yield attempt
