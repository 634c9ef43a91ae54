"""Ingestion events built from plain values and checked locally (no discord.py import here).

The backend refuses a whole batch (400) when one event in it is invalid, so every event is checked here,
with the backend's rules (`xpshop.api.xp.messages.IngestedMessage` for chat messages,
`xpshop.api.xp.member_events.MemberEvent` for leaves and bans), before it is queued.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

# Copies of the backend's rules in `xpshop.ids` (the relay runs on a bot host, without the layer);
# tests/unit/test_relay.py checks that they agree.
# Discord snowflakes are unsigned 64-bit: 17-20 digits, at most 2^64-1 (the pattern states both bounds).
SNOWFLAKE_PATTERN = (
    r"^(?:[1-9][0-9]{16,18}|1[0-7][0-9]{18}|18[0-3][0-9]{17}|184[0-3][0-9]{16}|1844[0-5][0-9]{15}|"
    r"18446[0-6][0-9]{14}|184467[0-3][0-9]{13}|1844674[0-3][0-9]{12}|184467440[0-6][0-9]{10}|"
    r"1844674407[0-2][0-9]{9}|18446744073[0-6][0-9]{8}|1844674407370[0-8][0-9]{6}|"
    r"18446744073709[0-4][0-9]{5}|184467440737095[0-4][0-9]{4}|18446744073709550[0-9]{3}|"
    r"18446744073709551[0-5][0-9]{2}|1844674407370955160[0-9]{1}|1844674407370955161[0-4]|"
    r"18446744073709551615)$"
)
_SNOWFLAKE = re.compile(SNOWFLAKE_PATTERN)
_MAX_SNOWFLAKE = 2**64 - 1
DISCORD_EPOCH_MS = 1_420_070_400_000  # 2015-01-01T00:00:00Z: the backend refuses earlier timestamps
# The backend's default ingestion window (INGEST_MAX_FUTURE_SECONDS, INGEST_MAX_AGE_SECONDS).
MAX_FUTURE_MS = 5 * 60 * 1000
MAX_AGE_MS = 7 * 24 * 3600 * 1000
MAX_ROLE_IDS = 250  # the backend's limit (also Discord's limit of roles per guild)
# Display data (optional): the backend refuses a batch with a name over 100 characters once normalised, so
# names are cleaned the backend's way and cut here; an avatar that is not a Discord hash is left out.
MAX_NAME_LENGTH = 100
DISPLAY_FIELDS = ("displayName", "username", "avatar")
_AVATAR = re.compile(r"(?:a_)?[0-9a-f]{32}")
_DROPPED_CATEGORIES = {"Cc", "Cs", "Zl", "Zp"}  # controls, lone surrogates, line/paragraph separators
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

Event = dict[str, Any]


class InvalidEvent(ValueError):
    """An event the backend would refuse (it would fail the whole batch)."""


def _snowflake(value: Any, field: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    # fullmatch, not match: "$" lets a trailing newline through
    if not isinstance(value, str) or not _SNOWFLAKE.fullmatch(value) or int(value) > _MAX_SNOWFLAKE:
        raise InvalidEvent(f"{field} must be a Discord snowflake (17-20 digits), got {value!r}")
    return value


def _epoch_ms(value: Any) -> int:
    """A datetime (naive means UTC), epoch milliseconds (int or digit string) or an ISO 8601 string -> epoch ms."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        ms = int(moment.timestamp() * 1000)
    elif isinstance(value, int) and not isinstance(value, bool):
        ms = value
    elif isinstance(value, str) and value.isascii() and value.isdigit():
        if len(value) > 20:  # int() refuses thousands of digits with a ValueError of its own
            raise InvalidEvent(f"timestamp must be epoch milliseconds, got {value[:30]!r}...")
        ms = int(value)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidEvent(f"timestamp must be ISO 8601 or epoch milliseconds, got {value!r}") from None
        ms = _epoch_ms(moment)
    else:
        raise InvalidEvent(f"timestamp must be ISO 8601 or epoch milliseconds, got {value!r}")
    if ms < DISCORD_EPOCH_MS:
        raise InvalidEvent(f"timestamp {value!r} is before Discord's epoch (2015)")
    now = int(time.time() * 1000)
    if ms > now + MAX_FUTURE_MS:
        raise InvalidEvent(f"timestamp {value!r} is more than {MAX_FUTURE_MS // 60_000} minutes in the future")
    if ms < now - MAX_AGE_MS:
        raise InvalidEvent(f"timestamp {value!r} is more than {MAX_AGE_MS // 86_400_000} days old")
    return ms


def clean_name(value: Any) -> str | None:
    """A name as the backend keeps it (NFC, no control or bidi-control characters, trimmed), cut to its
    limit; None when it is not text or nothing is left."""
    if not isinstance(value, str):
        return None
    text = unicodedata.normalize("NFC", value[: 4 * MAX_NAME_LENGTH])
    kept = "".join(c for c in text if c not in _BIDI_CONTROLS and unicodedata.category(c) not in _DROPPED_CATEGORIES)
    return kept.strip()[:MAX_NAME_LENGTH].strip() or None


