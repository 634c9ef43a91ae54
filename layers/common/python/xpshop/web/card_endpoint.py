"""GET|HEAD /cards/{guildId}/{userId}.png: a member's rank card (HEAD gets the GET's answer; API Gateway
sends its headers only, with the PNG's Content-Length).

Public when the guild's board is public and the member is not hidden; otherwise only with a valid signed URL
(`card_urls`). Everything else, from a malformed id to an expired or tampered signature, a private guild or an
unknown member, is the same 404, so the answer never tells a private guild or a hidden member from nothing.
The image is re-validated cheaply: the ETag comes from the card's inputs, so a matching `If-None-Match` is a
304 without drawing.
"""

from __future__ import annotations

import re
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from .. import ids
from ..errors import ErrorCode, NotFound, Unavailable
from ..service import cards as card_service
from ..store.table import is_transient
from . import avatars, card_urls, cards, responses

logger = Logger(child=True)

_CARD_FILE = re.compile(r"([0-9]{1,20})\.png")
# Short: a member who hides themselves (or a guild that closes its board) disappears from caches within
# minutes. Signed cards are for the people the link was given to: no shared cache keeps them.
PUBLIC_CACHE = "public, max-age=300"
SIGNED_CACHE = "private, max-age=300"


def handle(event: dict[str, Any]) -> dict[str, Any]:
    target = _target(event.get("pathParameters") or {})
    if target is None:
        return not_found()
    guild_id, user_id = target
    signed = _signed(guild_id, user_id, event.get("queryStringParameters") or {})
    try:
        found = _visible_card(guild_id, user_id, signed)
    except (Unavailable, ClientError, BotoCoreError) as exc:
        if not isinstance(exc, Unavailable) and not is_transient(exc):
            raise
        logger.warning("storage unavailable for a card", extra={"error": str(exc)})
        return responses.error(
            ErrorCode.SERVICE_UNAVAILABLE, "Storage is busy, retry shortly", 503, {"Retry-After": "1"}
        )
    if found is None:
        return not_found()
    url = avatars.avatar_url(user_id, found.profile.avatar)
    avatar = avatars.get(url)
    headers = {"Cache-Control": PUBLIC_CACHE if found.public else SIGNED_CACHE}
    headers["ETag"] = cards.etag(found.card, url if avatar is not None else None)
    if responses.etag_matches(responses.request_headers(event).get("if-none-match"), headers["ETag"]):
        return responses.not_modified(headers)
    return responses.binary(cards.render(found.card, avatar), "image/png", headers=headers)


def _target(params: dict[str, Any]) -> tuple[str, str] | None:
    """(guild id, user id) from /cards/{guildId}/{userId}.png, or None when either is not a snowflake."""
    guild_id = str(params.get("guildId") or "")
    match = _CARD_FILE.fullmatch(str(params.get("card") or ""))
    if match is None or not ids.is_snowflake(guild_id) or not ids.is_snowflake(match.group(1)):
        return None
    return guild_id, match.group(1)


def _signed(guild_id: str, user_id: str, query: dict[str, Any]) -> bool:
    try:
        return card_urls.verify(guild_id, user_id, query.get("exp"), query.get("sig"))
    except Exception:  # the key unreadable (SSM missing or failing): public cards are still served
        logger.exception("card signing key unavailable")
        return False


def _visible_card(guild_id: str, user_id: str, signed: bool) -> card_service.MemberCard | None:
    """The card when this request may see it, else None (whatever the reason)."""
    # A private guild answers before the member is read: no request tells a member from nobody.
    if not signed and not card_service.guild_board_public(guild_id):
        return None
    try:
        found = card_service.card_of(guild_id, user_id)
    except NotFound:
        return None
    return found if signed or found.public else None


def not_found() -> dict[str, Any]:
    return responses.error(ErrorCode.NOT_FOUND, "No such card", 404)


def internal_error() -> dict[str, Any]:
    return responses.error(ErrorCode.INTERNAL_ERROR, "Unexpected server error", 500)
