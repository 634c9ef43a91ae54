"""The local server under a burst of clients (issue 16): 200 connections opened at once, over real sockets, are
all answered; none is reset. (20 clients once met ConnectionResetError: the standard library's backlog is 5.)"""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from local import REPO_ROOT
from local.server import LISTEN_BACKLOG, MAX_CONNECTIONS, LocalApi, LocalHttpServer, make_server
from local.template import http_routes, load_template

CLIENTS = 200
HANDLER_SECONDS = 0.002  # each call holds the handler lock this long, as a quick real handler would


_HANDLER_LOCK = threading.Lock()


def _health(_logical_id: str, _event: dict[str, Any]) -> dict[str, Any]:
    with _HANDLER_LOCK:  # handlers run one at a time (local/lambdas.py): the connections wait for each other
        time.sleep(HANDLER_SECONDS)
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": '{"status":"ok"}'}


def _serve(server: LocalHttpServer) -> Iterator[LocalHttpServer]:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def server() -> Iterator[LocalHttpServer]:
    """The server `make dev` runs (same class and routes), with a stub behind the template's routes."""
    api = LocalApi(http_routes(load_template()), _health)
    yield from _serve(make_server(REPO_ROOT, {}, "127.0.0.1", 0, api=api, quiet=True))


def _burst(port: int, clients: int) -> tuple[Counter[str], list[str]]:
    """`clients` threads connect at the same instant, each sends one request and reads the whole answer."""
    start = threading.Barrier(clients)
    outcomes: Counter[str] = Counter()
    errors: list[str] = []
    lock = threading.Lock()

    def client() -> None:
        try:
            start.wait(timeout=30)
            with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
                sock.sendall(b"GET /api/xp/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                answer = b""
                while chunk := sock.recv(65536):
                    answer += chunk
            status = answer.split(b" ", 2)[1].decode() if answer.startswith(b"HTTP/1.1 ") else "garbled"
            ok = status == "200" and answer.endswith(b'{"status":"ok"}')
            with lock:
                outcomes[status if ok else f"{status} (incomplete)"] += 1
        except Exception as exc:  # ConnectionResetError, timeouts: what the test is about
            with lock:
                errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes, errors


def test_200_concurrent_connections_are_all_answered(server):
    outcomes, errors = _burst(server.server_port, CLIENTS)
    assert errors == []
    assert outcomes == Counter({"200": CLIENTS})


def test_the_backlog_and_the_thread_bound_are_set():
    assert LocalHttpServer.request_queue_size == LISTEN_BACKLOG >= 1024
    assert LocalHttpServer.daemon_threads
    assert CLIENTS <= MAX_CONNECTIONS <= 1024


def test_connections_beyond_the_thread_bound_wait_instead_of_failing(monkeypatch):
    """With 4 connection threads, 40 clients at once still all get their answer (queued in the backlog)."""
    monkeypatch.setattr("local.server.MAX_CONNECTIONS", 4)
    api = LocalApi(http_routes(load_template()), _health)
    for srv in _serve(make_server(REPO_ROOT, {}, "127.0.0.1", 0, api=api, quiet=True)):
        outcomes, errors = _burst(srv.server_port, 40)
        assert errors == []
        assert outcomes == Counter({"200": 40})
        deadline = time.monotonic() + 5
        while srv._slots._value != 4 and time.monotonic() < deadline:  # released after the socket is closed
            time.sleep(0.01)
        assert srv._slots._value == 4  # every slot given back


def test_a_client_resetting_its_connection_is_one_log_line_not_a_traceback(capsys):
    from local import REPO_ROOT
    from local.server import make_server
    from local.template import load_template

    server = make_server(REPO_ROOT, load_template(), port=0)
    try:
        try:
            raise ConnectionResetError(104, "Connection reset by peer")
        except ConnectionResetError:
            server.handle_error(None, ("127.0.0.1", 5555))
        err = capsys.readouterr().err
        assert "closed by the client" in err and "Traceback" not in err
        try:
            raise ValueError("a real bug")
        except ValueError:
            server.handle_error(None, ("127.0.0.1", 5555))
        assert "Traceback" in capsys.readouterr().err  # anything else keeps the standard report
    finally:
        server.server_close()
