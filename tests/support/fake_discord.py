"""A fake Discord REST API: a real local HTTP server with just enough state for the bot's calls.

    with FakeDiscord(token="bot-token") as fake:
        fake.set_member("1", "2", roles=["10"])
        client = DiscordRest("bot-token", fake.base_url)
        ...
        assert fake.member_roles("1", "2") == {"10", "11"}

Every request is recorded (`calls`, paths relative to the API base, e.g. `/guilds/1/members/2`); failures can be
scripted per route (`rate_limit`, `fail`). Normal answers carry X-RateLimit-* headers whose Remaining is
`bucket_remaining`, so a client's pre-emptive bucket wait can be exercised. Create Message keeps Discord's nonce
rules: at most 25 characters, and with `enforce_nonce` a nonce sent again (within `nonce_window_seconds`) is
answered with the message it created before, and no new message is created.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import unquote

_SNOWFLAKE = re.compile(r"\d{1,20}")
_GUILD = re.compile(r"/guilds/(?P<guild>\d+)")
_GUILD_ROLES = re.compile(r"/guilds/(?P<guild>\d+)/roles")
_MEMBER = re.compile(r"/guilds/(?P<guild>\d+)/members/(?P<user>\d+)")
_MEMBER_ROLE = re.compile(r"/guilds/(?P<guild>\d+)/members/(?P<user>\d+)/roles/(?P<role>\d+)")
_MESSAGES = re.compile(r"/channels/(?P<channel>\d+)/messages")
_WEBHOOK = re.compile(r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)")
_WEBHOOK_ORIGINAL = re.compile(r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/@original")
_COMMANDS = re.compile(r"/applications/(?P<app>\d+)(?:/guilds/(?P<guild>\d+))?/commands")


@dataclass(frozen=True)
class Upload:
    """A file sent in a multipart request (`files[n]` part)."""

    field: str  # "files[0]"
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Call:
    """One request as the fake saw it. `path` is relative to the API base and has no query string. A multipart
    request's `json` is its `payload_json` part, its files are in `files`."""

    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    json: Any  # decoded body, None when empty
    query: str = ""
    files: tuple[Upload, ...] = ()


class BadMultipart(ValueError):
    pass


def parse_multipart(content_type: str, raw: bytes) -> tuple[Any, tuple[Upload, ...]]:
    """(payload_json decoded, files) of a multipart/form-data body, read strictly as Discord would: every
    part named, `payload_json` valid JSON, each `files[n]` with a filename and named in `attachments` by its
    index."""
    import email.parser
    import email.policy

    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw
    )
    if not message.is_multipart() or message.get_content_type() != "multipart/form-data":
        raise BadMultipart("not multipart/form-data")
    payload: Any = None
    files: list[Upload] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        if name == "payload_json":
            payload = json.loads(data)
        elif isinstance(name, str) and re.fullmatch(r"files\[\d+\]", name):
            filename = part.get_filename()
            if not filename:
                raise BadMultipart(f"{name} has no filename")
            files.append(Upload(name, filename, part.get_content_type(), data))
        else:
            raise BadMultipart(f"unexpected part {name!r}")
    if files:
        named = {int(a["id"]): a.get("filename") for a in (payload or {}).get("attachments") or []}
        for upload in files:
            index = int(upload.field[6:-1])
            if named.get(index) != upload.filename:
                raise BadMultipart(f"{upload.field} is not named in payload_json.attachments")
    return payload, tuple(files)


@dataclass
class _Script:
    method: str  # upper case, or "*" for any
    pattern: re.Pattern[str]
    times: int
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Member:
    roles: set[str]
    joined_at: str


@dataclass
class _Answer:
    status: int
    body: Any = None  # JSON-encoded when not None
    headers: dict[str, str] = field(default_factory=dict)
    bucket_headers: bool = True


