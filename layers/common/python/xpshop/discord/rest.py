"""A small Discord REST client (stdlib only) with rate-limit handling and bounded retries.

Rate limits follow https://discord.com/developers/docs/topics/rate-limits:
- every response carries the route's bucket (X-RateLimit-Bucket/-Remaining/-Reset-After); a bucket is identified by
  its hash plus the route's major parameters (guild, channel, webhook id+token). When a bucket is exhausted the next
  request on it waits for the reset, so we rarely trigger a 429 at all;
- a 429 says how long to wait (`retry_after` in the body, `Retry-After` header as fallback); a global 429 blocks every
  route. Waits longer than `max_wait` raise RateLimited instead of sleeping: in Lambda it is cheaper to let the queue
  redeliver later than to burn the invocation asleep.
Other 4xx are permanent (retrying a 403 or an unknown role only burns the invalid-request budget); 5xx and connection
errors are retried with a short exponential backoff.

urllib.request (and ssl behind it) is imported on the first request, not at module import: modules that only need
the error types or build payloads stay cheap on cold start.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from aws_lambda_powertools import Logger

if TYPE_CHECKING:
    from email.message import Message

logger = Logger(child=True)

DEFAULT_BASE_URL = "https://discord.com/api/v10"
DEFAULT_USER_AGENT = "DiscordBot (https://github.com/xpshop/xpshop, 0.1)"

# Discord's major parameters: the segment after these keeps its value in the route key (it scopes the bucket).
_MAJOR_PARENTS = frozenset({"guilds", "channels", "webhooks"})
_SNOWFLAKE = re.compile(r"\d{1,20}")
_BACKOFF_BASE = 0.5  # seconds; 0.5, 1, 2, ... for 5xx and connection errors


@dataclass(frozen=True)
class File:
    """A file to attach to a message (sent as multipart/form-data, see `encode_multipart`)."""

    name: str
    data: bytes
    content_type: str = "application/octet-stream"


def encode_multipart(payload: dict[str, Any], files: list[File]) -> tuple[str, bytes]:
    """(Content-Type, body) of a message with files, as Discord reads it: the JSON message in a `payload_json`
    part, each file in a `files[n]` part, and `attachments` in the JSON naming them by that index
    (https://discord.com/developers/docs/reference#uploading-files). The boundary is random and checked not to
    occur in any part."""
    import secrets

    message = {**payload, "attachments": [{"id": n, "filename": f.name} for n, f in enumerate(files)]}
    parts: list[tuple[bytes, bytes]] = [
        (
            b'Content-Disposition: form-data; name="payload_json"\r\nContent-Type: application/json',
            json.dumps(message, separators=(",", ":")).encode(),
        )
    ]
    for n, f in enumerate(files):
        name = _header_text(f.name)
        disposition = f'form-data; name="files[{n}]"; filename="{name}"'
        parts.append(
            (f"Content-Disposition: {disposition}\r\nContent-Type: {_header_text(f.content_type)}".encode(), f.data)
        )
    while True:
        boundary = "xpshop-" + secrets.token_hex(16)
        marker = boundary.encode()
        if not any(marker in head or marker in data for head, data in parts):
            break
    body = bytearray()
    for head, data in parts:
        body += b"--" + marker + b"\r\n" + head + b"\r\n\r\n" + data + b"\r\n"
    body += b"--" + marker + b"--\r\n"
    return f"multipart/form-data; boundary={boundary}", bytes(body)


def _header_text(value: str) -> str:
    """A file name or type safe inside a quoted header value: no quotes, backslashes or line breaks."""
    cleaned = "".join("_" if c in '"\\\r\n' or ord(c) < 32 else c for c in value)
    return cleaned or "file"


class DiscordError(Exception):
    """A failed Discord call. `permanent` means retrying the same request cannot succeed (4xx other than 429)."""

    def __init__(self, status: int, code: int | None, message: str, *, permanent: bool) -> None:
        self.status = status  # HTTP status; 0 when no response arrived (connection error, timeout)
        self.code = code  # Discord's JSON error code (e.g. 50013 Missing Permissions), when the body had one
        self.message = message
        self.permanent = permanent
        detail = f"{status}" if code is None else f"{status}, code {code}"
        super().__init__(f"Discord error ({detail}): {message}")


class RateLimited(DiscordError):
    """The wait Discord asks for exceeds max_wait (or attempts ran out): retry later, e.g. by queue redelivery."""

    def __init__(self, retry_after: float, message: str = "rate limited", *, is_global: bool = False) -> None:
        super().__init__(429, None, message, permanent=False)
        self.retry_after = retry_after
        self.is_global = is_global


@dataclass
class _Bucket:
    remaining: int | None = None  # None: unknown, do not wait
    reset_at: float = 0.0  # clock() time at which the bucket refills


@dataclass
class _Response:
    status: int
    headers: Message
    body: bytes


def route_key(method: str, path: str) -> tuple[str, str]:
    """(route key, major parameters) for a request: `PUT /guilds/1/members/{id}/roles/{id}` and `guilds/1`.

    Ids other than the major parameters are replaced, so every member/role on one guild shares the route.
    """
    segments = path.split("?", 1)[0].strip("/").split("/")
    out: list[str] = []
    major: list[str] = []
    keep_next = 0  # segments still to keep verbatim: 1 after guilds/channels, 2 after webhooks (id + token)
    for segment in segments:
        if keep_next:
            out.append(segment)
            major.append(segment)
            keep_next -= 1
            continue
        out.append("{id}" if _SNOWFLAKE.fullmatch(segment) else segment)
        if segment in _MAJOR_PARENTS:
            keep_next = 2 if segment == "webhooks" else 1
            major.append(segment)
    return f"{method.upper()} /{'/'.join(out)}", "/".join(major)


class DiscordRest:
    """Discord REST client. Safe to share between a few threads (bucket state is behind a lock)."""

    def __init__(
        self,
        token: str | None,
        base_url: str = DEFAULT_BASE_URL,
        *,
        max_attempts: int = 5,
        max_wait: float = 10.0,
        timeout: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        user_agent: str = DEFAULT_USER_AGENT,
    ) -> None:
        self.token = token or None
        self.base_url = base_url.rstrip("/")
        self.max_attempts = max(1, max_attempts)
        self.max_wait = max_wait
        self.timeout = timeout
        self.user_agent = user_agent
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._route_buckets: dict[str, str] = {}  # route key -> bucket hash Discord reported for it
        self._buckets: dict[str, _Bucket] = {}  # bucket hash + major params (or route key until known) -> state
        self._global_until = 0.0

    @classmethod
    def from_env(cls) -> DiscordRest:
        """DISCORD_BOT_TOKEN (empty is fine: interaction webhooks need no token) and DISCORD_API_BASE_URL."""
        return cls(
            os.environ.get("DISCORD_BOT_TOKEN") or None,
            os.environ.get("DISCORD_API_BASE_URL") or DEFAULT_BASE_URL,
        )

    # -- helpers -----------------------------------------------------------------------------------------------

    def add_member_role(
        self, guild_id: str | int, user_id: str | int, role_id: str | int, reason: str | None = None
    ) -> None:
        self.request("PUT", _path("guilds", guild_id, "members", user_id, "roles", role_id), reason=reason)

    def remove_member_role(
        self, guild_id: str | int, user_id: str | int, role_id: str | int, reason: str | None = None
    ) -> None:
        self.request("DELETE", _path("guilds", guild_id, "members", user_id, "roles", role_id), reason=reason)

    def get_member(self, guild_id: str | int, user_id: str | int) -> dict[str, Any] | None:
        """The guild member, or None when Discord answers 404 (the user left or never joined)."""
        try:
            member: dict[str, Any] = self.request("GET", _path("guilds", guild_id, "members", user_id))
        except DiscordError as exc:
            if exc.status == 404:
                return None
            raise
        return member

    def get_guild(self, guild_id: str | int) -> dict[str, Any]:
        """The guild (owner_id and roles with their positions and permissions, among others)."""
        guild: dict[str, Any] = self.request("GET", _path("guilds", guild_id))
        return guild

    def get_guild_roles(self, guild_id: str | int) -> list[dict[str, Any]]:
        roles: list[dict[str, Any]] = self.request("GET", _path("guilds", guild_id, "roles"))
        return roles

    def create_message(self, channel_id: str | int, payload: dict[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = self.request("POST", _path("channels", channel_id, "messages"), payload)
        return message

    def edit_original_response(
        self, application_id: str | int, token: str, payload: dict[str, Any], files: list[File] | None = None
    ) -> dict[str, Any]:
        """Edit an interaction's first answer; `files` are attached (multipart upload)."""
        # Interaction webhooks are authorised by their token in the path; sending the bot token is not needed.
        path = _path("webhooks", application_id, token, "messages", "@original")
        message: dict[str, Any] = self.request("PATCH", path, payload, auth=False, files=files)
        return message

    def create_followup(self, application_id: str | int, token: str, payload: dict[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = self.request("POST", _path("webhooks", application_id, token), payload, auth=False)
        return message

    def bulk_overwrite_commands(
        self, application_id: str | int, commands: list[dict[str, Any]], guild_id: str | int | None = None
    ) -> list[dict[str, Any]]:
        if guild_id is None:
            path = _path("applications", application_id, "commands")
        else:
            path = _path("applications", application_id, "guilds", guild_id, "commands")
        result: list[dict[str, Any]] = self.request("PUT", path, commands)
        return result

    # -- core --------------------------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        reason: str | None = None,
        auth: bool = True,
        files: list[File] | None = None,
    ) -> Any:
        """Send one API call (path relative to base_url, e.g. `/channels/1/messages`); return the decoded JSON.
        With `files`, the body (a message) and the files go as multipart/form-data.

        Raises RateLimited when Discord asks for a wait longer than max_wait, DiscordError otherwise.
        """
        method = method.upper()
        route, major = route_key(method, path)
        headers = {"User-Agent": self.user_agent}
        if auth and self.token:
            headers["Authorization"] = f"Bot {self.token}"
        if reason:
            headers["X-Audit-Log-Reason"] = quote(reason, safe="")
        data: bytes | None = None
        if files:
            headers["Content-Type"], data = encode_multipart(body or {}, files)
        elif body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body, separators=(",", ":")).encode()
        url = self.base_url + (path if path.startswith("/") else "/" + path)

        failure: DiscordError | None = None
        waited = False  # just slept what a 429 asked for: go straight away
        for attempt in range(1, self.max_attempts + 1):
            if not waited:
                self._wait_for_capacity(route, major)
            waited = False
            try:
                response = self._send(method, url, headers, data)
            except OSError as exc:  # URLError, timeouts, resets: nothing (complete) came back
                failure = DiscordError(0, None, f"{type(exc).__name__}: {exc}", permanent=False)
                self._backoff(attempt)
                continue

            self._record_bucket(route, major, response.headers)
            if response.status < 300:
                try:
                    return _decode(response.body)
                except ValueError as exc:
                    raise DiscordError(response.status, None, f"invalid JSON: {exc}", permanent=False) from exc
            if response.status == 429:
                # Raises when the wait is too long or attempts ran out. The limit is recorded first, so other
                # threads hold back too while this one sleeps exactly what Discord asked for.
                self._sleep(self._on_rate_limited(route, major, response, last=attempt == self.max_attempts))
                waited = True
                continue
            code, message = _error_details(response)
            if response.status < 500:
                raise DiscordError(response.status, code, message, permanent=True)
            failure = DiscordError(response.status, code, message, permanent=False)
            self._backoff(attempt)

        # Only 5xx and connection failures get here (a 429 on the last attempt raises RateLimited itself).
        raise failure or DiscordError(0, None, "no attempt made", permanent=False)

    def _send(self, method: str, url: str, headers: dict[str, str], data: bytes | None) -> _Response:
        import http.client
        import urllib.error
        import urllib.request

        req = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    return _Response(resp.status, resp.headers, resp.read())
            except urllib.error.HTTPError as exc:  # non-2xx: still a Discord answer, with headers and a JSON body
                with exc:
                    return _Response(exc.code, exc.headers, exc.read())
        except http.client.HTTPException as exc:  # IncompleteRead, bad status line: treat like a dropped connection
            raise ConnectionError(f"{type(exc).__name__}: {exc}") from exc

    def _backoff(self, attempt: int) -> None:
        if attempt < self.max_attempts:  # no point sleeping after the last attempt
            self._sleep(_BACKOFF_BASE * 2 ** (attempt - 1))

    def _bucket_key(self, route: str, major: str) -> str:
        bucket_hash = self._route_buckets.get(route)
        return f"{bucket_hash}:{major}" if bucket_hash else route

    def _wait_for_capacity(self, route: str, major: str) -> None:
        """Sleep until the global limit and this route's bucket allow a request (or raise RateLimited)."""
        with self._lock:
            now = self._clock()
            wait = max(0.0, self._global_until - now)
            is_global = wait > 0
            bucket = self._buckets.get(self._bucket_key(route, major))
            exhausted = bucket is not None and bucket.remaining is not None and bucket.remaining <= 0
            if bucket is not None and exhausted and bucket.reset_at > now and bucket.reset_at - now > wait:
                wait, is_global = bucket.reset_at - now, False
            if wait > self.max_wait:  # state untouched: later calls see the same limit
                raise RateLimited(wait, f"{route} is rate limited for {wait:.2f}s", is_global=is_global)
            if bucket is not None and bucket.remaining is not None:
                if exhausted:
                    bucket.remaining = None  # we wait out the reset; the next response tells the new state
                else:
                    bucket.remaining -= 1  # reserve a slot so concurrent callers do not all go on the last one
        if wait > 0:
            self._sleep(wait)

    def _record_bucket(self, route: str, major: str, headers: Message) -> None:
        bucket_hash = headers.get("X-RateLimit-Bucket")
        remaining = _to_float(headers.get("X-RateLimit-Remaining"))
        reset_after = _to_float(headers.get("X-RateLimit-Reset-After"))
        with self._lock:
            if bucket_hash:
                self._route_buckets[route] = bucket_hash
            if remaining is not None and reset_after is not None:
                self._buckets[self._bucket_key(route, major)] = _Bucket(int(remaining), self._clock() + reset_after)

    def _on_rate_limited(self, route: str, major: str, response: _Response, *, last: bool) -> float:
        """Record and return the wait a 429 asks for; raise RateLimited if it exceeds max_wait or no attempt is left."""
        payload = _decode_quietly(response.body)
        retry_after = _to_float(payload.get("retry_after")) if isinstance(payload, dict) else None
        if retry_after is None:
            retry_after = _to_float(response.headers.get("Retry-After"))
        if retry_after is None:
            retry_after = _to_float(response.headers.get("X-RateLimit-Reset-After"))
        retry_after = max(0.0, retry_after if retry_after is not None else 1.0)
        is_global = (response.headers.get("X-RateLimit-Global") or "").lower() == "true" or (
            isinstance(payload, dict) and payload.get("global") is True
        )
        bucket_hash = response.headers.get("X-RateLimit-Bucket")
        logger.warning(
            "Discord rate limited",
            extra={
                "route": route,
                "bucket": bucket_hash,
                "retry_after": retry_after,
                "global": is_global,
                "scope": response.headers.get("X-RateLimit-Scope"),
            },
        )
        with self._lock:
            until = self._clock() + retry_after
            if is_global:
                self._global_until = max(self._global_until, until)
            else:
                key = self._bucket_key(route, major)
                bucket = self._buckets.setdefault(key, _Bucket())
                bucket.remaining, bucket.reset_at = 0, max(bucket.reset_at, until)
        if retry_after > self.max_wait or last:
            raise RateLimited(
                retry_after, f"{route} rate limited (retry after {retry_after:.2f}s)", is_global=is_global
            )
        return retry_after


# -- the clients the functions use ---------------------------------------------------------------------------

# In a function, a few quick retries; beyond that the event source (stream or queue) retries the record.
REST_ATTEMPTS = 3


def api_base() -> str:
    """DISCORD_API_BASE_URL (the fake Discord in tests and `make dev`), else Discord's API v10."""
    return os.environ.get("DISCORD_API_BASE_URL") or DEFAULT_BASE_URL


def bot_client(*, interactive: bool = False) -> DiscordRest | None:
    """The bot's REST client, or None when no bot token is configured (role and announcement effects off).
    `interactive`: for a call made while Discord waits for an interaction's answer (3 seconds): one short
    attempt, no waiting on rate limits."""
    from ..auth import discord_bot_token

    token = discord_bot_token()
    if not token:
        return None
    if interactive:
        return DiscordRest(token, api_base(), max_attempts=1, max_wait=0.0, timeout=1.5)
    return DiscordRest(token, api_base(), max_attempts=REST_ATTEMPTS)


def webhook_client() -> DiscordRest:
    """For interaction webhooks (deferred answers): authorised by the interaction token, no bot token."""
    return DiscordRest(None, api_base(), max_attempts=REST_ATTEMPTS)


def _path(*parts: str | int) -> str:
    return "/" + "/".join(quote(str(part), safe="@") for part in parts)


def _to_float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _decode(body: bytes) -> Any:
    if not body:
        return None
    return json.loads(body)


def _decode_quietly(body: bytes) -> Any:
    try:
        return _decode(body)
    except ValueError:  # an HTML error page from a proxy, a truncated body: fall back to status and headers
        return None


def _error_details(response: _Response) -> tuple[int | None, str]:
    """Discord's JSON error `{"code": 50013, "message": "Missing Permissions", "errors": {...}}`, if present."""
    payload = _decode_quietly(response.body)
    if isinstance(payload, dict):
        code = payload.get("code")
        message = str(payload.get("message") or f"HTTP {response.status}")
        if payload.get("errors"):  # form validation details say which field was wrong
            message = f"{message}: {json.dumps(payload['errors'], separators=(',', ':'))[:500]}"
        return (code if isinstance(code, int) else None), message
    text = response.body[:200].decode("utf-8", "replace").strip()
    return None, text or f"HTTP {response.status}"
