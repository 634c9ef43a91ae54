"""Member display data from Discord (display name, username, avatar hash): untrusted, cleaned once, here.

Names are kept as Discord gave them, after Unicode NFC normalisation and with what could break or reorder
the text around them removed: control characters (newlines, tabs...), line and paragraph separators, lone
surrogates (not UTF-8; DynamoDB would refuse the write) and bidirectional embeddings, overrides and
isolates. They are at most MAX_NAME_LENGTH characters (Discord allows 32), and never interpreted: every
view escapes them (HTML; Markdown in Discord answers). An avatar is Discord's image hash ("a_" prefix for
animated ones), from which a CDN URL is built.

Display data travels as a mapping of attribute -> value: an attribute given is written (None removes
it, e.g. an avatar the member took off), one not given is kept as stored (older relays send none).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

MAX_NAME_LENGTH = 100
# Refused before normalising, which bounds the work (NFC never makes text more than 3 times longer).
MAX_RAW_NAME_LENGTH = 4 * MAX_NAME_LENGTH
AVATAR_PATTERN = r"^(a_)?[0-9a-f]{32}$"
_AVATAR = re.compile(r"(?:a_)?[0-9a-f]{32}")

# The member item attributes, in the order they are written.
DISPLAY_NAME, USERNAME, AVATAR = "displayName", "username", "avatar"
ATTRIBUTES = (DISPLAY_NAME, USERNAME, AVATAR)

_DROPPED_CATEGORIES = {"Cc", "Cs", "Zl", "Zp"}
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# What draws nothing on its own: format characters (zero-width space and joiners, BOM, soft hyphen), spaces,
# combining marks with no letter to sit on, and the "blank" letters people pick for an empty-looking name (the
# Hangul fillers, the braille blank). A name of only these is no name: views fall back to the next one.
_BLANK_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zs", "Zl", "Zp", "Mn", "Me"})
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")

Display = Mapping[str, str | None]


def clean_name(value: str) -> str:
    """The name as stored and shown: NFC, without control or bidi-control characters, trimmed. Empty when
    nothing is left, or nothing in it draws anything (`draws_something`)."""
    text = unicodedata.normalize("NFC", value)
    kept = (c for c in text if c not in _BIDI_CONTROLS and unicodedata.category(c) not in _DROPPED_CATEGORIES)
    cleaned = "".join(kept).strip()
    return cleaned if draws_something(cleaned) else ""


def draws_something(name: str) -> bool:
    """Whether a name shows anything at all (zero-width characters and joiners inside a visible name stay:
    an emoji sequence needs them)."""
    return any(c not in _BLANK_LETTERS and unicodedata.category(c) not in _BLANK_CATEGORIES for c in name)


def name_problem(value: str) -> str | None:
    """Why ingestion refuses this name (too long), or None. Length counts the cleaned form."""
    if len(value) > MAX_RAW_NAME_LENGTH:
        return f"must be at most {MAX_NAME_LENGTH} characters (this one has {len(value)})"
    cleaned = clean_name(value)
    if len(cleaned) > MAX_NAME_LENGTH:
        return (
            f"must be at most {MAX_NAME_LENGTH} characters once normalised (NFC, control characters removed); "
            f"this one has {len(cleaned)}"
        )
    return None


def lenient_name(value: Any) -> str | None:
    """A name from a source we do not refuse (Discord's interaction payload): cleaned and cut to the limit;
    None when it is not text or nothing is left."""
    if not isinstance(value, str):
        return None
    cleaned = clean_name(value[:MAX_RAW_NAME_LENGTH])[:MAX_NAME_LENGTH].strip()
    return cleaned if draws_something(cleaned) else None  # the cut may leave only what draws nothing


def is_avatar_hash(value: Any) -> bool:
    return isinstance(value, str) and _AVATAR.fullmatch(value) is not None


def from_interaction(member: Mapping[str, Any]) -> dict[str, str | None]:
    """Display data of an interaction's invoker (`member` of a guild interaction): the display name is the
    server nickname, else the global display name, else the username; the avatar is the user's own (not a
    per-server one). Anything malformed is left out (kept as stored), never refused."""
    user = member.get("user")
    if not isinstance(user, Mapping):
        return {}
    found: dict[str, str | None] = {}
    username = lenient_name(user.get("username"))
    shown = lenient_name(member.get("nick")) or lenient_name(user.get("global_name")) or username
    if shown:
        found[DISPLAY_NAME] = shown
    if username:
        found[USERNAME] = username
    avatar = user.get("avatar", "")
    if avatar is None:  # Discord says the member has none: forget a stored one
        found[AVATAR] = None
    elif is_avatar_hash(avatar):
        found[AVATAR] = avatar
    return found


_MARKDOWN_SPECIAL = re.compile(r"([\\*_~`|>#\-\[\]()<@:/!])")


def escape_markdown(text: str) -> str:
    """`text` shown literally in a Discord message: Markdown, links, mentions, emoji and timestamps escaped
    (Discord drops a backslash before any punctuation, so escaping too much shows nothing extra)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)
