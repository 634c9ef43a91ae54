"""An HTTP server that behaves like the template's API Gateway HTTP API (payload format 2.0).

The pure parts (route matching, event building, response translation, CORS) are functions and a
``LocalApi`` class so they can be tested without sockets; ``LocalHttpServer`` only moves bytes.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

from local import events, lambdas
from local.template import DEFAULT_ROUTE, RouteSpec, cors_configuration, functions, http_routes

logger = logging.getLogger(__name__)  # not "xpshop.*": that is the Powertools logger

Invoker = Callable[[str, dict[str, Any]], Any]

API_ID = "local"
NOT_FOUND = {"message": "Not Found"}
INTERNAL_ERROR = {"message": "Internal Server Error"}
BINARY_TYPES = (
    "image/",
    "audio/",
    "video/",
    "font/",
    "application/octet-stream",
    "application/pdf",
    "application/zip",
    "application/gzip",
    "application/x-protobuf",
    "application/vnd.",
)
# Connections: a burst of parallel clients (a dashboard, the e2e tests, `make bench`) is queued, not reset.
LISTEN_BACKLOG = 1024
MAX_CONNECTIONS = 256  # threads serving connections at once (each mostly waits for the handler lock)
IDLE_TIMEOUT_S = 60.0
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass
class HttpRequest:
    method: str
    target: str  # path and query string as received, e.g. "/api/xp/users/1?limit=5"
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"
    server_port: int = 80

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key.lower() == name.lower()]
        return ",".join(values) if values else None


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    logical_id: str | None = None  # the function that answered, for the request log

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key.lower() == name.lower()]
        return ",".join(values) if values else None


def json_response(status: int, payload: Any) -> HttpResponse:
    body = json.dumps(payload, separators=(",", ":")).encode()  # compact, like API Gateway's own
    return HttpResponse(status, [("content-type", "application/json")], body)


# ---------------------------------------------------------------- routing


@dataclass(frozen=True)
class RouteMatch:
    route: RouteSpec
    path_parameters: dict[str, str]


@dataclass(frozen=True)
class CompiledRoute:
    spec: RouteSpec
    segments: tuple[str, ...]  # without the greedy one
    greedy: str | None  # the name of a trailing {name+}

    @classmethod
    def compile(cls, spec: RouteSpec) -> CompiledRoute:
        if spec.path == DEFAULT_ROUTE:
            return cls(spec, (), None)
        segments = tuple(spec.path.split("/")[1:])
        if segments and segments[-1].startswith("{") and segments[-1].endswith("+}"):
            return cls(spec, segments[:-1], segments[-1][1:-2])
        return cls(spec, segments, None)

    @property
    def is_default(self) -> bool:
        return self.spec.path == DEFAULT_ROUTE

    def priority(self) -> tuple[Any, ...]:
        """Sort key, lowest wins: static, then {var} (more and earlier static segments first),
        then greedy {proxy+} (longer static prefix first), then $default; a method beats ANY."""
        static_mask = tuple(0 if _is_var(segment) else 1 for segment in self.segments)
        if self.is_default:
            kind = 3
        elif self.greedy is not None:
            kind = 2
        else:
            kind = 1 if 0 in static_mask else 0
        rank = tuple(-flag for flag in static_mask)  # a static segment (-1) sorts before a variable (0)
        method_rank = 1 if self.spec.method == "ANY" else 0
        return (kind, -sum(static_mask), rank, -len(self.segments), method_rank)

    def match(self, raw_segments: list[str]) -> dict[str, str] | None:
        """The path parameters when the raw (percent-encoded) segments fit this route, else None."""
        if self.is_default:
            return {}
        fixed = len(self.segments)
        fits = len(raw_segments) > fixed if self.greedy else len(raw_segments) == fixed
        params = _match_segments(self.segments, raw_segments[:fixed]) if fits else None
        if params is None or self.greedy is None:
            return params
        rest = "/".join(raw_segments[fixed:])
        if not rest:  # {proxy+} needs at least one character
            return None
        params[self.greedy] = unquote(rest)
        return params


def _match_segments(patterns: tuple[str, ...], raw_segments: list[str]) -> dict[str, str] | None:
    params: dict[str, str] = {}
    for pattern, raw in zip(patterns, raw_segments, strict=True):
        value = unquote(raw)
        if not _is_var(pattern):
            if value != pattern:
                return None
        elif value:
            params[pattern[1:-1]] = value
        else:  # a {var} never matches an empty segment
            return None
    return params


def _is_var(segment: str) -> bool:
    return segment.startswith("{") and segment.endswith("}")


class Router:
    """Picks the route API Gateway would pick for a method and raw path."""

    def __init__(self, routes: Iterable[RouteSpec]) -> None:
        self.routes = sorted((CompiledRoute.compile(route) for route in routes), key=CompiledRoute.priority)

    def match(self, method: str, raw_path: str) -> RouteMatch | None:
        segments = raw_path.split("/")[1:] if raw_path.startswith("/") else raw_path.split("/")
        method = method.upper()
        for route in self.routes:  # sorted by priority: the first match is the most specific
            if route.spec.method not in (method, "ANY"):
                continue
            params = route.match(segments)
            if params is not None:
                return RouteMatch(route.spec, params)
        return None


def match_route(routes: Iterable[RouteSpec], method: str, raw_path: str) -> RouteMatch | None:
    return Router(routes).match(method, raw_path)


# ---------------------------------------------------------------- request -> event


def event_headers(headers: Iterable[tuple[str, str]]) -> tuple[dict[str, str], list[str]]:
    """Header names lower-cased, repeats comma-joined; Cookie headers split out into a list."""
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        key = name.lower()
        if key == "cookie":
            cookies += [part.strip() for part in value.split(";") if part.strip()]
        elif key in merged:
            merged[key] = f"{merged[key]},{value}"
        else:
            merged[key] = value
    return merged, cookies


def query_parameters(raw_query: str) -> dict[str, str]:
    """Decoded query string; a repeated key's values are comma-joined, as API Gateway does."""
    params: dict[str, str] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        params[key] = f"{params[key]},{value}" if key in params else value
    return params


