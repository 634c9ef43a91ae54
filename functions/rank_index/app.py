"""The rank index: keeps the rank counters (xpshop.rank_tree) in step with member XP, from the table's stream,
and writes the audit records and guild counters of XP changes made through the API, /xp and member events.

Every member write that moves XP (any path) arrives here in order per guild; a batch becomes one rank plan
per guild: the members' ranked items and the counters they leave and join, each counter written once with
the batch's net delta (see xpshop.service.ranks.apply_records and xpshop.store.rank_counters), and, for the
changes whose write carried a note (who, why), one transaction per guild of their audit records and counter
deltas (see xpshop.service.changes). Awards stay one write; ranks and pages at any depth read a few
counters. A failed batch is retried whole (bisected on error): a plan it left pending is finished first,
ranked items refuse records already applied by their sequence number, audit records by the change's write
id, so nothing counts twice.
"""

from __future__ import annotations

from xpshop import coldstart  # pauses the garbage collector until `coldstart.done()` below

# isort: split

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from xpshop import tracing
from xpshop.service import changes, ranks

logger = Logger()


@logger.inject_lambda_context
@tracing.capture_lambda_handler
@event_source(data_class=DynamoDBStreamEvent)
def lambda_handler(event: DynamoDBStreamEvent, context: LambdaContext) -> dict[str, Any]:
    records = [
        (str(r.dynamodb.sequence_number), r.dynamodb.old_image, r.dynamodb.new_image)
        for r in event.records
        if r.dynamodb is not None
    ]
    # The audit records and guild counters first: a reader who sees the ranks caught up sees those too.
    audited = changes.apply_records(records)
    changed = ranks.apply_records(records)
    logger.info("rank counters updated", extra={"records": len(records), "counters": changed, "audited": audited})
    return {"batchItemFailures": []}  # the whole batch went in (a failure raises: the batch is retried)


coldstart.done()  # the end of init
