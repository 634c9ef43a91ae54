"""Message XP: count each gateway message once and award XP by the guild's rules (the queue consumer's logic)."""

from __future__ import annotations

import decimal
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pydantic
from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError, ParamValidationError

from .. import message_queue, metrics, record_log
from ..api.xp.member_events import MemberEvent, MembersIngestBody, MessageRun, parse_record
from ..api.xp.messages import IngestBody, MessageEvent
from ..awards import message_award
from ..clock import now_ms
from ..display import Display
from ..errors import InvalidInput
from ..store import guilds, members, recalc, stats
from ..store.members import Change
from . import bands
from . import members as members_service
from .curves import config_for, curve_for

POISON = "poison"
COOLDOWN, NO_XP = "cooldown", "noXp"  # why a counted message earned nothing: the cooldown; a no-XP channel or role

logger = Logger(child=True)


def ingest(body: IngestBody) -> dict[str, Any]:
    """Queue the human messages of a batch for the consumer (bots are dropped here)."""
    received_at = now_ms()  # the arrival time the consumer bounds each message's award time by (MessageEvent.award_at)
    human = [m.queued(received_at) for m in body.messages if not m.bot]
    accepted = message_queue.send(human) if human else 0
    return {"accepted": accepted, "skipped": len(body.messages) - len(human)}


def ingest_members(body: MembersIngestBody) -> dict[str, Any]:
    """Queue a batch of member events (leaves, bans) for the consumer, in their members' groups; an event id
    repeated in the batch is queued once (the consumer applies each id once anyway)."""
    unique: dict[str, dict[str, Any]] = {}
    for event in body.events:
        unique.setdefault(event.eventId, event.queued())
    accepted = message_queue.send_member_events(list(unique.values()))
    return {"accepted": accepted, "skipped": len(body.events) - len(unique)}


class Tally:
    """Counter deltas of a batch, summed per guild and written once per guild at the end (not per message)."""

    def __init__(self) -> None:
        self._by_guild: dict[str, tuple[str, stats.Totals]] = {}

    def add(self, guild_id: str, user_id: str, change: Change, xp_message: bool) -> None:
        _, totals = self._by_guild.setdefault(guild_id, (user_id, stats.Totals()))
        totals.members += 1 if change.created else 0
        totals.xp += change.new_xp - change.old_xp
        totals.level_sum += change.new_level - change.old_level
        totals.messages += 1
        totals.xp_messages += 1 if xp_message else 0
        if change.created or change.old_level != change.new_level:
            totals.distribution[change.new_level] = totals.distribution.get(change.new_level, 0) + 1
            if not change.created:
                totals.distribution[change.old_level] = totals.distribution.get(change.old_level, 0) - 1

    def flush(self) -> None:
        awards = sum(totals.xp_messages for _, totals in self._by_guild.values())
        if awards:  # one EMF line per batch, not per message
            metrics.count(metrics.XP_AWARDS, awards)
        for guild_id, (shard_user, totals) in self._by_guild.items():
            try:
                bands.counted(guild_id, stats.apply_totals(guild_id, shard_user, totals))
            except Exception:
                # The messages are counted on their members already: failing the batch now would only make
                # SQS redeliver them as duplicates and lose these deltas for good. The recalculation job
                # rebuilds the guild's counters from its members instead.
                logger.exception("stats counter update failed", extra={"guildId": guild_id})
                _recount(guild_id)
        self._by_guild.clear()


def _recount(guild_id: str) -> None:
    try:
        recalc.mark(guild_id, "counters")
    except Exception:
        logger.exception("could not mark the guild for recalculation", extra={"guildId": guild_id})