def _is_binary(body: bytes, headers: dict[str, str]) -> bool:
    content_type = headers.get("content-type", "").lower()
    if content_type.startswith(BINARY_TYPES) or headers.get("content-encoding"):
        return True
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _request_time(now: float) -> str:
    # Fixed English month names: strftime's %b follows the locale.
    t = time.gmtime(now)
    return f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:{time.strftime('%H:%M:%S', t)} +0000"


def build_event(
    request: HttpRequest, match: RouteMatch, *, request_id: str | None = None, now: float | None = None
) -> dict[str, Any]:
    """The API Gateway HTTP API payload 2.0 event for a request and the route it matched."""
    now = time.time() if now is None else now
    raw_path, _, raw_query = request.target.partition("?")
    headers, cookies = event_headers(request.headers)
    _add_forwarded_headers(headers, request)
    host = headers.get("host", "localhost")
    body = request.body or None
    return events.http_api_event(
        request.method.upper(),
        raw_path,
        headers=headers,
        body=body,
        base64_body=body is not None and _is_binary(body, headers),
        route_key=match.route.route_key,
        raw_query=raw_query,
        query=query_parameters(raw_query),
        cookies=cookies,
        path_parameters=match.path_parameters,
        http={"protocol": request.protocol, "sourceIp": request.source_ip, "userAgent": headers.get("user-agent", "")},
        context={
            "accountId": events.ACCOUNT_ID,
            "apiId": API_ID,
            # Keeps the port so handlers that build absolute URLs point back at this server.
            "domainName": host,
            "domainPrefix": host.split(":")[0].split(".")[0],
            "requestId": request_id or _request_id(),
            "time": _request_time(now),
            "timeEpoch": int(now * 1000),
        },
    )


