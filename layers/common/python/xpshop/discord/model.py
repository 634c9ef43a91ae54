"""An interaction payload as the commands see it, and the refusal every command may answer with."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..ids import is_snowflake
from . import definitions
from .role_safety import permission_bits

# Interaction and response types (https://discord.com/developers/docs/interactions/receiving-and-responding)
PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, APPLICATION_COMMAND_AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5
PONG, CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, UPDATE_MESSAGE = 1, 4, 5, 7
AUTOCOMPLETE_RESULT = 8
# Message components (https://discord.com/developers/docs/interactions/message-components)
ACTION_ROW, BUTTON = 1, 2
DANGER, SECONDARY = 4, 2  # button styles
LEADERBOARD_PAGE_SIZE = 10
# Channel types (https://discord.com/developers/docs/resources/channel#channel-object-channel-types)
THREAD_TYPES = frozenset({10, 11, 12})  # announcement, public and private threads


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
    def xp_channel_id(self) -> str | None:
        """The channel no-XP rules judge the interaction by: a thread's parent (threads come and go, so admins
        list the parent channel; the relay counts a thread's messages the same way), else the channel."""
        channel = self.raw.get("channel")
        if isinstance(channel, dict) and channel.get("type") in THREAD_TYPES and channel.get("parent_id"):
            return str(channel["parent_id"])
        return self.channel_id

    @property
    def custom_id(self) -> str:
        """A message component's id (what a button carries); "" for a command."""
        return str((self.raw.get("data") or {}).get("custom_id") or "")

    @property
    def route(self) -> tuple[str, ...]:
        return (self.name, *self.path)

    def resolved_user(self, user_id: str) -> dict[str, Any]:
        return dict((self.resolved.get("users") or {}).get(user_id) or {"id": user_id})

    def shown_user(self, user_id: str) -> dict[str, Any]:
        """The user as this server shows them: the user object with the member's server nickname (`nick`), the
        invoker's from `member`, another member's from `resolved.members` (what the card and board show too)."""
        if user_id == self.user_id:
            user, member = dict(self.user), self.raw.get("member")
        else:
            user, member = self.resolved_user(user_id), (self.resolved.get("members") or {}).get(user_id)
        nick = member.get("nick") if isinstance(member, dict) else None
        if isinstance(nick, str) and nick.strip():
            user["nick"] = nick
        return user

    @classmethod
    def parse(cls, raw: dict[str, Any], *, base_url: str | None = None) -> Interaction:
        """The interaction, or Malformed when the payload is not shaped as Discord sends it (checked here,
        once, so no command, registration or XP write ever sees a guild id "abc" or `data` that is a list)."""
        _check_shape(raw)
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


class Malformed(Refused):
    """A signed payload Discord would not send (ids that are not snowflakes, `data` not an object, ...)."""

    def __init__(self, what: str) -> None:
        super().__init__("This interaction is malformed; nothing was done.")
        self.what = what  # for the log, never shown: the member did not write the payload


_RESOLVED_KINDS = ("users", "members", "roles", "channels", "messages", "attachments")


def _check_shape(raw: dict[str, Any]) -> None:
    """Raise Malformed naming the first part of `raw` that is not as Discord's API v10 documents it."""
    if not is_snowflake(raw.get("id")):
        raise Malformed("id")
    for key in ("application_id", "token"):
        if key in raw and not isinstance(raw[key], str | int):
            raise Malformed(key)
    for key in ("guild_id", "channel_id"):
        if raw.get(key) is not None and not is_snowflake(raw[key]):
            raise Malformed(key)
    channel = raw.get("channel")
    if channel is not None and (not isinstance(channel, dict) or not is_snowflake(channel.get("id"))):
        raise Malformed("channel")
    if channel is not None and channel.get("parent_id") is not None and not is_snowflake(channel["parent_id"]):
        raise Malformed("channel.parent_id")
    _check_invoker(raw)
    _check_data(raw.get("data"), raw.get("type"))


def _check_invoker(raw: dict[str, Any]) -> None:
    """In a server the `member` (with its `user`), elsewhere the `user`: an object with a snowflake id."""
    member = raw.get("member")
    if raw.get("guild_id") is not None and member is None:
        raise Malformed("member")  # in a server Discord always sends the member
    if member is not None:
        _check_member(member)
    user = member.get("user") if member is not None else raw.get("user")
    if not isinstance(user, dict) or not is_snowflake(user.get("id")):
        raise Malformed("user")


def _check_data(data: Any, kind: Any) -> None:
    if not isinstance(data, dict):
        raise Malformed("data")
    if kind in (APPLICATION_COMMAND, APPLICATION_COMMAND_AUTOCOMPLETE):  # what was run, and with what
        if not isinstance(data.get("name"), str) or not data["name"]:
            raise Malformed("data.name")
        if "type" in data and (isinstance(data["type"], bool) or not isinstance(data["type"], int)):
            raise Malformed("data.type")
        _check_options(data.get("options"))
    elif "custom_id" in data and not isinstance(data["custom_id"], str):
        raise Malformed("data.custom_id")
    if data.get("target_id") is not None and not isinstance(data["target_id"], str | int):
        raise Malformed("data.target_id")
    resolved = data.get("resolved")
    if resolved is None:
        return
    if not isinstance(resolved, dict):
        raise Malformed("data.resolved")
    for what in _RESOLVED_KINDS:  # each an object of id -> object
        found = resolved.get(what)
        if found is not None and not (isinstance(found, dict) and all(isinstance(v, dict) for v in found.values())):
            raise Malformed(f"data.resolved.{what}")


def _check_member(member: Any) -> None:
    if not isinstance(member, dict):
        raise Malformed("member")
    roles = member.get("roles")
    if roles is not None and not (isinstance(roles, list) and all(is_snowflake(r) for r in roles)):
        raise Malformed("member.roles")
    # One rule with role_safety (a decimal string or int of at most 25 digits: 64 bits today): an unbounded
    # string reached int()'s 4,300-digit limit in `parse` and answered "something went wrong".
    if member.get("permissions") is not None and permission_bits(member["permissions"]) is None:
        raise Malformed("member.permissions")
    if member.get("joined_at") is not None and not isinstance(member["joined_at"], str):
        raise Malformed("member.joined_at")


def _check_options(options: Any, depth: int = 0) -> None:
    """A list of option objects, each named; sub-commands (groups) nest at most two levels."""
    if options is None:
        return
    if not isinstance(options, list) or depth > 2:
        raise Malformed("data.options")
    for option in options:
        if not isinstance(option, dict) or not isinstance(option.get("name"), str):
            raise Malformed("data.options")
        if option.get("type") in (definitions.SUB_COMMAND, definitions.SUB_COMMAND_GROUP):
            _check_options(option.get("options"), depth + 1)


def guild_of(i: Interaction) -> str:
    """The interaction's server; Refused for a command used outside one (a DM)."""
    if not i.guild_id:
        raise Refused("This command only works in a server.")
    return str(i.guild_id)
