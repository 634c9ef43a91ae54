"""The resolver every HTTP function uses: our API style, the routes we registered, the auth gate and the
error handlers, plus the request normalisation and paging parameters they share."""

from __future__ import annotations

import base64
import binascii
import functools
import inspect
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Annotated, Any, NamedTuple

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import OpenAPIRequestValidationMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from .. import request_log
from ..api.xp.field_codes import FIELD_ERROR_CODES
from ..errors import ErrorCode, InvalidInput
from . import errors, gate, idempotency

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
# A page costs the same at any depth (rank counters locate it); the bound only keeps numbers sane.
MAX_OFFSET = 100_000_000
MAX_PAGE = MAX_OFFSET // MAX_LIMIT + 1  # the deepest page of the largest size starts at MAX_OFFSET
_DIGITS = re.compile(r"-[1-9][0-9]*|[0-9]+")  # a negative number passes, for the bound to name the minimum


def _digits(value: Any) -> Any:
    """A query parameter's integer is written in ASCII digits (a negative one then meets the field's bound, which
    names its minimum). A lax integer takes what Python's int() reads: "1_000" (1000), "+5", " 5", "5.0",
    "\uff15" (a fullwidth 5); each is refused as "abc" is."""
    if isinstance(value, str) and not _DIGITS.fullmatch(value):
        raise PydanticCustomError(
            "int_parsing", "Input should be a valid integer, unable to parse string as an integer"
        )
    return value


# An integer query parameter of /api/xp: Annotated[QueryInt, Query(...)] (the shop reads its own numbers).
QueryInt = Annotated[int, BeforeValidator(_digits)] | None
# The paging query parameters (`page_window`'s), bounds stated for the OpenAPI document.
Offset = Annotated[QueryInt, Query(ge=0, le=MAX_OFFSET, description="Starting position (0-based)")]
Limit = Annotated[
    QueryInt, Query(ge=1, description=f"Max entries (default {DEFAULT_LIMIT}; above {MAX_LIMIT}: {MAX_LIMIT})")
]
Page = Annotated[
    QueryInt, Query(ge=1, le=MAX_PAGE, description="1-based page, an alternative to offset (given both, the page wins)")
]

# What Powertools matches for a `<name>` path segment: RFC 3986 safe characters and the unsafe ones API
# Gateway decodes. Kept equal to Powertools' own rule so our lookups agree with its routing.
_SEGMENT = r"[-._~()'!*:@,;=+&$%<> \[\]{}|^\w]+"
_PARAM = re.compile(r"<(\w+)>")


class ApiStyle(NamedTuple):  # NamedTuples, not dataclasses: a dataclass costs ~0.5 ms of every cold start
    """How an API answers: success bodies in the envelope or plain, and which code a bad body field earns
    (a field not listed gets INVALID_REQUEST). Errors always use the error envelope. `query_as_body`: a
    write sent without a body takes its query parameters as the body (the shop's callers do that); elsewhere
    a write's query string holds only the parameters its route declares, and others are ignored, as on reads."""

    envelope: bool
    field_codes: Mapping[str, ErrorCode] = MappingProxyType({})
    query_as_body: bool = False
    # A body that repeats a key is refused (naming it) rather than read as its last value: `{"amount": 5,
    # "amount": -5}` must not move money silently. /api/xp keeps JSON.parse's last-key-wins (its reference's).
    unique_keys: bool = False


XP_API = ApiStyle(envelope=True, field_codes=FIELD_ERROR_CODES)  # /api/xp: the XP seed's codes
RELAY_API = ApiStyle(envelope=True)  # /api/xp/ingest: the envelope, INVALID_REQUEST for any field
SHOP_API = ApiStyle(envelope=False, query_as_body=True, unique_keys=True)  # /api/v1: the shop seed's plain shapes


class RegisteredRoute(NamedTuple):
    method: str
    rule: str  # as registered, e.g. /api/xp/users/<guildId>

    @property
    def openapi_path(self) -> str:
        return _PARAM.sub(lambda m: "{" + m.group(1) + "}", self.rule)

    @property
    def regex(self) -> re.Pattern[str]:
        return re.compile("^" + _PARAM.sub(lambda m: f"(?P<{m.group(1)}>{_SEGMENT})", self.rule) + "$")


