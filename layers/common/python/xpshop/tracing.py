"""X-Ray tracing of a function's invocations, only where it is switched on.

Powertools' `Tracer()` imports the X-Ray SDK when it is created, even with tracing disabled: about 150 ms of
every cold start. The template's `Tracing` parameter (default `off`) sets POWERTOOLS_TRACE_DISABLED for every
function; `capture_lambda_handler` wraps a handler in Powertools' tracer only when that variable is
explicitly "false", and returns it untouched otherwise, so the SDK is never imported when nothing is traced.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar, cast

Handler = TypeVar("Handler", bound=Callable[..., Any])

TRACE_DISABLED_ENV = "POWERTOOLS_TRACE_DISABLED"


def enabled() -> bool:
    """Traced only when the deployment asked for it (unset, as in `make dev` and tests: not traced)."""
    return os.environ.get(TRACE_DISABLED_ENV, "").strip().lower() == "false"


def capture_lambda_handler(handler: Handler) -> Handler:
    """`handler` traced by Powertools' Tracer (a segment per invocation, cold start and errors annotated)
    when tracing is on; `handler` itself otherwise."""
    if not enabled():
        return handler
    from aws_lambda_powertools import Tracer  # imports the X-Ray SDK

    return cast(Handler, Tracer().capture_lambda_handler(handler))
