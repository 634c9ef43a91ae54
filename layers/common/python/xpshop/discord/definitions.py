"""The application commands, defined once: `make register-commands` uploads them, the webhook routes by them.

Shapes follow Discord's application command objects (API v10). Admin commands declare
`default_member_permissions` (Manage Guild) so Discord hides them from members; the webhook checks the
member's permission bits again, because server owners can override command permissions.
"""

from __future__ import annotations

from typing import Any

from ..shop import COSMETIC_TYPES
from .role_safety import MANAGE_GUILD

# Application command types
CHAT_INPUT, USER, MESSAGE = 1, 2, 3
# Option types
SUB_COMMAND, SUB_COMMAND_GROUP, STRING, INTEGER, BOOLEAN, USER_OPTION, CHANNEL, ROLE, NUMBER = (
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    10,
)
ATTACHMENT = 11
# Channel types (https://discord.com/developers/docs/resources/channel#channel-object-channel-types)
GUILD_TEXT, GUILD_VOICE, GUILD_CATEGORY, GUILD_ANNOUNCEMENT, GUILD_STAGE_VOICE, GUILD_FORUM, GUILD_MEDIA = (
    0,
    2,
    4,
    5,
    13,
    15,
    16,
)
# Where messages are counted: a thread's messages count in its parent (a forum's posts in the forum), and a
# category holds no messages, so a no-XP rule on either would never apply.
MESSAGE_CHANNELS = [GUILD_TEXT, GUILD_VOICE, GUILD_ANNOUNCEMENT, GUILD_STAGE_VOICE, GUILD_FORUM, GUILD_MEDIA]

VIEW_RANK = "View rank"
GIVE_XP = "Give XP"
# Commands whose work may outlast Discord's 3-second window: answered "thinking" (type 5), finished by the worker.
DEFERRED = {("xp", "recalc"), ("buy",), ("redeem",)}
# Commands that move a file (download an attachment, or answer with one): always finished by the worker.
DEFERRED |= {("xp", "import"), ("xp", "export"), ("privacy", "export")}


def _opt(kind: int, name: str, description: str, *, required: bool = False, **extra: Any) -> dict[str, Any]:
    option = {"type": kind, "name": name, "description": description, **extra}
    if required:
        option["required"] = True
    return option


def _sub(name: str, description: str, *options: dict[str, Any]) -> dict[str, Any]:
    return {"type": SUB_COMMAND, "name": name, "description": description, "options": list(options)}


def _choices(*values: str) -> list[dict[str, str]]:
    return [{"name": v, "value": v} for v in values]


_GUILD_ONLY = {"contexts": [0], "integration_types": [0]}  # guild context, installed to a guild
_ADMIN = {**_GUILD_ONLY, "default_member_permissions": str(MANAGE_GUILD)}
_USER = _opt(USER_OPTION, "user", "The member", required=True)
_REASON = _opt(STRING, "reason", "Why (kept in the audit log)", max_length=200)

_CONFIG = {
    "type": SUB_COMMAND_GROUP,
    "name": "config",
    "description": "Configure leveling in this server",
    "options": [
        _sub("show", "Show the current configuration"),
        _sub(
            "cooldown",
            "Seconds between two rewarded messages",
            _opt(INTEGER, "seconds", "0-86400", required=True, min_value=0, max_value=86_400),
        ),
        _sub(
            "rate",
            "XP rate multiplier for every award",
            _opt(NUMBER, "rate", "> 0, up to 100", required=True, min_value=0.01, max_value=100),
        ),
        _sub(
            "no-xp-channel",
            "Add or remove a channel where messages earn no XP",
            _opt(STRING, "action", "add or remove", required=True, choices=_choices("add", "remove")),
            _opt(
                CHANNEL,
                "channel",
                "The channel (threads count in theirs)",
                required=True,
                channel_types=MESSAGE_CHANNELS,
            ),
        ),
        _sub(
            "no-xp-role",
            "Add or remove a role whose members earn no XP",
            _opt(STRING, "action", "add or remove", required=True, choices=_choices("add", "remove")),
            _opt(ROLE, "role", "The role", required=True),
        ),
        _sub(
            "reward-add",
            "Give a role when members reach a level (needs Manage Roles)",
            _opt(INTEGER, "level", "The level", required=True, min_value=1, max_value=10_000),
            _opt(ROLE, "role", "The role to give", required=True),
        ),
        _sub(
            "reward-remove",
            "Remove the role reward at a level (needs Manage Roles)",
            _opt(INTEGER, "level", "The level", required=True, min_value=1, max_value=10_000),
        ),
        _sub(
            "reward-mode",
            "stack: keep every reward role; replace: only the highest (needs Manage Roles)",
            _opt(STRING, "mode", "stack or replace", required=True, choices=_choices("stack", "replace")),
        ),
        _sub(
            "remove-on-loss",
            "Take reward roles away when members lose levels (needs Manage Roles)",
            _opt(BOOLEAN, "enabled", "true or false", required=True),
        ),
        _sub(
            "multiplier",
            "Set a server, role or user multiplier (0 removes it)",
            _opt(NUMBER, "value", "Multiplier (> 0, up to 100; 0 removes)", required=True, min_value=0, max_value=100),
            _opt(ROLE, "role", "For members with this role"),
            _opt(USER_OPTION, "user", "For this member"),
        ),
        _sub(
            "command-xp",
            "Whether using commands earns XP like a message",
            _opt(BOOLEAN, "enabled", "true or false", required=True),
        ),
        _sub(
            "announce",
            "Level-up announcements (no channel: off)",
            _opt(CHANNEL, "channel", "Where to announce", channel_types=[GUILD_TEXT, GUILD_ANNOUNCEMENT]),
            _opt(STRING, "message", "Template with {user}, {level}, {xp}", max_length=1_000),
        ),
    ],
}

