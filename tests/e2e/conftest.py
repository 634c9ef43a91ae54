"""Start the local server exactly as `make dev` does (python -m local.dev) on free ports."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from local import REPO_ROOT
from local.ddb import free_port

E2E_KEY = "e2e-admin-key"
E2E_TABLE = "xpshop-e2e"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh `make dev` server (own data dir) per test module, so modules never see each other's data."""
    with dev_server(tmp_path_factory) as url:
        yield url


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
        **(extra_env or {}),  # last: a test may pick e.g. the DynamoDB Local port to reach the table itself
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


@pytest.fixture
def http(server: str):  # -> requests.Session with the admin key
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {E2E_KEY}"
    session.base_url = server  # type: ignore[attr-defined]
    return session
