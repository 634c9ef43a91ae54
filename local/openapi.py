"""Generate the one OpenAPI document of every HTTP function (Powertools' OpenAPIMerge).

python -m local.openapi --write   # docs/openapi.json + functions/api_docs/openapi.json
python -m local.openapi --check   # exit 1 when either file is out of date
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from enum import Enum
from typing import Any

from local import REPO_ROOT
from local.lambdas import load_handler
from local.template import functions, load_template

OUTPUTS = (REPO_ROOT / "docs" / "openapi.json", REPO_ROOT / "functions" / "api_docs" / "openapi.json")
DESCRIPTION = (
    "xpshop: leveling (XP) and a credits shop for Discord communities. "
    "Every /api/xp response is an envelope: {success: true, data} or {success: false, error: {code, message}}. "
    "Send the admin key, or an API key from POST /api/keys (scopes and guilds per key, rate-limited: "
    "X-RateLimit-* headers, 429 RATE_LIMITED with Retry-After), as `Authorization: Bearer <key>` or "
    "`X-API-Key: <key>`. "
    "POST/PUT/PATCH/DELETE accept an optional `Idempotency-Key` header (declared on each; not the relay's "
    "routes nor the recalculation): a retry with the same key and body replays the first answer."
)


def _set_import_environment() -> None:
    # Importing a function module must not need AWS: give the env vars a deployed function has.
    os.environ.setdefault("TABLE_NAME", "xpshop-openapi")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")


def build_document() -> dict[str, Any]:
    from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
    from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn, HTTPBearer

    _set_import_environment()
    schemas = []
    access: dict[tuple[str, str], Any] = {}  # (path, method) -> the route's http.Access
    for spec in sorted(functions(load_template()).values(), key=lambda s: s.logical_id):
        handler = load_handler(REPO_ROOT, spec)  # puts the layer on sys.path, as Lambda's /opt/python
        app = getattr(sys.modules[handler.__module__], "app", None)
        if app is not None and hasattr(app, "get_openapi_schema"):
            schemas.append(json.loads(app.get_openapi_json_schema()))
            for route in getattr(app, "registered", []):
                access[(route.openapi_path, route.method.lower())] = app.access.get(route.rule)
    import xpshop

    merge = OpenAPIMerge(
        title="xpshop API",
        version=xpshop.__version__,
        description=DESCRIPTION,
        security_schemes={
            "bearer": HTTPBearer(
                description="The admin key, an API key from POST /api/keys (its scopes and guilds apply), or, where "
                "stated, a user or relay key, as a bearer token"
            ),
            "apiKey": APIKey(name="X-API-Key", in_=APIKeyIn.header, description="The same key in X-API-Key"),
        },
        security=[{"bearer": []}, {"apiKey": []}],
        on_conflict="error",
    )
    for schema in schemas:
        merge.add_schema(schema)
    document = _request_bodies(merge.get_openapi_schema())
    return state_contract(json.loads(json.dumps(document, default=_plain)), access)


def state_contract(document: dict[str, Any], access: dict[tuple[str, str], Any]) -> dict[str, Any]:
    """What Powertools cannot say from the route annotations, stated for every operation alike (so a route
    added later gets the same): the exact format of path and query ids, who may call it (`security`,
    from the route's `http.Access`), the errors it really answers (our error envelope; API Gateway's own
    429), and no `422 HTTPValidationError` (validation errors are our 400s). Every request body must carry
    examples (`xpshop.api.fields.body_config`)."""
    from xpshop.http import Access

    components = document.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        components.pop(unused, None)
    components["GatewayError"] = GATEWAY_ERROR
    document["components"]["headers"] = _response_headers()
    _json_schema_keywords(document)
    operation_ids: dict[str, str] = {}
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            label = f"{method.upper()} {path}"
            if operation_ids.setdefault(operation.get("operationId", ""), label) != label:
                raise SystemExit(f"{label} and {operation_ids[operation['operationId']]}: one operationId")
            mode = access.get((path, method)) or Access.ADMIN
            _parameters(path, operation)
            if method in WRITES and (method, path) not in NO_IDEMPOTENCY:
                _idempotency_key(operation)
            if mode is Access.PUBLIC:
                operation["security"] = []
            elif mode is Access.LEADERBOARD:  # no key when the guild's leaderboard is public
                operation["security"] = [{}, {"bearer": []}, {"apiKey": []}]
            operation["responses"] = _responses(method, operation, mode)
            _declare_response_headers(operation["responses"])
            _require_examples(path, method, operation, components)
    return document


_BOUNDS = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum"}


def _json_schema_keywords(node: Any) -> None:
    """What pydantic leaves in its own words, in JSON Schema's: bounds it could not attach to a type (`ge`
    after a before-validator: `minimum`), and the key rule of a map (`patternProperties` allows other keys
    too: `propertyNames` states that no other key is accepted)."""
    if isinstance(node, list):
        for item in node:
            _json_schema_keywords(item)
        return
    if not isinstance(node, dict):
        return
    if node.get("type") in ("integer", "number"):
        for ours, theirs in _BOUNDS.items():
            if ours in node:
                node[theirs] = node.pop(ours)
    patterns = node.get("patternProperties")
    if isinstance(patterns, dict) and len(patterns) == 1 and "pattern" not in node.get("propertyNames", {}):
        node["propertyNames"] = {**node.get("propertyNames", {}), "pattern": next(iter(patterns))}
    for value in node.values():
        _json_schema_keywords(value)


METHODS = ("get", "put", "post", "patch", "delete")
WRITES = ("put", "post", "patch", "delete")
ERROR_REF = {"$ref": "#/components/schemas/ErrorEnvelope"}
GATEWAY_ERROR = {
    "title": "GatewayError",
    "type": "object",
    "description": "API Gateway's own answer (throttling), before any function runs",
    "properties": {"message": {"type": "string", "examples": ["Too Many Requests"]}},
    "required": ["message"],
}
ERROR_STATUSES = {
    400: "Invalid input: a parameter or body field (named in the message) breaks the rule stated here",
    401: "No key, or a key that is not valid here: unknown, expired or revoked (UNAUTHORIZED)",
    403: "A key without this route's scope or guild (named in the message), a user key where the admin key "
    "is needed, or acting on another account (FORBIDDEN)",
    404: "Not found (GUILD_NOT_FOUND, USER_NOT_FOUND, COSMETIC_NOT_FOUND, ...)",
    409: "Conflict: the state refuses it (e.g. ALREADY_OWNED), or the same Idempotency-Key is in progress",
    413: "The body is too large (PAYLOAD_TOO_LARGE)",
    415: "The body's media type is not accepted (UNSUPPORTED_MEDIA_TYPE)",
    422: "The Idempotency-Key was already used with a different request (IDEMPOTENCY_KEY_REUSED)",
    503: "Storage is throttled or unreachable: retry shortly (SERVICE_UNAVAILABLE)",
}


# Writes that take no Idempotency-Key (the header is ignored): the relay's routes, deduplicated by message and
# event id, and the recalculation, which a second run leaves as it is. Every other write honours it (http.once).
NO_IDEMPOTENCY = {
    ("post", "/api/xp/ingest/messages"),
    ("post", "/api/xp/ingest/members"),
    ("post", "/api/xp/recalc"),
    ("post", "/api/xp/recalc/{guildId}"),
}


def _idempotency_key(operation: dict[str, Any]) -> None:
    from xpshop.http.idempotency import EXPIRES_AFTER_SECONDS, KEY_PATTERN

    hours = EXPIRES_AFTER_SECONDS // 3600
    operation.setdefault("parameters", []).append(
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "description": f"Makes a retry safe: a retry with the same key and request (body and query) "
            f"within {hours} h answers the first answer instead of applying again; the same key with another "
            "request is 422 IDEMPOTENCY_KEY_REUSED, while the first still runs 409 REQUEST_IN_PROGRESS. Keys "
            "are per caller. A new key's secret is never replayed (409 KEY_ALREADY_CREATED).",
            "schema": {
                "type": "string",
                "minLength": 1,
                "maxLength": 255,
                "pattern": KEY_PATTERN,
                "description": "1-255 visible ASCII characters, spaces only between them",
            },
        }
    )


RATE_LIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


def _response_headers() -> dict[str, Any]:
    """The headers an answer may carry (components/headers): the rate limit's on every answer to a limited
    caller (an API key, a shop user key, a caller without a key on a public route; the admin key only when
    AdminRateLimitPerMinute is set), Retry-After where a retry is asked for."""
    return {
        "X-RateLimit-Limit": {
            "description": "Requests allowed per minute to this caller (a limited caller's answers only)",
            "schema": {"type": "integer", "minimum": 1},
        },
        "X-RateLimit-Remaining": {
            "description": "Requests left in this minute's window",
            "schema": {"type": "integer", "minimum": 0},
        },
        "X-RateLimit-Reset": {
            "description": "When this window ends, in epoch seconds",
            "schema": {"type": "integer", "minimum": 0},
        },
        "Retry-After": {
            "description": "Seconds to wait before retrying (RATE_LIMITED: until the window ends; "
            "SERVICE_UNAVAILABLE and REQUEST_IN_PROGRESS: 1; an import still running: 5)",
            "schema": {"type": "integer", "minimum": 1},
        },
    }


def _declare_response_headers(responses: dict[str, Any]) -> None:
    for status, response in responses.items():
        names = [*RATE_LIMIT_HEADERS, *(("Retry-After",) if status in ("409", "429", "503") else ())]
        response["headers"] = {name: {"$ref": f"#/components/headers/{name}"} for name in names}


CURSOR_RULE = ", as given: opaque (url-safe base64); only a cursor the server handed out is valid, any other is a 400"


def _parameters(path: str, operation: dict[str, Any]) -> None:
    """Path ids are checked by the handlers (their 400 keeps the API's error codes and order), so the route
    annotations leave them plain strings: state their exact format here. The shop's `id` query parameter is
    an account id (snowflake or Minecraft UUID), as in its bodies; a `cursor` is url-safe base64."""
    from xpshop.api.fields import SNOWFLAKE_SCHEMA
    from xpshop.api.shop.requests.common import ACCOUNT_SCHEMA
    from xpshop.store.cursor import CURSOR_PATTERN

    for parameter in operation.get("parameters", []):
        name, where = parameter.get("name"), parameter.get("in")
        if where == "path" and name in ("guildId", "userId"):
            parameter["schema"] = {"title": name, **SNOWFLAKE_SCHEMA}
            parameter["description"] = SNOWFLAKE_SCHEMA["description"]
        elif where == "query" and name == "id" and path.startswith("/api/v1/"):
            parameter["schema"] = {"title": "Id", **ACCOUNT_SCHEMA}
            parameter["description"] = ACCOUNT_SCHEMA["description"]
        elif where == "query" and name == "cursor":
            schema = parameter["schema"]
            for branch in schema.get("anyOf", [schema]):
                if branch.get("type") == "string":
                    branch["pattern"] = CURSOR_PATTERN
            parameter["description"] += CURSOR_RULE
            schema["description"] = parameter["description"]


def _responses(method: str, operation: dict[str, Any], mode: Any) -> dict[str, Any]:
    from xpshop.http import Access

    responses = operation.get("responses", {})
    success = {code: r for code, r in responses.items() if code.startswith("2")}
    declared = {int(code) for code in responses if not code.startswith("2")} - {405, 422}
    has_input = bool(operation.get("parameters")) or "requestBody" in operation or method in WRITES
    statuses = {code for code in declared if code in (404, 409, 413, 415)}
    if has_input:
        statuses.add(400)
    if not has_input:
        statuses.discard(404)
    if mode is not Access.PUBLIC:
        statuses.add(401)
    if mode not in (Access.PUBLIC, Access.RELAY):  # an API key without the scope or guild, a user key elsewhere
        statuses.add(403)
    if method in WRITES:  # Idempotency-Key: in progress (409) or reused with another request (422)
        statuses.update((409, 422))
    statuses.add(503)
    documented = dict(success)
    for code in sorted(statuses):
        documented[str(code)] = {
            "description": ERROR_STATUSES[code],
            "content": {"application/json": {"schema": dict(ERROR_REF)}},
        }
    documented["429"] = {
        "description": "Too many requests: the caller's rate limit (RATE_LIMITED in the error envelope, with "
        "Retry-After and X-RateLimit-Limit/Remaining/Reset), or API Gateway's own throttling ({message}); "
        "retry after Retry-After seconds",
        "content": {
            "application/json": {"schema": {"anyOf": [dict(ERROR_REF), {"$ref": "#/components/schemas/GatewayError"}]}}
        },
    }
    return dict(sorted(documented.items()))


def _require_examples(path: str, method: str, operation: dict[str, Any], components: dict[str, Any]) -> None:
    for media in operation.get("requestBody", {}).get("content", {}).values():
        schema = media.get("schema", {})
        targets = [schema, *schema.get("anyOf", [])]  # an optional body: anyOf [model, null]
        found = [components.get(t["$ref"].rsplit("/", 1)[-1], {}) if "$ref" in t else t for t in targets]
        if not (any(t.get("examples") for t in found) or media.get("example") or media.get("examples")):
            raise SystemExit(f"{method.upper()} {path}: the request body has no examples (see body_config)")


REQUEST_BODY_EXTENSION = "x-xpshop-request-body"


def _request_bodies(document: dict[str, Any]) -> dict[str, Any]:
    """A route that reads its body itself (the importer: JSON or CSV) states it in `x-xpshop-request-body`
    (Powertools accepts only `x-` extensions on an operation): it becomes the operation's requestBody."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict) and REQUEST_BODY_EXTENSION in operation:
                operation["requestBody"] = operation.pop(REQUEST_BODY_EXTENSION)
    return document


def _plain(value: Any) -> Any:
    # OpenAPIMerge keeps some parts (security schemes, enums) as pydantic objects.
    if isinstance(value, Enum):
        return value.value
    return value.model_dump(by_alias=True, exclude_none=True, mode="json")


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, default=_plain) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="write the document")
    mode.add_argument("--check", action="store_true", help="fail when the written document is out of date")
    args = parser.parse_args(argv)
    text = render(build_document())
    stale = [p for p in OUTPUTS if not p.is_file() or p.read_text(encoding="utf-8") != text]
    if args.check:
        for path in stale:
            print(f"{path.relative_to(REPO_ROOT)} is out of date: run `make openapi`", file=sys.stderr)
        return 1 if stale else 0
    for path in OUTPUTS:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