COMMANDS: list[dict[str, Any]] = [
    {
        "name": "rank",
        "type": CHAT_INPUT,
        "description": "Show a member's level, XP and rank",
        "options": [_opt(USER_OPTION, "user", "Whose rank (default: yours)")],
        **_GUILD_ONLY,
    },
    {
        "name": "leaderboard",
        "type": CHAT_INPUT,
        "description": "The server's XP leaderboard",
        "options": [_opt(INTEGER, "page", "Page number", min_value=1, max_value=10_000)],
        **_GUILD_ONLY,
    },
    {
        "name": "xp",
        "type": CHAT_INPUT,
        "description": "Manage members' XP and the leveling configuration",
        **_ADMIN,
        "options": [
            _sub(
                "give",
                "Give XP to a member",
                _USER,
                _opt(INTEGER, "amount", "XP to give", required=True, min_value=1, max_value=1_000_000_000),
                _REASON,
            ),
            _sub(
                "remove",
                "Remove XP from a member",
                _USER,
                _opt(INTEGER, "amount", "XP to remove", required=True, min_value=1, max_value=1_000_000_000),
                _REASON,
            ),
            _sub(
                "set",
                "Set a member's total XP",
                _USER,
                _opt(INTEGER, "xp", "Total XP", required=True, min_value=0, max_value=1_000_000_000_000),
                _REASON,
            ),
            _sub(
                "recalc",
                "Recompute levels (one member, or the whole server)",
                _opt(USER_OPTION, "user", "Only this member"),
            ),
            _sub("api-key", "A read-only API key for this server's dashboards (only you see it)"),
            _CONFIG,
            _sub(
                "import",
                "Import members' XP from a file (JSON rows, MEE6 pages, an xpshop export, or CSV; up to 10 MB)",
                _opt(ATTACHMENT, "file", "The file (.json or .csv)", required=True),
                _opt(
                    STRING,
                    "mode",
                    "replace (default): the file's XP; add: added; max: the larger",
                    choices=_choices("replace", "add", "max"),
                ),
                _opt(BOOLEAN, "dry_run", "Only check the file and count (writes nothing)"),
            ),
            _sub(
                "export",
                "Export every member's XP as a file (/xp import reads it)",
                _opt(STRING, "format", "json (default) or csv", choices=_choices("json", "csv")),
            ),
        ],
    },
    # the shop: every member's own account (their Discord id)
    {"name": "shop", "type": CHAT_INPUT, "description": "Cosmetics for sale", **_GUILD_ONLY},
    {
        "name": "buy",
        "type": CHAT_INPUT,
        "description": "Buy a cosmetic with your credits",
        "options": [_opt(STRING, "cosmetic", "The cosmetic's name", required=True, max_length=100)],
        **_GUILD_ONLY,
    },
    {
        "name": "equip",
        "type": CHAT_INPUT,
        "description": "Wear a cosmetic you own",
        "options": [_opt(STRING, "cosmetic", "The cosmetic's name", required=True, max_length=100)],
        **_GUILD_ONLY,
    },
    {
        "name": "unequip",
        "type": CHAT_INPUT,
        "description": "Empty a cosmetic slot",
        "options": [_opt(STRING, "slot", "Which slot", required=True, choices=_choices(*COSMETIC_TYPES))],
        **_GUILD_ONLY,
    },
    {"name": "locker", "type": CHAT_INPUT, "description": "Your cosmetics and what you wear", **_GUILD_ONLY},
    {"name": "credits", "type": CHAT_INPUT, "description": "Your credit balance", **_GUILD_ONLY},
    {
        "name": "redeem",
        "type": CHAT_INPUT,
        "description": "Redeem a coupon code",
        "options": [_opt(STRING, "code", "The coupon code", required=True, max_length=64)],
        **_GUILD_ONLY,
    },
    {
        "name": "creator-code",
        "type": CHAT_INPUT,
        "description": "Support a creator: a share of your purchases goes to them",
        "options": [_opt(STRING, "code", "The creator code", required=True, max_length=64)],
        **_GUILD_ONLY,
    },
    {
        "name": "apikey",
        "type": CHAT_INPUT,
        "description": "Get your personal shop API key (only you see it)",
        **_GUILD_ONLY,
    },
    {
        "name": "privacy",
        "type": CHAT_INPUT,
        "description": "Whether the public leaderboard shows your name and avatar",
        "options": [
            _sub("status", "What is kept about you here, and whether public views show you"),
            _sub("hide", 'Show as "Hidden member" on the public leaderboard (your rank still counts)'),
            _sub("show", "Show your name and avatar on the public leaderboard again"),
            _sub("export", "Your own XP data in this server, as a file only you see"),
            _sub("delete", "Remove your XP and everything kept about you in this server (asks first)"),
        ],
        **_GUILD_ONLY,
    },
    {"name": VIEW_RANK, "type": USER, **_GUILD_ONLY},
    {"name": GIVE_XP, "type": MESSAGE, **_ADMIN},
]


def definitions() -> list[dict[str, Any]]:
    """The command list for a bulk overwrite (PUT /applications/{id}/commands)."""
    return COMMANDS
