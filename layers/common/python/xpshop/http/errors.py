"""Exceptions as our error envelope: validation errors as our 400 codes, unknown routes as 404/405,
idempotency and storage failures as 409/422/503, anything else as a logged 500."""

from __future__ import annotations

import re
import weakref
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from ..api.fields import PATTERN_RULES
from ..errors import ApiError, ErrorCode, InvalidInput, Unavailable
from .envelope import fail
from .gate import Preflight, required

if TYPE_CHECKING:
    from .resolver import Resolver

logger = Logger(child=True)
_ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
# The start of a JSON parse error naming a key a body repeats (resolver.DuplicateKey): said to the caller.
DUPLICATE_KEY = "duplicate key "


def _describe(error: Mapping[str, Any]) -> str:
    loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path", "[key]")]
    where = ".".join(loc)
    message = str(error.get("msg"))
    if error.get("type") == "value_error":  # our own validators' words, without pydantic's "Value error, "
        message = message.removeprefix("Value error, ")
    if error.get("type") == "string_pattern_mismatch":
        rule = PATTERN_RULES.get(str((error.get("ctx") or {}).get("pattern")))
        message = f"must be {rule}" if rule else message  # the rule in words, not the pattern
    return f"{where}: {message}" if where else message


def validation_error(
    errors: list[Mapping[str, Any]],
    override: ErrorCode | None,
    field_codes: Mapping[str, ErrorCode],
    query: Mapping[str, str] | None = None,
    *,
    empty_body: bool = False,
) -> ApiError:
    """Powertools validation errors as one of our codes, naming every field at fault. `query`: the query
    parameters of a route that does not read its body from them: a missing body field given there is named
    with where it belongs. `empty_body`: the request had no body at all, which the reference (`request.json()`)
    fails to parse, as it does a blank one: "Invalid JSON", not "must be an object" (a body that parses to
    something else, `null` or `5`)."""
    for e in errors:
        if e.get("type") == "json_invalid":
            why = str((e.get("ctx") or {}).get("error", ""))
            # a repeated key (resolver.DuplicateKey) is named; other parse errors keep the reference's words
            detail = f": {why}" if why.startswith(DUPLICATE_KEY) else ""
            return InvalidInput(ErrorCode.INVALID_REQUEST, f"Invalid JSON in request body{detail}")
        if tuple(e.get("loc", ())) == ("body",) and e.get("type") != "value_error":
            message = "Invalid JSON in request body" if empty_body else "Request body must be an object"
            if query:  # no body, a query string: say why it was not taken for one
                given = ", ".join(sorted(query))
                message += f": this route reads its fields from a JSON body, not from the query string ({given})"
            return InvalidInput(ErrorCode.INVALID_REQUEST, message)
    problems = "; ".join(_describe(e) for e in errors)
    first = errors[0] if errors else {}
    loc = tuple(first.get("loc", ()))
    # A field the route does not take is never the code of a field of that name on another route (`level`
    # on an XP add is not INVALID_LEVEL): the code comes from the first error about a field it does take.
    known = next((e for e in errors if e.get("type") != "extra_forbidden"), None)
    field_loc = tuple(known.get("loc", ())) if known else ()
    if override is not None and loc[:1] == ("body",):
        code = override
    elif field_loc[:1] == ("body",) and len(field_loc) > 1 and "[key]" not in field_loc:
        code = field_codes.get(str(field_loc[1]), ErrorCode.INVALID_REQUEST)
    else:
        code = ErrorCode.INVALID_REQUEST
    prefix = "Invalid configuration: " if code is ErrorCode.INVALID_CONFIG else ""
    misplaced = [
        str(e["loc"][1])
        for e in errors
        if e.get("type") == "missing" and tuple(e.get("loc", ()))[:1] == ("body",) and len(e["loc"]) == 2
        if str(e["loc"][1]) in (query or {})
    ]
    if misplaced:
        problems += f" ({', '.join(misplaced)} given in the query string: send it in the JSON body)"
    return InvalidInput(code, prefix + problems)


