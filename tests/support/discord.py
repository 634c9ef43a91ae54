"""Signed Discord interactions for tests: a generated Ed25519 key pair, payload builders, and the
interactions webhook called through the local API Gateway emulation (raw bytes, as Discord sends them)."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from nacl.signing import SigningKey

from local import REPO_ROOT, events
from local.lambdas import FakeLambdaContext, load_handler
from local.template import functions, load_template
from xpshop.ids import snowflake_at

APP_ID = "900000000000000001"
CHANNEL = "300000000000000001"
MANAGE_GUILD = str(1 << 5)
MANAGE_GUILD_AND_ROLES = str((1 << 5) | (1 << 28))  # role rewards need Manage Roles too
NO_PERMISSIONS = "0"
# Interaction ids are snowflakes: time-ordered, so each id is of its moment (a handler that reads an
# interaction's age, e.g. /privacy delete's 15-minute confirm, sees a fresh one however long the session has
# run) and ids only increase.
_last_id = [0]
_ids_lock = threading.Lock()


def next_snowflake() -> str:
    with _ids_lock:
        _last_id[0] = max(_last_id[0] + 1, snowflake_at(int(time.time() * 1000)))
        return str(_last_id[0])


class Signer:
    """The application's key pair: the public half goes to DISCORD_PUBLIC_KEY, the private half signs."""

    def __init__(self) -> None:
        self.key = SigningKey.generate()
        self.public_hex = self.key.verify_key.encode().hex()

    def headers(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        return {**events.signature_headers(self.key, body, timestamp), "content-type": "application/json"}


def user(user_id: str, name: str = "member", bot: bool = False) -> dict[str, Any]:
    found: dict[str, Any] = {"id": user_id, "username": name, "global_name": name.title(), "avatar": None}
    if bot:
        found["bot"] = True
    return found


def _member(user_id: str, permissions: str, roles: list[str] | None, joined_at: str | None) -> dict[str, Any]:
    return {
        "user": user(user_id),
        "roles": roles or [],
        "permissions": permissions,
        "joined_at": joined_at or "2024-01-01T00:00:00.000000+00:00",
    }


VIEW_AND_SEND = str((1 << 10) | (1 << 11))


def channel(channel_id: str, permissions: str = VIEW_AND_SEND, kind: int = 0) -> dict[str, Any]:
    """A channel as Discord resolves a CHANNEL option: `permissions` are the invoker's there."""
    return {"id": channel_id, "name": "channel", "type": kind, "permissions": permissions}


def option(name: str, value: Any, kind: int = 3) -> dict[str, Any]:
    return {"name": name, "type": kind, "value": value}


def command(
    guild_id: str | None,
    user_id: str,
    name: str,
    *path: str,
    options: list[dict[str, Any]] | None = None,
    permissions: str = NO_PERMISSIONS,
    roles: list[str] | None = None,
    resolved: dict[str, Any] | None = None,
    interaction_id: str | None = None,
    channel_id: str = CHANNEL,
) -> dict[str, Any]:
    """A slash command interaction; `path` names the sub-command group / sub-command."""
    leaf: list[dict[str, Any]] = list(options or [])
    for depth, part in reversed(list(enumerate(path))):
        kind = 1 if depth == len(path) - 1 else 2
        leaf = [{"name": part, "type": kind, "options": leaf}]
    data: dict[str, Any] = {"id": "1", "name": name, "type": 1, "options": leaf}
    if resolved:
        data["resolved"] = resolved
    return _interaction(guild_id, user_id, data, permissions, roles, interaction_id, channel_id)


def user_command(guild_id: str, user_id: str, target: str, permissions: str = NO_PERMISSIONS) -> dict[str, Any]:
    data = {
        "id": "2",
        "name": "View rank",
        "type": 2,
        "target_id": target,
        "resolved": {"users": {target: user(target, "target")}},
    }
    return _interaction(guild_id, user_id, data, permissions, None, None, CHANNEL)


def message_command(
    guild_id: str, user_id: str, message_id: str, author: str, permissions: str = MANAGE_GUILD, bot: bool = False
) -> dict[str, Any]:
    data = {
        "id": "3",
        "name": "Give XP",
        "type": 3,
        "target_id": message_id,
        "resolved": {
            "messages": {message_id: {"id": message_id, "author": user(author, "author", bot), "content": "helpful"}}
        },
    }
    return _interaction(guild_id, user_id, data, permissions, None, None, CHANNEL)


def _interaction(
    guild_id: str | None,
    user_id: str,
    data: dict[str, Any],
    permissions: str,
    roles: list[str] | None,
    interaction_id: str | None,
    channel_id: str,
) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "id": interaction_id or next_snowflake(),
        "application_id": APP_ID,
        "type": 2,
        "token": f"token-{next_snowflake()}",
        "version": 1,
        "channel_id": channel_id,
        "data": data,
    }
    if guild_id:
        raw["guild_id"] = guild_id
        raw["member"] = _member(user_id, permissions, roles, None)
    else:
        raw["user"] = user(user_id)
    return raw


def webhook() -> Any:
    """The interactions function's handler, loaded from its CodeUri like Lambda loads it."""
    spec = functions(load_template())["DiscordInteractionsFunction"]
    return load_handler(REPO_ROOT, spec), FakeLambdaContext.for_function(spec)


def call(signer: Signer, payload: dict[str, Any] | bytes, *, timestamp: int | None = None) -> tuple[int, Any]:
    """Sign and send one interaction; returns (status, decoded body)."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    handler, context = webhook()
    result = handler(events.interaction_event(body, signer.headers(body, timestamp)), context)
    return result["statusCode"], json.loads(result["body"])


ADMINISTRATOR = str(1 << 3)


def call_with_key(private_hex: str, payload: dict[str, Any]) -> tuple[int, Any]:
    """`call` from a worker process of the parallel pool (its environment predates the test's key)."""
    import os

    from nacl.signing import SigningKey

    signer = Signer()
    signer.key = SigningKey(bytes.fromhex(private_hex))
    signer.public_hex = signer.key.verify_key.encode().hex()
    os.environ["DISCORD_PUBLIC_KEY"] = signer.public_hex
    return call(signer, payload)
