"""schemathesis' own CLI with the committed schemathesis.toml (and its hooks, local/contract_hooks.py), as
`make contract` calls it, on the document's examples only: every check, about 6 s of CPU. The whole run
(coverage, fuzzing and stateful phases: about 3 CPU-minutes) is `make contract`, outside `make test`."""

from __future__ import annotations

import subprocess

import requests

from local import REPO_ROOT
from local.contract import command
from tests.e2e.conftest import E2E_KEY
from xpshop.guild_config import FIELDS, SYSTEM_DEFAULTS


def test_the_cli_passes_on_every_documented_example(server: str) -> None:
    try:
        run = subprocess.run(
            command(server, E2E_KEY, 1, 1, ["--phases", "examples"]),
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    finally:
        # PUT /api/xp/config/global's example changed the global defaults, which the other modules count on
        reset = {field: None for field in FIELDS}
        r = requests.put(f"{server}/api/xp/config/global", headers={"X-API-Key": E2E_KEY}, json=reset, timeout=10)
        assert r.status_code == 200 and r.json()["data"] == SYSTEM_DEFAULTS, r.text
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-6000:]
    assert "Configuration:    " in output and "schemathesis.toml" in output  # the committed config was read
    assert "✅  Examples" in output, output[-3000:]
