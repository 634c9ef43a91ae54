"""POST /api/xp/ingest/messages: chat messages from the gateway relay (its own key), queued for the consumer."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from xpshop import http, tracing
from xpshop.api.envelope import responses
from xpshop.api.xp.messages import IngestBody
from xpshop.api.xp.responses import Ingested
from xpshop.service import messages

logger = Logger()
INGEST = "/api/xp/ingest/messages"
app = http.make_resolver(http.RELAY_API, access={INGEST: http.Access.RELAY})


@app.post(
    INGEST,
    tags=["ingest"],
    summary="Queue up to 100 gateway messages for XP (relay key)",
    responses=responses(Ingested, "Queued", (202,)),
)
def ingest_messages(body: Annotated[IngestBody, Body()]):
    return http.ok(messages.ingest(body), 202)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracing.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return http.resolve(app, event, context)
