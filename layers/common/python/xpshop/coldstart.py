"""A function's cold start: the cyclic garbage collector paused while its module is imported.

Importing a function allocates some hundred thousand long-lived objects (modules, classes, pydantic and
Powertools machinery) and almost no garbage, yet the collector walks them again and again while they are
created (~15 ms of a cold start). A handler module therefore imports this module first (its import pauses
the collector) and calls `done()` as its last statement, still during init: the collector resumes, and what
init built is moved out of its reach (`gc.freeze()`: it lives as long as the environment anyway, so no
later collection walks it). The little cyclic garbage init leaves is kept rather than collected (a full
collection would cost what the pause saves).

The pause happens once per process, on this module's first import; `done()` resumes only a collector this
module paused, so a process that imports several handlers (tests, `local.dev`) keeps its collector running
after the first. If a handler module fails to import, the collector stays paused: Lambda discards an
environment whose init failed.

What a function needs only once a request arrives is left out of init: `later(name)` stands for a module and
imports it on the first use of one of its names (the routes' services with the stores behind them, the gate's
key, scope, rate-limit and guild checks). The first request pays for it, as it pays for boto3;
`load_later()` imports every such module at once: before a SnapStart snapshot (`snapstart.before_snapshot`)
and in `bench.imports`' column of what the first request adds. Imports nothing of xpshop: any module may
import it.
"""

from __future__ import annotations

import gc
import importlib
from typing import Any

_paused = False
_later: list[str] = []  # the modules stood for by `later`, in the order they were named


class Later:
    """A module imported on the first use of one of its names (`later`). Every attribute is read from the
    module itself, each time: what the module holds (and what tests patch into it) is what callers get."""

    __slots__ = ("__name",)

    def __init__(self, name: str) -> None:
        self.__name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self.__name), attr)

    def __repr__(self) -> str:
        return f"<module {self.__name!r}, imported on first use>"


def later(name: str) -> Any:
    """Module `name`, imported when one of its names is first used (not now): for what only requests need."""
    if name not in _later:
        _later.append(name)
    return Later(name)


def load_later() -> list[str]:
    """Import every module named with `later` so far (a snapshot's init, the bench); returns their names."""
    for name in list(_later):
        importlib.import_module(name)
    return list(_later)


def pause() -> None:
    """Pause the collector unless it is already off (someone else's choice, then left alone)."""
    global _paused  # noqa: PLW0603 - one flag per process
    if gc.isenabled():
        gc.disable()
        _paused = True


def done() -> None:
    """End of a handler module's init: freeze what init built and resume the collector if `pause` stopped it."""
    global _paused  # noqa: PLW0603
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


pause()
