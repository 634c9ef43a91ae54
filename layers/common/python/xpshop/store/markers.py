"""Markers that make a Discord side effect happen once: each claim is one conditional PutItem, so a
redelivered event or a repeated command is a no-op. (The level-credits mark is store.credits'.)"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from ..clock import now_ms, now_s
from . import keys
from .table import delete_prefix, failed_item, is_condition_failure, table

ONCE_TTL_SECONDS = 90 * 86_400  # Give XP refuses a message older than that (its mark could have expired)
EFFECT_TTL_SECONDS = 30 * 86_400


def _claim(key: dict[str, str], ttl_seconds: int, **fields: Any) -> bool:
    try:
        table().put_item(
            Item={**key, "at": now_ms(), "ttl": now_s() + ttl_seconds, **fields},
            ConditionExpression="attribute_not_exists(PK)",
        )
    except ClientError as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


def claim_once(guild_id: str, kind: str, ref: str, *, ttl_seconds: int = ONCE_TTL_SECONDS, **fields: Any) -> bool:
    """True for the first claim of (guild, kind, ref); False for every later one (within the TTL)."""
    return _claim(keys.once(guild_id, kind, ref), ttl_seconds, **fields)


def release_once(guild_id: str, kind: str, ref: str) -> None:
    """Undo a claim whose guarded work failed, so a retry can do it."""
    table().delete_item(Key=keys.once(guild_id, kind, ref))


def get_once(guild_id: str, kind: str, ref: str) -> dict[str, Any] | None:
    item = table().get_item(Key=keys.once(guild_id, kind, ref), ConsistentRead=True).get("Item")
    return dict(item) if item else None


def keep_result(guild_id: str, kind: str, ref: str, payload: str) -> None:
    """Attach the outcome to a claim, so a repeat answers with it instead of running again."""
    table().update_item(
        Key=keys.once(guild_id, kind, ref),
        UpdateExpression="SET payload = :p",
        ExpressionAttributeValues={":p": payload},
    )


# A level-up announcement's claim (`EFFECT#<u>#<level>`) moves through these states: `claimed` (an attempt is
# posting it; `holdUntil`: the epoch ms after which that attempt cannot still be running), then `sent` (Discord
# answered; `messageId`) or `refused` (Discord refused it for good). A claim written before the states existed
# has none and counts as done, as it did then.
EFFECT_CLAIMED, EFFECT_SENT, EFFECT_REFUSED = "claimed", "sent", "refused"


@dataclass(frozen=True, slots=True)
class LevelClaim:
    """What claiming a level-up announcement found."""

    granted: bool  # this attempt posts it
    took_over: bool = False  # granted over a claim whose attempt ran out of time before it was marked sent
    state: str | None = None  # not granted: the claim's state (None: a claim from before the states)
    hold_until: int = 0  # not granted and `claimed`: when the attempt that holds it will have ended
    held_for: float = 0.0  # seconds from the claim's check to `hold_until` (by the clock the condition used)

    def __bool__(self) -> bool:
        return self.granted


def claim_level_effect(guild_id: str, user_id: str, level: int, *, hold_seconds: float = 0) -> LevelClaim:
    """Claim the announcement of (guild, user, level), in one conditional put: granted when nobody claimed it
    within EFFECT_TTL_SECONDS, or when the claim is still `claimed` past its holder's `holdUntil` (that attempt
    was cut off, by a crash or the function's timeout, before Discord answered: it is taken over). The claim
    holds `hold_seconds` from now: how long this attempt can still be running."""
    now = now_ms()
    item = {
        **keys.level_effect(guild_id, user_id, level),
        "at": now,
        "ttl": now_s() + EFFECT_TTL_SECONDS,
        "state": EFFECT_CLAIMED,
        "holdUntil": now + int(hold_seconds * 1000),
    }
    try:
        answer = table().put_item(
            Item=item,
            ConditionExpression="attribute_not_exists(PK) OR (#state = :claimed AND holdUntil < :now)",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={":claimed": EFFECT_CLAIMED, ":now": now},
            ReturnValues="ALL_OLD",  # an item replaced: a claim taken over
            ReturnValuesOnConditionCheckFailure="ALL_OLD",  # the claim found: sent, or held by whom until when
        )
    except ClientError as exc:
        if not is_condition_failure(exc):
            raise
        found = failed_item(exc) or {}
        state = found.get("state")
        hold_until = int(found.get("holdUntil") or 0)
        return LevelClaim(
            False,
            state=str(state) if state else None,
            hold_until=hold_until,
            held_for=max(0.0, (hold_until - now) / 1000),
        )
    return LevelClaim(True, took_over=bool(answer.get("Attributes")))


def finish_level_effect(guild_id: str, user_id: str, level: int, state: str, message_id: str | None = None) -> bool:
    """Mark a claimed announcement `sent` (with Discord's message id) or `refused`: one conditional update, on
    a claim still `claimed` only (not one forgotten since: it names the member). False when there was none."""
    names = {"#state": "state"}
    values: dict[str, Any] = {":state": state, ":claimed": EFFECT_CLAIMED}
    update = "SET #state = :state"
    if message_id:
        update += ", messageId = :message"
        values[":message"] = message_id
    try:
        table().update_item(
            Key=keys.level_effect(guild_id, user_id, level),
            UpdateExpression=update + " REMOVE holdUntil",
            ConditionExpression="#state = :claimed",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
    except ClientError as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


def get_level_effect(guild_id: str, user_id: str, level: int) -> dict[str, Any] | None:
    item = table().get_item(Key=keys.level_effect(guild_id, user_id, level), ConsistentRead=True).get("Item")
    return dict(item) if item else None


def release_level_effect(guild_id: str, user_id: str, level: int) -> None:
    """Undo a claim whose post failed before Discord created the message (or may have: the re-post carries
    the same nonce), so the retry posts it at once."""
    table().delete_item(Key=keys.level_effect(guild_id, user_id, level))


def forget_level_effects(guild_id: str, user_id: str) -> int:
    """Delete a member's level-up announcement marks in a guild (they name the member); returns how many."""
    return delete_prefix(keys.guild_pk(guild_id), keys.level_effect_prefix(user_id))