def _add_forwarded_headers(headers: dict[str, str], request: HttpRequest) -> None:
    chain = [headers["x-forwarded-for"]] if headers.get("x-forwarded-for") else []
    headers["x-forwarded-for"] = ", ".join([*chain, request.source_ip])
    headers.setdefault("x-forwarded-port", str(request.server_port))
    headers.setdefault("x-forwarded-proto", "http")


def _request_id() -> str:
    # Shaped like API Gateway's ids (base64 of 10 random bytes).
    return base64.b64encode(uuid.uuid4().bytes[:10]).decode("ascii")


# ---------------------------------------------------------------- result -> response


class MalformedResponseError(ValueError):
    """The handler result is not something API Gateway can turn into a response."""


def translate_result(result: Any) -> HttpResponse:
    """Turn a handler result into the HTTP response API Gateway (payload 2.0) would send."""
    if not (isinstance(result, dict) and "statusCode" in result):
        # No statusCode: API Gateway answers 200 with the result as a JSON body.
        body = result if isinstance(result, str) else json.dumps(result)
        return HttpResponse(200, [("content-type", "application/json")], body.encode("utf-8"))
    try:
        status = int(result["statusCode"])
    except (TypeError, ValueError) as error:
        raise MalformedResponseError(f"statusCode {result['statusCode']!r} is not a number") from error
    if not 100 <= status <= 599:
        raise MalformedResponseError(f"statusCode {status} is not an HTTP status")
    return HttpResponse(status, _result_headers(result), _result_body(result))