@functools.cache
def _route_signature() -> inspect.Signature:
    return inspect.signature(APIGatewayHttpResolver.route)


BOM = "\ufeff"


class DuplicateKey(json.JSONDecodeError):
    """A JSON object that repeats a key, in a body read with `unique_keys`."""

    def __init__(self, key: str, text: str) -> None:
        super().__init__(f"{errors.DUPLICATE_KEY}{key!r}", text, max(text.find(json.dumps(key)), 0))


def strict_json(text: str, *, unique_keys: bool = False) -> Any:
    """json.loads without Python's extensions, and with every unreadable body a JSONDecodeError (Powertools'
    validation answers those as 400 "Invalid JSON in request body"): NaN, Infinity and -Infinity are not JSON
    (RFC 8259; the reference's JSON.parse refuses them), and an integer longer than Python converts (4300
    digits) raises a plain ValueError. `unique_keys`: an object that repeats a key is a DuplicateKey (JSON
    leaves it undefined; json.loads, like JSON.parse, keeps the last). A leading UTF-8 byte order mark is
    dropped, as the reference's `request.json()` (WHATWG UTF-8 decode) does and RFC 8259 allows: Windows
    tools write one."""
    text = text.removeprefix(BOM)

    def refuse(name: str) -> Any:
        raise json.JSONDecodeError(f"{name} is not a JSON value", text, max(text.find(name), 0))

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for key, value in pairs:
            if key in found:
                raise DuplicateKey(key, text)
            found[key] = value
        return found

    try:
        return json.loads(text, parse_constant=refuse, object_pairs_hook=unique if unique_keys else None)
    except json.JSONDecodeError:
        raise
    except ValueError as exc:
        raise json.JSONDecodeError(str(exc), text, 0) from exc


class Resolver(APIGatewayHttpResolver):
    """APIGatewayHttpResolver with an ApiStyle and a list of the routes registered on it."""

    def __init__(self, style: ApiStyle, *, raw_bodies: bool = False) -> None:
        parse = functools.partial(strict_json, unique_keys=style.unique_keys) if style.unique_keys else strict_json
        super().__init__(enable_validation=True, json_body_deserializer=parse)
        self.style = style
        self.registered: list[RegisteredRoute] = []
        # The routes read their bodies themselves (`raw_body`), in the media type the caller sent (the
        # importer takes JSON or CSV): the request is not normalised to a JSON body.
        self.raw_bodies = raw_bodies
        # Who may call each route (pattern -> Access; ADMIN when absent): the OpenAPI document's security.
        self.access: dict[str, gate.Access] = {}
        if not raw_bodies:  # Powertools' request validation, behind the guard against list bodies
            self._request_validation_middleware = _ObjectBodies()

    def route(self, rule: str, method: str | list[str] | tuple[str], *args: Any, **kwargs: Any) -> Any:
        methods = (method,) if isinstance(method, str) else method
        self.registered.extend(RegisteredRoute(m.upper(), rule) for m in methods)
        given = _route_signature().bind(self, rule, method, *args, **kwargs).arguments
        given.pop("self")
        if len(methods) != 1 or given.get("operation_id") is not None:
            return super().route(rule, method, *args, **kwargs)

        def register(func: Callable[..., Any]) -> Any:
            # The route function's name is the operation's id (`add_xp`): what generated clients call it
            return super(Resolver, self).route(**{**given, "operation_id": func.__name__})(func)

        return register

    def matched(self) -> tuple[str, dict[str, str]] | None:
        """The registered rule Powertools matched for the current request and its path arguments; None
        before routing or for Powertools' not-found pseudo route."""
        try:
            request = self.request
        except RuntimeError:
            return None
        for route in self.registered:
            if route.method == request.method and route.openapi_path == request.route:
                return route.rule, dict(request.path_parameters)
        return None

    def routes_for(self, path: str) -> tuple[list[str], str | None, dict[str, str]]:
        """Methods registered for a path (any method), the first matching rule (static ones first, as
        Powertools routes) and its arguments."""
        methods: list[str] = []
        pattern: str | None = None
        args: dict[str, str] = {}
        for route in sorted(self.registered, key=lambda r: _PARAM.search(r.rule) is not None):
            match = route.regex.match(path)
            if match and route.method not in methods:
                methods.append(route.method)
                pattern = pattern or route.rule
                args = args or dict(match.groupdict())
        return methods, pattern, args


