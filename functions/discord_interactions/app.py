"""POST /discord/interactions: Discord's interactions webhook.

The signature is checked first, on the raw bytes, with nothing but PyNaCl and json imported: a cold start
must answer inside Discord's 3-second window. Commands and their dependencies load only after that.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import time
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
    started = time.perf_counter()
    seen: dict[str, Any] = {}
    answer = _respond(event, seen)
    _log_request(event, answer, started, seen)
    return answer


def _command(interaction: dict[str, Any]) -> str | None:
    """The command as typed (`xp config show`), from a verified interaction: names Discord registered."""
    data = interaction.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        return None
    words = [data["name"]]
    options = data.get("options")
    while isinstance(options, list) and options and isinstance(options[0], dict) and options[0].get("type") in (1, 2):
        words.append(str(options[0].get("name")))
        options = options[0].get("options")
    return " ".join(words)[:100]


def _log_request(event: dict[str, Any], answer: dict[str, Any], started: float, seen: dict[str, Any]) -> None:
    """The request's one line, as the API's (xpshop/request_log.py) without loading Powertools here:
    the interaction's type, command and guild, never its token, member or options."""
    interaction = seen.get("interaction") or {}
    guild = interaction.get("guild_id")
    line = {
        "message": "request",
        "route": "POST /discord/interactions",
        "status": answer["statusCode"],
        "durationMs": round((time.perf_counter() - started) * 1000, 1),
        "caller": "discord" if interaction else "none",
        "guildId": guild if isinstance(guild, str) and guild.isdigit() and 17 <= len(guild) <= 20 else None,
        "interactionType": interaction.get("type") if isinstance(interaction.get("type"), int) else None,
        "command": _command(interaction),
        "correlation_id": (event.get("requestContext") or {}).get("requestId"),
    }
    log.info(json.dumps(line))


def _respond(event: dict[str, Any], seen: dict[str, Any]) -> dict[str, Any]:
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
    seen["interaction"] = interaction  # verified: Discord sent it
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
