"""Storage helpers for tests: cache resets and a recorder of the DynamoDB operations a call makes."""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_guild_counter = itertools.count(1)
_user_counter = itertools.count(1)


def reset_storage_caches() -> None:
    from xpshop import http
    from xpshop.service import effects
    from xpshop.store import guilds, idempotency, table

    table.reset()
    effects._roles_cache.clear()
    guilds.forget_cache()
    idempotency.persistence_layer.cache_clear()
    http.idempotency.runner.cache_clear()


def new_guild_id() -> str:
    """A unique snowflake per call, so tests sharing one table never see each other's data."""
    return str(100000000000000000 + next(_guild_counter))


def new_user_id() -> str:
    return str(200000000000000000 + next(_user_counter))


@contextmanager
def recorded_calls(*, this_thread_only: bool = False) -> Iterator[Counter[str]]:
    """Count every DynamoDB API call made through the store's client (operation name -> count).
    `this_thread_only`: not the calls of other threads (a stream poller applying earlier writes meanwhile)."""
    from xpshop.store.table import client

    calls: Counter[str] = Counter()
    events = client().meta.events
    owner = threading.get_ident()

    def record(model: Any, **_: Any) -> None:
        if not this_thread_only or threading.get_ident() == owner:
            calls[model.name] += 1

    events.register("before-call.dynamodb.*", record)
    try:
        yield calls
    finally:
        events.unregister("before-call.dynamodb.*", record)


def member_item(guild_id: str, user_id: str) -> dict[str, Any] | None:
    from xpshop.store import keys
    from xpshop.store.table import plain, table

    item = table().get_item(Key=keys.member(guild_id, user_id), ConsistentRead=True).get("Item")
    return plain(item) if item else None


def spread_bands(guild_id: str) -> None:
    """Put a guild on the fine leaderboard bands (as the recalculation does for one past
    keys.FINE_BANDS_FROM members) before anything is written to it, and drop this container's cached curve."""
    from xpshop.service import curves
    from xpshop.store import config

    assert config.spread_bands(guild_id)
    curves.forget(guild_id)


def guild_curve(guild_id: str):  # -> xpshop.levels.Curve
    """The guild's curve with its band layout, as every writer gets it (service.curves.curve_for)."""
    from xpshop.service import curves

    return curves.curve_for(guild_id)


def half_up(numerator: int, denominator: int) -> float:
    """The API's 2-decimal averages, as people round: the exact quotient, halves up (5/8 -> 0.63)."""
    from decimal import ROUND_HALF_UP, Decimal

    return float((Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
