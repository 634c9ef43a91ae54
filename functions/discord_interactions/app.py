"""POST /discord/interactions: Discord's interactions webhook.

The signature is checked first, on the raw bytes, with nothing but PyNaCl and json imported: a cold start
must answer inside Discord's 3-second window. Commands and their dependencies load only after that.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from typing import Any

from xpshop.discord.signature import verify

log = logging.getLogger("discord_interactions")
log.setLevel(os.environ.get("POWERTOOLS_LOG_LEVEL", "INFO"))


def _answer(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def _raw_body(event: dict[str, Any]) -> bytes | None:
    body = event.get("body") or ""
    if not event.get("isBase64Encoded"):
        return body.encode()
    try:
        return base64.b64decode(body, validate=True)
    except ValueError:
        return None


def _count_signature_failure() -> None:
    # Imported here, not above: a valid interaction's cold start loads nothing it does not need.
    from xpshop import metrics

    metrics.count(metrics.SIGNATURE_FAILURES)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    raw = _raw_body(event)
    if raw is None or not verify(
        os.environ.get("DISCORD_PUBLIC_KEY", ""),
        headers.get("x-signature-ed25519"),
        headers.get("x-signature-timestamp"),
        raw,
    ):
        log.warning("interaction refused: bad or missing signature")
        _count_signature_failure()
        return _answer(401, {"error": "invalid request signature"})
    try:
        interaction = json.loads(raw)
    except ValueError:
        return _answer(400, {"error": "body is not JSON"})
    if not isinstance(interaction, dict):
        return _answer(400, {"error": "body is not an interaction"})
    if interaction.get("type") == 1:  # PING: Discord checks the endpoint with it
        return _answer(200, {"type": 1})
    from xpshop.discord.dispatch import respond, unexpected_failure
    from xpshop.web.urls import base_url

    try:
        return _answer(200, respond(interaction, base_url=base_url(event)))
    except Exception:
        # Discord shows "The application did not respond" for any non-200; a message is kinder and logged.
        log.exception("interaction failed")
        return _answer(200, unexpected_failure())
