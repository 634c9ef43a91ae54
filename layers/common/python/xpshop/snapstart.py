"""Lambda SnapStart (template parameter `SnapStart`): what runs before the snapshot and after each restore.

With SnapStart, Lambda initialises a published version once, snapshots the execution environment and starts
every later environment from a copy of that snapshot. Every copy would then share what the snapshot held:
the `random` module's state (retry jitter in step across every environment), connections opened during init
(long dead when a copy resumes days later) and anything cached with a monotonic deadline. So:

- modules that keep such state register a reset with `on_restore` when they are imported (boto3 handles,
  caches of config, guild names, roles, avatars, keys); `after_restore` reseeds `random` and runs them;
- `before_snapshot` does work every request would otherwise pay once: it imports the modules the function
  left to its first request (`coldstart.later`: the routes' services and stores, the gate's checks), builds
  the pydantic models of the API modules the function imported (they are declared `defer_build=True` to
  keep plain cold starts short) and runs what modules registered with `on_snapshot`: the imports they leave
  to their first use (boto3 and the table's handles, Powertools' idempotency), so a restored environment
  has them loaded.

`install()` hands both to the runtime's `snapshot_restore_py` (shipped in Lambda's Python runtimes) only when
the environment is being initialised for a snapshot (AWS_LAMBDA_INITIALIZATION_TYPE=snap-start); otherwise
it costs one environment lookup. Imports nothing of xpshop at import (`coldstart` when the snapshot is
taken): any module may import it.
"""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Callable

SNAP_START = "snap-start"  # AWS_LAMBDA_INITIALIZATION_TYPE of an environment initialised for a snapshot

_restore: list[Callable[[], None]] = []
_prepare: list[Callable[[], None]] = []
_installed: set[str] = set()  # "hooks" once registered with the runtime


def on_restore(reset: Callable[[], None]) -> Callable[[], None]:
    """Run `reset` after every restore from a snapshot (in registration order); returns it (a decorator)."""
    if reset not in _restore:
        _restore.append(reset)
    return reset


def on_snapshot(prepare: Callable[[], None]) -> Callable[[], None]:
    """Run `prepare` before the snapshot (in registration order): work a plain cold start leaves to the first
    request that needs it, worth doing once when the environment is initialised for a snapshot. Returns it."""
    if prepare not in _prepare:
        _prepare.append(prepare)
    return prepare


def after_restore() -> None:
    random.seed()  # from os.urandom: each restored environment gets its own sequence
    for reset in list(_restore):
        reset()


def before_snapshot() -> None:
    from . import coldstart  # imported first by every handler module

    coldstart.load_later()  # what init left to the first request (services, stores, the gate's checks)
    build_api_models()
    for prepare in list(_prepare):
        prepare()


def build_api_models() -> int:
    """Build every deferred pydantic model of the imported `xpshop.api` modules; returns how many were built."""
    from pydantic import BaseModel  # already imported by any module that has a model

    built = 0
    for name, module in list(sys.modules.items()):
        if not name.startswith("xpshop.api") or module is None:
            continue
        for value in list(vars(module).values()):
            if (
                isinstance(value, type)
                and issubclass(value, BaseModel)
                and value.__module__ == name
                and not value.__pydantic_complete__
                and not value.__pydantic_generic_metadata__["parameters"]  # generic: built per parameter
            ):
                value.model_rebuild()
                built += 1
    return built


def install() -> bool:
    """Register the hooks with the runtime when this environment will be snapshotted; True if registered."""
    if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") != SNAP_START:
        return False
    if "hooks" not in _installed:
        try:
            from snapshot_restore_py import register_after_restore, register_before_snapshot
        except ImportError:  # not a Lambda Python runtime (or one without SnapStart)
            return False
        register_before_snapshot(before_snapshot)
        register_after_restore(after_restore)
        _installed.add("hooks")
    return True
