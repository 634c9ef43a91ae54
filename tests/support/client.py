"""An in-process API client: requests go through the local API Gateway emulation (routing, payload v2
events) into the real handlers, exactly as `make dev` serves them, without a socket."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from local import REPO_ROOT
from local.server import HttpRequest, LocalApi, make_api
from local.template import load_template

ADMIN = object()  # sentinel: send the admin key


@dataclass
class Result:
    status: int
    body: Any
    headers: dict[str, str]
    content: bytes = b""  # the body's bytes as sent (images)

    @property
    def data(self) -> Any:
        assert self.body.get("success") is True, self.body
        return self.body["data"]

    @property
    def error(self) -> dict[str, str]:
        assert self.body.get("success") is False, self.body
        return self.body["error"]


class ApiClient:
    def __init__(self, admin_key: str, before_read: Callable[[], Any] | None = None) -> None:
        self.admin_key = admin_key
        self.api: LocalApi = make_api(REPO_ROOT, load_template())
        # Rank counters follow the table's stream: before a read, deliver what the stream holds, as the
        # rank index function would have a moment later in AWS.
        self.before_read = before_read

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        key: Any = ADMIN,
        headers: dict[str, str] | None = None,
        raw: str | bytes | None = None,
    ) -> Result:
        sent: list[tuple[str, str]] = [("host", "localhost")]
        if key is ADMIN:
            sent.append(("authorization", f"Bearer {self.admin_key}"))
        elif isinstance(key, str):
            sent.append(("authorization", f"Bearer {key}"))
        payload = b""
        if raw is not None:
            payload = raw if isinstance(raw, bytes) else raw.encode()
        elif body is not None:
            payload = json.dumps(body).encode()
        if payload and not any(k.lower() == "content-type" for k in headers or {}):
            sent.append(("content-type", "application/json"))
        sent.extend((k.lower(), v) for k, v in (headers or {}).items())
        if method in ("GET", "HEAD") and self.before_read is not None:
            self.before_read()
        response = self.api.handle(HttpRequest(method=method, target=path, headers=sent, body=payload))
        try:
            text = response.body.decode() if response.body else ""
            parsed: Any = json.loads(text) if text else None
        except UnicodeDecodeError:  # a binary body (a PNG): see `content`
            parsed = None
        except ValueError:
            parsed = text
        return Result(response.status, parsed, {k.lower(): v for k, v in response.headers}, response.body)

    def get(self, path: str, **kw: Any) -> Result:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Result:
        return self.request("POST", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Result:
        return self.request("PUT", path, body, **kw)

    def delete(self, path: str, body: Any = None, **kw: Any) -> Result:
        return self.request("DELETE", path, body, **kw)
