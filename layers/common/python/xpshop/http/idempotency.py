"""Writes run once per `Idempotency-Key`: a retry of the same request replays the first answer.

Powertools' idempotency utility (and its DynamoDB persistence, which imports boto3) is loaded by the first
request that carries a key, not by the function's import: most requests never send one."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .. import snapstart
from ..errors import ErrorCode, InvalidInput
from . import envelope, errors

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

    from .resolver import Resolver

IDEMPOTENCY_HEADER = "idempotency-key"
# What docs/openapi.json states (KEY_PATTERN): visible ASCII, spaces inside only. HTTP field values carry
# ASCII (anything else arrives however the sender's library encoded it), and a proxy may trim outer spaces.
KEY_PATTERN = r"^[!-~]([ -~]{0,253}[!-~])?$"
_VALID_KEY = re.compile(KEY_PATTERN)
EXPIRES_AFTER_SECONDS = 24 * 3600


@functools.cache
def config() -> IdempotencyConfig:
    """The idempotency settings (one object per container: it carries the current invocation's context)."""
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

    return IdempotencyConfig(
        event_key_jmespath="key",
        payload_validation_jmespath="fingerprint",
        expires_after_seconds=EXPIRES_AFTER_SECONDS,
    )


@functools.cache
def runner() -> Callable[..., dict[str, Any]]:
    """The Powertools idempotent function every write goes through (cached: one persistence layer)."""
    from aws_lambda_powertools.utilities.idempotency import idempotent_function

    from ..store.idempotency import persistence_layer

    @idempotent_function(data_keyword_argument="request", persistence_store=persistence_layer(), config=config())
    def run(request: dict[str, Any], operation: Callable[[], tuple[Any, int]]) -> dict[str, Any]:
        data, status = operation()
        return {"status": status, "data": data}

    return run


def _canonical(body: str | None, unique_keys: bool) -> str:
    """The body with formatting removed, so the same request re-sent with other spacing is the same. Read as
    the API reads it: where a body may not repeat a key (`unique_keys`, /api/v1), one that does is refused
    here, before the lookup, rather than canonicalised last-key-wins into the fingerprint of an earlier
    request and answered with its stored result. Any other unreadable body is fingerprinted as it is."""
    from .resolver import DuplicateKey, strict_json

    try:
        return json.dumps(strict_json(body or "null", unique_keys=unique_keys), sort_keys=True, separators=(",", ":"))
    except DuplicateKey as exc:
        # the words request validation uses for the same body (errors.validation_error)
        raise InvalidInput(ErrorCode.INVALID_REQUEST, f"Invalid JSON in request body: {exc.msg}") from exc
    except (ValueError, RecursionError):
        return body or ""


def once(
    app: Resolver,
    operation: Callable[[], tuple[Any, int]],
    envelope_body: bool,
    secret: tuple[str, Callable[[dict[str, Any]], Exception]] | None = None,
) -> Response:
    """Run a write; with an `Idempotency-Key` header a retry of the same request replays the first answer.

    `secret` = (field, refusal): the answer's `field` is a secret shown once (a new API key). The stored
    answer goes without it (secrets are stored hashed, idempotency records too), so a replay cannot show it:
    the retry is refused with `refusal(stored answer)` instead, which names what the first request made."""
    if secret is not None:
        return _once_with_secret(app, operation, envelope_body, *secret)
    event = app.current_event
    key = (event.headers or {}).get(IDEMPOTENCY_HEADER)
    respond = envelope.ok if envelope_body else envelope.plain
    if key is None:
        data, status = operation()
        return respond(data, status)
    if not _VALID_KEY.fullmatch(key):
        raise InvalidInput(
            ErrorCode.INVALID_REQUEST,
            "Idempotency-Key must be 1-255 visible ASCII characters (spaces only between them)",
        )
    who = app.context.get("caller")
    api_key = app.context.get("api_key_id")  # set by http.access for an API key (which acts as the admin)
    if api_key is not None:
        caller_scope = f"key:{api_key}"
    else:
        caller_scope = "admin" if who is None or who.admin else f"user:{who.discord_id}"
    scope = f"{caller_scope} {event.http_method} {event.path} {key}"  # one caller's key never blocks another's
    # the query string is part of the request (the importer's mode, dryRun): the same key with another one
    # is another request
    query = "&".join(sorted(f"{k}={v}" for k, v in (event.query_string_parameters or {}).items()))
    import hashlib  # with the rest of this path: for the requests that carry a key

    canonical = _canonical(event.body, app.style.unique_keys)
    fingerprint = hashlib.sha256((canonical + ("?" + query if query else "")).encode()).hexdigest()
    errors.install_idempotency(app)
    config().register_lambda_context(app.lambda_context)  # the invocation's deadline bounds "in progress"
    result = runner()(request={"key": scope, "fingerprint": fingerprint}, operation=operation)
    return respond(result["data"], int(result["status"]))


def _once_with_secret(
    app: Resolver,
    operation: Callable[[], tuple[Any, int]],
    envelope_body: bool,
    field: str,
    refusal: Callable[[dict[str, Any]], Exception],
) -> Response:
    shown: dict[str, Any] = {}

    def without_secret() -> tuple[Any, int]:
        data, status = operation()
        shown[field] = data[field]
        return {**data, field: None}, status

    answer = once(app, without_secret, envelope_body)
    if field not in shown:  # replayed: the first answer held the secret, this one cannot
        stored = json.loads(answer.body or "{}")
        raise refusal(stored.get("data", stored) if envelope_body else stored)
    body = json.loads(answer.body or "{}")
    if envelope_body:
        body["data"][field] = shown[field]
    else:
        body[field] = shown[field]
    respond = envelope.ok if envelope_body else envelope.plain
    return respond(body["data"] if envelope_body else body, answer.status_code)


@snapstart.on_snapshot
def warm() -> None:
    """Load Powertools' idempotency utility and our handlers of its errors' types: before a snapshot."""
    config()
    from aws_lambda_powertools.utilities.idempotency import idempotent_function  # noqa: F401


snapstart.on_restore(runner.cache_clear)  # it holds the persistence layer reset with the store
