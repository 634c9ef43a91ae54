"""Member events from the gateway relay: a member left the server, or was banned (the body of
POST /api/xp/ingest/members, and the queue records checked again at consumption).

They share the chat messages' queue (one FIFO group per member, so a member's messages and removals stay in
order); a queue record says which it is by `kind` (absent: a chat message, as every record before these).
"""

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..fields import SNOWFLAKE_EXAMPLE, Snowflake, body_config
from .messages import MessageEvent, Timestamp, not_ahead, not_too_old

MEMBER_KIND = "member"
EVENT_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,64}$"
LEAVE, BAN = "leave", "ban"


class MemberEvent(BaseModel):
    """One member event as the relay forwards it (and as the queue carries it)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
    eventId: str = Field(
        pattern=EVENT_ID_PATTERN,
        description="The relay's id for this event (1-64 letters, digits, '.', '_', ':', '-'): applied once per id",
    )
    type: Literal["leave", "ban"] = Field(
        description="leave: Discord's member-remove (a leave, a kick or a ban alike); ban: a ban"
    )
    guildId: Snowflake
    userId: Snowflake
    at: Timestamp = Field(
        description="When it happened: epoch milliseconds (or ISO 8601); from 7 days ago to 5 minutes ahead "
        "(configurable)"
    )

    @field_validator("at")
    @classmethod
    def _not_ahead(cls, value: int) -> int:
        return not_ahead(value)

    @field_validator("at")
    @classmethod
    def _not_too_old(cls, value: int) -> int:
        # As a message's timestamp (issue 12, finding 7). An event id is applied once while its mark lasts (90
        # days): an event accepted only within 7 days of happening never outlives it, so a replayed old leave
        # never resets a member who came back.
        return not_too_old(value)

    def queued(self) -> dict[str, Any]:
        """The queue record: the event as validated, marked as a member event."""
        return {"kind": MEMBER_KIND, **self.model_dump(mode="json")}


class QueuedMemberEvent(MemberEvent):
    """A member event as the queue carries it: its age was checked at ingestion (it may wait on the queue)."""

    @field_validator("at")
    @classmethod
    def _not_too_old(cls, value: int) -> int:
        return value


class MembersIngestBody(BaseModel):
    """A batch of member events from the relay (one invalid event refuses the whole batch, naming its row)."""

    model_config = body_config(
        [
            {
                "events": [
                    {
                        "eventId": "ban-123456789012345678-123456789012345680-1767268800000",
                        "type": "ban",
                        "guildId": SNOWFLAKE_EXAMPLE,
                        "userId": "123456789012345680",
                        "at": 1767268800000,  # 2026-01-01T12:00:00Z (ISO 8601 is read too)
                    }
                ]
            }
        ]
    )
    events: list[MemberEvent] = Field(min_length=1, max_length=100)


RUN_KIND = "messages"
MAX_RUN_MESSAGES = 100  # an ingest request's messages at most


class MessageRun(BaseModel):
    """Chat messages of one member queued as one record, in their order (xpshop.message_queue.send)."""

    model_config = ConfigDict(extra="ignore", defer_build=True)
    messages: list[MessageEvent] = Field(min_length=1, max_length=MAX_RUN_MESSAGES)

    @field_validator("messages")
    @classmethod
    def _one_member(cls, value: list[MessageEvent]) -> list[MessageEvent]:
        if len({(m.guildId, m.userId) for m in value}) != 1:
            raise ValueError("a record's messages are one member's")
        return value


def parse_record(body: str) -> MessageEvent | MemberEvent | MessageRun:
    """A queue record's body, checked again: a member event or a member's messages when it says so, else a
    chat message (as every record was before runs were queued). Raises ValueError (json.JSONDecodeError,
    pydantic.ValidationError) when it is none of them."""
    data = json.loads(body)
    if isinstance(data, dict) and data.get("kind") == MEMBER_KIND:
        return QueuedMemberEvent.model_validate({k: v for k, v in data.items() if k != "kind"})
    if isinstance(data, dict) and data.get("kind") == RUN_KIND:
        return MessageRun.model_validate(data)
    return MessageEvent.model_validate(data)
