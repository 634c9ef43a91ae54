"""Which roles the bot may hand out as level rewards, and who may configure them through Discord.

The bot adds and removes reward roles with its own permissions, so whoever configures a reward could
otherwise give (or, in `replace` mode, take) any role below the bot's. The rules mirror Discord's own role
hierarchy for the person configuring, and keep powerful roles out of rewards altogether:

- configuring rewards needs Manage Roles (or Administrator), not only Manage Server;
- the role must sit strictly below the invoker's highest role (the guild owner is above every role);
- never `@everyone`, a managed role (bots, boosts, integrations) or a role that carries a moderation
  permission (`DANGEROUS_PERMISSIONS`); the effects function checks that last rule again when it applies a
  reward, since a role's permissions may change after it was configured.

Pure functions over Discord's role objects (`id`, `position`, `permissions` as a decimal string, `managed`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# Permission bits (https://discord.com/developers/docs/topics/permissions)
KICK_MEMBERS = 1 << 1
BAN_MEMBERS = 1 << 2
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
MANAGE_ROLES = 1 << 28
MANAGE_WEBHOOKS = 1 << 29

VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11

DANGEROUS_PERMISSIONS = {
    ADMINISTRATOR: "Administrator",
    MANAGE_GUILD: "Manage Server",
    MANAGE_ROLES: "Manage Roles",
    MANAGE_CHANNELS: "Manage Channels",
    MANAGE_WEBHOOKS: "Manage Webhooks",
    BAN_MEMBERS: "Ban Members",
    KICK_MEMBERS: "Kick Members",
}
DANGEROUS_MASK = sum(DANGEROUS_PERMISSIONS)
# Discord permissions fit 64 bits today; a longer string is not a permission set we understand.
_MAX_PERMISSION_DIGITS = 25


def permission_bits(value: Any) -> int | None:
    """A permissions field (decimal string or int) as an int; None when it is missing or malformed."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= _MAX_PERMISSION_DIGITS:
        return int(value)
    return None


def can_configure_rewards(invoker_permissions: int) -> bool:
    return bool(invoker_permissions & (MANAGE_ROLES | ADMINISTRATOR))


def can_post_in(channel_permissions: Any) -> bool:
    """Whether the invoker may post in a channel, from its `permissions` as Discord resolves a channel option
    (computed for the invoker, overwrites included): the bot posts announcements there on their behalf."""
    bits = permission_bits(channel_permissions)
    if bits is None:
        return False
    needed = VIEW_CHANNEL | SEND_MESSAGES
    return bool(bits & ADMINISTRATOR) or (bits & needed) == needed


def unsafe_reason(role: Mapping[str, Any], guild_id: str) -> str | None:
    """Why this role may never be a level reward, or None. A role whose permissions can't be read is unsafe."""
    if str(role.get("id")) == str(guild_id):
        return "@everyone can't be a reward"
    if role.get("managed"):
        return "it is managed by an integration (a bot, boosts or a subscription)"
    bits = permission_bits(role.get("permissions"))
    if bits is None:
        return "its permissions can't be read"
    granted = [name for bit, name in DANGEROUS_PERMISSIONS.items() if bits & bit]
    if granted:
        return f"it grants {', '.join(granted)}"
    return None


def highest_position(role_ids: Iterable[str], positions: Mapping[str, int]) -> int | None:
    """The invoker's highest role position (0: only @everyone); None when a role's position is unknown."""
    highest = 0
    for role_id in role_ids:
        if role_id not in positions:
            return None
        highest = max(highest, positions[role_id])
    return highest


def reward_refusal(
    *,
    guild_id: str,
    role: Mapping[str, Any] | None,
    invoker_id: str,
    invoker_roles: Iterable[str],
    positions: Mapping[str, int],
    owner_id: str | None,
) -> str | None:
    """Why the invoker may not make `role` a level reward, or None when they may.

    `positions` maps role id -> position for the roles we know (the guild's roles from Discord's REST API,
    or at least the roles Discord resolved in the interaction); `owner_id` is the guild owner when known.
    """
    if role is None:
        return "I can't see that role in this server."
    reason = unsafe_reason(role, guild_id)
    if reason:
        return f"That role can't be a level reward: {reason}."
    if owner_id is not None and str(owner_id) == str(invoker_id):
        return None  # the owner is above every role
    role_position = positions.get(str(role.get("id")))
    mine = highest_position([str(r) for r in invoker_roles], positions)
    if role_position is None or mine is None:
        return "I couldn't check the role hierarchy right now; try again in a moment."
    if role_position >= mine:
        return "You can only use roles below your highest role as rewards."
    return None