def count_command(
    guild_id: str,
    user_id: str,
    interaction_id: str,
    *,
    channel_id: str,
    role_ids: list[str],
    at_ms: int,
    display: Display | None = None,
) -> dict[str, Any]:
    """A slash or context command used in a guild counts like a message (same cooldown and no-XP rules),
    deduplicated by interaction id, unless the guild turned command XP off. `display`: the invoker's display
    data from the interaction, written with the count (no request of its own)."""
    cfg = config_for(guild_id)
    if not cfg.get("commandXp", True):
        return {"counted": False, "reason": "off"}
    award = message_award(cfg, user_id, channel_id, role_ids, guild_id=guild_id)
    result = members.count_message(
        guild_id,
        user_id,
        interaction_id,
        at_ms=at_ms,
        xp=award.xp,
        cooldown_ms=award.cooldown_ms,
        curve=curve_for(guild_id),
        id_attr=members.INTERACTION_ID_ATTR,
        display=display,
    )
    if not result.counted or result.change is None:
        return {"counted": False, "reason": "duplicate"}
    tally = Tally()
    tally.add(guild_id, user_id, result.change, xp_message=result.xp_message)
    tally.flush()
    return {"counted": True, "awarded": result.awarded}


def count(event: MessageEvent, tally: Tally) -> dict[str, Any]:
    """Count one message (once, whatever the redeliveries) and award its XP if due."""
    return count_run([event], tally)[0]


def count_run(events: list[MessageEvent], tally: Tally) -> list[dict[str, Any]]:
    """Count a member's messages, in their queue order, in one write (store.members.count_messages): each
    once, whatever the redeliveries, with its XP if due, exactly as one at a time; one result per message."""
    results: list[dict[str, Any] | None] = [{"counted": False, "reason": "bot"} if e.bot else None for e in events]
    human = [e for e in events if not e.bot]
    if not human:
        return [r or {} for r in results]
    first = human[0]
    if any((e.guildId, e.userId) != (first.guildId, first.userId) for e in human):
        raise ValueError("a run is one member's messages")
    if not guilds.exists(first.guildId):  # a message from a guild means the bot is in it
        guilds.register(first.guildId, None, "gateway")
    cfg = config_for(first.guildId)
    curve = curve_for(first.guildId)
    run = []
    for e in human:
        award = message_award(cfg, e.userId, e.channelId, e.roleIds, guild_id=e.guildId)
        run.append(
            members.Message(
                int(e.messageId), e.award_at(), award.xp, award.cooldown_ms, e.display_data(), e.written_at()
            )
        )
    outcomes = iter(members.count_messages(first.guildId, first.userId, run, curve=curve))
    sent = iter(run)
    for i, r in enumerate(results):
        if r is not None:
            continue
        result, message = next(outcomes), next(sent)
        if not result.counted or result.change is None:
            results[i] = {"counted": False, "reason": "duplicate"}
            continue
        tally.add(first.guildId, first.userId, result.change, xp_message=result.xp_message)
        if result.change.old_level != result.change.new_level:
            logger.info(
                "level changed",
                extra={
                    "guildId": first.guildId,
                    "userId": first.userId,
                    "oldLevel": result.change.old_level,
                    "newLevel": result.change.new_level,
                    "source": "message",
                },
            )
        counted: dict[str, Any] = {"counted": True, "awarded": result.awarded}
        if not result.xp_message:  # counted without XP: why (the record's log line says it)
            counted["reason"] = NO_XP if message.xp is None else COOLDOWN
        results[i] = counted
    return [r or {} for r in results]


# Failures that come back on every delivery of the same record: retrying them only blocks the member's
# FIFO group until SQS's redrive policy gives up on it.
_DETERMINISTIC = (
    json.JSONDecodeError,  # not JSON
    pydantic.ValidationError,  # not an event, or out of bounds (an older ingestion may have queued it)
    decimal.DecimalException,  # a number DynamoDB cannot hold exactly
    RecursionError,  # JSON nested too deeply
    ParamValidationError,  # a value the SDK refuses before sending
    InvalidInput,
)


