"""/api/keys: API keys v2, made, listed and revoked with the admin key only (xpshop.scopes says so)."""

from __future__ import annotations

from xpshop import coldstart  # pauses the garbage collector until `coldstart.done()` below

# isort: split

import re
from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from xpshop import http, tracing
from xpshop.api.envelope import responses
from xpshop.api.keys import KEYS_FIELD_CODES, CreateKeyBody, KeyCreated, KeyList, KeyRevoked
from xpshop.errors import ApiError, ErrorCode

# The routes' services, with the stores behind them: imported by the first request that uses them.
access_keys = coldstart.later("xpshop.service.access_keys")

logger = Logger()
KEYS = "/api/keys"
KEY = "/api/keys/<keyId>"
_KEY_ID = re.compile(r"^[0-9a-f]{16}$")

app = http.make_resolver(http.ApiStyle(envelope=True, field_codes=KEYS_FIELD_CODES))


@app.post(
    KEYS,
    tags=["keys"],
    summary="Create an API key (admin key only); the secret is in this answer only",
    description="With an Idempotency-Key, a retry of the same request makes no second key: it is answered "
    "409 KEY_ALREADY_CREATED naming the key made (its secret is never stored, so never replayed).",
    responses=responses(KeyCreated, "Created", (201,), errors=(400, 401, 403, 405)),
)
def create_api_key(body: Annotated[CreateKeyBody, Body()]):
    # a retry with the same Idempotency-Key makes no second key; the secret is not replayed (not stored)
    return http.once(app, lambda: (access_keys.create(body, created_by="admin"), 201), secret=("key", _made_already))


def _made_already(first: dict[str, Any]) -> ApiError:
    key_id = first.get("id")
    return ApiError(
        ErrorCode.KEY_ALREADY_CREATED,
        f"This Idempotency-Key already created API key {key_id}; its secret is shown only in that first answer. "
        f"If it was lost, revoke the key (DELETE /api/keys/{key_id}) and create another",
    )


@app.get(
    KEYS,
    tags=["keys"],
    summary="List API keys (never their secrets)",
    responses=responses(KeyList, errors=(401, 403, 405)),
)
def list_api_keys():
    return http.ok(access_keys.list_keys())


@app.delete(
    KEY,
    tags=["keys"],
    summary="Revoke an API key (honoured everywhere within 30 s)",
    responses=responses(KeyRevoked, errors=(401, 403, 404, 405)),
)
def revoke_api_key(keyId: str):
    if not _KEY_ID.match(keyId):
        raise ApiError(ErrorCode.KEY_NOT_FOUND, f"No active API key with id {keyId}")
    return http.once(app, lambda: (access_keys.revoke(keyId), 200))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracing.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return http.resolve(app, event, context)


coldstart.done()  # the end of init
