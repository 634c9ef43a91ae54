"""Everything the HTTP functions share: resolver factory, envelope, auth gate, errors, idempotency.

Order of checks on a per-guild route (the XP seed's reference behaviour, plus auth first):
auth -> guild exists -> user id valid -> method allowed -> body parses -> fields.
Powertools validates bodies and query strings before route middlewares run, so the validation error
handler runs the same preflight first: a request that fails two checks gets the earlier one's error.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)
from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from . import auth, ids
from .errors import ApiError, ErrorCode, InvalidInput, Unavailable
from .models import FIELD_ERROR_CODES
from .service import guilds as guild_service
from .store.idempotency import persistence_layer
from .store.table import is_throttle

logger = Logger(child=True)

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
# A page costs the same at any depth (rank counters locate it); the bound only keeps numbers sane.
MAX_OFFSET = 100_000_000
IDEMPOTENCY_HEADER = "idempotency-key"
IDEMPOTENCY_CONFIG = IdempotencyConfig(
    event_key_jmespath="key",
    payload_validation_jmespath="fingerprint",
    expires_after_seconds=24 * 3600,
)
_ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


class Access(Enum):
    PUBLIC = "public"
    ADMIN = "admin"
    LEADERBOARD = "leaderboard"  # public when the guild's leaderboard.public is true, else admin
    SHOP_ADMIN = "shop-admin"  # admin key; a user key gets 403
    ANY_KEY = "any-key"  # admin key or any user key
    OWN_ACCOUNT = "own-account"  # admin key, or a user key acting on its own account (see `account`)
    RELAY = "relay"  # the gateway relay's key only


# ----------------------------------------------------------------------------- envelope


def ok(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps({"success": True, "data": data}, separators=(",", ":")),
        headers=dict(headers or {}),
    )


def plain(data: Any, status: int = 200) -> Response:
    """A success body without the envelope: the shop API (/api/v1) keeps the seed's shapes."""
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(data, separators=(",", ":"))
    )


def fail(error: ApiError) -> Response:
    body = {"success": False, "error": {"code": str(error.code), "message": error.message}}
    return Response(
        status_code=error.status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body, separators=(",", ":")),
        headers=dict(error.headers),
    )


# ----------------------------------------------------------------------------- parameters


def page_window(offset: int | None, limit: int | None, page: int | None = None) -> tuple[int, int]:
    """offset/limit with `page` (1-based) as an alternative to offset; limit defaults to 10, max 100."""
    size = min(limit if limit is not None else DEFAULT_LIMIT, MAX_LIMIT)
    if offset is None:
        offset = (page - 1) * size if page else 0
    if offset > MAX_OFFSET:
        field = "offset" if page is None else "page"
        raise InvalidInput(ErrorCode.INVALID_REQUEST, f"{field}: pages start at most {MAX_OFFSET} entries deep")
    return offset, size


def guild_id_param(value: str) -> str:
    return ids.snowflake(value, "guildId")


# ----------------------------------------------------------------------------- preflight


