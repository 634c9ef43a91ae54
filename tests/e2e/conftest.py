"""One local server for the whole e2e session, started exactly as `make dev` does (python -m local.dev).

Every e2e module shares it, so each module works in its own guilds, users and shop names (no module reads a
list it didn't fill). The server is wired to what the modules need from outside: a fake Discord REST API
(bot token and interaction signing key), the card signing key of the test session (tests/conftest.py,
which the README's examples read), and a known DynamoDB Local port so a test can
write display data the relay would have recorded.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from local import REPO_ROOT
from local.ddb import free_port
from tests.support.discord import Signer
from tests.support.fake_discord import FakeDiscord

E2E_KEY = "e2e-admin-key"
E2E_IMPORT_SYNC_MAX_ROWS = 500
E2E_TABLE = "xpshop-e2e"
BOT_TOKEN = "e2e-bot-token"


@dataclass(frozen=True)
class Stack:
    url: str
    signer: Signer  # signs interactions; its public half is the server's DISCORD_PUBLIC_KEY
    discord: FakeDiscord  # the Discord REST API the server calls
    ddb_port: int  # the server's DynamoDB Local


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    signer = Signer()
    ddb_port = free_port()
    with FakeDiscord(token=BOT_TOKEN) as fake:
        env = {
            "DISCORD_PUBLIC_KEY": signer.public_hex,
            "DISCORD_BOT_TOKEN": BOT_TOKEN,
            "DISCORD_API_BASE_URL": fake.base_url,
            "XPSHOP_DDB_PORT": str(ddb_port),
            "IMPORT_SYNC_MAX_ROWS": str(E2E_IMPORT_SYNC_MAX_ROWS),  # a small file already becomes a job
        }
        with dev_server(tmp_path_factory, env) as url:
            yield Stack(url, signer, fake, ddb_port)


@pytest.fixture(scope="session")
def server(stack: Stack) -> str:
    return stack.url


@pytest.fixture
def http(server: str) -> requests.Session:
    """A session carrying the admin key; `http.base_url` is the server's URL."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {E2E_KEY}"
    session.base_url = server  # type: ignore[attr-defined]
    return session


@contextmanager
def dev_server(tmp_path_factory: pytest.TempPathFactory, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """Run `python -m local.dev` on free ports until the block ends; yields its URL."""
    port = free_port()
    data_dir: Path = tmp_path_factory.mktemp("ddb-data")
    env = {
        **os.environ,
        "XPSHOP_PORT": str(port),
        "XPSHOP_DDB_PORT": str(free_port()),
        "XPSHOP_DATA_DIR": str(data_dir),
        "XPSHOP_ADMIN_KEY": E2E_KEY,
        "TABLE_NAME": E2E_TABLE,
        **(extra_env or {}),  # last: e.g. the DynamoDB Local port, so a test can reach the table itself
    }
    env.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
    log = (data_dir / "dev.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "local.dev"], cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"local.dev exited: {(data_dir / 'dev.log').read_text()[-2000:]}")
            try:
                if requests.get(f"{url}/api/xp/health", timeout=10).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):  # not listening yet / first call still importing
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("local.dev did not answer within 60 s")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
