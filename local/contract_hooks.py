"""schemathesis hooks for `schemathesis run docs/openapi.json --checks all` (schemathesis.toml loads them; `make
contract` runs it against a fresh local server).

One hook, `filter_failure`, and only for "Schema-valid request rejected" (ST202): it drops a 400 when the request
was not valid after all, for a reason the document states but JSON Schema cannot check, or when the refusal
depends on what is stored (or on the clock), which no schema can state. Every other failure stands. The run's
summary counts the dropped ones ("dropped by `filter_failure`").
"""

from __future__ import annotations

import atexit
import json
import sys
import unicodedata
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import schemathesis
from schemathesis.openapi.checks import RejectedPositiveData

DOCUMENT = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"

# Error codes whose 400 depends on stored state or the clock (the XP seed defines DUPLICATE_REWARD as a 400).
STATE_ERRORS = {
    "DUPLICATE_REWARD": "a reward already exists at that level (stored state)",
    "INVALID_EXPIRES_AT": "an expiry that is not in the future (the clock)",
}
# (code, message fragment): refusals of one field that depend on the stored value it adds to.
STATE_MESSAGES = {
    ("INVALID_AMOUNT", "would take xp above the maximum"): "the member's stored XP plus the amount",
    # A coupon edit clearing the one grant the stored coupon has (the body alone cannot say it).
    ("INVALID_REQUEST", "this edit would leave it neither"): "the coupon's stored grants",
    # The relay's times: how far from the server's clock they may be (the document's examples age too).
    ("INVALID_REQUEST", " s in the future; at most "): "a relay time ahead of the server's clock (the clock)",
    ("INVALID_REQUEST", " s old; at most "): "a relay time older than the server accepts (the clock)",
}
RULES_EXTENSION = "x-xpshop-rules"  # rules JSON Schema cannot state (xpshop.api.fields.XPSHOP_RULES)


@schemathesis.hook
def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    """Keep the failure (True) unless it is a 400 to a request that is explained above, or the 422 of an
    Idempotency-Key the run already sent with another request (stored state: the generator reuses small values
    such as "0" across cases of one operation)."""
    if not isinstance(failure, RejectedPositiveData) or response.status_code not in (400, 422):
        return True
    try:
        error = json.loads(response.content)["error"]
        code, message = str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        return True
    why = explain(case, code, message) if response.status_code == 400 else reused_key(case, code)
    if why is not None:
        DROPPED[f"{case.method} {case.path}: {code}: {why}"] += 1
    return why is None


def _report() -> None:
    """What the hook dropped, by operation and reason (stderr, when the CLI exits)."""
    if DROPPED:
        lines = [f"  {count:4d}  {reason}" for reason, count in sorted(DROPPED.items())]
        print("contract_hooks: dropped (not the API's fault):", *lines, sep="\n", file=sys.stderr)


DROPPED: Counter[str] = Counter()
atexit.register(_report)


def reused_key(case: Any, code: str) -> str | None:
    """Why a 422 to this "valid" case is not the API's fault: its Idempotency-Key was sent before with another
    request (the document says so: IDEMPOTENCY_KEY_REUSED), or None."""
    sent = {k.lower(): v for k, v in (case.headers or {}).items()}
    if code == "IDEMPOTENCY_KEY_REUSED" and sent.get("idempotency-key"):
        return "an Idempotency-Key the run sent before with another request (stored state)"
    return None


def explain(case: Any, code: str, message: str) -> str | None:
    """Why a 400 to this "valid" case is not the API's fault, or None."""
    if code in STATE_ERRORS:
        return STATE_ERRORS[code]
    for (known, fragment), why in STATE_MESSAGES.items():
        if code == known and fragment in message:
            return why
    if message.startswith("cursor ") and (case.query or {}).get("cursor"):
        return "a cursor the server never issued (cursors are opaque: only `nextCursor`/`next` is valid)"
    operation = _operation(case.method, case.path)
    broken = _broken_parameter(operation, case)
    if broken:
        return f"{broken} breaks the document (a value schemathesis took from another response)"
    broken = _broken_rule(operation, case.body)
    if broken:
        return broken
    return None


@cache
def _document() -> dict[str, Any]:
    return json.loads(DOCUMENT.read_text(encoding="utf-8"))


def _operation(method: str, path: str) -> dict[str, Any]:
    return _document()["paths"].get(path, {}).get(method.lower(), {})


def _resolve(schema: Any) -> Any:
    while isinstance(schema, dict) and "$ref" in schema:
        schema = _document()["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


@cache
def _validator(schema_json: str) -> Any:
    schema = json.loads(schema_json)
    return jsonschema_rs.validator_for({**schema, "components": _document()["components"]})


def _valid(schema: dict[str, Any], value: Any) -> bool:
    validator = _validator(json.dumps(schema, sort_keys=True))
    if validator.is_valid(value):
        return True
    if isinstance(value, str):  # a query string carries numbers and booleans as text
        try:
            return bool(validator.is_valid(json.loads(value)))
        except ValueError:
            return False
    return False


def _broken_parameter(operation: dict[str, Any], case: Any) -> str | None:
    """A path or query value that the parameter's own schema refuses: the stateful phase fills parameters from
    earlier responses by name (e.g. a nullable `uuid` into `userId`), which is not data the document allows."""
    given = {"path": case.path_parameters or {}, "query": case.query or {}}
    for parameter in operation.get("parameters", []):
        values = given.get(parameter.get("in"), {})
        name = parameter.get("name")
        if name in values and not _valid(parameter.get("schema", {}), values[name]):
            return f"{parameter['in']} parameter {name}={values[name]!r}"
    return None


def _broken_rule(operation: dict[str, Any], body: Any) -> str | None:
    """A body field that breaks a rule of its `x-xpshop-rules` (stated in the field's description too)."""
    if not isinstance(body, dict):
        return None
    media = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    root = media.get("schema", {})
    for schema in [_resolve(root), *(_resolve(s) for s in root.get("anyOf", []))]:
        if not isinstance(schema, dict):
            continue
        for field, prop in schema.get("properties", {}).items():
            for rule in prop.get(RULES_EXTENSION, []):
                if field in body and body[field] is not None and _breaks(rule, body[field]):
                    return f"{field}: {rule['description']}"
    return None


def _breaks(rule: dict[str, Any], value: Any) -> bool:
    if rule["rule"] == "unique-by" and isinstance(value, list):
        keys = [item.get(rule["key"]) for item in value if isinstance(item, dict)]
        return len(keys) != len(set(map(json.dumps, keys)))
    if rule["rule"] == "max-length-folded" and isinstance(value, str):
        return len(unicodedata.normalize("NFKC", value).strip().casefold()) > rule["max"]
    return False
