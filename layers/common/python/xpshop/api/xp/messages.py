"""Chat-message events from the gateway relay: their shape and bounds, at ingestion (`IngestBody`, the body of
POST /api/xp/ingest/messages) and again at consumption (`MessageEvent`, `parse_queued`: the queue records).

Every number is bounded: ids are 64-bit snowflakes and a timestamp lies between Discord's epoch and the
last moment a snowflake can carry, so nothing derived from an event goes past DynamoDB's 38 digits. A
timestamp also has to be recent: no more than INGEST_MAX_FUTURE_SECONDS ahead (a future timestamp would
keep its member in cooldown until then) and, at ingestion, no older than INGEST_MAX_AGE_SECONDS.

Ingestion stamps each queued message with when it arrived (`receivedAt`; what a relay sends under that name
is dropped), and the consumer judges the cooldown at `award_at`: the timestamp, but no earlier than
INGEST_AWARD_WINDOW_SECONDS before the arrival and no later than the arrival. The relay chooses timestamps, so
without that bound a relay could send a member's messages one cooldown apart across the whole 7-day window
at once and have each earn XP; with it, a member's awards over any stretch of arrivals are at most what
real-time chat over that stretch plus one window earns.
"""

import json
import os
from datetime import UTC, datetime
from typing import Annotated, Any

from aws_lambda_powertools import Logger
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from ... import display
from ...clock import now_ms
from ...ids import DISCORD_EPOCH_MS, snowflake_ms
from ..fields import SNOWFLAKE_EXAMPLE, Snowflake, body_config

logger = Logger(child=True)

MAX_TIMESTAMP_MS = DISCORD_EPOCH_MS + 2**42 - 1  # a snowflake's 42 bits of milliseconds (year 2154)
DEFAULT_MAX_FUTURE_SECONDS = 300
DEFAULT_MAX_AGE_SECONDS = 7 * 24 * 3600
# A message arriving later than this after its timestamp earns XP as if sent this long before it arrived:
# long enough for a relay's retries and an outage of the API, short of letting a relay backdate a week.
DEFAULT_AWARD_WINDOW_SECONDS = 3600
MAX_ROLE_IDS = 250


