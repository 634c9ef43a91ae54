"""Message XP consumer: chat messages from the gateway relay, through the FIFO queue (a group per member).

Each record is one message event; each is counted once (by message id) and earns XP by the guild's rules
(cooldown, no-XP channels and roles, rate, multipliers). Failed records are reported back (partial batch
response) so SQS retries only those; a FIFO group stops at its first failure to keep a member's order.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from xpshop.service import messages

logger = Logger()
tracer = Tracer()
processor = SqsFifoPartialProcessor(skip_group_on_error=True)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    tally = messages.Tally()

    def handle(record: SQSRecord) -> dict[str, Any]:
        return messages.count(messages.MessageEvent.model_validate(json.loads(record.body)), tally)

    try:
        return process_partial_response(event=event, record_handler=handle, processor=processor, context=context)
    finally:
        tally.flush()  # counters once per member for the whole batch
