"""The recalculation job: on its EventBridge schedule, and on demand at POST /api/xp/recalc[/{guildId}].

A scheduled run logs one record line (xpshop.record_log): the schedule event's id, kind `schedule`, outcome
`done` (every marked guild finished), `partial` (the next run resumes) or `failed`, the guilds it worked on
(`n`) and its time; each request logs its request line (xpshop.request_log)."""

from __future__ import annotations

from xpshop import coldstart  # pauses the garbage collector until `coldstart.done()` below

# isort: split

import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from xpshop import http, record_log, tracing
from xpshop.api.envelope import responses
from xpshop.api.xp.responses.recalc import RecalcReport

# The recalculation (its routes' and the schedule's), with the stores behind it: imported by its first use.
recalc = coldstart.later("xpshop.service.recalc")

logger = Logger()
app = http.make_resolver(http.XP_API)
HTTP_BUDGET_SECONDS = 25.0  # API Gateway answers 503 after 30 s, whatever the function's timeout


def _budget(context: Any, cap: float | None = None) -> Callable[[], float]:
    deadline = time.monotonic() + cap if cap else None

    def time_left() -> float:
        left = context.get_remaining_time_in_millis() / 1000
        return min(left, deadline - time.monotonic()) if deadline else left

    return time_left


@app.post(
    "/api/xp/recalc",
    tags=["recalc"],
    summary="Recalculate every guild now (the schedule finishes the rest)",
    responses=responses(RecalcReport),
)
def recalc_everything():
    recalc.request(None)
    return http.ok(recalc.run(_budget(app.lambda_context, HTTP_BUDGET_SECONDS)))


@app.post(
    "/api/xp/recalc/<guildId>",
    tags=["recalc"],
    summary="Recalculate one guild now (resumable)",
    responses=responses(RecalcReport),
)
def recalc_guild(guildId: str):
    recalc.request(guildId)
    return http.ok(recalc.run(_budget(app.lambda_context, HTTP_BUDGET_SECONDS), [guildId]))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracing.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("source") == "aws.events" or "detail-type" in event:  # the schedule
        clock, report, failure = record_log.Clock(), None, None
        try:
            report = recalc.run(_budget(context))
        except Exception as exc:
            failure = exc
            raise
        finally:
            guilds = (report or {}).get("guilds") or []
            outcome = "failed" if report is None else "done" if report.get("complete") else "partial"
            only = guilds[0].get("guildId") if len(guilds) == 1 else None
            record_log.line(
                "recalc", event.get("id"), only, "schedule", outcome, ms=clock.lap(), n=len(guilds), err=failure
            )
        logger.info("scheduled recalculation", extra={"report": report})
        return report
    return http.resolve(app, event, context)


coldstart.done()  # the end of init
