"""A fake Discord CDN: a real local HTTP server that serves avatars, and misbehaves on request.

    with FakeCdn() as cdn:
        cdn.serve("/avatars/1/abc.png", png_bytes)
        cdn.serve("/avatars/2/def.png", b"x" * 600_000)             # too large
        cdn.serve("/avatars/3/0a1.png", png_bytes, delay=3.0)       # too slow
        cdn.serve("/avatars/4/0b2.png", b"", status=302, headers={"Location": "http://elsewhere/x.png"})
        monkeypatch.setenv("DISCORD_CDN_BASE_URL", cdn.base_url)
        ...
        assert cdn.paths() == ["/avatars/1/abc.png"]

Every request is recorded (path with its query string). Unknown paths answer 404. `chunked=True` sends the
body without a Content-Length, so a client must count what it reads; `trickle=s` sends it 1 KB every s seconds;
`header_trickle=s` sends each extra header line s seconds after the previous one.
"""

from __future__ import annotations

import io
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from PIL import Image, ImageDraw


@dataclass
class _Route:
    body: bytes
    status: int = 200
    content_type: str = "image/png"
    delay: float = 0.0
    chunked: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    trickle: float = 0.0  # seconds between 1 KB pieces of the body
    header_trickle: float = 0.0  # seconds between header lines (each its own packet)


def png(size: int = 256, colour: tuple[int, int, int] = (200, 120, 40)) -> bytes:
    """A small PNG of one colour with a white disc, like an avatar."""
    image = Image.new("RGB", (size, size), colour)
    ImageDraw.Draw(image).ellipse((size // 4, size // 4, 3 * size // 4, 3 * size // 4), fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


class FakeCdn:
    def __init__(self) -> None:
        self.requests: list[str] = []
        self.completed: list[str] = []  # paths whose whole answer was written (the client kept listening)
        self._ended = threading.Semaphore(0)  # released once per answer finished or abandoned
        self._routes: dict[str, _Route] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def serve(
        self,
        path: str,
        body: bytes,
        *,
        status: int = 200,
        content_type: str = "image/png",
        delay: float = 0.0,
        chunked: bool = False,
        headers: dict[str, str] | None = None,
        trickle: float = 0.0,
        header_trickle: float = 0.0,
    ) -> None:
        with self._lock:
            self._routes[path] = _Route(
                body, status, content_type, delay, chunked, dict(headers or {}), trickle, header_trickle
            )

    def wait_answered(self, count: int = 1, timeout: float = 30.0) -> None:
        """Block until `count` answers have ended (written whole, or abandoned by the client)."""
        for _ in range(count):
            assert self._ended.acquire(timeout=timeout), "the fake CDN is still answering"

    def paths(self) -> list[str]:
        """The paths requested so far (query strings dropped)."""
        with self._lock:
            return [r.partition("?")[0] for r in self.requests]

    @property
    def base_url(self) -> str:
        assert self._server is not None, "use FakeCdn as a context manager"
        return f"http://127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> FakeCdn:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _route(self, target: str) -> _Route | None:
        with self._lock:
            self.requests.append(target)
            return self._routes.get(target.partition("?")[0])


def _handler_for(cdn: FakeCdn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            try:
                self._answer()
            finally:
                cdn._ended.release()

        def _extra_headers(self, route: _Route) -> bool:
            """Status line and the route's headers; False when the client hung up meanwhile."""
            self.send_response(route.status)
            self.send_header("Content-Type", route.content_type)
            try:
                for name, value in route.headers.items():
                    self.send_header(name, value)
                    if route.header_trickle:  # this header line now, the next one later
                        self.flush_headers()
                        time.sleep(route.header_trickle)
            except (BrokenPipeError, ConnectionResetError):
                return False
            return True

        def _answer(self) -> None:
            route = cdn._route(self.path)
            if route is None:
                route = _Route(b"not found", status=404, content_type="text/plain")
            if not self._extra_headers(route):
                return
            if route.chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            try:
                if route.delay:
                    time.sleep(route.delay)
                if route.chunked:
                    for start in range(0, len(route.body), 16384):
                        piece = route.body[start : start + 16384]
                        self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                    self.wfile.write(b"0\r\n\r\n")
                elif route.trickle:
                    for start in range(0, len(route.body), 1024):
                        self.wfile.write(route.body[start : start + 1024])
                        self.wfile.flush()
                        time.sleep(route.trickle)
                else:
                    self.wfile.write(route.body)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout, size cap)
                return
            with cdn._lock:
                cdn.completed.append(self.path.partition("?")[0])

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler
