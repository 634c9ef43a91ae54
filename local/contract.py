"""`make contract`: schemathesis' own CLI, `schemathesis run docs/openapi.json --checks all`, against a fresh
local server (`python -m local.dev` on free ports, its data in a temporary directory, its log in
.artifacts/contract/dev.log), then the server stops. The CLI reads schemathesis.toml at the repository root
(what it allows and why: there, and in local/contract_hooks.py). Exit status: the CLI's.

    python -m local.contract [--max-examples N] [--seed S] [-- more schemathesis run options]

Environment: CONTRACT_EXAMPLES (20) and CONTRACT_SEED (1) are the defaults of the two options.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from local import REPO_ROOT
from local.ddb import free_port

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
LOG = REPO_ROOT / ".artifacts" / "contract" / "dev.log"


def command(url: str, admin_key: str, max_examples: int, seed: int, extra: list[str]) -> list[str]:
    """The CLI call: every check, every phase, the admin key (it may call every operation)."""
    return [
        str(SCHEMATHESIS),
        "run",
        "docs/openapi.json",
        "--checks",
        "all",
        "--url",
        url,
        "--header",
        f"Authorization: Bearer {admin_key}",
        "--max-examples",
        str(max_examples),
        "--seed",
        str(seed),
        "--workers",
        "1",
        *extra,
    ]


@contextmanager
def local_server(admin_key: str) -> Iterator[str]:
    """`python -m local.dev` on free ports with its data in a temporary directory, until the block ends."""
    port = free_port()
    LOG.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="xpshop-contract-") as data_dir, LOG.open("w") as log:
        env = {
            **os.environ,
            "XPSHOP_PORT": str(port),
            "XPSHOP_DDB_PORT": str(free_port()),
            "XPSHOP_DATA_DIR": data_dir,
            "XPSHOP_ADMIN_KEY": admin_key,
            "XPSHOP_RELAY_KEY": admin_key,  # one key for every operation, the relay's ingest routes included
            "TABLE_NAME": "xpshop-contract",
        }
        env.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
        proc = subprocess.Popen([sys.executable, "-m", "local.dev"], cwd=REPO_ROOT, env=env, stdout=log, stderr=log)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(proc, url)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_healthy(proc: subprocess.Popen[bytes], url: str, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"local.dev exited ({proc.returncode}); see {LOG.relative_to(REPO_ROOT)}")
        try:
            with urllib.request.urlopen(f"{url}/api/xp/health", timeout=10) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):  # not listening yet
            pass
        time.sleep(0.3)
    raise SystemExit(f"local.dev did not answer within {timeout_s:.0f} s; see {LOG.relative_to(REPO_ROOT)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.contract", description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=int(os.environ.get("CONTRACT_EXAMPLES") or 20))
    parser.add_argument("--seed", type=int, default=int(os.environ.get("CONTRACT_SEED") or 1))
    parser.add_argument("extra", nargs="*", help="more `schemathesis run` options (after --)")
    args = parser.parse_args(argv)
    admin_key = secrets.token_urlsafe(24)
    with local_server(admin_key) as url:
        print(f"contract: schemathesis against {url} (server log: {LOG.relative_to(REPO_ROOT)})", flush=True)
        run = command(url, admin_key, args.max_examples, args.seed, args.extra)
        return subprocess.run(run, cwd=REPO_ROOT, check=False).returncode


if __name__ == "__main__":
    raise SystemExit(main())