class Preflight:
    """Auth, guild and user checks for a matched route (see the module docstring for the order)."""

    def __init__(self, access: Mapping[str, Access], unregistered_ok: set[str]) -> None:
        self.access = access
        self.unregistered_ok = unregistered_ok

    def check(self, app: APIGatewayHttpResolver, route_path: str, args: Mapping[str, str]) -> None:
        if app.context.get("_preflight_done"):
            return
        headers = app.current_event.headers or {}
        mode = self.access.get(route_path, Access.ADMIN)
        guild_id = args.get("guildId")
        if mode is Access.ADMIN:
            auth.require_admin(headers)
        elif mode is Access.SHOP_ADMIN:
            app.append_context(caller=auth.require_shop_admin(headers))
        elif mode in (Access.ANY_KEY, Access.OWN_ACCOUNT):
            app.append_context(caller=auth.identify(headers))
        elif mode is Access.RELAY:
            auth.require_relay(headers)
        elif mode is Access.LEADERBOARD:
            app.append_context(anonymous=self._leaderboard_gate(headers, guild_id))
        if guild_id is not None and not unquote(guild_id).strip():
            raise InvalidInput(ErrorCode.MISSING_GUILD_ID, "guildId is required")
        if guild_id is not None and route_path not in self.unregistered_ok:
            guild_service.require(guild_id_param(guild_id))
        if "userId" in args:
            if not unquote(args["userId"]).strip():
                raise InvalidInput(ErrorCode.MISSING_USER_ID, "userId is required")
            ids.snowflake(args["userId"], "userId")
        app.append_context(_preflight_done=True)

    @staticmethod
    def _leaderboard_gate(headers: Mapping[str, str], guild_id: str | None) -> bool:
        """Admin, or anyone when the guild's leaderboard is public; True for an anonymous caller let in."""
        if auth.presented_key(headers) is not None or guild_id is None:
            auth.require_admin(headers)
            return False
        from .service.config import merged_guild  # only for anonymous reads

        if not (
            ids.is_snowflake(guild_id)
            and guild_service.guilds.exists(guild_id)
            and merged_guild(guild_id)["leaderboard"].get("public")
        ):
            auth.require_admin(headers)
        return True


def _route_match(app: APIGatewayHttpResolver, path: str) -> tuple[list[str], str | None, dict[str, str]]:
    """Methods registered for a path, the matched route pattern and its arguments."""
    methods: list[str] = []
    pattern: str | None = None
    args: dict[str, str] = {}
    for route in app._static_routes + app._dynamic_routes:
        match = route.rule.match(path)
        if match and route.method not in methods:
            methods.append(route.method)
            pattern = pattern or route.path
            args = args or {k: v for k, v in match.groupdict().items()}
    return methods, pattern, args


# ----------------------------------------------------------------------------- validation errors


def _describe(error: Mapping[str, Any]) -> str:
    loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path", "[key]")]
    where = ".".join(loc)
    return f"{where}: {error.get('msg')}" if where else str(error.get("msg"))


def validation_error(
    errors: list[Mapping[str, Any]],
    override: ErrorCode | None,
    field_codes: Mapping[str, ErrorCode] = FIELD_ERROR_CODES,
) -> ApiError:
    """Powertools validation errors as one of our codes, naming every field at fault."""
    for e in errors:
        if e.get("type") == "json_invalid":
            return InvalidInput(ErrorCode.INVALID_REQUEST, "Invalid JSON in request body")
        if tuple(e.get("loc", ())) == ("body",) and e.get("type") != "value_error":
            return InvalidInput(ErrorCode.INVALID_REQUEST, "Request body must be an object")
    problems = "; ".join(_describe(e) for e in errors)
    first = errors[0] if errors else {}
    loc = tuple(first.get("loc", ()))
    if override is not None and loc[:1] == ("body",):
        code = override
    elif loc[:1] == ("body",) and len(loc) > 1 and "[key]" not in loc:
        code = field_codes.get(str(loc[1]), ErrorCode.INVALID_REQUEST)
    else:
        code = ErrorCode.INVALID_REQUEST
    prefix = "Invalid configuration: " if code is ErrorCode.INVALID_CONFIG else ""
    return InvalidInput(code, prefix + problems)


# ----------------------------------------------------------------------------- resolver factory


def _handle_unreadable_bodies(app: APIGatewayHttpResolver, preflight: Preflight) -> None:
    """Bodies Powertools cannot parse: a 400 naming why, still after 401/404 when auth or the guild fail."""

    def bad_body(message: str) -> Response:
        route = app.context.get("_route")
        try:
            preflight.check(app, route.path if route else "", app.context.get("_route_args") or {})
        except ApiError as earlier:
            return fail(earlier)
        return fail(InvalidInput(ErrorCode.INVALID_REQUEST, message))

    @app.exception_handler(RecursionError)
    def handle_nested_json(_: RecursionError) -> Response:
        return bad_body("Invalid JSON in request body (nested too deeply)")

    @app.exception_handler(UnicodeDecodeError)
    def handle_undecodable_body(exc: UnicodeDecodeError) -> Response:
        # API Gateway base64-encodes a body that is not text; Powertools decodes it as UTF-8. Only that is
        # the client's fault: the same error from anywhere else is ours (logged, 500).
        try:
            app.current_event.decoded_body  # noqa: B018 (cached: re-raises only for the body)
        except UnicodeDecodeError:
            return bad_body("Invalid JSON in request body (not UTF-8 text)")
        logger.exception("unhandled error", exc_info=exc)
        return fail(ApiError(ErrorCode.INTERNAL_ERROR, "Unexpected server error"))


