"""The README's curl examples, run as written (bash + curl) against the local server: they must all work."""

from __future__ import annotations

import re
import subprocess

import pytest

from local import REPO_ROOT
from tests.e2e.conftest import E2E_KEY


def _blocks(marker: str) -> str:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    return next(b for b in re.findall(r"```bash\n(.*?)```", text, re.S) if marker in b)


def _run(block: str, server: str) -> list[tuple[int, str]]:
    lines = []
    for line in block.splitlines():
        if line.startswith(("export KEY=", "export API=", "export RELAY=")):
            continue
        if line.startswith("curl "):  # print each status, tagged with the status the line's comment expects
            found = re.search(r"#\s*(\d{3})", line)
            expected = found.group(1) if found else "2xx"
            lines.append(line.replace("curl ", f"curl -s -o /dev/null -w '%{{http_code}} {expected}\\n' ", 1))
        else:
            lines.append(line)
    script = f"set -eu\nexport KEY={E2E_KEY} API={server} RELAY={E2E_KEY}-relay\n" + "\n".join(lines)
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    return [(int(status), expected) for status, expected in (row.split() for row in out.stdout.splitlines())]


@pytest.mark.parametrize(
    "marker",
    [
        "api/xp/health",
        "api/v1/categories/create",
        "ingest/messages",
        "/cards/",
        "api/xp/import",
        "ingest/members",
        "api/keys",
    ],
)
def test_readme_examples(server, marker):
    results = _run(_blocks(marker), server)
    least = {"ingest/messages": 1, "/cards/": 6, "api/xp/import": 9, "ingest/members": 7, "api/keys": 7}
    assert len(results) >= least.get(marker, 10)
    for status, expected in results:
        if expected == "2xx":
            assert 200 <= status < 300, results
        else:
            assert status == int(expected), results
