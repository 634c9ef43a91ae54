"""What Lambda will have: the function's CodeUri, the layer built for this host, and the runtime's boto3.

The layer is built like `sam build` builds it (layers/common/python/Makefile: pip install -r requirements.txt
-t python/, the package, and compiled bytecode) but with wheels for this host, into build/test-layer/,
cached by the hash of its requirements, so only the first run pays for pip. Run it with
PYTHONDONTWRITEBYTECODE=1 to see what a cold start costs on Lambda, where /opt is read-only.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from local import REPO_ROOT

LAYER_SRC = REPO_ROOT / "layers" / "common" / "python"  # the layer ContentUri (sam build copies it to python/)
BUILD_ROOT = REPO_ROOT / "build" / "test-layer"
BUILD_FORMAT = b"bytecode-1"  # bump when the way the layer is built changes: older caches are not reused
RUNTIME_BOTO3 = "boto3==1.43.108"  # what the python3.13 Lambda runtime provides, pinned like the venv


def _pip_target(target: Path, *requirements: str) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",
            "--target",
            str(target),
            *requirements,
        ],
        check=True,
    )


def compile_tree(root: Path) -> None:
    """Bytecode as the layer ships it (unchecked-hash: valid whatever the files' mtimes)."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", str(root)],
        check=True,
    )


def build_layer() -> tuple[Path, Path]:
    """(layer dir as /opt/python, runtime dir with boto3); rebuilt when the requirements change.

    Safe to call from several processes at once (`make test` runs two xdist workers): the shared part is built
    under a file lock, and each process gets its own copy of the layer, so no caller's copy is replaced while
    another process is importing from it."""
    requirements = (LAYER_SRC / "requirements.txt").read_bytes()
    digest = hashlib.sha256(requirements + RUNTIME_BOTO3.encode() + BUILD_FORMAT).hexdigest()[:12]
    root = BUILD_ROOT / digest
    deps, runtime = root / "deps", root / "runtime"
    root.mkdir(parents=True, exist_ok=True)
    with (root.parent / f"{digest}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / ".complete").exists():
            for stale in (deps, runtime):
                shutil.rmtree(stale, ignore_errors=True)
            _pip_target(deps, "-r", str(LAYER_SRC / "requirements.txt"))
            _pip_target(runtime, RUNTIME_BOTO3)
            compile_tree(deps)
            compile_tree(runtime)  # the runtime's own boto3 comes compiled
            (root / ".complete").touch()
        _remove_copies_of_gone_processes(root)
    layer = root / f"opt-{os.getpid()}" / "python"
    shutil.rmtree(layer.parent, ignore_errors=True)
    shutil.copytree(deps, layer)
    shutil.copytree(LAYER_SRC / "xpshop", layer / "xpshop", ignore=shutil.ignore_patterns("__pycache__"))
    compile_tree(layer / "xpshop")
    return layer, runtime


def _remove_copies_of_gone_processes(root: Path) -> None:
    for copy in root.glob("opt*"):
        pid = copy.name.removeprefix("opt-")
        if pid.isdigit() and _alive(int(pid)):
            continue
        shutil.rmtree(copy, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