def make_resolver(
    *,
    access: Mapping[str, Access] | None = None,
    unregistered_ok: set[str] | None = None,
    body_error_codes: Mapping[tuple[str, str], ErrorCode] | None = None,
    missing_id_paths: Sequence[tuple[str, ErrorCode]] = (),
    field_codes: Mapping[str, ErrorCode] = FIELD_ERROR_CODES,
) -> APIGatewayHttpResolver:
    """A resolver with our envelope, auth gate, 404/405 handling and error mapping.

    access: route pattern -> Access (default ADMIN). unregistered_ok: route patterns whose guild need
    not be registered. body_error_codes: (METHOD, pattern) -> code for any bad body field on that route.
    missing_id_paths: (regex, code) for unrouted paths whose id segment is empty (`/api/xp/users/`).
    """
    app = APIGatewayHttpResolver(enable_validation=True)
    missing_ids = [(re.compile(pattern), code) for pattern, code in missing_id_paths]
    preflight = Preflight(access or {}, unregistered_ok or set())
    overrides = dict(body_error_codes or {})

    def gate(app: APIGatewayHttpResolver, next_middleware: Callable[..., Response]) -> Response:
        route = app.context.get("_route")
        # Powertools runs middlewares for its not-found pseudo route too; that handler checks for itself.
        if route is not None and route in app._static_routes + app._dynamic_routes:
            preflight.check(app, route.path, app.context.get("_route_args") or {})
        return next_middleware(app)

    app.use(middlewares=[gate])

    @app.exception_handler(ApiError)
    def handle_api_error(exc: ApiError) -> Response:
        return fail(exc)

    @app.exception_handler(RequestValidationError)
    def handle_validation(exc: RequestValidationError) -> Response:
        route = app.context.get("_route")
        pattern = route.path if route else ""
        try:
            preflight.check(app, pattern, app.context.get("_route_args") or {})
        except ApiError as earlier:
            return fail(earlier)
        method = app.current_event.http_method.upper()
        return fail(validation_error(list(exc.errors()), overrides.get((method, pattern)), field_codes))

    _handle_unreadable_bodies(app, preflight)

    @app.not_found
    def handle_not_found(_: NotFoundError) -> Response:
        path = app.current_event.path
        methods, pattern, args = _route_match(app, path)
        if not methods or pattern is None:
            for rule, code in missing_ids:
                if rule.match(path):
                    field = "guildId" if code is ErrorCode.MISSING_GUILD_ID else "userId"
                    return fail(InvalidInput(code, f"{field} is required"))
            return fail(ApiError(ErrorCode.NOT_FOUND, f"No route for {app.current_event.http_method} {path}"))
        try:
            preflight.check(app, pattern, args)
        except ApiError as earlier:
            return fail(earlier)
        allow = ", ".join(m for m in _ALL_METHODS if m in methods)
        return fail(
            ApiError(
                ErrorCode.METHOD_NOT_ALLOWED,
                f"Method {app.current_event.http_method} is not allowed on {path}; use {allow}",
                {"Allow": allow},
            )
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

    @app.exception_handler(ClientError)
    def handle_client_error(exc: ClientError) -> Response:
        if is_throttle(exc):
            logger.warning("storage throttled", extra={"error": str(exc)})
            return fail(Unavailable())
        logger.exception("storage error")
        return fail(ApiError(ErrorCode.INTERNAL_ERROR, "Unexpected storage error"))

    @app.exception_handler(BotoCoreError)
    def handle_botocore(exc: BotoCoreError) -> Response:
        if isinstance(
            exc, ParamValidationError
        ):  # a value our validation let through: a bug, but not the caller's fault to retry
            logger.exception("request parameter refused by the SDK")
            return fail(InvalidInput(ErrorCode.INVALID_REQUEST, "A parameter is out of the accepted range"))
        logger.exception("storage unreachable")
        return fail(Unavailable("Storage is unreachable, retry shortly"))

    @app.exception_handler(Exception)
    def handle_unexpected(exc: Exception) -> Response:
        logger.exception("unhandled error")
        return fail(ApiError(ErrorCode.INTERNAL_ERROR, "Unexpected server error"))

    return app


# ----------------------------------------------------------------------------- idempotency


@functools.cache
def _idempotent_runner() -> Callable[..., dict[str, Any]]:
    @idempotent_function(
        data_keyword_argument="request", persistence_store=persistence_layer(), config=IDEMPOTENCY_CONFIG
    )
    def run(request: dict[str, Any], operation: Callable[[], tuple[Any, int]]) -> dict[str, Any]:
        data, status = operation()
        return {"status": status, "data": data}

    return run


def _canonical(body: str | None) -> str:
    """The body with formatting removed, so the same request re-sent with other spacing is the same."""
    try:
        return json.dumps(json.loads(body or "null"), sort_keys=True, separators=(",", ":"))
    except (ValueError, RecursionError):
        return body or ""


def once(app: APIGatewayHttpResolver, operation: Callable[[], tuple[Any, int]], envelope: bool = True) -> Response:
    """Run a write; with an `Idempotency-Key` header a retry of the same request replays the first answer."""
    event = app.current_event
    key = (event.headers or {}).get(IDEMPOTENCY_HEADER)
    respond = ok if envelope else plain
    if key is None:
        data, status = operation()
        return respond(data, status)
    if not (1 <= len(key) <= 255) or not key.isprintable():
        raise InvalidInput(ErrorCode.INVALID_REQUEST, "Idempotency-Key must be 1-255 printable characters")
    who = app.context.get("caller")
    caller_scope = "admin" if who is None or who.admin else f"user:{who.discord_id}"
    scope = f"{caller_scope} {event.http_method} {event.path} {key}"  # one caller's key never blocks another's
    fingerprint = hashlib.sha256(_canonical(event.body).encode()).hexdigest()
    result = _idempotent_runner()(request={"key": scope, "fingerprint": fingerprint}, operation=operation)
    return respond(result["data"], int(result["status"]))


def anonymous(app: APIGatewayHttpResolver) -> bool:
    """Whether a LEADERBOARD route was called without a key (a public leaderboard): public views apply, e.g.
    hidden members are masked. Admin calls see everything."""
    return app.context.get("anonymous") is True


def caller(app: APIGatewayHttpResolver) -> auth.Caller:
    """Who called an ANY_KEY / OWN_ACCOUNT / SHOP_ADMIN route (set by the preflight)."""
    found = app.context.get("caller")
    if not isinstance(found, auth.Caller):
        raise RuntimeError("caller() used on a route without a key-based Access mode")
    return found


def _normalise(event: dict[str, Any]) -> dict[str, Any]:
    """Read every request body as JSON, like the reference API does, whatever its Content-Type; and when a
    POST/PUT/PATCH/DELETE has no body, its query parameters become the JSON body (the shop seed's callers
    send parameters that way), so one validation path serves both."""
    method = event.get("requestContext", {}).get("http", {}).get("method", "")
    if method not in ("POST", "PUT", "PATCH", "DELETE"):
        return event
    query = event.get("queryStringParameters")
    if query and not (event.get("body") or "").strip():
        event = {**event, "body": json.dumps(query), "isBase64Encoded": False}
    if event.get("body"):
        headers = {k: v for k, v in (event.get("headers") or {}).items() if k.lower() != "content-type"}
        event = {**event, "headers": {**headers, "content-type": "application/json"}}
    return event


def resolve(app: APIGatewayHttpResolver, event: dict[str, Any], context: Any) -> dict[str, Any]:
    IDEMPOTENCY_CONFIG.register_lambda_context(context)
    return app.resolve(_normalise(event), context)
