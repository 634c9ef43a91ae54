"""Import the Lambda handlers in-process and call them with a fake Lambda context."""

from __future__ import annotations

import functools
import importlib.util
import json
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from pathlib import Path
from types import ModuleType
from typing import Any

from local.template import FunctionSpec

Handler = Callable[[dict[str, Any], Any], Any]

DEFAULT_LAYER_DIR = "layers/common/python"
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
MODULE_PREFIX = "_xpshop_local_fn_"  # handler modules live in sys.modules under this prefix
# The function whose handler is running (logical id), so tests can tell which function made an AWS call.
CURRENT_FUNCTION: ContextVar[str | None] = ContextVar("xpshop_current_function", default=None)


class HandlerNotFoundError(RuntimeError):
    """The handler file or function named by the template does not exist."""


class FakeLambdaContext:
    """The attributes of the Lambda runtime's context object that handlers and Powertools read."""

    def __init__(self, function_name: str, timeout_s: float = 10, memory_limit_in_mb: int = 128) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_limit_in_mb
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = time.strftime("%Y/%m/%d/[$LATEST]") + uuid.uuid4().hex
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout_s

    @classmethod
    def for_function(cls, spec: FunctionSpec) -> FakeLambdaContext:
        return cls(spec.logical_id, timeout_s=spec.timeout, memory_limit_in_mb=spec.memory_size)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


# ---------------------------------------------------------------- loading

_HANDLERS: dict[tuple[Path, str], Handler] = {}
# Handlers share module state (Powertools logger/metrics, cached clients): one call at a time,
# like a single Lambda execution environment, and imports are serialised with it.
_LOCK = threading.RLock()


def _module_name(logical_id: str) -> str:
    return MODULE_PREFIX + re.sub(r"\W", "_", logical_id)


def _handler_file(repo_root: Path, spec: FunctionSpec) -> tuple[Path, str]:
    module_path, _, function_name = spec.handler.rpartition(".")
    if not module_path or not function_name:
        raise HandlerNotFoundError(f"{spec.logical_id}: Handler {spec.handler!r} is not <module>.<function>")
    code_dir = (repo_root / spec.code_uri).resolve()
    return code_dir / (module_path.replace(".", "/") + ".py"), function_name


def layer_dirs(repo_root: Path, spec: FunctionSpec) -> list[Path]:
    """The python/ folders of the function's layers (always including layers/common/python)."""
    # A prebuilt layer keeps its code under python/; a BuildMethod layer's ContentUri *is* /opt/python.
    candidates = [
        repo_root / uri / "python" if (repo_root / uri / "python").is_dir() else repo_root / uri for uri in spec.layers
    ] + [repo_root / DEFAULT_LAYER_DIR]
    unique: list[Path] = []
    for path in (candidate.resolve() for candidate in candidates):
        if path.is_dir() and path not in unique:
            unique.append(path)
    return unique


def _prepend_path(path: Path) -> None:
    text = str(path)
    if text in sys.path:
        sys.path.remove(text)
    sys.path.insert(0, text)


def _import_file(name: str, file: Path, code_dir: Path) -> ModuleType:
    module_spec = importlib.util.spec_from_file_location(name, file)
    if module_spec is None or module_spec.loader is None:
        raise HandlerNotFoundError(f"cannot import {file}")
    module = importlib.util.module_from_spec(module_spec)
    before = set(sys.modules)
    # The function's own folder goes first while it imports, as /var/task does in Lambda.
    _prepend_path(code_dir)
    sys.modules[name] = module
    try:
        module_spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    finally:
        sys.path.remove(str(code_dir))
        sys.path.append(str(code_dir))  # stays importable for lazy imports, without shadowing others
        _forget_siblings(before, code_dir)
    return module


def _forget_siblings(before: set[str], code_dir: Path) -> None:
    """Drop newly imported modules of this function's folder from sys.modules by their bare names.

    Every function has an app.py (and maybe other same-named helpers): the next function must
    import its own, not get this one's from the module cache.
    """
    for name in set(sys.modules) - before:
        file = getattr(sys.modules[name], "__file__", None)
        if name.startswith(MODULE_PREFIX) or not file:
            continue
        if Path(file).resolve().is_relative_to(code_dir):
            del sys.modules[name]


def load_handler(repo_root: Path, spec: FunctionSpec) -> Handler:
    """Import the function's handler module under a unique name and return the handler (cached)."""
    repo_root = Path(repo_root).resolve()
    key = (repo_root, spec.logical_id)
    with _LOCK:
        if key in _HANDLERS:
            return _HANDLERS[key]
        file, function_name = _handler_file(repo_root, spec)
        if not file.is_file():
            raise HandlerNotFoundError(
                f"{spec.logical_id}: {file} not found (CodeUri {spec.code_uri}, Handler {spec.handler})"
            )
        for layer in reversed(layer_dirs(repo_root, spec)):
            _prepend_path(layer)
        module = _import_file(_module_name(spec.logical_id), file, file.parent)
        handler = getattr(module, function_name, None)
        if not callable(handler):
            raise HandlerNotFoundError(f"{spec.logical_id}: {file} has no function {function_name!r}")
        _HANDLERS[key] = _as_function(spec.logical_id, handler)
        return _HANDLERS[key]


def _as_function(logical_id: str, handler: Handler) -> Handler:
    """The handler, run with CURRENT_FUNCTION set to its function (`__module__` and `__wrapped__` kept)."""

    @functools.wraps(handler)
    def run(event: dict[str, Any], context: Any) -> Any:
        token = CURRENT_FUNCTION.set(logical_id)
        try:
            return handler(event, context)
        finally:
            CURRENT_FUNCTION.reset(token)

    return run


def clear_handler_cache() -> None:
    """Forget loaded handlers so the next call imports them again (e.g. after editing the code)."""
    with _LOCK:
        for _root, logical_id in list(_HANDLERS):
            sys.modules.pop(_module_name(logical_id), None)
        _HANDLERS.clear()


# ---------------------------------------------------------------- calling


def invoke(repo_root: Path, spec: FunctionSpec, event: dict[str, Any]) -> Any:
    """Call the function like the Lambda runtime: one at a time, result marshalled through JSON."""
    with _LOCK:
        handler = load_handler(repo_root, spec)
        context = FakeLambdaContext.for_function(spec)
        started = time.monotonic()
        result = handler(event, context)
        elapsed = time.monotonic() - started
    if elapsed > spec.timeout:
        print(
            f"warning: {spec.logical_id} took {elapsed:.1f} s, over its Timeout of {spec.timeout} s "
            "(Lambda would have stopped it)",
            file=sys.stderr,
        )
    return marshal_result(result)


def marshal_result(result: Any) -> Any:
    """The JSON round trip the Lambda runtime does: a Decimal or set in the result fails here too."""
    try:
        return json.loads(json.dumps(result))
    except (TypeError, ValueError) as error:
        raise TypeError(f"Runtime.MarshalError: unable to marshal the handler result: {error}") from error
