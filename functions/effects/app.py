"""Level-up effects, fed by the table's stream (filtered to member items in template.yaml).

A record whose stored level moved (any path: API, messages, commands, recalculation) gets its role
rewards reconciled, its announcement and its credits (see xpshop.service.effects). A transient failure
(rate limit beyond what the client waits, Discord 5xx) fails the record, and the records after it in the
batch are not applied (effects.InOrder): the stream retries from it and, after the retries, sends it to the
dead-letter queue. Each record logs one line (xpshop.record_log): its eventID and sequence number, guild,
kind (level-change, or member-write: no level moved), outcome and time.
"""

from __future__ import annotations

from xpshop import coldstart  # pauses the garbage collector until `coldstart.done()` below

# isort: split

import functools
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from xpshop import record_log, tracing
from xpshop.discord.rest import bot_client
from xpshop.service import effects

logger = Logger()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


@logger.inject_lambda_context
@tracing.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # One client per batch (its rate-limit buckets span the batch's calls), made when a record needs it.
    rest_for = functools.cache(bot_client)

    def time_left() -> float:
        return context.get_remaining_time_in_millis() / 1000

    in_order = effects.InOrder(time_left)

    def handle(record: DynamoDBRecord) -> dict[str, Any] | None:
        clock = record_log.Clock()
        stream = record.dynamodb
        new = (stream.new_image if stream else None) or {}
        change = effects.level_change_from_images((stream.old_image if stream else None) or {}, new)
        kind, outcome = ("level-change", "applied") if change else ("member-write", "no-change")
        failure: BaseException | None = None
        try:
            return in_order.run(lambda: effects.apply(change, rest_for, time_left).as_dict()) if change else None
        except effects.Deferred:
            outcome = "deferred"  # not started: an earlier record failed, or too close to the timeout
            raise
        except BaseException as exc:  # a crash too: the line must not say "applied"
            outcome, failure = "failed", exc
            raise
        finally:
            record_log.line(
                "effects",
                record.event_id,
                new.get("guildId"),
                kind,
                outcome,
                ms=clock.lap(),
                seq=str(stream.sequence_number) if stream else None,
                err=failure,
            )

    return process_partial_response(event=event, record_handler=handle, processor=processor, context=context)


coldstart.done()  # the end of init
