"""The contract of docs/openapi.json, held over HTTP against the local server (schemathesis): every operation,
with inputs that fit the document (each must be accepted: 2xx, or 401/403/404/409 for a key, a resource or a
state the request cannot know) and inputs that break it (each must be refused with a 4xx), and every answer
checked against the document (status, content type, headers, body schema). Never a 5xx: a 500 is a bug.

The checks are schemathesis' own (`CHECKS`: what `schemathesis run --checks all` runs on one response), with
two allowances the document states: a cursor is opaque (only one the server handed out is valid, so made-up
cursors are not sent as valid data), and a few 400s depend on the stored state, as the XP seed specifies
(`STATE_ERRORS`: a valid request for a reward level that already has one).

Deterministic (hypothesis derandomized) so that CI is repeatable; `XPSHOP_FUZZ_EXAMPLES=200 make test`
digs deeper locally."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import load_all_checks, not_a_server_error

from local import REPO_ROOT
from tests.e2e.conftest import E2E_KEY
from xpshop.guild_config import FIELDS, SYSTEM_DEFAULTS

load_all_checks()
from schemathesis.specs.openapi import checks as st_checks  # noqa: E402 (registered by load_all_checks)

EXAMPLES = int(os.environ.get("XPSHOP_FUZZ_EXAMPLES", "12"))
GUILD = "612345678901234567"  # registered first, so guild routes get past GUILD_NOT_FOUND

SCHEMA = schemathesis.openapi.from_path(str(REPO_ROOT / "docs" / "openapi.json"))
OPERATIONS = {result.ok().label: result.ok() for result in SCHEMA.get_all_operations()}
assert len(OPERATIONS) >= 55, sorted(OPERATIONS)  # the whole document, not a failed load
MODES = {
    "valid": GenerationMode.POSITIVE,
    "invalid": GenerationMode.NEGATIVE,
}
# Every check schemathesis runs on a single response (`--checks all` minus the stateful ones, which need a
# sequence of calls: use_after_free, ensure_resource_availability, object_level_authorization).
CHECKS = [
    not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_headers_conformance,
    st_checks.response_schema_conformance,
    st_checks.negative_data_rejection,
    st_checks.positive_data_acceptance,
    st_checks.missing_required_header,
    st_checks.ignored_auth,
]
# Refusals that depend on stored state or on the clock, which a schema cannot state (400): a reward level
# already taken (the XP seed's answer); an API key expiry that is not in the future.
STATE_ERRORS = {"DUPLICATE_REWARD", "INVALID_EXPIRES_AT"}
OPAQUE = {"cursor"}  # query parameters only the server can make valid


@pytest.fixture(scope="module")
def registered(server: str) -> Iterator[str]:
    r = requests.put(f"{server}/api/xp/guilds/{GUILD}", headers={"X-API-Key": E2E_KEY}, json={}, timeout=10)
    assert r.status_code in (200, 201), r.text
    yield server
    # The fuzzer changed the global defaults (PUT /api/xp/config/global): reset every override, since the
    # other e2e modules share this server and count on the system defaults (null resets a field).
    reset = {field: None for field in FIELDS}
    r = requests.put(f"{server}/api/xp/config/global", headers={"X-API-Key": E2E_KEY}, json=reset, timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["data"] == SYSTEM_DEFAULTS


def _without_opaque(case: Any) -> Any:
    if case.query:
        case.query = {k: v for k, v in case.query.items() if k not in OPAQUE}
    return case


def _strategy(label: str, mode: str, in_guild: bool) -> Any:
    operation = OPERATIONS[label]
    names = {p.name for p in operation.path_parameters}
    pinned = {"guildId": GUILD} if in_guild and "guildId" in names else None
    strategy = operation.as_strategy(generation_mode=MODES[mode], path_parameters=pinned)
    return strategy.map(_without_opaque) if mode == "valid" else strategy


def _state_error(response: Any) -> bool:
    if response.status_code != 400:
        return False
    try:
        return response.json()["error"]["code"] in STATE_ERRORS
    except (ValueError, KeyError, TypeError):
        return False


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_operation_keeps_the_contract(registered: str, label: str, mode: str) -> None:
    in_guild = any(p.name == "guildId" for p in OPERATIONS[label].path_parameters)
    strategies = [_strategy(label, mode, False)] + ([_strategy(label, mode, True)] if in_guild else [])
    for strategy in strategies:

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def call(case: Any) -> None:
            # Authorization explicitly: schemathesis adds a random one for the bearer scheme otherwise, and it
            # is checked before X-API-Key, so half the cases would stop at 401
            headers = {"Authorization": f"Bearer {E2E_KEY}"}
            response = case.call(base_url=registered, headers=headers, timeout=30)
            checks = [c for c in CHECKS if not (c is st_checks.positive_data_acceptance and _state_error(response))]
            case.validate_response(response, checks=checks, headers=headers)
            if response.status_code >= 400 and response.status_code != 429:  # our envelope, with a code
                error = response.json()["error"]
                assert error["code"] and error["message"], response.text

        try:
            call()
        except Unsatisfiable:  # nothing in the operation can be made invalid (no parameter, no body)
            assert mode == "invalid" and not OPERATIONS[label].path_parameters and not OPERATIONS[label].body


def test_every_request_body_example_is_accepted(registered: str) -> None:
    """The examples of the document (what a developer copies first) are valid requests: each is accepted."""
    document = json.loads((REPO_ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    components = document["components"]["schemas"]
    tried = 0
    for path, operations in sorted(document["paths"].items()):
        if path.startswith(("/api/xp/ingest", "/api/xp/import")):
            continue  # the relay's key only; the importer's example is a file (tests/e2e/test_import_http)
        for method, operation in operations.items():
            schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if schema is None:
                continue
            refs = [s["$ref"] for s in [schema, *schema.get("anyOf", [])] if "$ref" in s]
            examples = components[refs[0].rsplit("/", 1)[-1]]["examples"]
            url = registered + path.replace("{guildId}", GUILD).replace("{userId}", "123456789012345678")
            for example in examples:
                r = requests.request(
                    method.upper(), url, headers={"Authorization": f"Bearer {E2E_KEY}"}, json=example, timeout=10
                )
                tried += 1
                code = r.json().get("error", {}).get("code") if r.status_code >= 400 else None
                # accepted, or refused only for what is (not) stored: nothing about the request's shape
                accepted = r.status_code < 400 or r.status_code in (404, 409) or code in STATE_ERRORS
                assert accepted, (method, path, example, r.text)
    assert tried >= 30


@pytest.mark.parametrize("path", sorted({op.path for op in OPERATIONS.values()}))
def test_an_undocumented_method_gets_405_naming_the_documented_ones(registered: str, path: str) -> None:
    documented = {op.method.upper() for op in OPERATIONS.values() if op.path == path}
    unused = next(m for m in ("TRACE", "PATCH", "PUT", "DELETE", "POST", "GET") if m not in documented)
    url = registered + path.replace("{guildId}", GUILD).replace("{userId}", "123456789012345678").replace(
        "{jobId}", "job"
    )
    r = requests.request(unused, url, headers={"Authorization": f"Bearer {E2E_KEY}"}, timeout=10)
    if path.startswith("/api/xp/ingest/"):  # the relay's key only: the key is checked first (401), as everywhere
        assert r.status_code == 401, r.text
        return
    assert r.status_code == 405, (unused, path, r.text)
    assert set(r.headers["Allow"].split(", ")) >= documented, r.headers["Allow"]