class FakeDiscord:
    """Context manager serving the fake API on 127.0.0.1 (random port) from a daemon thread."""

    def __init__(self, token: str | None = None, *, api_prefix: str = "/api/v10") -> None:
        self.token = token  # when set, non-webhook routes require `Authorization: Bot <token>`
        self.api_prefix = api_prefix.rstrip("/")
        self.calls: list[Call] = []
        self.messages: dict[str, list[dict[str, Any]]] = {}  # channel id -> created messages
        self.webhook_messages: dict[tuple[str, str], list[dict[str, Any]]] = {}  # (app, token) -> payloads in order
        # (app, token) -> the files of each webhook payload, in the same order (empty tuple: none attached)
        self.webhook_files: dict[tuple[str, str], list[tuple[Upload, ...]]] = {}
        self.commands: dict[tuple[str, str | None], list[dict[str, Any]]] = {}  # (app, guild or None) -> commands
        # What normal answers report in their X-RateLimit-* headers.
        self.bucket_limit = 50
        self.bucket_remaining = 50
        self.bucket_reset_after = 1.0
        self._members: dict[tuple[str, str], _Member] = {}
        self._guilds: dict[str, tuple[str, dict[str, dict[str, Any]]]] = {}  # guild -> (owner id, roles by id)
        self._deleted_roles: set[tuple[str, str]] = set()
        self._forbidden_roles: set[tuple[str, str]] = set()
        self._scripts: list[_Script] = []
        self._nonces: dict[str, tuple[float, dict[str, Any]]] = {}  # nonce -> (when, the message it created)
        self.nonce_window_seconds = 300.0  # how long `enforce_nonce` finds an earlier message ("a few minutes")
        self._next_id = 1_300_000_000_000_000_000
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------------------

    def start(self) -> FakeDiscord:
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-discord", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeDiscord:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeDiscord is not running (use it as a context manager)")
        return f"http://127.0.0.1:{self._server.server_port}{self.api_prefix}"

    # -- inspection --------------------------------------------------------------------------------------------

    def calls_to(self, method: str | None, path: str | re.Pattern[str]) -> list[Call]:
        """Calls with this method (None: any) whose path starts with `path` (str) or matches it (compiled regex)."""
        with self._lock:
            calls = list(self.calls)
        return [
            call
            for call in calls
            if (method is None or call.method == method.upper())
            and (call.path.startswith(path) if isinstance(path, str) else path.search(call.path))
        ]

    def reset(self, *, state: bool = False) -> None:
        """Forget recorded calls and pending scripted failures; with state=True also members, roles and messages."""
        with self._lock:
            self.calls.clear()
            self._scripts.clear()
            if state:
                self._members.clear()
                self._guilds.clear()
                self._deleted_roles.clear()
                self._forbidden_roles.clear()
                self.messages.clear()
                self._nonces.clear()
                self.webhook_messages.clear()
                self.webhook_files.clear()
                self.commands.clear()

    # -- state -------------------------------------------------------------------------------------------------

    def set_member(
        self, guild_id: str | int, user_id: str | int, roles: Iterable[str | int] = (), joined_at: str | None = None
    ) -> None:
        with self._lock:
            self._members[(str(guild_id), str(user_id))] = _Member(
                {str(role) for role in roles}, joined_at or "2024-01-01T00:00:00.000000+00:00"
            )

    def set_guild(self, guild_id: str | int, owner_id: str | int, roles: Iterable[dict[str, Any]] = ()) -> None:
        """The guild's owner and roles (besides @everyone), e.g. `role("5", position=3, permissions=1 << 3)`.
        A guild never set has an owner nobody is and only @everyone."""
        with self._lock:
            self._guilds[str(guild_id)] = (str(owner_id), {str(r["id"]): dict(r) for r in roles})

    def set_role(self, guild_id: str | int, role: dict[str, Any]) -> None:
        """Add or change one role of a guild set with `set_guild` (e.g. it gains a permission)."""
        with self._lock:
            self._guilds[str(guild_id)][1][str(role["id"])] = dict(role)

    def _guild_roles(self, guild_id: str) -> list[dict[str, Any]]:
        everyone = role(guild_id, position=0, permissions=0)
        return [everyone, *self._guilds.get(guild_id, ("0", {}))[1].values()]

    def member_roles(self, guild_id: str | int, user_id: str | int) -> set[str]:
        """The member's current role ids (KeyError when the member is unknown)."""
        with self._lock:
            return set(self._members[(str(guild_id), str(user_id))].roles)

    def delete_role(self, guild_id: str | int, role_id: str | int) -> None:
        """Adding or removing this role now answers 404 Unknown Role (10011)."""
        with self._lock:
            self._deleted_roles.add((str(guild_id), str(role_id)))
            for (guild, _user), member in self._members.items():
                if guild == str(guild_id):
                    member.roles.discard(str(role_id))

    def forbid_role(self, guild_id: str | int, role_id: str | int) -> None:
        """Adding or removing this role now answers 403 Missing Permissions (50013), e.g. it is above the bot's."""
        with self._lock:
            self._forbidden_roles.add((str(guild_id), str(role_id)))

    # -- scripted failures -------------------------------------------------------------------------------------

    def rate_limit(
        self,
        method: str,
        path_regex: str,
        times: int = 1,
        retry_after: float = 0.05,
        global_: bool = False,
        bucket: str = "abc",
        *,
        in_body: bool = True,
    ) -> None:
        """Answer the next `times` matching calls with 429 (in_body=False: only Retry-After says how long)."""
        body: dict[str, Any] = {"message": "You are being rate limited.", "global": global_}
        if in_body:
            body["retry_after"] = retry_after
        headers = {
            "Retry-After": str(math.ceil(retry_after)),  # Discord's header is whole seconds, rounded up
            "X-RateLimit-Scope": "global" if global_ else "user",
        }
        if global_:
            headers["X-RateLimit-Global"] = "true"
        else:
            headers.update(
                {
                    "X-RateLimit-Bucket": bucket,
                    "X-RateLimit-Limit": str(self.bucket_limit),
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
                    "X-RateLimit-Reset-After": f"{retry_after:.3f}",
                }
            )
        self._script(method, path_regex, times, 429, body, headers)

    def fail(
        self, method: str, path_regex: str, status: int, code: int = 0, message: str | None = None, times: int = 1
    ) -> None:
        """Answer the next `times` matching calls with `status` and Discord's JSON error body."""
        text = message if message is not None else f"{status}: {HTTPStatus(status).phrase}"
        self._script(method, path_regex, times, status, {"code": code, "message": text})

    def _script(
        self,
        method: str,
        path_regex: str,
        times: int,
        status: int,
        body: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> None:
        with self._lock:
            self._scripts.append(
                _Script(method.upper(), re.compile(path_regex), times, status, body, dict(headers or {}))
            )

    # -- request handling (called from the server threads) -----------------------------------------------------

    def _snowflake(self) -> str:
        self._next_id += 1
        return str(self._next_id)

    def _answer(self, call: Call) -> _Answer:
        with self._lock:
            self.calls.append(call)
            webhook = call.path.startswith("/webhooks/")
            if self.token is not None and not webhook and call.headers.get("authorization") != f"Bot {self.token}":
                return _Answer(401, {"code": 0, "message": "401: Unauthorized"})
            for script in self._scripts:
                if script.times > 0 and script.method in ("*", call.method) and script.pattern.search(call.path):
                    script.times -= 1
                    return _Answer(script.status, script.body, script.headers, bucket_headers=False)
            return self._route(call)

    def _route(self, call: Call) -> _Answer:
        routes: list[tuple[re.Pattern[str], tuple[str, ...], Callable[[str, re.Match[str], Any], _Answer]]] = [
            (_MEMBER_ROLE, ("PUT", "DELETE"), self._member_role),
            (_MEMBER, ("GET",), self._member),
            (_GUILD, ("GET",), self._guild),
            (_GUILD_ROLES, ("GET",), self._roles),
            (_MESSAGES, ("POST",), self._message),
            (_WEBHOOK_ORIGINAL, ("PATCH",), self._webhook),
            (_WEBHOOK, ("POST",), self._webhook),
            (_COMMANDS, ("PUT",), self._bulk_commands),
        ]
        for pattern, methods, handler in routes:
            if match := pattern.fullmatch(call.path):
                if call.method not in methods:
                    return _Answer(405, {"code": 0, "message": "405: Method Not Allowed"})
                if handler == self._webhook:
                    return self._webhook(call.method, match, call.json, call.files)
                return handler(call.method, match, call.json)
        return _Answer(404, {"code": 0, "message": "404: Not Found"})

    def _member_role(self, method: str, match: re.Match[str], _body: Any) -> _Answer:
        guild, user, role = match["guild"], match["user"], match["role"]
        if (guild, role) in self._forbidden_roles:
            return _Answer(403, {"code": 50013, "message": "Missing Permissions"})
        if (guild, role) in self._deleted_roles:
            return _Answer(404, {"code": 10011, "message": "Unknown Role"})
        member = self._members.get((guild, user))
        if member is None:
            return _Answer(404, {"code": 10007, "message": "Unknown Member"})
        if method == "PUT":
            member.roles.add(role)
        else:
            member.roles.discard(role)
        return _Answer(204)

    def _member(self, _method: str, match: re.Match[str], _body: Any) -> _Answer:
        member = self._members.get((match["guild"], match["user"]))
        if member is None:
            return _Answer(404, {"code": 10007, "message": "Unknown Member"})
        user = {"id": match["user"]}
        return _Answer(200, {"user": user, "roles": sorted(member.roles), "joined_at": member.joined_at})

    def _guild(self, _method: str, match: re.Match[str], _body: Any) -> _Answer:
        guild = match["guild"]
        owner = self._guilds.get(guild, ("0", {}))[0]
        return _Answer(
            200, {"id": guild, "name": f"guild {guild}", "owner_id": owner, "roles": self._guild_roles(guild)}
        )

    def _roles(self, _method: str, match: re.Match[str], _body: Any) -> _Answer:
        return _Answer(200, self._guild_roles(match["guild"]))

    def _message(self, _method: str, match: re.Match[str], body: Any) -> _Answer:
        body = dict(body or {})
        nonce = body.get("nonce")
        if nonce is not None and (isinstance(nonce, bool) or len(str(nonce)) > 25):
            errors = {"nonce": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 25 or fewer"}]}}
            return _Answer(400, {"code": 50035, "message": "Invalid Form Body", "errors": errors})
        enforce = body.pop("enforce_nonce", False) is True  # a request parameter, not a message field
        if enforce and nonce is not None:
            # Discord: the same author's message with this nonce in the past few minutes is answered again,
            # and no new message is created (the fake has one author, the bot).
            earlier = self._nonces.get(str(nonce))
            if earlier is not None and time.monotonic() - earlier[0] < self.nonce_window_seconds:
                return _Answer(200, earlier[1])
        message = {"id": self._snowflake(), "channel_id": match["channel"], **body}
        self.messages.setdefault(match["channel"], []).append(message)
        if nonce is not None:
            self._nonces[str(nonce)] = (time.monotonic(), message)
        return _Answer(200, message)

    def _webhook(self, _method: str, match: re.Match[str], body: Any, files: tuple[Upload, ...] = ()) -> _Answer:
        payload = dict(body or {})
        key = (match["app"], match["token"])
        self.webhook_messages.setdefault(key, []).append(payload)
        self.webhook_files.setdefault(key, []).append(files)
        answer = {"id": self._snowflake(), "application_id": match["app"], **payload}
        if files:
            answer["attachments"] = [
                {
                    "id": self._snowflake(),
                    "filename": f.filename,
                    "size": len(f.data),
                    "url": f"https://cdn.discordapp.com/attachments/0/0/{f.filename}",
                    "content_type": f.content_type,
                }
                for f in files
            ]
        return _Answer(200, answer)

    def last_file(self, app: str, token: str) -> Upload:
        """The file attached to the last webhook message of this interaction (AssertionError without one)."""
        with self._lock:
            sent = list(self.webhook_files.get((app, token)) or [])
        assert sent and sent[-1], f"no file was attached to the answer of {token}"
        return sent[-1][0]

    def _bulk_commands(self, _method: str, match: re.Match[str], body: Any) -> _Answer:
        key = (match["app"], match["guild"])
        known = {command["name"]: command["id"] for command in self.commands.get(key, [])}
        stored = []
        for command in body or []:
            entry = {**command, "id": known.get(command.get("name")) or self._snowflake(), "application_id": key[0]}
            if key[1] is not None:
                entry["guild_id"] = key[1]
            stored.append(entry)
        self.commands[key] = stored
        return _Answer(200, stored)

    def _bucket_headers(self, method: str, path: str) -> dict[str, str]:
        # One bucket per route shape (all ids replaced), as Discord shares a bucket across guilds;
        # clients scope it by the major parameters themselves.
        shape = method + " " + "/".join("{id}" if _SNOWFLAKE.fullmatch(s) else s for s in path.split("/"))
        return {
            "X-RateLimit-Bucket": hashlib.sha1(shape.encode()).hexdigest()[:16],
            "X-RateLimit-Limit": str(self.bucket_limit),
            "X-RateLimit-Remaining": str(self.bucket_remaining),
            "X-RateLimit-Reset": f"{time.time() + self.bucket_reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{self.bucket_reset_after:.3f}",
        }


def role(
    role_id: str | int, *, position: int, permissions: int = 0, managed: bool = False, name: str | None = None
) -> dict[str, Any]:
    """A Discord role object (permissions as Discord sends them: a decimal string)."""
    return {
        "id": str(role_id),
        "name": name or f"role {role_id}",
        "position": position,
        "permissions": str(permissions),
        "managed": managed,
    }


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # the default backlog of 5 drops bursts from concurrent clients (1 s SYN retry)


def _handler_for(fake: FakeDiscord) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            target, _, query = self.path.partition("?")
            path = unquote(target)
            if not path.startswith(fake.api_prefix + "/"):
                self._send(_Answer(404, {"code": 0, "message": "404: Not Found"}, bucket_headers=False), path)
                return
            path = path[len(fake.api_prefix) :]
            content_type = self.headers.get("Content-Type") or ""
            files: tuple[Upload, ...] = ()
            try:
                if content_type.lower().startswith("multipart/form-data"):
                    body, files = parse_multipart(content_type, raw)
                else:
                    body = json.loads(raw) if raw else None
            except BadMultipart as exc:
                self._send(_Answer(400, {"code": 50035, "message": f"Invalid Form Body: {exc}"}), path)
                return
            except ValueError:
                self._send(_Answer(400, {"code": 50109, "message": "The request body contains invalid JSON."}), path)
                return
            headers = {name.lower(): value for name, value in self.headers.items()}
            self._send(fake._answer(Call(self.command, path, headers, body, query, files)), path)

        def _send(self, answer: _Answer, path: str) -> None:
            payload = b"" if answer.body is None else json.dumps(answer.body).encode()
            self.send_response(answer.status)
            headers = fake._bucket_headers(self.command, path) if answer.bucket_headers else {}
            headers.update(answer.headers)
            for name, value in headers.items():
                self.send_header(name, value)
            if payload:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if payload:
                self.wfile.write(payload)

        do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = _handle

        def log_message(self, *_args: object) -> None:
            pass

    return Handler
