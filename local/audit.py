"""`make audit`: known vulnerabilities of every locked dependency, never a silent pass.

python -m local.audit                    # pip-audit when its advisory source answers, else the fallback below
python -m local.audit --mode fallback    # PyPI's project JSON only (what answers from a restricted network)
python -m local.audit --mode pip-audit   # pip-audit or nothing (fails when its service does not answer)

pip-audit asks https://pypi.org/pypi/<name>/<version>/json (or api.osv.dev) for the advisories of each pinned
version. Where neither answers, the fallback asks the project JSON, https://pypi.org/pypi/<name>/json: its
``vulnerabilities`` are the advisories (PyPA advisory database / OSV) of the project's LATEST release only. So:

- pin == latest: those advisories are our pin's -> ``clean`` or ``vulnerable`` (ids);
- pin older than latest: this source says nothing definite about our version (an advisory on the latest
  release, or none, tells nothing about an older one) -> ``unverified``, never clean;
- no answer (network, 404, bad JSON) -> ``unreachable``, always a failure.

Exit 1 when any advisory is not in audit-ignore.txt (id or alias, with a reason), any package is unreachable,
or any package is unverified and not in audit-unverified.txt (``name==version  # why it is accepted``).
Standard library only (it runs before, and apart from, any venv's packages).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local import REPO_ROOT

# Every lock that is shipped (the layer: its direct pins, also in requirements-lock.txt with everything they pull
# in) or installed by `make setup`/.ci/run (dev, SAM CLI, scanners, generated client).
LOCKS = (
    "layers/common/python/requirements.txt",
    "requirements-lock.txt",
    "requirements-sam-lock.txt",
    "requirements-scan-lock.txt",
    "requirements-client-lock.txt",
)
IGNORE_FILE = "audit-ignore.txt"
UNVERIFIED_FILE = "audit-unverified.txt"
PYPI = "https://pypi.org/pypi"
OSV = "https://api.osv.dev/v1/query"
TIMEOUT_S = 20.0

CLEAN, VULNERABLE, IGNORED, UNVERIFIED, ACCEPTED, UNREACHABLE = (
    "clean",
    "vulnerable",
    "ignored",
    "unverified",
    "unverified (accepted)",
    "unreachable",
)
FAILING = frozenset({VULNERABLE, UNVERIFIED, UNREACHABLE})


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    locks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Row:
    pin: Pin
    latest: str
    status: str
    why: str = ""
    advisories: tuple[str, ...] = field(default=())


class FetchError(Exception):
    """The advisory source gave no usable answer for a package."""


def canonical(name: str) -> str:
    """PEP 503 name: the key PyPI's URLs and our lists compare on."""
    return re.sub(r"[-_.]+", "-", name).lower()