def display_fields(given: Mapping[str, Any]) -> dict[str, str | None]:
    """The display data to send from what was given (wire names): names cleaned and cut, dropped when empty;
    an avatar kept when it is a Discord hash, sent as null when given as None (the member has none, so the
    backend forgets a stored one), dropped otherwise. Fields not given are not sent (kept as stored)."""
    out: dict[str, str | None] = {}
    for field in ("displayName", "username"):
        name = clean_name(given.get(field))
        if name is not None:
            out[field] = name
    if "avatar" in given:
        avatar = given["avatar"]
        if avatar is None or (isinstance(avatar, str) and _AVATAR.fullmatch(avatar)):
            out["avatar"] = avatar
    return out


def event_from_message(
    *,
    message_id: int | str,
    guild_id: int | str,
    channel_id: int | str,
    user_id: int | str,
    role_ids: Iterable[int | str] = (),
    timestamp: datetime | int | str,
    bot: bool = False,
    display: Mapping[str, Any] | None = None,
) -> Event:
    """The ingestion event of one chat message, from plain values; raises `InvalidEvent`.

    Ids may be ints (as discord.py gives them) or strings; they are sent as strings. Role ids are
    deduplicated in order; the timestamp is sent as epoch milliseconds. `display`: the author's
    displayName, username and avatar (hash, or None for none), see `display_fields`; never a reason to refuse.
    """
    roles = list(dict.fromkeys(_snowflake(r, "roleIds[]") for r in role_ids))
    if len(roles) > MAX_ROLE_IDS:
        raise InvalidEvent(f"roleIds has {len(roles)} ids, at most {MAX_ROLE_IDS} are accepted")
    if not isinstance(bot, bool):
        raise InvalidEvent(f"bot must be a boolean, got {bot!r}")
    return {
        "messageId": _snowflake(message_id, "messageId"),
        "guildId": _snowflake(guild_id, "guildId"),
        "channelId": _snowflake(channel_id, "channelId"),
        "userId": _snowflake(user_id, "userId"),
        "roleIds": roles,
        "timestamp": _epoch_ms(timestamp),
        "bot": bot,
        **display_fields(display or {}),
    }


def validate_event(event: Mapping[str, Any]) -> Event:
    """Check (and normalise) an event already in the wire shape; raises `InvalidEvent`."""
    if not isinstance(event, Mapping):
        raise InvalidEvent(f"an event must be a JSON object, got {type(event).__name__}")
    missing = [k for k in ("messageId", "guildId", "channelId", "userId", "timestamp") if k not in event]
    if missing:
        raise InvalidEvent(f"missing {', '.join(missing)}")
    role_ids = event.get("roleIds", [])
    if not isinstance(role_ids, list | tuple):
        raise InvalidEvent(f"roleIds must be a list, got {role_ids!r}")
    return event_from_message(
        message_id=event["messageId"],
        guild_id=event["guildId"],
        channel_id=event["channelId"],
        user_id=event["userId"],
        role_ids=role_ids,
        timestamp=event["timestamp"],
        bot=event.get("bot", False),
        display={k: event[k] for k in DISPLAY_FIELDS if k in event},
    )


# ---------------------------------------------------------------- member events (reset on leave or ban)

MEMBER_EVENT_TYPES = ("leave", "ban")
EVENT_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,64}$"  # the backend's (tests/unit/test_relay.py checks they agree)
_EVENT_ID = re.compile(EVENT_ID_PATTERN)


def event_from_member(
    *, kind: str, guild_id: int | str, user_id: int | str, at: datetime | int | str, event_id: str | None = None
) -> Event:
    """The ingestion event of a member leaving (Discord's member-remove: a leave, a kick or a ban alike) or
    being banned; raises `InvalidEvent`. The event id defaults to `<kind>-<guild>-<user>-<at ms>`: the same
    event sent again (a retried batch) keeps its id, and the backend applies an id once."""
    if kind not in MEMBER_EVENT_TYPES:
        raise InvalidEvent(f"type must be one of {', '.join(MEMBER_EVENT_TYPES)}, got {kind!r}")
    guild, user, ms = _snowflake(guild_id, "guildId"), _snowflake(user_id, "userId"), _epoch_ms(at)
    eid = event_id if event_id is not None else f"{kind}-{guild}-{user}-{ms}"
    if not isinstance(eid, str) or not _EVENT_ID.fullmatch(eid):
        raise InvalidEvent(f"eventId must be 1-64 letters, digits, '.', '_', ':' or '-', got {eid!r}")
    return {"eventId": eid, "type": kind, "guildId": guild, "userId": user, "at": ms}


def validate_member_event(event: Mapping[str, Any]) -> Event:
    """Check (and normalise) a member event already in the wire shape; raises `InvalidEvent`."""
    if not isinstance(event, Mapping):
        raise InvalidEvent(f"an event must be a JSON object, got {type(event).__name__}")
    missing = [k for k in ("eventId", "type", "guildId", "userId", "at") if k not in event]
    if missing:
        raise InvalidEvent(f"missing {', '.join(missing)}")
    return event_from_member(
        kind=event["type"],
        guild_id=event["guildId"],
        user_id=event["userId"],
        at=event["at"],
        event_id=event["eventId"],
    )
