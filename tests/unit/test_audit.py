"""`make audit`'s fallback (local/audit.py): what PyPI's project JSON can and cannot tell about a pin.

Recorded answers of https://pypi.org/pypi/<name>/json (trimmed) in tests/unit/fixtures/pypi/; no network here.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import urllib.error
from pathlib import Path
from typing import Any

import pytest

from local import REPO_ROOT, audit
from local.audit import (
    ACCEPTED,
    CLEAN,
    IGNORED,
    UNREACHABLE,
    UNVERIFIED,
    VULNERABLE,
    FetchError,
    Pin,
    assess,
    failed,
)

FIXTURES = Path(__file__).parent / "fixtures" / "pypi"
ECDSA_IDS = {"PYSEC-2026-1325", "GHSA-wj6h-64fc-37mp"}


def recorded(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def test_the_latest_release_without_advisories_is_clean() -> None:
    row = assess(Pin("jinja2", "3.1.6"), recorded("jinja2"), {}, {})

    assert (row.status, row.latest) == (CLEAN, "3.1.6")
    assert not failed([row])


def test_the_latest_release_with_an_advisory_is_vulnerable_and_fails() -> None:
    row = assess(Pin("ecdsa", "0.19.2"), recorded("ecdsa"), {}, {})

    assert row.status == VULNERABLE
    assert {a.split(" ")[0] for a in row.advisories} == ECDSA_IDS
    assert "fixed in no fix" in row.why
    assert failed([row])


@pytest.mark.parametrize("listed", ["GHSA-wj6h-64fc-37mp", "CVE-2024-23342"])
def test_an_advisory_in_the_ignore_list_by_id_or_alias_passes_with_its_reason(listed: str) -> None:
    row = assess(Pin("ecdsa", "0.19.2"), recorded("ecdsa"), {listed: "scanner only, verifies signatures"}, {})

    assert row.status == IGNORED
    assert "scanner only, verifies signatures" in row.why
    assert not failed([row])


def test_ignoring_another_advisory_leaves_the_pin_vulnerable() -> None:
    row = assess(Pin("ecdsa", "0.19.2"), recorded("ecdsa"), {"GHSA-xxxx-xxxx-xxxx": "something else"}, {})

    assert row.status == VULNERABLE
    assert failed([row])


def test_a_withdrawn_advisory_does_not_count() -> None:
    project = recorded("ecdsa")
    for vuln in project["vulnerabilities"]:
        vuln["withdrawn"] = "2026-11-01T00:00:00Z"

    assert assess(Pin("ecdsa", "0.19.2"), project, {}, {}).status == CLEAN


def test_an_older_pin_is_unverified_never_clean() -> None:
    # pillow 13.0.0 has no advisory: that says nothing about 12.1.1
    row = assess(Pin("pillow", "12.1.1"), recorded("pillow"), {}, {})

    assert (row.status, row.latest) == (UNVERIFIED, "13.0.0")
    assert "latest release's advisories only" in row.why
    assert failed([row])


def test_an_older_pin_below_a_vulnerable_latest_is_unverified_and_names_the_advisories() -> None:
    row = assess(Pin("ecdsa", "0.19.1"), recorded("ecdsa"), {}, {})

    assert row.status == UNVERIFIED
    assert "PYSEC-2026-1325" in row.why
    assert failed([row])


def test_an_unverified_pin_in_the_allow_list_passes_with_its_reason_for_that_version_only() -> None:
    accepted = {("pillow", "12.1.1"): "held by some tool"}

    row = assess(Pin("pillow", "12.1.1"), recorded("pillow"), {}, accepted)
    other = assess(
        Pin("pillow", "12.1.0"), recorded("pillow") | {"releases": {"12.1.0": [], "13.0.0": []}}, {}, accepted
    )

    assert (row.status, row.why) == (ACCEPTED, "held by some tool")
    assert not failed([row])
    assert other.status == UNVERIFIED


def test_a_yanked_pin_is_noted() -> None:
    project = recorded("jinja2")
    for file in project["releases"]["3.1.6"]:
        file.update(yanked=True, yanked_reason="broken wheel")

    row = assess(Pin("jinja2", "3.1.6"), project, {}, {})

    assert (row.status, row.why) == (CLEAN, "yanked: broken wheel")


def test_a_version_pypi_does_not_list_is_unverified() -> None:
    row = assess(Pin("jinja2", "9.9.9"), recorded("jinja2"), {}, {})

    assert row.status == UNVERIFIED
    assert "not a release" in row.why


def test_no_answer_fails_even_for_an_accepted_pin(monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable(*args: object, **kwargs: object) -> None:
        raise urllib.error.URLError("Connection refused")

    monkeypatch.setattr(audit.urllib.request, "urlopen", unreachable)

    answer = audit.fetch_project("pillow")
    row = assess(Pin("pillow", "12.1.1"), answer, {}, {("pillow", "12.1.1"): "held by some tool"})

    assert isinstance(answer, FetchError)
    assert row.status == UNREACHABLE
    assert failed([row])


@pytest.mark.parametrize("broken", [{"info": {"version": "13.0.0"}}, {"vulnerabilities": []}])
def test_a_project_document_without_its_fields_is_no_answer(broken: dict[str, Any]) -> None:
    assert assess(Pin("pillow", "13.0.0"), broken, {}, {}).status == UNREACHABLE


def test_the_run_fetches_each_project_once_and_fails_when_one_pin_fails() -> None:
    asked: list[str] = []

    def fetch(name: str) -> dict[str, Any] | FetchError:
        asked.append(name)
        return recorded(name) if (FIXTURES / f"{name}.json").exists() else FetchError(f"{name}: 404")

    pins = [Pin("jinja2", "3.1.6"), Pin("pillow", "13.0.0"), Pin("pillow", "12.1.1"), Pin("nosuch", "1.0")]
    rows = audit.audit(pins, fetch, {}, {}, workers=2)

    assert sorted(asked) == ["jinja2", "nosuch", "pillow"]
    assert [r.status for r in rows] == [CLEAN, CLEAN, UNVERIFIED, UNREACHABLE]
    assert failed(rows)
    assert not failed(rows[:2])
    assert "4 pins: 2 clean" in audit.render(rows)


def test_locks_parse_with_extras_markers_and_includes() -> None:
    text = "# c\n-r other.txt\naws-lambda-powertools[tracer]==3.37.0\nPyYAML==6.0.4 ; python_version>'3'\nhttpx\n"

    assert audit.parse_lock(text) == [("aws-lambda-powertools", "3.37.0"), ("pyyaml", "6.0.4")]


def test_an_entry_without_a_reason_is_refused() -> None:
    with pytest.raises(ValueError, match="no reason"):
        audit.parse_reasoned("GHSA-aaaa-bbbb-cccc\n", "audit-ignore.txt")
    with pytest.raises(ValueError, match="name==version"):
        audit.parse_unverified("pillow  # old\n", "audit-unverified.txt")


def _shipped() -> set[str]:
    """The layer's requirements and everything they pull in (sam build installs them unconstrained)."""
    todo = [name for name, _ in audit.parse_lock((REPO_ROOT / audit.LOCKS[0]).read_text())]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for requirement in importlib.metadata.distribution(name).requires or []:
            if "extra ==" in requirement and "tracer" not in requirement:
                continue
            todo.append(audit.canonical(re.split(r"[ ;<>=!~\[(]", requirement, maxsplit=1)[0]))
    return seen


