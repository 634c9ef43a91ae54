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
    "Send the admin key as `Authorization: Bearer <key>` or `X-API-Key: <key>`. "
    "POST/PUT/DELETE accept an optional `Idempotency-Key` header: a retry with the same key and body "
    "replays the first answer."
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
    for spec in sorted(functions(load_template()).values(), key=lambda s: s.logical_id):
        handler = load_handler(REPO_ROOT, spec)  # puts the layer on sys.path, as Lambda's /opt/python
        app = getattr(sys.modules[handler.__module__], "app", None)
        if app is not None and hasattr(app, "get_openapi_schema"):
            schemas.append(json.loads(app.get_openapi_json_schema()))
    import xpshop

    merge = OpenAPIMerge(
        title="xpshop API",
        version=xpshop.__version__,
        description=DESCRIPTION,
        security_schemes={
            "bearer": HTTPBearer(description="The admin key as a bearer token"),
            "apiKey": APIKey(name="X-API-Key", in_=APIKeyIn.header, description="The admin key"),
        },
        security=[{"bearer": []}, {"apiKey": []}],
        on_conflict="error",
    )
    for schema in schemas:
        merge.add_schema(schema)
    return _request_bodies(_describe_ids(merge.get_openapi_schema()))


def _describe_ids(document: dict[str, Any]) -> dict[str, Any]:
    """Path ids are checked by the handlers (their 400 keeps the API's error codes and order), so the
    route annotations leave them plain strings: state their format here for clients and generators."""
    from xpshop.ids import SNOWFLAKE_PATTERN

    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter.get("in") == "path" and parameter.get("name") in ("guildId", "userId"):
                    parameter.setdefault("schema", {})["pattern"] = SNOWFLAKE_PATTERN
                    parameter.setdefault("description", "A Discord snowflake (17-20 digits)")
    return document


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
