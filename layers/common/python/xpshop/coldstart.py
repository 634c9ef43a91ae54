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
environment whose init failed. Imports nothing of xpshop: any module may import it.
"""

from __future__ import annotations

import gc

_paused = False


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