class _ObjectBodies(OpenAPIRequestValidationMiddleware):
    """Powertools validates a JSON list where a body model is expected as the list's first item (`[{...},
    anything]` passes as `{...}`, `[null]` as no body): every JSON body of our routes is an object, so a list
    is refused as what it is, like any body that is not an object (400, after the route's auth checks)."""

    def handler(self, app: Any, next_middleware: Any) -> Response:
        if app.current_event.http_method.upper() in ("POST", "PUT", "PATCH", "DELETE"):
            try:
                listed = isinstance(app.current_event.json_body, list)
            except ValueError:  # not JSON: Powertools' validation says so
                listed = False
            if listed:
                error = {"type": "model_type", "loc": ("body",), "msg": "Request body must be an object"}
                raise RequestValidationError([error])
        return super().handler(app, next_middleware)


def make_resolver(
    style: ApiStyle,
    *,
    access: Mapping[str, gate.Access] | None = None,
    unregistered_ok: set[str] | None = None,
    body_error_codes: Mapping[tuple[str, str], ErrorCode] | None = None,
    missing_guild: Sequence[str] = (),
    missing_id_paths: Sequence[tuple[str, ErrorCode]] = (),
    raw_bodies: bool = False,
) -> Resolver:
    """A resolver with our envelope, auth gate, 404/405 handling and error mapping.

    access: route pattern -> Access (default ADMIN). unregistered_ok: route patterns whose guild need
    not be registered. body_error_codes: (METHOD, pattern) -> code for any bad body field on that route.
    missing_guild: paths answered "guildId is required" whatever the method (e.g. `/api/xp/users` without an id:
    the reference checks the guild id before the method).
    missing_id_paths: (regex, code) for unrouted paths whose id segment is empty (`/api/xp/users/`).
    raw_bodies: the routes read their bodies with `raw_body` (Content-Type kept, no query-as-body).
    """
    app = Resolver(style, raw_bodies=raw_bodies)
    app.access = dict(access or {})
    preflight = gate.Preflight(access or {}, unregistered_ok or set())

    def check_access(app: Resolver, next_middleware: Callable[..., Response]) -> Response:
        matched = app.matched()
        # Powertools runs middlewares for its not-found pseudo route too; that handler checks for itself.
        if matched is not None:
            preflight.check(app, *matched)
        return next_middleware(app)

    app.use(middlewares=[check_access])
    errors.install(app, preflight, dict(body_error_codes or {}), missing_id_paths)
    for path in missing_guild:
        _answer_missing_guild(app, path)
    return app


# Every method a per-guild route could be called with (OPTIONS is the CORS preflight's).
_EVERY_METHOD = ["GET", "POST", "PUT", "DELETE", "PATCH"]


def _answer_missing_guild(app: Resolver, path: str) -> None:
    hint = f"{path}/{{guildId}}"

    def missing_guild() -> None:
        raise gate.required(ErrorCode.MISSING_GUILD_ID, hint)

    app.route(path, method=_EVERY_METHOD, include_in_schema=False)(missing_guild)


def once(
    app: Resolver,
    operation: Callable[[], tuple[Any, int]],
    secret: tuple[str, Callable[[dict[str, Any]], Exception]] | None = None,
) -> Response:
    """Run a write (see `idempotency.once`), answering in the resolver's style."""
    return idempotency.once(app, operation, app.style.envelope, secret)