def is_poison(exc: BaseException) -> bool:
    """Whether a record failed for a reason a retry cannot change (throttling, 5xx, timeouts can)."""
    if isinstance(exc, ClientError):
        return exc.response.get("Error", {}).get("Code") == "ValidationException"
    return isinstance(exc, _DETERMINISTIC)


def consume(body: str, tally: Tally, *, group_id: str | None, record_id: str) -> dict[str, Any]:
    """One queue record (a chat message, several of one member's, or a member event: a leave or a ban):
    applied once, or, when it can never be applied, set aside on the dead-letter queue (once, so the
    member's later messages go on); anything else is raised for SQS to retry."""
    try:
        event = parse_record(body)
        if isinstance(event, MemberEvent):
            return members_service.apply_member_event(event)
        if isinstance(event, MessageRun):
            return _summary(count_run(event.messages, tally))
        return count(event, tally)
    except Exception as exc:
        return _set_aside(exc, body, group_id=group_id, record_id=record_id)


def _summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The outcome of a record holding several messages: how many counted, the XP they earned (and, when none
    earned any, why: the first counted message's reason)."""
    counted = [r for r in results if r.get("counted")]
    summary = {"counted": len(counted), "awarded": sum(r.get("awarded", 0) for r in results), "messages": len(results)}
    if counted and all(r.get("reason") for r in counted):
        summary["reason"] = counted[0]["reason"]
    return summary


def outcome_label(result: Mapping[str, Any]) -> str:
    """What a record came to, in one word for its log line: applied (XP awarded, a member reset), cooldown,
    no-xp (a no-XP channel or role), duplicate (counted or applied before), bot, kept (a member event the
    guild's resetOn leaves alone), set-aside (on the dead-letter queue)."""
    reason = result.get("reason")
    if reason == POISON:
        return "set-aside"
    if reason == "duplicate" or ("messages" in result and result.get("counted") == 0):
        return "duplicate"
    if "applied" in result:  # a member event
        return "applied" if result.get("reset") else "kept"
    return {COOLDOWN: "cooldown", NO_XP: "no-xp", "bot": "bot"}.get(str(reason), "applied")


def _set_aside(exc: Exception, body: str, *, group_id: str | None, record_id: str) -> dict[str, Any]:
    """A record that failed with `exc`: put on the dead-letter queue when a retry cannot help, else raised."""
    if not is_poison(exc):
        raise exc
    reason = f"{type(exc).__name__}: {exc}"
    logger.warning("poison record set aside", extra={"recordId": record_id, "group": group_id, "reason": reason})
    message_queue.dead_letter(body, group_id=group_id or POISON, dedup_id=record_id, reason=reason)
    return {"counted": False, "reason": POISON}


@dataclass(frozen=True, slots=True)
class Record:
    """One record of a queue delivery: its body, message group and SQS message id."""

    body: str
    group_id: str | None
    record_id: str


@dataclass(slots=True)
class Seen:
    """What a record's log line says besides its outcome: its guild, kind, messages, and its time (its share
    of its run's one write when `apportioned`)."""

    guild: str | None
    kind: str
    n: int = 1
    ms: float = 0.0
    apportioned: bool = False


def _seen(event: MessageEvent | MemberEvent | MessageRun | None) -> Seen:
    if isinstance(event, MessageEvent):
        return Seen(event.guildId, "message")
    if isinstance(event, MessageRun):
        return Seen(event.messages[0].guildId, "messages", len(event.messages))
    if isinstance(event, MemberEvent):
        return Seen(event.guildId, f"member-{event.type}")
    return Seen(None, "unreadable")


class _Timing:
    """Each record's processing time in a group: a record applied alone gets its own, a run's records share
    their write's equally (record_log.Clock: the time since the previous record or run was done)."""

    def __init__(self, seen: dict[str, Seen] | None) -> None:
        self.seen = seen
        self.clock = record_log.Clock()

    def done(self, records: list[Record]) -> None:
        took = self.clock.lap()
        if self.seen is None:
            return
        for r in records:
            found = self.seen.get(r.record_id)
            if found is not None:
                found.ms, found.apportioned = took / len(records), len(records) > 1


Outcome = dict[str, Any] | Exception  # what `consume` returned for a record, or what it raised


def consume_batch(records: list[Record], tally: Tally, seen: dict[str, Seen] | None = None) -> dict[str, Outcome]:
    """A whole delivery, with one write per run of a member's consecutive messages (a FIFO group is one
    member, and SQS hands out several messages of a group together) instead of one per message. The outcome
    of each record is the one `consume` gives it applied alone, in order: a record is applied once or raised;
    a member event or a poison record splits a run where it stands. A run whose write fails gives its error
    to each of its records (the write is all or nothing, so none was applied) and its group stops there:
    the records after it have no outcome (the caller fails them, so SQS redelivers them in order). A run
    refused for a reason a retry cannot change is applied again one record at a time, to set aside only the
    record at fault. `seen`, when given, is filled with each record's guild, kind and time (its log line)."""
    groups: dict[str, list[Record]] = {}
    for r in records:
        groups.setdefault(r.group_id or f"record:{r.record_id}", []).append(r)
    outcomes: dict[str, Outcome] = {}
    for group in groups.values():
        _consume_group(group, tally, outcomes, _Timing(seen))
    return outcomes


Piece = tuple[Record, list[MessageEvent], bool]  # a record of a run, the messages it holds, whether several


def _consume_group(group: list[Record], tally: Tally, outcomes: dict[str, Outcome], timing: _Timing) -> None:
    run: list[Piece] = []
    for record in group:
        try:
            event: MessageEvent | MemberEvent | MessageRun | None = parse_record(record.body)
        except Exception:
            event = None  # let `consume` set it aside (or raise) in its place, after the run before it
        if timing.seen is not None:
            timing.seen[record.record_id] = _seen(event)
        held = [event] if isinstance(event, MessageEvent) else event.messages if isinstance(event, MessageRun) else []
        piece = (record, held, isinstance(event, MessageRun))
        if held and (not run or _same_member(run[0][1][0], held[0])):
            run.append(piece)
            continue
        if run and not _flush(run, tally, outcomes, timing):
            return
        if held:
            run = [piece]
            continue
        run = []
        try:
            outcomes[record.record_id] = consume(
                record.body, tally, group_id=record.group_id, record_id=record.record_id
            )
        except Exception as exc:
            outcomes[record.record_id] = exc
            return
        finally:
            timing.done([record])
    if run:
        _flush(run, tally, outcomes, timing)


def _same_member(a: MessageEvent, b: MessageEvent) -> bool:
    return (a.guildId, a.userId) == (b.guildId, b.userId)


def _flush(run: list[Piece], tally: Tally, outcomes: dict[str, Outcome], timing: _Timing) -> bool:
    """Apply a run; False when its group must stop (a record failed and is to be retried)."""
    try:
        return _apply_run(run, tally, outcomes)
    finally:
        timing.done([record for record, _, _ in run])


def _apply_run(run: list[Piece], tally: Tally, outcomes: dict[str, Outcome]) -> bool:
    try:
        results = count_run([e for _, held, _ in run for e in held], tally)
    except Exception as exc:
        if not is_poison(exc):  # nothing of the run was written: every record of it is retried
            for record, _, _ in run:
                outcomes[record.record_id] = exc
            return False
        for record, _, _ in run:  # one of them cannot be applied: find which, one record at a time
            try:
                outcomes[record.record_id] = consume(
                    record.body, tally, group_id=record.group_id, record_id=record.record_id
                )
            except Exception as failed:
                outcomes[record.record_id] = failed
                return False
        return True
    start = 0
    for record, held, several in run:
        mine = results[start : start + len(held)]
        start += len(held)
        outcomes[record.record_id] = _summary(mine) if several else mine[0]
    return True