def install(
    app: Resolver,
    preflight: Preflight,
    body_error_codes: Mapping[tuple[str, str], ErrorCode],
    missing_id_paths: Sequence[tuple[str, ErrorCode]],
) -> None:
    """Register every exception handler and the 404/405 handler on `app`."""
    missing_ids = [(re.compile(pattern), code) for pattern, code in missing_id_paths]

    def after_preflight(error: ApiError) -> Response:
        """`error`, unless the matched route's auth, guild or user check fails first."""
        pattern, args = app.matched() or ("", {})
        try:
            preflight.check(app, pattern, args)
        except ApiError as earlier:
            return fail(earlier)
        return fail(error)

    @app.exception_handler(ApiError)
    def handle_api_error(exc: ApiError) -> Response:
        return fail(exc)

    @app.exception_handler(RequestValidationError)
    def handle_validation(exc: RequestValidationError) -> Response:
        pattern, _ = app.matched() or ("", {})
        override = body_error_codes.get((app.current_event.http_method.upper(), pattern))
        event = app.current_event
        # The shop (query_as_body) reads a body-less write's query string as its body: its answers stay its own.
        query = None if app.style.query_as_body else event.query_string_parameters
        empty = not app.style.query_as_body and not event.body
        problem = validation_error(list(exc.errors()), override, app.style.field_codes, query, empty_body=empty)
        return after_preflight(problem)

    @app.exception_handler(RecursionError)
    def handle_nested_json(_: RecursionError) -> Response:
        return after_preflight(
            InvalidInput(ErrorCode.INVALID_REQUEST, "Invalid JSON in request body (nested too deeply)")
        )

    @app.exception_handler(UnicodeDecodeError)
    def handle_undecodable_body(exc: UnicodeDecodeError) -> Response:
        # API Gateway base64-encodes a body that is not text; Powertools decodes it as UTF-8. Only that is
        # the client's fault: the same error from anywhere else is ours (logged, 500).
        try:
            app.current_event.decoded_body  # noqa: B018 (cached: re-raises only for the body)
        except UnicodeDecodeError:
            return after_preflight(
                InvalidInput(ErrorCode.INVALID_REQUEST, "Invalid JSON in request body (not UTF-8 text)")
            )
        logger.exception("unhandled error", exc_info=exc)
        return fail(ApiError(ErrorCode.INTERNAL_ERROR, "Unexpected server error"))

    @app.not_found
    def handle_not_found(_: NotFoundError) -> Response:
        path = app.current_event.path
        methods, pattern, args = app.routes_for(path)
        if not methods or pattern is None:
            for rule, code in missing_ids:
                if rule.match(path):
                    return fail(required(code))
            return fail(ApiError(ErrorCode.NOT_FOUND, f"No route for {app.current_event.http_method} {path}"))
        from . import access  # loaded with the gate's checks by then

        access.method_not_routed(tuple(m for m in _ALL_METHODS if m in methods))
        try:
            preflight.check(app, pattern, args)
        except ApiError as earlier:
            return fail(earlier)
        # the route's own methods, as the reference lists them: HEAD is answered wherever GET is
        # (resolver._head_as_get) without being advertised, as RFC 9110 lets a server do
        allow = ", ".join(m for m in _ALL_METHODS if m in methods)
        return fail(
            ApiError(
                ErrorCode.METHOD_NOT_ALLOWED,
                f"Method {app.current_event.http_method} is not allowed on {path}; use {allow}",
                {"Allow": allow},
            )
        )

    @app.exception_handler(Exception)
    def handle_unexpected(exc: Exception) -> Response:
        storage = storage_failure(exc)
        if storage is not None:
            return fail(storage)
        logger.exception("unhandled error")
        return fail(ApiError(ErrorCode.INTERNAL_ERROR, "Unexpected server error"))


def storage_failure(exc: Exception) -> ApiError | None:
    """The answer to an error of the AWS SDK (logged), None for any other exception.

    One handler for them and the rest: registering handlers by botocore's exception types would import
    botocore at the function's init, when only a request that reached DynamoDB can raise them (and has
    loaded botocore by then)."""
    from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

    from ..store.table import is_throttle, is_transient

    if isinstance(exc, ClientError):
        if is_transient(exc):  # throttled, a 5xx or a conflicting transaction, after the SDK's retries
            logger.warning("storage busy", extra={"error": str(exc), "throttled": is_throttle(exc)})
            return Unavailable()
        logger.exception("storage error")
        return ApiError(ErrorCode.INTERNAL_ERROR, "Unexpected storage error")
    if isinstance(exc, ParamValidationError):
        # a value our validation let through: a bug, but not the caller's fault to retry
        logger.exception("request parameter refused by the SDK")
        return InvalidInput(ErrorCode.INVALID_REQUEST, "A parameter is out of the accepted range")
    if isinstance(exc, BotoCoreError):
        logger.exception("storage unreachable")
        return Unavailable("Storage is unreachable, retry shortly")
    return None


_idempotent_apps: weakref.WeakSet[Resolver] = weakref.WeakSet()


def install_idempotency(app: Resolver) -> None:
    """Register the handlers of Powertools' idempotency errors on `app` (once): called by `once` before it
    runs a request with an Idempotency-Key, the only place they are raised. Not in `install`: importing
    them loads the idempotency package, whose DynamoDB persistence imports boto3 (~100 ms of every cold
    start, paid now by the first request that carries a key)."""
    if app in _idempotent_apps:
        return
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyPersistenceLayerError,
        IdempotencyValidationError,
    )

    @app.exception_handler(IdempotencyValidationError)
    def handle_key_reuse(_: IdempotencyValidationError) -> Response:
        return fail(
            ApiError(ErrorCode.IDEMPOTENCY_KEY_REUSED, "This Idempotency-Key was already used with a different request")
        )

    @app.exception_handler(IdempotencyAlreadyInProgressError)
    def handle_in_progress(_: IdempotencyAlreadyInProgressError) -> Response:
        return fail(
            ApiError(
                ErrorCode.REQUEST_IN_PROGRESS,
                "A request with this Idempotency-Key is still in progress",
                {"Retry-After": "1"},
            )
        )

    @app.exception_handler(IdempotencyPersistenceLayerError)
    def handle_idempotency_store(exc: IdempotencyPersistenceLayerError) -> Response:
        logger.exception("idempotency store failed")
        return fail(Unavailable())

    _idempotent_apps.add(app)