def _seconds_env(name: str, default: int) -> int:
    """A non-negative whole number of seconds from the environment; the default when unset or unreadable."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        logger.warning("ignoring an invalid setting", extra={"name": name, "value": raw, "default": default})
        return default
    return value


def not_ahead(value: int) -> int:
    """`value` (epoch ms) unless it is further in the future than `max_future_ms()` (relay clocks drift a
    little; a time far ahead would defeat cooldowns and ordering)."""
    ahead = value - now_ms()
    if ahead > max_future_ms():
        raise ValueError(f"is {ahead // 1000} s in the future; at most {max_future_ms() // 1000} s is accepted")
    return value


def not_too_old(value: int) -> int:
    """`value` (epoch ms) unless it is older than `max_age_ms()` (ingestion's window for what the relay sends)."""
    age = now_ms() - value
    if age > max_age_ms():
        raise ValueError(f"is {age // 1000} s old; at most {max_age_ms() // 1000} s is accepted")
    return value


def max_future_ms() -> int:
    return _seconds_env("INGEST_MAX_FUTURE_SECONDS", DEFAULT_MAX_FUTURE_SECONDS) * 1000


def max_age_ms() -> int:
    return _seconds_env("INGEST_MAX_AGE_SECONDS", DEFAULT_MAX_AGE_SECONDS) * 1000


def award_window_ms() -> int:
    return _seconds_env("INGEST_AWARD_WINDOW_SECONDS", DEFAULT_AWARD_WINDOW_SECONDS) * 1000


def _epoch_ms(value: Any) -> Any:
    """Discord timestamps come as ISO 8601 (without an offset: UTC, as the relay reads them); the relay may
    also send epoch milliseconds, a JSON number (5.0 is 5), left to the integer validation. Nothing in
    between: a string of digits or a boolean is not a number (the document types the field `integer`)."""
    if isinstance(value, bool) or (isinstance(value, str) and value.strip().isdigit()):
        raise ValueError("must be epoch milliseconds (a JSON number, not a string) or ISO 8601 text")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if not isinstance(value, str):
        return value
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return int(moment.timestamp() * 1000)
    except (ValueError, OverflowError):
        raise ValueError("must be ISO 8601 or epoch milliseconds") from None


# Bounds before the validator: that order publishes them as minimum/maximum in the OpenAPI document.
Timestamp = Annotated[int, Field(ge=DISCORD_EPOCH_MS, le=MAX_TIMESTAMP_MS), BeforeValidator(_epoch_ms)]


def _display_name(value: str) -> str | None:
    problem = display.name_problem(value)
    if problem:
        raise ValueError(problem)
    return display.clean_name(value) or None  # nothing left to show: as if it were null


# Names are untrusted text: a string, at most 100 characters once normalised (xpshop.display); null removes
# the stored one. A name too long refuses the batch like any bad field (the relay cuts names before sending).
DisplayName = Annotated[StrictStr, AfterValidator(_display_name)]
AvatarHash = Annotated[StrictStr, Field(pattern=display.AVATAR_PATTERN)]
_DISPLAY_FIELDS = frozenset(display.ATTRIBUTES)


class MessageEvent(BaseModel):
    """One chat message as the gateway relay forwards it (and as the queue carries it)."""

    model_config = ConfigDict(extra="ignore", defer_build=True, populate_by_name=True)
    messageId: Snowflake
    guildId: Snowflake
    channelId: Snowflake
    userId: Snowflake
    roleIds: list[Snowflake] = Field(default_factory=list, max_length=MAX_ROLE_IDS)
    timestamp: Timestamp = Field(description="Epoch milliseconds (or ISO 8601); not ahead by more than 5 minutes")
    bot: StrictBool = False  # a JSON boolean: "false" as text is not read as a human's message
    # Optional display data of the author, written with the message's own write. Absent: kept as stored
    # (relays before these fields); null: removed.
    displayName: DisplayName | None = Field(
        default=None,
        description="The author's name as shown in the server (nickname, else global name, else username); "
        "at most 100 characters once normalised (NFC, control characters removed)",
    )
    username: DisplayName | None = Field(default=None, description="The author's Discord username; same limits")
    avatar: AvatarHash | None = Field(
        default=None, description="The author's Discord avatar hash (a_ prefix when animated); null: none"
    )
    # When ingestion accepted it (epoch ms), stamped by ingestion itself; None in records queued before.
    receivedAt: SkipJsonSchema[int | None] = Field(default=None, ge=DISCORD_EPOCH_MS, le=MAX_TIMESTAMP_MS)

    @field_validator("timestamp")
    @classmethod
    def _not_ahead(cls, value: int) -> int:
        return not_ahead(value)

    @field_validator("messageId")
    @classmethod
    def _id_not_ahead(cls, value: str) -> str:
        # A member's messages are deduplicated by a watermark (the last message id counted): an id from the
        # future (it carries its creation time) would make every real message after it a duplicate for good.
        not_ahead(snowflake_ms(value))
        return value

    def award_at(self) -> int:
        """The time the cooldown judges this message at: its timestamp, within [arrival - window, arrival]
        (a record without an arrival time, queued by an older ingestion, keeps its timestamp)."""
        if self.receivedAt is None:
            return self.timestamp
        return min(max(self.timestamp, self.receivedAt - award_window_ms()), self.receivedAt)

    def written_at(self) -> int:
        """When the message was written, as far as the backend can tell: its timestamp, never after its arrival
        (a relay clock ahead). What a late leave or ban is judged stale by (`messageEarnedAt`), unlike `award_at`,
        which an hour-late message moves forward."""
        return self.timestamp if self.receivedAt is None else min(self.timestamp, self.receivedAt)

    def display_data(self) -> dict[str, str | None]:
        """The display data the relay sent (only the fields it sent: absent ones are kept as stored)."""
        return {name: getattr(self, name) for name in display.ATTRIBUTES if name in self.model_fields_set}

    def queued(self, received_at: int | None = None) -> dict[str, Any]:
        """The queue record: every field as validated, display fields only when sent (absent must stay absent),
        stamped with `received_at` when given (ingestion's clock, not the relay's)."""
        record = self.model_dump(mode="json", exclude=set(_DISPLAY_FIELDS - self.model_fields_set) | {"receivedAt"})
        if received_at is not None:
            record["receivedAt"] = received_at
        return record


class IngestedMessage(MessageEvent):
    """A message offered for ingestion: also no older than the ingestion window (7 days by default)."""

    timestamp: Timestamp = Field(
        description="Epoch milliseconds (or ISO 8601); from 7 days ago to 5 minutes ahead (configurable)"
    )

    @model_validator(mode="before")
    @classmethod
    def _no_arrival_time(cls, data: Any) -> Any:
        # The arrival time is ingestion's to stamp: one sent by the relay is ignored, like any unknown field.
        if isinstance(data, dict) and "receivedAt" in data:
            return {k: v for k, v in data.items() if k != "receivedAt"}
        return data

    @field_validator("timestamp")
    @classmethod
    def _not_too_old(cls, value: int) -> int:
        return not_too_old(value)


class IngestBody(BaseModel):
    """A batch from the gateway relay (one invalid message refuses the whole batch, naming its row)."""

    model_config = body_config(
        [
            {
                "messages": [
                    {
                        "messageId": "1180000000000000001",
                        "guildId": SNOWFLAKE_EXAMPLE,
                        "channelId": "123456789012345679",
                        "userId": "123456789012345680",
                        "roleIds": [],
                        "timestamp": 1767268800000,  # 2026-01-01T12:00:00Z (ISO 8601 is read too)
                        "displayName": "Steve",
                    }
                ]
            }
        ]
    )
    messages: list[IngestedMessage] = Field(min_length=1, max_length=100)


def parse_queued(body: str) -> MessageEvent:
    """A queue record's body, checked again: the queue may hold records an older ingestion let through.
    Raises ValueError (json.JSONDecodeError, pydantic.ValidationError) when it is not a valid event."""
    return MessageEvent.model_validate(json.loads(body))