_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*([^\s;#]+)")


def parse_lock(text: str) -> list[tuple[str, str]]:
    """The ``name==version`` lines of a requirements file (extras and markers dropped; -r/-c lines skipped)."""
    pins = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        match = _PIN.match(line)
        if match:
            pins.append((canonical(match.group(1)), match.group(2)))
    return pins


def collect_pins(root: Path, locks: Sequence[str]) -> list[Pin]:
    """One Pin per (package, version) across the locks, with the locks that hold it."""
    seen: dict[tuple[str, str], list[str]] = {}
    for lock in locks:
        for name, version in parse_lock((root / lock).read_text()):
            seen.setdefault((name, version), []).append(lock)
    return [Pin(name, version, tuple(where)) for (name, version), where in sorted(seen.items())]


def parse_reasoned(text: str, source: str) -> dict[str, str]:
    """``key  # reason`` lines -> {key: reason}; a key without a reason is an error (nothing accepted unexplained)."""
    entries: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        key, _, reason = raw.partition("#")
        if not reason.strip():
            raise ValueError(f"{source}:{number}: {key.strip()!r} has no reason (`<entry>  # why`)")
        entries[key.strip()] = reason.strip()
    return entries


def parse_unverified(text: str, source: str) -> dict[tuple[str, str], str]:
    accepted = {}
    for key, reason in parse_reasoned(text, source).items():
        name, sep, version = key.partition("==")
        if not sep or not version.strip():
            raise ValueError(f"{source}: {key!r} is not `name==version`")
        accepted[(canonical(name.strip()), version.strip())] = reason
    return accepted


def _advisory_ids(vuln: Mapping[str, Any]) -> tuple[str, ...]:
    return (str(vuln.get("id", "")), *(str(a) for a in vuln.get("aliases") or ()))


def _describe(vuln: Mapping[str, Any]) -> str:
    fixed = ", ".join(str(v) for v in vuln.get("fixed_in") or ()) or "no fix"
    return f"{vuln.get('id')} (fixed in {fixed})"


def assess(
    pin: Pin,
    project: Mapping[str, Any] | FetchError,
    ignored: Mapping[str, str],
    accepted: Mapping[tuple[str, str], str],
) -> Row:
    """The decision for one pin from its project JSON (or the error fetching it). Pure: the unit tests drive it."""
    if isinstance(project, FetchError):
        return Row(pin, "?", UNREACHABLE, str(project))
    info = project.get("info") or {}
    latest = str(info.get("version") or "")
    releases = project.get("releases") or {}
    if not latest or not isinstance(project.get("vulnerabilities"), list):
        return Row(pin, latest or "?", UNREACHABLE, "the project JSON has no info.version or vulnerabilities")
    if pin.version not in releases:
        return Row(pin, latest, UNVERIFIED, f"{pin.version} is not a release on PyPI")
    files = releases.get(pin.version) or []
    notes = [f"yanked: {files[0].get('yanked_reason') or 'no reason given'}"] if all_yanked(files) else []
    vulns = [v for v in project["vulnerabilities"] if not v.get("withdrawn")]
    if pin.version != latest:
        return _older(pin, latest, vulns, accepted, notes)
    return _latest(pin, latest, vulns, ignored, notes)


def all_yanked(files: Sequence[Mapping[str, Any]]) -> bool:
    return bool(files) and all(f.get("yanked") for f in files)


def _older(
    pin: Pin, latest: str, vulns: Sequence[Mapping[str, Any]], accepted: Mapping[tuple[str, str], str], notes: list[str]
) -> Row:
    """An older pin: the latest release's advisories (or their absence) say nothing definite about it."""
    reason = accepted.get((pin.name, pin.version))
    if reason is not None:
        return Row(pin, latest, ACCEPTED, "; ".join([reason, *notes]))
    why = (
        f"pinned {pin.version}, latest {latest}: PyPI's project JSON lists the latest release's advisories "
        "only (per-version JSON unreachable)"
    )
    if vulns:
        why += "; the latest release has " + ", ".join(_describe(v) for v in vulns)
    return Row(pin, latest, UNVERIFIED, "; ".join([why, *notes]))


def _latest(
    pin: Pin, latest: str, vulns: Sequence[Mapping[str, Any]], ignored: Mapping[str, str], notes: list[str]
) -> Row:
    """The pin is the latest release: the project JSON's advisories are exactly ours."""
    open_ids = []
    ignored_notes = []
    for vuln in vulns:
        hit = next((i for i in _advisory_ids(vuln) if i in ignored), None)
        if hit is None:
            open_ids.append(_describe(vuln))
        else:
            ignored_notes.append(f"{vuln.get('id')} ignored: {ignored[hit]}")
    if open_ids:
        return Row(pin, latest, VULNERABLE, "; ".join([*open_ids, *notes]), tuple(open_ids))
    if ignored_notes:
        return Row(pin, latest, IGNORED, "; ".join([*ignored_notes, *notes]))
    return Row(pin, latest, CLEAN, "; ".join(notes))


def fetch_project(name: str) -> dict[str, Any] | FetchError:
    url = f"{PYPI}/{canonical(name)}/json"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            document = json.load(response)
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        return FetchError(f"{url}: {exc}")
    if not isinstance(document, dict):
        return FetchError(f"{url}: not a JSON object")
    return document


def audit(
    pins: Iterable[Pin],
    fetch: Callable[[str], Mapping[str, Any] | FetchError],
    ignored: Mapping[str, str],
    accepted: Mapping[tuple[str, str], str],
    workers: int = 8,
) -> list[Row]:
    pins = list(pins)
    names = sorted({p.name for p in pins})
    with ThreadPoolExecutor(max_workers=workers) as pool:
        projects = dict(zip(names, pool.map(fetch, names), strict=True))
    return [assess(p, projects[p.name], ignored, accepted) for p in pins]


def failed(rows: Iterable[Row]) -> bool:
    return any(r.status in FAILING for r in rows)


_SHORT = {
    "layers/common/python/requirements.txt": "layer",
    "requirements-lock.txt": "dev",
    "requirements-sam-lock.txt": "sam",
    "requirements-scan-lock.txt": "scan",
    "requirements-client-lock.txt": "client",
}


def render(rows: Sequence[Row]) -> str:
    header = ("package", "pinned", "latest", "locks", "status")
    lines = [
        (r.pin.name, r.pin.version, r.latest, ",".join(_SHORT.get(x, x) for x in r.pin.locks), r.status) for r in rows
    ]
    widths = [max(len(str(c)) for c in col) for col in zip(header, *lines, strict=True)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    for row, cells in zip(rows, lines, strict=True):
        text = "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True))
        out.append(f"{text}  {row.why}".rstrip() if row.why else text.rstrip())
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.status] = counts.get(r.status, 0) + 1
    order = (CLEAN, IGNORED, VULNERABLE, UNVERIFIED, ACCEPTED, UNREACHABLE)
    out.append(f"{len(rows)} pins: " + ", ".join(f"{counts.get(s, 0)} {s}" for s in order))
    return "\n".join(out)


def _answers(url: str, data: bytes | None = None) -> bool:
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            return 200 <= int(response.status) < 300
    except (urllib.error.URLError, TimeoutError, OSError):
        return False


def pip_audit_service(pins: Sequence[Pin]) -> str | None:
    """The pip-audit service that answers from here: 'pypi' (per-version JSON), 'osv', or None."""
    probe = next((p for p in pins if p.name == "pip-audit"), pins[0])
    if _answers(f"{PYPI}/{probe.name}/{probe.version}/json"):
        return "pypi"
    query = json.dumps({"package": {"name": probe.name, "ecosystem": "PyPI"}, "version": probe.version})
    if _answers(OSV, query.encode()):
        return "osv"
    return None


def run_pip_audit(executable: str, service: str, locks: Sequence[str], ignored: Iterable[str]) -> int:
    command = [executable, "--strict", "--no-deps", "--disable-pip", "--progress-spinner", "off", "-s", service]
    for lock in locks:
        command += ["-r", lock]
    for vuln_id in sorted(ignored):
        command += ["--ignore-vuln", vuln_id]
    print("$ " + " ".join(command), flush=True)
    return subprocess.call(command, cwd=REPO_ROOT)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.audit", description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("auto", "pip-audit", "fallback"), default="auto")
    parser.add_argument("--pip-audit", default=str(REPO_ROOT / ".venv-scan" / "bin" / "pip-audit"))
    parser.add_argument("--lock", action="append", help="a requirements file (default: every lock)")
    args = parser.parse_args(argv)
    locks = args.lock or list(LOCKS)
    try:
        ignored = parse_reasoned((REPO_ROOT / IGNORE_FILE).read_text(), IGNORE_FILE)
        accepted = parse_unverified((REPO_ROOT / UNVERIFIED_FILE).read_text(), UNVERIFIED_FILE)
    except ValueError as exc:
        print(f"make audit: {exc}", file=sys.stderr)
        return 2
    pins = collect_pins(REPO_ROOT, locks)
    if not pins:
        print(f"make audit: no `name==version` pin in {', '.join(locks)}", file=sys.stderr)
        return 2
    if args.mode != "fallback":
        service = pip_audit_service(pins)
        if service is not None:
            print(f"pip-audit with its {service} service over {', '.join(locks)}", flush=True)
            return 1 if run_pip_audit(args.pip_audit, service, locks, ignored) else 0
        if args.mode == "pip-audit":
            print(
                "make audit: neither PyPI's per-version JSON nor api.osv.dev answers: pip-audit cannot run",
                file=sys.stderr,
            )
            return 1
        print(
            "pip-audit cannot run here (PyPI's per-version JSON and api.osv.dev do not answer): "
            "falling back to PyPI's project JSON (the latest release's advisories)",
            flush=True,
        )
    rows = audit(pins, fetch_project, ignored, accepted)
    print(render(rows))
    if failed(rows):
        print(
            "make audit FAILED: a vulnerability not in audit-ignore.txt, a package PyPI did not answer for, or a pin "
            "this source cannot verify (not the latest release) and audit-unverified.txt does not accept",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