def test_the_repository_lists_are_explained_current_and_accept_nothing_shipped() -> None:
    ignored = audit.parse_reasoned((REPO_ROOT / audit.IGNORE_FILE).read_text(), audit.IGNORE_FILE)
    accepted = audit.parse_unverified((REPO_ROOT / audit.UNVERIFIED_FILE).read_text(), audit.UNVERIFIED_FILE)
    pins = {(p.name, p.version) for p in audit.collect_pins(REPO_ROOT, audit.LOCKS)}

    assert all(reason for reason in ignored.values())
    assert set(accepted) <= pins, "an accepted pin no lock holds any more: remove it from audit-unverified.txt"
    # what the layer ships is the dev lock's version of each package in its closure (tests run what ships)
    dev_lock = dict(audit.parse_lock((REPO_ROOT / "requirements-lock.txt").read_text()))
    shipped = {(name, dev_lock[name]) for name in _shipped()}
    assert ("pydantic-core", dev_lock["pydantic-core"]) in shipped
    # one shipped pin is accepted, with the evidence in its reason (tested below); any other needs review here
    assert set(accepted) & shipped == {("python-dateutil", dev_lock["python-dateutil"])}, (
        "a pin the layer ships must be verified, not accepted"
    )
    assert "SHIPPED" in accepted[("python-dateutil", dev_lock["python-dateutil"])]


def test_the_accepted_shipped_dateutil_is_held_back_by_botocore_which_never_calls_gettz() -> None:
    # the reason audit-unverified.txt gives for python-dateutil: botocore caps it below 3 (so 3.0.0/4.0.0 cannot
    # ship) and uses only its parser and fixed zones, never tz.gettz (the one API later releases hardened)
    botocore = importlib.metadata.distribution("botocore")
    assert any(r.startswith("python-dateutil") and "<3.0.0" in r for r in botocore.requires or [])
    sources = [Path(str(f.locate())) for f in botocore.files or [] if str(f).endswith(".py")]
    assert len(sources) > 50
    callers = [s.name for s in sources if re.search(r"\bgettz\b", s.read_text(encoding="utf-8"))]
    assert callers == []
    users = {s.name for s in sources if re.search(r"^\s*(from|import) dateutil", s.read_text(encoding="utf-8"), re.M)}
    assert users and users <= {"compat.py", "credentials.py", "tokens.py", "utils.py"}


def test_pip_audit_runs_when_its_service_answers_and_its_exit_code_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(audit, "_answers", lambda url, data=None: "/json" in url)  # per-version JSON answers
    monkeypatch.setattr(audit.subprocess, "call", lambda command, cwd: calls.append(command) or 1)
    monkeypatch.setattr(audit, "fetch_project", lambda name: pytest.fail("no fallback when pip-audit can run"))

    assert audit.main(["--pip-audit", "pip-audit"]) == 1
    assert calls[0][:2] == ["pip-audit", "--strict"]
    assert calls[0][calls[0].index("-s") + 1] == "pypi"
    assert calls[0].count("-r") == len(audit.LOCKS)
    assert "GHSA-wj6h-64fc-37mp" in calls[0]  # audit-ignore.txt's ids


def test_without_pip_audit_service_the_fallback_runs_and_no_answer_fails(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(audit, "_answers", lambda url, data=None: False)
    monkeypatch.setattr(audit.subprocess, "call", lambda command, cwd: pytest.fail("pip-audit cannot run here"))
    monkeypatch.setattr(audit, "fetch_project", lambda name: FetchError(f"{name}: 404"))

    assert audit.main([]) == 1
    assert audit.main(["--mode", "pip-audit"]) == 1
    out = capsys.readouterr().out
    assert "falling back" in out
    assert " 0 clean," in out and "unreachable" in out