def page_window(offset: int | None, limit: int | None, page: int | None = None) -> tuple[int, int]:
    """offset/limit with `page` (1-based) as an alternative to offset; limit defaults to 10, max 100. When
    both are given the page wins, as in the reference (it reads `offset`, then computes it from `page`)."""
    size = min(limit if limit is not None else DEFAULT_LIMIT, MAX_LIMIT)
    if page is not None:
        offset = (page - 1) * size
    elif offset is None:
        offset = 0
    if offset > MAX_OFFSET:  # `Offset` and `Page` state the bounds; this keeps direct callers to them
        field = "offset" if page is None else "page"
        raise InvalidInput(ErrorCode.INVALID_REQUEST, f"{field}: pages start at most {MAX_OFFSET} entries deep")
    return offset, size


def _normalise(event: dict[str, Any], query_as_body: bool) -> dict[str, Any]:
    """Read every request body as JSON, like the reference API does, whatever its Content-Type; and, for an
    API whose style says so (the shop: its seed's callers send parameters that way), when a
    POST/PUT/PATCH/DELETE has no body, its query parameters become the JSON body, so one validation path
    serves both. /api/xp never does: its query strings are not bodies (`?amount=10` would be read as the
    string "10" and refused as not a number, `?foo=1` as an unknown body field)."""
    method = event.get("requestContext", {}).get("http", {}).get("method", "")
    if method not in ("POST", "PUT", "PATCH", "DELETE"):
        return event
    query = event.get("queryStringParameters")
    if query_as_body and query and not (event.get("body") or "").strip():
        event = {**event, "body": json.dumps(query), "isBase64Encoded": False}
    if event.get("body"):
        headers = {k: v for k, v in (event.get("headers") or {}).items() if k.lower() != "content-type"}
        event = {**event, "headers": {**headers, "content-type": "application/json"}}
    return event


def resolve(app: APIGatewayHttpResolver, event: dict[str, Any], context: Any) -> dict[str, Any]:
    access = gate.access  # the gate's rate-limit state, loaded with its checks by the first request
    access.begin()
    started = time.perf_counter()
    raw = getattr(app, "raw_bodies", False)
    style: ApiStyle | None = getattr(app, "style", None)
    event = _head_as_get(app, event)
    result = app.resolve(event if raw else _normalise(event, style is not None and style.query_as_body), context)
    result = _no_store(access.decorate(result))  # X-RateLimit-* on every answer to a limited caller
    request_log.logged(event, result, started, access.caller_label())
    return result


def _head_as_get(app: APIGatewayHttpResolver, event: dict[str, Any]) -> dict[str, Any]:
    """HEAD is GET without the body (RFC 9110 9.3.2): wherever the path allows GET, HEAD is routed as the GET
    (same checks, scope and rate limit; API Gateway, as the local server, sends the headers only, with the
    body's Content-Length). Where it does not, HEAD stays HEAD and meets the 405 listing the path's methods."""
    http = (event.get("requestContext") or {}).get("http") or {}
    if http.get("method") != "HEAD" or not isinstance(app, Resolver):
        return event
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

    methods, _, _ = app.routes_for(APIGatewayProxyEventV2(event).path)
    if "GET" not in methods:
        return event
    return {**event, "requestContext": {**event["requestContext"], "http": {**http, "method": "GET"}}}


# Every API answer: private data behind a key, or a secret shown once (a new key), so no browser or proxy
# keeps it; and its JSON is never sniffed as another type. A route that sets its own value keeps it.
_API_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def _no_store(result: dict[str, Any]) -> dict[str, Any]:
    if isinstance(result, dict):
        headers = dict(result.get("headers") or {})
        present = {name.lower() for name in headers}
        headers.update({name: value for name, value in _API_HEADERS.items() if name.lower() not in present})
        result["headers"] = headers
    return result


def raw_body(app: APIGatewayHttpResolver) -> bytes:
    """The request body's bytes as the caller sent them (API Gateway base64-encodes bodies it does not take
    for text)."""
    event = app.current_event
    body = event.body or ""
    if event.is_base64_encoded:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidInput(ErrorCode.INVALID_REQUEST, "The body is not valid base64") from exc
    return body.encode("utf-8", "surrogatepass")
