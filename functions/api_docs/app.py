"""GET /api/docs (Swagger UI) and GET /api/docs/openapi.json: the merged OpenAPI document of every function.

The document is generated at build time (`make openapi`) and ships beside this module, so this function
imports nothing but the standard library and the Swagger UI assets bundled with Powertools.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

SPEC_FILE = Path(__file__).with_name("openapi.json")


@functools.cache
def _spec() -> str:
    return SPEC_FILE.read_text(encoding="utf-8")


@functools.cache
def _swagger_page() -> str:
    from aws_lambda_powertools.event_handler.openapi.swagger_ui import html

    assets = Path(html.__file__).parent
    return html.generate_swagger_html(
        spec=_spec(),
        swagger_js=(assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8"),
        swagger_css=(assets / "swagger-ui.min.css").read_text(encoding="utf-8"),
        swagger_base_url="",
        oauth2_config=None,
        persist_authorization=False,  # a pasted key must not outlive the tab in localStorage
    )


def _respond(status: int, content_type: str, body: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": content_type, "Cache-Control": "max-age=300"},
        "body": body,
    }


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    path = event.get("rawPath", "")
    method = event.get("requestContext", {}).get("http", {}).get("method", "GET")
    wants_json = path.endswith("/openapi.json") or (event.get("queryStringParameters") or {}).get("format") == "json"
    if method not in ("GET", "HEAD"):
        message = f"Method {method} is not allowed on {path}; use GET"
        error = {"success": False, "error": {"code": "METHOD_NOT_ALLOWED", "message": message}}
        response = _respond(405, "application/json", json.dumps(error))
        response["headers"]["Allow"] = "GET"  # HEAD too: the GET's answer, which API Gateway sends without a body
        return response
    if wants_json:
        return _respond(200, "application/json", _spec())
    return _respond(200, "text/html; charset=utf-8", _swagger_page())
