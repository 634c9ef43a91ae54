"""POST /api/xp/ingest/messages and /api/xp/ingest/members: chat messages and member events (leaves, bans)
from the gateway relay (its own key), queued for the consumer."""

from __future__ import annotations

from xpshop import coldstart  # pauses the garbage collector until `coldstart.done()` below

# isort: split

from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from xpshop import http, tracing
from xpshop.api.envelope import responses
from xpshop.api.xp.member_events import MembersIngestBody
from xpshop.api.xp.messages import IngestBody
from xpshop.api.xp.responses.ingest import Ingested

# The routes' services, with the stores behind them: imported by the first request that uses them.
messages = coldstart.later("xpshop.service.messages")

logger = Logger()
INGEST = "/api/xp/ingest/messages"
INGEST_MEMBERS = "/api/xp/ingest/members"
app = http.make_resolver(http.RELAY_API, access={INGEST: http.Access.RELAY, INGEST_MEMBERS: http.Access.RELAY})


@app.post(
    INGEST,
    tags=["ingest"],
    summary="Queue up to 100 gateway messages for XP (relay key)",
    responses=responses(Ingested, "Queued", (202,)),
)
def ingest_messages(body: Annotated[IngestBody, Body()]):
    return http.ok(messages.ingest(body), 202)


@app.post(
    INGEST_MEMBERS,
    tags=["ingest"],
    summary="Queue up to 100 member events, leaves and bans, for reset on leave or ban (relay key)",
    description="Each event is applied once per eventId: when the guild's resetOn covers its type, the member's "
    "XP goes to 0 (audited with the type as reason); otherwise it is only recorded as seen. An eventId repeated "
    "in the batch is queued once (counted in skipped).",
    responses=responses(Ingested, "Queued", (202,)),
)
def ingest_members(body: Annotated[MembersIngestBody, Body()]):
    return http.ok(messages.ingest_members(body), 202)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracing.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return http.resolve(app, event, context)


coldstart.done()  # the end of init
