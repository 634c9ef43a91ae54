"""`make bench` keeps working: a tiny run (no timing is asserted; benchmarks are not tests)."""

import subprocess
import sys

from local import REPO_ROOT


def test_bench_runs():
    out = subprocess.run(
        [sys.executable, "-m", "bench", "--members", "60", "--repeat", "2", "--no-write", "--no-imports"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "| add XP (same level) | 1 | UpdateItem 1 |" in out.stdout  # one write per API award
    assert "| stream: audit record + stats counters, per API XP change (8 changes," in out.stdout
    assert "naive: stats" in out.stdout
    assert "| board page 1 (ranks 1+; from the top of the index), warm |" in out.stdout
    assert "## Rank cards" in out.stdout and "| card of a member in the middle (public; drawn) |" in out.stdout
