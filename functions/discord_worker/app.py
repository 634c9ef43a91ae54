"""Deferred Discord commands: the webhook answered "thinking" (type 5) and queued the interaction; this
runs the command and edits that answer through the interaction's webhook (no bot token needed).

Records that fail for a transient reason (Discord 5xx, rate limit, DynamoDB) are reported back so SQS
retries only them; the command itself runs once per interaction id (see `finish_deferred`). A command that
fails for good, or still fails transiently on the queue's last delivery, edits the answer with a short error.
Each record logs one line (xpshop.record_log): its SQS message id, guild, outcome (applied, refused: Discord
refused the edit for good, failed: retried) and time; never the interaction's token or options.
"""

from __future__ import annotations

from xpshop import coldstart  # pauses the garbage collector until `coldstart.done()` below

# isort: split

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from xpshop import record_log, tracing
from xpshop.discord.dispatch import finish_deferred
from xpshop.discord.rest import DiscordError, webhook_client

logger = Logger()
processor = BatchProcessor(event_type=EventType.SQS)


# The queue's maxReceiveCount (template.yaml, InteractionsQueue): the delivery that may not fail again.
MAX_RECEIVES = 3


def handle(record: SQSRecord) -> None:
    clock = record_log.Clock()
    guild, outcome, failure = None, "applied", None
    try:
        interaction = json.loads(record.body)
        guild = interaction.get("guild_id") if isinstance(interaction, dict) else None
        last_attempt = int(record.attributes.approximate_receive_count or 1) >= MAX_RECEIVES
        finish_deferred(interaction, webhook_client(), last_attempt=last_attempt)
    except DiscordError as exc:
        if not exc.permanent:
            outcome, failure = "failed", exc
            raise  # 5xx, rate limit: the queue delivers it again (the command itself is not re-run)
        # e.g. the interaction token expired (15 minutes) or the message was deleted: nothing to retry
        outcome = "refused"
        logger.warning("deferred answer refused by Discord", extra={"status": exc.status, "code": exc.code})
    except Exception as exc:
        outcome, failure = "failed", exc
        raise
    finally:
        record_log.line("discord_worker", record.message_id, guild, "command", outcome, ms=clock.lap(), err=failure)


@logger.inject_lambda_context
@tracing.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=handle, processor=processor, context=context)


coldstart.done()  # the end of init
