"""A slash command's options checked against the definitions it was registered with (definitions.py).

Discord enforces types, required options, choices and bounds from the registration it holds; a registration
older than this code (commands not re-registered after an upgrade) or a server's edited copy does not. So the
dispatcher checks them again before any handler runs: a missing option, a string where a number is due, an
amount past the documented maximum or an id that is not a snowflake is refused with a message naming the
option, never an exception inside a handler (or, worse, a value no limit was checked on).
"""

from __future__ import annotations

import functools
import math
from typing import Any

from ..ids import is_snowflake
from . import definitions as d

# Discord's own bounds when a definition states none
MAX_STRING = 6_000
MAX_SAFE_INTEGER = 2**53

_ID_KINDS = {d.USER_OPTION, d.CHANNEL, d.ROLE, 9, d.ATTACHMENT}  # 9: mentionable (a user or a role)


@functools.cache
def _leaves() -> dict[tuple[str, ...], list[dict[str, Any]]]:
    """Every slash command route (name, group, sub-command) -> its options as registered."""
    found: dict[tuple[str, ...], list[dict[str, Any]]] = {}

    def walk(route: tuple[str, ...], options: list[dict[str, Any]]) -> None:
        nested = [o for o in options if o.get("type") in (d.SUB_COMMAND, d.SUB_COMMAND_GROUP)]
        if not nested:
            found[route] = options
        for o in nested:
            walk((*route, o["name"]), o.get("options") or [])

    for command in d.definitions():
        if command.get("type", d.CHAT_INPUT) == d.CHAT_INPUT:
            walk((command["name"],), command.get("options") or [])
    return found


def problem(route: tuple[str, ...], given: dict[str, Any], resolved: dict[str, Any] | None = None) -> str | None:
    """Why `given` (option name -> value) does not fit the route's registered options, or None when it does
    (or the route is not one of ours: the dispatcher answers that). `resolved`: the interaction's
    `data.resolved`, where a channel option's type is (checked against the option's `channel_types`)."""
    declared = _leaves().get(route)
    if declared is None:
        return None
    for spec in declared:
        name = spec["name"]
        value = given.get(name)
        if value is None:
            if spec.get("required"):
                return f"The option `{name}` is missing (the bot's commands may need re-registering)."
            continue
        reason = _value_problem(spec, value) or _channel_type_problem(spec, value, resolved or {})
        if reason:
            return f"The option `{name}` {reason}."
    return None


_CHANNEL_KINDS = {
    d.GUILD_TEXT: "text channel",
    d.GUILD_VOICE: "voice channel",
    d.GUILD_ANNOUNCEMENT: "announcement channel",
    d.GUILD_STAGE_VOICE: "stage channel",
    d.GUILD_FORUM: "forum",
    d.GUILD_MEDIA: "media channel",
}


def _channel_type_problem(spec: dict[str, Any], value: Any, resolved: dict[str, Any]) -> str | None:
    """A channel of a type the option does not accept (a thread or category where only channels with messages
    count), judged by the type Discord resolved it with; unknown when Discord resolved nothing."""
    allowed = spec.get("channel_types")
    channel = (resolved.get("channels") or {}).get(str(value))
    if spec["type"] != d.CHANNEL or not allowed or not isinstance(channel, dict):
        return None
    kind = channel.get("type")
    if isinstance(kind, int) and not isinstance(kind, bool) and kind in allowed:
        return None
    return "must be a " + " or ".join(_CHANNEL_KINDS.get(k, f"type {k} channel") for k in allowed)


def _value_problem(spec: dict[str, Any], value: Any) -> str | None:
    kind = spec["type"]
    check = _CHECKS.get(kind)
    reason = check(spec, value) if check else None
    if reason is None and kind in _ID_KINDS and not is_snowflake(value):
        reason = "must be a Discord id"
    choices = spec.get("choices")
    if reason is None and choices and value not in [c["value"] for c in choices]:
        reason = "must be one of " + ", ".join(f"`{c['value']}`" for c in choices)
    return reason


def _text(spec: dict[str, Any], value: Any) -> str | None:
    if not isinstance(value, str):
        return "must be text"
    limit = spec.get("max_length", MAX_STRING)
    return f"must be at most {limit:,} characters" if len(value) > limit else None


def _number(spec: dict[str, Any], value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "must be a number"
    if spec["type"] == d.INTEGER and not isinstance(value, int):
        return "must be a whole number"
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    low, high = spec.get("min_value", -MAX_SAFE_INTEGER), spec.get("max_value", MAX_SAFE_INTEGER)
    return None if low <= value <= high else f"must be from {low:,} to {high:,}"


def _boolean(spec: dict[str, Any], value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


_CHECKS = {d.STRING: _text, d.INTEGER: _number, d.NUMBER: _number, d.BOOLEAN: _boolean}
