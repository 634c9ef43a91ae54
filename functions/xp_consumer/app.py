"""Message XP consumer: chat messages from the gateway relay, through the FIFO queue (a group per member).

Each record is one message event; each is counted once (by message id) and earns XP by the guild's rules
(cooldown, no-XP channels and roles, rate, multipliers). A member's consecutive messages in a delivery are
counted by one write (service.messages.consume_batch), each with the outcome it would have alone. A record
that can never be applied (not an event, out of bounds, a number DynamoDB cannot hold) is sent to the
dead-letter queue once and reported done, so its member's group goes on; it is counted in the PoisonMessages
metric. Other failures are reported back (partial batch response) so SQS retries only those; a FIFO group
stops at its first failure to keep order. Each record logs one line (xpshop.record_log): its SQS message id,
guild, kind, outcome and time.
"""

from __future__ import annotations

from xpshop import coldstart  # pauses the garbage collector until `coldstart.done()` below

# isort: split

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from xpshop import metrics, record_log, tracing
from xpshop.service import messages

logger = Logger()
processor = SqsFifoPartialProcessor(skip_group_on_error=True)


class _NotApplied(Exception):
    """A record the batch step left alone (its group stopped before it): failed, so SQS delivers it again."""


@logger.inject_lambda_context
@tracing.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    tally = messages.Tally()
    poisoned = 0
    outcomes: dict[str, messages.Outcome] = {}
    seen: dict[str, messages.Seen] = {}
    records = [
        messages.Record(r.get("body", ""), (r.get("attributes") or {}).get("MessageGroupId"), r.get("messageId", ""))
        for r in event.get("Records", [])
    ]

    def handle(record: SQSRecord) -> dict[str, Any]:
        nonlocal poisoned
        outcome = outcomes.get(record.message_id) or _NotApplied(record.message_id)
        if isinstance(outcome, Exception):
            raise outcome
        poisoned += outcome.get("reason") == messages.POISON
        return outcome

    try:
        # Every write first (one per run of a member's messages), then the partial batch response from what
        # each record came to: the processor fails a group from its first failed record on, as SQS expects.
        outcomes = messages.consume_batch(records, tally, seen)
        return process_partial_response(event=event, record_handler=handle, processor=processor, context=context)
    finally:
        tally.flush()  # counters once per member for the whole batch
        if poisoned:
            metrics.count(metrics.POISON_MESSAGES, poisoned)
        for r in records:
            _log_record(r.record_id, outcomes.get(r.record_id), seen.get(r.record_id))


def _log_record(record_id: str, outcome: messages.Outcome | None, seen: messages.Seen | None) -> None:
    """The record's line: its outcome; `failed` (retried), or `deferred` when its group stopped before it."""
    seen = seen or messages.Seen(None, "unreadable")
    label = (
        "deferred"
        if outcome is None
        else "failed"
        if isinstance(outcome, Exception)
        else messages.outcome_label(outcome)
    )
    record_log.line(
        "xp_consumer",
        record_id,
        seen.guild,
        seen.kind,
        label,
        ms=seen.ms,
        apportioned=seen.apportioned,
        n=seen.n,
        err=outcome if isinstance(outcome, Exception) else None,
    )


coldstart.done()  # the end of init
