"""Import jobs (issue 15): one queue message per chunk of an import too big for its request. Each chunk is
applied once (a chunk already done is skipped; a row this job already wrote is not written again), its
counts added to the job, and the job finished after its last chunk.

A failure is reported back so SQS delivers the chunk again; on the queue's last delivery the job is marked
failed instead (the guild's import lock released, the guild marked for a counter recount). Each record logs
one line (xpshop.record_log): its SQS message id, guild, outcome (applied, duplicate: the chunk was done,
skipped: its job is over or gone, job-failed: the last delivery failed it, failed: retried, dropped: not a
chunk) and time.
"""

from __future__ import annotations

from xpshop import coldstart  # pauses the garbage collector until `coldstart.done()` below

# isort: split

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from xpshop import record_log, tracing
from xpshop.service import imports

logger = Logger()
processor = BatchProcessor(event_type=EventType.SQS)

# The queue's maxReceiveCount (template.yaml, ImportQueue): the delivery that may not fail again.
MAX_RECEIVES = 3


def handle(record: SQSRecord) -> dict[str, Any] | None:
    clock = record_log.Clock()
    found = imports.chunk_of(record.body)
    if found is None:
        logger.warning("not an import chunk: dropped", extra={"messageId": record.message_id})
        record_log.line("xp_import_jobs", record.message_id, None, "import-chunk", "dropped", ms=clock.lap())
        return None
    guild_id, run_id, chunk = found
    last_attempt = int(record.attributes.approximate_receive_count or 1) >= MAX_RECEIVES
    outcome, failure = "failed", None
    try:
        result = imports.run_chunk(guild_id, run_id, chunk, last_attempt=last_attempt)
        outcome = _outcome(result)
        return result
    except Exception as exc:
        failure = exc
        raise
    finally:
        record_log.line(
            "xp_import_jobs", record.message_id, guild_id, "import-chunk", outcome, ms=clock.lap(), err=failure
        )


def _outcome(result: dict[str, Any]) -> str:
    if "failed" in result:
        return "job-failed"
    if "skipped" in result:
        return "duplicate" if result["skipped"] == "chunk done" else "skipped"
    return "applied"


@logger.inject_lambda_context
@tracing.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=handle, processor=processor, context=context)


coldstart.done()  # the end of init
