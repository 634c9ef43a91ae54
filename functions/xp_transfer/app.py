"""/api/xp/import and /api/xp/export: a leaderboard in (JSON rows, MEE6 pages, CSV) and out (JSON or CSV)."""

from __future__ import annotations

from xpshop import coldstart  # pauses the garbage collector until `coldstart.done()` below

# isort: split

from typing import Annotated, Any
from urllib.parse import urlencode

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from xpshop import http, tracing
from xpshop.api.envelope import Envelope, responses
from xpshop.api.xp.transfer import (
    IMPORT_BODY,
    ExportFormat,
    ExportPart,
    ImportJob,
    ImportMode,
    ImportResult,
    RewardsMode,
)

# The routes' services, with the stores behind them: imported by the first request that uses them.
exports = coldstart.later("xpshop.service.exports")
imports = coldstart.later("xpshop.service.imports")  # the import routes' own (file parsing, import runs)
transfer = coldstart.later("xpshop.transfer")

logger = Logger()

IMPORT = "/api/xp/import/<guildId>"
JOB = "/api/xp/import/<guildId>/jobs/<jobId>"
EXPORT = "/api/xp/export/<guildId>"
app = http.make_resolver(
    http.XP_API,
    raw_bodies=True,  # the importer reads JSON or CSV itself
    missing_guild=["/api/xp/import", "/api/xp/export"],
)


@app.post(
    IMPORT,
    tags=["import"],
    summary="Import members' XP (JSON rows, MEE6 leaderboard pages, an xpshop export, or CSV)",
    description="Rows are validated one by one: a bad one is rejected with its row number and reason, the others "
    "are imported. Up to IMPORT_SYNC_MAX_ROWS (5,000) rows are applied before the answer (200); more become a "
    "background job (202 with jobId; follow it at .../jobs/{jobId}). MEE6 role rewards are merged into the "
    "guild's (rewards=replace lets the file's win at a level both have). One import at a time per guild (409). "
    "Idempotency-Key honoured.",
    responses=responses(
        ImportResult, "Imported (200), or queued as a job (202)", (200, 202), (400, 401, 404, 405, 409, 413, 415)
    ),
    openapi_extensions={"x-xpshop-request-body": IMPORT_BODY},
)
def import_members(
    guildId: str,
    mode: Annotated[ImportMode, Query(description="replace (default): the file's XP; add: added; max: the larger")] = (
        "replace"
    ),
    dryRun: Annotated[bool, Query(description="Validate and count, write nothing")] = False,
    rewards: Annotated[RewardsMode, Query(description="MEE6 role rewards: merge (keep the guild's) or replace")] = (
        "merge"
    ),
):
    http.no_misspelled_query(app, ("mode", "dryRun", "rewards"))  # `dry_run=true` must not import for real
    headers = app.current_event.headers or {}
    key = headers.get("idempotency-key")
    options = imports.Options(transfer.Mode(mode), dryRun, rewards == "replace", f"{guildId} {key}" if key else None)
    body = http.raw_body(app)
    content_type, encoding = headers.get("content-type"), headers.get("content-encoding")
    return http.once(app, lambda: imports.import_file(guildId, body, content_type, encoding, options))


@app.get(
    JOB,
    tags=["import"],
    summary="An import's progress (a background job, or a request already answered)",
    responses=responses(ImportJob),
)
def get_import_job(guildId: str, jobId: str):
    return http.ok(imports.job_status(guildId, jobId))


@app.get(
    EXPORT,
    tags=["export"],
    summary="Export every member, XP descending (ties by id), in parts",
    description="format=json (default): {guildId, members: [{id, xp, level, messages}], next}, which the importer "
    "reads as is; format=csv: the header id,xp,level,messages and one line per member. `next` (and a Link "
    'header, rel="next") is the cursor of the following part; null / absent at the end.',
    responses={
        **responses(ExportPart),
        200: {
            "description": "A part of the export",
            "content": {
                "application/json": {"model": Envelope[ExportPart]},
                "text/csv": {"schema": {"type": "string"}},
            },
        },
    },
)
def export_members(
    guildId: str,
    fmt: Annotated[ExportFormat, Query(alias="format", description="json (default) or csv")] = "json",
    limit: Annotated[
        http.QueryInt,
        Query(ge=1, le=exports.MAX_LIMIT, description="Members in this part (default and max 10,000)"),
    ] = None,
    cursor: Annotated[str | None, Query(max_length=512, description="`next` of the previous part")] = None,
):
    members, next_cursor = exports.export_part(guildId, limit, cursor)
    headers: dict[str, Any] = {}
    if next_cursor:
        query = {"format": fmt, **({"limit": limit} if limit else {}), "cursor": next_cursor}
        headers["Link"] = f'</api/xp/export/{guildId}?{urlencode(query)}>; rel="next"'
    if fmt == "csv":
        headers["Content-Disposition"] = f'attachment; filename="xp-{guildId}.csv"'
        return Response(200, content_type=exports.CSV_MEDIA_TYPE, body=exports.as_csv(members), headers=headers)
    return http.ok({"guildId": guildId, "members": members, "next": next_cursor}, headers=headers)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracing.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return http.resolve(app, event, context)


coldstart.done()  # the end of init