def _header_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _result_headers(result: dict[str, Any]) -> list[tuple[str, str]]:
    headers = [(str(name), _header_text(value)) for name, value in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers += [(str(name), _header_text(value)) for value in values]
    headers += [("set-cookie", str(cookie)) for cookie in result.get("cookies") or []]
    return headers


def _result_body(result: dict[str, Any]) -> bytes:
    body = result.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise MalformedResponseError(f"body must be a string, got {type(body).__name__}")
    if result.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except binascii.Error as error:
            message = f"isBase64Encoded is set but the body is not base64: {error}"
            raise MalformedResponseError(message) from error
    return body.encode("utf-8")


# ---------------------------------------------------------------- CORS


@dataclass(frozen=True)
class Cors:
    """The HttpApi CorsConfiguration; API Gateway answers preflights and sets the headers itself."""

    allow_origins: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_credentials: bool = False

    @classmethod
    def from_config(cls, config: dict[str, Any] | None) -> Cors | None:
        if not config:
            return None
        max_age = config.get("MaxAge")
        return cls(
            allow_origins=tuple(config.get("AllowOrigins") or ()),
            allow_methods=tuple(config.get("AllowMethods") or ()),
            allow_headers=tuple(config.get("AllowHeaders") or ()),
            expose_headers=tuple(config.get("ExposeHeaders") or ()),
            max_age=int(max_age) if max_age not in (None, "") else None,
            allow_credentials=str(config.get("AllowCredentials", "")).lower() == "true",
        )

    def allowed_origin(self, origin: str | None) -> str | None:
        if not origin:
            return None
        if "*" in self.allow_origins:
            return origin if self.allow_credentials else "*"
        return origin if origin in self.allow_origins else None

    def preflight(self, origin: str) -> HttpResponse:
        response = HttpResponse(204)
        allowed = self.allowed_origin(origin)
        if allowed is None:
            return response
        response.headers.append(("access-control-allow-origin", allowed))
        if self.allow_methods:
            response.headers.append(("access-control-allow-methods", ",".join(self.allow_methods)))
        if self.allow_headers:
            response.headers.append(("access-control-allow-headers", ",".join(self.allow_headers)))
        if self.max_age is not None:
            response.headers.append(("access-control-max-age", str(self.max_age)))
        if self.allow_credentials:
            response.headers.append(("access-control-allow-credentials", "true"))
        return response

    def decorate(self, response: HttpResponse, origin: str | None) -> None:
        """API Gateway replaces the backend's CORS headers with its own when CORS is configured."""
        response.headers = [(k, v) for k, v in response.headers if not _is_cors_header(k)]
        allowed = self.allowed_origin(origin)
        if allowed is None:
            return
        response.headers.append(("access-control-allow-origin", allowed))
        if self.expose_headers:
            response.headers.append(("access-control-expose-headers", ",".join(self.expose_headers)))
        if self.allow_credentials:
            response.headers.append(("access-control-allow-credentials", "true"))


def _is_cors_header(name: str) -> bool:
    return name.lower().startswith("access-control-")


def is_preflight(request: HttpRequest) -> bool:
    return (
        request.method.upper() == "OPTIONS"
        and bool(request.header("origin"))
        and bool(request.header("access-control-request-method"))
    )


# ---------------------------------------------------------------- the API


class LocalApi:
    """Request in, response out: CORS preflight, routing, the handler call, error responses."""

    def __init__(
        self,
        routes: Iterable[RouteSpec],
        invoke: Invoker,
        cors: dict[str, Any] | None = None,
    ) -> None:
        self.router = Router(routes)
        self.invoke = invoke
        self.cors = Cors.from_config(cors)

    def handle(self, request: HttpRequest) -> HttpResponse:
        request_id = _request_id()
        response = self._respond(request, request_id)
        response.headers.append(("apigw-requestid", request_id))
        if request.method.upper() == "HEAD":
            _drop_head_body(response)
        return response

    def _respond(self, request: HttpRequest, request_id: str) -> HttpResponse:
        origin = request.header("origin")
        if self.cors is not None and is_preflight(request):
            return self.cors.preflight(origin or "")
        raw_path = request.target.partition("?")[0]
        match = self.router.match(request.method, raw_path)
        response = json_response(404, NOT_FOUND) if match is None else self._call(request, match, request_id)
        if self.cors is not None:
            self.cors.decorate(response, origin)
        return response

    def _call(self, request: HttpRequest, match: RouteMatch, request_id: str) -> HttpResponse:
        logical_id = match.route.logical_id
        try:
            event = build_event(request, match, request_id=request_id)
            response = translate_result(self.invoke(logical_id, event))
        except Exception:  # any handler failure is API Gateway's generic 500
            logger.exception("%s failed for %s %s", logical_id, request.method, request.target)
            response = json_response(500, INTERNAL_ERROR)
        response.logical_id = logical_id
        return response


def _drop_head_body(response: HttpResponse) -> None:
    """A HEAD answer as API Gateway sends it: the function answers as for a GET, the gateway sends the
    headers only, with the Content-Length the body would have had (RFC 9110 9.3.2), never the function's own."""
    response.headers = [(k, v) for k, v in response.headers if k.lower() != "content-length"]
    if _may_have_body(response.status):
        response.headers.append(("content-length", str(len(response.body))))
    response.body = b""


def _may_have_body(status: int) -> bool:
    return status >= 200 and status not in (204, 304)


def make_api(repo_root: Path, template: dict[str, Any]) -> LocalApi:
    """A LocalApi that calls the template's handlers in-process."""
    specs = functions(template)

    def call(logical_id: str, event: dict[str, Any]) -> Any:
        return lambdas.invoke(repo_root, specs[logical_id], event)

    return LocalApi(http_routes(template), call, cors_configuration(template))


# ---------------------------------------------------------------- HTTP plumbing


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every response carries Content-Length
    # An idle keep-alive connection is closed after this long, so it can't hold a connection slot for ever.
    timeout = IDLE_TIMEOUT_S
    server: LocalHttpServer

    def _handle(self) -> None:
        started = time.monotonic()
        try:
            body = self._read_body()
        except ValueError as error:
            self._send(json_response(400, {"message": f"Bad Request: {error}"}))
            self.close_connection = True
            return
        request = HttpRequest(
            method=self.command,
            target=self.path,
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
            protocol=self.request_version,
            server_port=self.server.server_port,
        )
        response = self.server.api.handle(request)
        self._send(response)
        elapsed_ms = (time.monotonic() - started) * 1000
        function = f" {response.logical_id}" if response.logical_id else ""
        self.server.log(f"{self.command} {self.path} {response.status} {elapsed_ms:.1f} ms{function}")

    # TRACE and QUERY too: a method no route has reaches the function like any other (API Gateway's ANY), which
    # answers 405 with Allow, rather than http.server's bare 501
    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_TRACE = do_QUERY = _handle

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            return self._read_chunked()
        length = self.headers.get("content-length")
        if not length:
            return b""
        if not length.isdigit():
            raise ValueError("invalid Content-Length")
        return self.rfile.read(int(length))

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            size_line = self.rfile.readline(65537).split(b";", 1)[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError as error:
                raise ValueError("invalid chunked body") from error
            if size == 0:
                while self.rfile.readline(65537).strip():  # trailers
                    pass
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline(3)  # the CRLF after each chunk

    def _send(self, response: HttpResponse) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        no_body = not _may_have_body(response.status)
        if not no_body:
            # HEAD: the length of the body a GET gets (LocalApi kept it when it dropped the body)
            head_length = response.header("content-length") if self.command == "HEAD" else None
            self.send_header("Content-Length", head_length or str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD" and not no_body:
            self.wfile.write(response.body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # _handle logs one line with the duration instead

    def log_message(self, format: str, *args: Any) -> None:
        self.server.log(format % args)

    def log_error(self, format: str, *args: Any) -> None:
        if not format.startswith("Request timed out"):  # an idle keep-alive connection closed: not news
            super().log_error(format, *args)


class LocalHttpServer(ThreadingHTTPServer):
    """One thread per connection, at most MAX_CONNECTIONS at once; the handlers themselves run one at a time
    (local/lambdas.py), like one execution environment. Connections beyond that wait in the listen backlog
    (LISTEN_BACKLOG; the standard library's 5 made a burst of clients meet connection resets)."""

    daemon_threads = True  # a hung handler must not keep the process alive on shutdown
    allow_reuse_address = True
    request_queue_size = LISTEN_BACKLOG  # listen(2) backlog (the kernel caps it at net.core.somaxconn)

    def __init__(self, address: tuple[str, int], api: LocalApi, *, quiet: bool = False) -> None:
        self.api = api
        self.quiet = quiet
        self.host = address[0]
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._closing = threading.Event()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _RequestHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        # Wait for a free connection thread; meanwhile new connections queue in the kernel's backlog.
        while not self._slots.acquire(timeout=0.2):
            if self._closing.is_set():
                self.shutdown_request(request)
                return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def shutdown(self) -> None:
        self._closing.set()
        super().shutdown()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that resets or drops its connection (a timed-out test client, a load generator stopping)
        # is not a server error: log one line instead of the standard library's traceback.
        if isinstance(sys.exc_info()[1], ConnectionError):
            self.log(f"connection from {client_address[0]} closed by the client")
            return
        super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        host = self.host if self.address_family == socket.AF_INET else f"[{self.host}]"
        return f"http://{host}:{self.server_port}"

    def log(self, line: str) -> None:
        if not self.quiet:
            stamp = time.strftime("%H:%M:%S")
            print(f"[{stamp}] {line}", file=sys.stderr, flush=True)


def make_server(
    repo_root: Path,
    template: dict[str, Any],
    host: str = "127.0.0.1",
    port: int = 3000,
    *,
    api: LocalApi | None = None,
    quiet: bool = False,
) -> LocalHttpServer:
    """Bind the server (port 0 picks a free one); call serve_forever to answer requests."""
    return LocalHttpServer((host, port), api or make_api(Path(repo_root), template), quiet=quiet)


def serve_forever(server: LocalHttpServer) -> None:
    """Answer requests until Ctrl-C or server.shutdown(), then close the socket."""
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
