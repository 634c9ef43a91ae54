"""The rank index: keeps the rank counters (xpshop.rank_tree) in step with member XP, from the table's stream,
and writes the audit records and guild counters of XP changes made through the API, /xp and member events.

Every member write that moves XP (any path) arrives here in order per guild; a batch becomes one rank plan
per guild: the members' ranked items and the counters they leave and join, each counter written once with
the batch's net delta (see xpshop.service.ranks.apply_records and xpshop.store.rank_counters), and, for the
changes whose write carried a note (who, why), one transaction per guild of their audit records and counter
deltas (see xpshop.service.changes). Awards stay one write; ranks and pages at any depth read a few
counters. A failed batch is retried whole (bisected on error): a plan it left pending is finished first,
ranked items refuse records already applied by their sequence number, audit records by the change's write
id, so nothing counts twice. Each record logs one line (xpshop.record_log): its eventID and sequence number,
guild, kind, its member's move, and its share of the batch's time.
"""

from __future__ import annotations

from xpshop import coldstart  # pauses the garbage collector until `coldstart.done()` below

# isort: split

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from xpshop import clock as epoch  # xpshop.clock: the time stored leases are in
from xpshop import record_log, tracing
from xpshop.service import changes, ranks

logger = Logger()


@logger.inject_lambda_context
@tracing.capture_lambda_handler
@event_source(data_class=DynamoDBStreamEvent)
def lambda_handler(event: DynamoDBStreamEvent, context: LambdaContext) -> dict[str, Any]:
    clock = record_log.Clock()
    # When Lambda stops this invocation: a plan is taken, or a pending one waited for, only with time left to
    # finish it (else the batch fails retryable, before the timeout, nothing half-written: rank_counters).
    deadline = epoch.now_ms() + context.get_remaining_time_in_millis()
    ids = [(r.event_id, d) for r in event.records if (d := r.dynamodb) is not None]
    records = [(str(d.sequence_number), d.old_image, d.new_image) for _, d in ids]
    outcomes: dict[str, str] = {}
    failure: Exception | None = None
    try:
        # The audit records and guild counters first: a reader who sees the ranks caught up sees those too.
        audited = changes.apply_records(records)
        changed = ranks.apply_records(records, outcomes, deadline=deadline)
    except Exception as exc:
        failure = exc
        raise  # the batch is retried whole (bisected): every record of it is logged failed
    finally:
        share = clock.lap() / max(len(records), 1)  # the batch is applied at once: each record gets its share
        for (event_id, _), (seq, old, new) in zip(ids, records, strict=True):
            record_log.line(
                "rank_index",
                event_id,
                (new or old or {}).get("guildId"),
                _kind(old, new),
                "failed" if failure is not None else outcomes.get(seq, "skipped"),
                ms=share,
                seq=seq,
                apportioned=len(records) > 1,
                err=failure,
            )
    logger.info("rank counters updated", extra={"records": len(records), "counters": changed, "audited": audited})
    return {"batchItemFailures": []}  # the whole batch went in (a failure raises: the batch is retried)


def _kind(old: dict[str, Any] | None, new: dict[str, Any] | None) -> str:
    """A member record as its line names it: member-new, member-removed, xp-change, or member-write (XP
    unchanged: display data, a message counted without XP, stats fields)."""
    if not new:
        return "member-removed"
    if not old:
        return "member-new"
    return "xp-change" if old.get("xp") != new.get("xp") else "member-write"


coldstart.done()  # the end of init
