"""docs/openapi.json declares the headers the API reads and answers: `Idempotency-Key` on every write that honours
it, `X-RateLimit-*` on every answer, `Retry-After` where a retry is asked for; and the key rule it states is the
one the server checks."""

from __future__ import annotations

import json
import re

from hypothesis import given
from hypothesis import strategies as st

from local import REPO_ROOT
from xpshop.http import idempotency

DOCUMENT = json.loads((REPO_ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
WRITES = ("post", "put", "patch", "delete")
# Writes that do not take an Idempotency-Key: the relay's (deduplicated by message and event id) and the
# recalculation (a second run changes nothing).
NO_IDEMPOTENCY = {
    ("post", "/api/xp/ingest/messages"),
    ("post", "/api/xp/ingest/members"),
    ("post", "/api/xp/recalc"),
    ("post", "/api/xp/recalc/{guildId}"),
}


def _operations():
    for path, operations in DOCUMENT["paths"].items():
        for method, operation in operations.items():
            if method in ("get", *WRITES):
                yield method, path, operation


def _header(ref_or_header: dict) -> dict:
    if "$ref" in ref_or_header:
        return DOCUMENT["components"]["headers"][ref_or_header["$ref"].rsplit("/", 1)[-1]]
    return ref_or_header


def test_every_write_that_honours_an_idempotency_key_declares_it():
    for method, path, operation in _operations():
        declared = [
            p for p in operation.get("parameters", []) if p.get("in") == "header" and p["name"] == "Idempotency-Key"
        ]
        if method in WRITES and (method, path) not in NO_IDEMPOTENCY:
            assert len(declared) == 1, (method, path)
            assert declared[0]["required"] is False
            assert declared[0]["schema"]["pattern"] == idempotency.KEY_PATTERN
        else:
            assert declared == [], (method, path)


def test_every_answer_declares_the_rate_limit_headers_and_retry_after_where_a_retry_is_asked_for():
    for method, path, operation in _operations():
        for status, response in operation["responses"].items():
            headers = {name: _header(h) for name, h in response.get("headers", {}).items()}
            assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} <= set(headers), (
                method,
                path,
                status,
            )
            assert all(h["schema"]["type"] == "integer" and not h.get("required") for h in headers.values())
            if status in ("429", "503"):
                assert "Retry-After" in headers, (method, path, status)


@given(st.text(max_size=300))
def test_the_published_key_pattern_is_the_servers_rule(key: str):
    assert bool(re.fullmatch(idempotency.KEY_PATTERN, key)) == bool(idempotency._VALID_KEY.fullmatch(key))
    assert bool(re.fullmatch(idempotency.KEY_PATTERN, key)) == (
        1 <= len(key) <= 255 and key.isascii() and key.isprintable() and key == key.strip(" ")
    )
