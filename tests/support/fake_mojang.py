"""A fake Minecraft profile service (the Mojang shape), as a real local HTTP server for tests."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@contextmanager
def fake_profile_service(
    profiles: dict[str, str], fail_with: int | None = None, raw_body: bytes | None = None
) -> Iterator[str]:
    """Serve GET /users/profiles/minecraft/{name} -> {"id", "name"} (204 when unknown); yield the base URL.
    `raw_body`: answer every lookup 200 with these bytes instead (a misbehaving service)."""
    calls: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            calls.append(self.path)
            prefix = "/users/profiles/minecraft/"
            name = self.path[len(prefix) :] if self.path.startswith(prefix) else None
            if fail_with:
                self.send_response(fail_with)
                self.end_headers()
                return
            if raw_body is not None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw_body)))
                self.end_headers()
                self.wfile.write(raw_body)
                return
            match = next((n for n in profiles if name and n.lower() == name.lower()), None)
            if match is None:
                self.send_response(204)
                self.end_headers()
                return
            body = json.dumps({"id": profiles[match], "name": match}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
