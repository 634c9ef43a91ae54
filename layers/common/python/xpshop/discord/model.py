"""An interaction payload as the commands see it, and the refusal every command may answer with."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import definitions

# Interaction and response types (https://discord.com/developers/docs/interactions/receiving-and-responding)
PING, APPLICATION_COMMAND, MESSAGE_COMPONENT = 1, 2, 3
PONG, CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, UPDATE_MESSAGE = 1, 4, 5, 7
# Message components (https://discord.com/developers/docs/interactions/message-components)
ACTION_ROW, BUTTON = 1, 2
DANGER, SECONDARY = 4, 2  # button styles
LEADERBOARD_PAGE_SIZE = 10


@dataclass
class Interaction:
    """The parts of an interaction payload the commands use."""

    raw: dict[str, Any]
    id: str
    application_id: str
    token: str
    guild_id: str | None
    channel_id: str | None
    user: dict[str, Any]
    roles: list[str]
    permissions: int
    joined_at: str | None
    name: str
    kind: int
    path: tuple[str, ...]
    options: dict[str, Any] = field(default_factory=dict)
    target_id: str | None = None
    resolved: dict[str, Any] = field(default_factory=dict)
    # Where this deployment answers (https://<host>), for links such as the rank card image; the webhook
    # knows it from its request, a deferred command's worker does not (None).
    base_url: str | None = None

    @property
    def user_id(self) -> str:
        return str(self.user["id"])

    @property
    def custom_id(self) -> str:
        """A message component's id (what a button carries); "" for a command."""
        return str((self.raw.get("data") or {}).get("custom_id") or "")

    @property
    def route(self) -> tuple[str, ...]:
        return (self.name, *self.path)

    def resolved_user(self, user_id: str) -> dict[str, Any]:
        return dict((self.resolved.get("users") or {}).get(user_id) or {"id": user_id})

    @classmethod
    def parse(cls, raw: dict[str, Any], *, base_url: str | None = None) -> Interaction:
        data = raw.get("data") or {}
        member = raw.get("member") or {}
        user = member.get("user") or raw.get("user") or {}
        path: list[str] = []
        options = data.get("options") or []
        # Sub-command groups and sub-commands nest: walk down to the leaf's options.
        while options and options[0].get("type") in (definitions.SUB_COMMAND, definitions.SUB_COMMAND_GROUP):
            path.append(options[0]["name"])
            options = options[0].get("options") or []
        return cls(
            raw=raw,
            id=str(raw["id"]),
            application_id=str(raw.get("application_id", "")),
            token=str(raw.get("token", "")),
            guild_id=raw.get("guild_id"),
            channel_id=raw.get("channel_id") or (raw.get("channel") or {}).get("id"),
            user=user,
            roles=[str(r) for r in member.get("roles") or []],
            permissions=int(member.get("permissions") or 0),
            joined_at=member.get("joined_at"),
            name=str(data.get("name", "")),
            kind=int(data.get("type", definitions.CHAT_INPUT)),
            path=tuple(path),
            options={o["name"]: o.get("value") for o in options},
            target_id=data.get("target_id"),
            resolved=data.get("resolved") or {},
            base_url=base_url,
        )


class Refused(Exception):
    """A command the invoker may not run, or cannot run here: answered privately, nothing done."""


def guild_of(i: Interaction) -> str:
    """The interaction's server; Refused for a command used outside one (a DM)."""
    if not i.guild_id:
        raise Refused("This command only works in a server.")
    return str(i.guild_id)
