"""Security review (issue 12), finding 12: Swagger UI must not keep a pasted key in the browser.

With `persistAuthorization: true`, Swagger UI writes whatever is typed into "Authorize" (the admin key)
to localStorage, where it outlives the tab and is readable by any script on the origin.
"""

from __future__ import annotations

import re

from local import REPO_ROOT, events
from local.lambdas import FakeLambdaContext, load_handler
from local.template import functions, load_template


def _page() -> str:
    spec = functions(load_template())["ApiDocsFunction"]
    handler = load_handler(REPO_ROOT, spec)
    event = events.http_api_event("GET", "/api/docs", headers={})
    result = handler(event, FakeLambdaContext.for_function(spec))
    assert result["statusCode"] == 200
    return str(result["body"])


def test_swagger_ui_does_not_persist_authorization():
    page = _page()
    assert "SwaggerUIBundle" in page
    assert not re.search(r"persistAuthorization\s*:\s*true", page)
    assert re.search(r"persistAuthorization\s*:\s*false", page)
