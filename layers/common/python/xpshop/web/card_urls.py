"""Rank card URLs: plain for public cards, signed and expiring for the others.

A signed URL is `/cards/{guildId}/{userId}.png?exp=<unix seconds>&sig=<hex HMAC-SHA256 of "guildId/userId/exp">`
with the card signing key (see `auth.card_signing_key`). The bot puts one in `/rank` embeds when the card is not
public (the guild's board is private, or the member hid themselves), so the people in that channel see it and
nobody can list other members' cards. It stays valid for TTL_SECONDS: Discord's media proxy fetches the image
when the message is posted and again when its cache expires, so an old message's card goes away after a day,
like Discord's own expiring attachment links.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from urllib.parse import urlencode

from .. import auth
from .urls import card_path

TTL_SECONDS = 24 * 3600
_EXP = re.compile(r"[1-9][0-9]{0,11}")
_SIG = re.compile(r"[0-9a-f]{64}")


def signature(key: str, guild_id: str, user_id: str, exp: int) -> str:
    return hmac.new(key.encode(), f"{guild_id}/{user_id}/{exp}".encode(), hashlib.sha256).hexdigest()


def signed_query(guild_id: str, user_id: str, *, now: float | None = None, key: str | None = None) -> str | None:
    """`exp=...&sig=...` for a card valid TTL_SECONDS from now, or None when no signing key is configured."""
    key = key if key is not None else auth.card_signing_key()
    if not key:
        return None
    exp = int(time.time() if now is None else now) + TTL_SECONDS
    return urlencode({"exp": exp, "sig": signature(key, guild_id, user_id, exp)})


def verify(
    guild_id: str,
    user_id: str,
    exp: str | None,
    sig: str | None,
    *,
    now: float | None = None,
    key: str | None = None,
) -> bool:
    """True only for an unexpired signature of this very card by our key. Anything else, malformed included,
    is False: the caller answers it like an unknown card."""
    if not exp or not sig or not _EXP.fullmatch(exp) or not _SIG.fullmatch(sig):
        return False
    current = int(time.time() if now is None else now)
    expires = int(exp)
    # Expired, or further out than we ever sign: refused before the key is even needed.
    if expires < current or expires > current + TTL_SECONDS + 300:
        return False
    key = key if key is not None else auth.card_signing_key()
    if not key:
        return False
    return hmac.compare_digest(signature(key, guild_id, user_id, expires), sig)


def card_url(base: str, guild_id: str, user_id: str, *, public: bool, version: str | None = None) -> str | None:
    """The absolute URL to put in an embed: plain when the card is public (`version` busts Discord's image
    cache when the numbers change), else signed; None when it is not public and nothing can sign."""
    path = base.rstrip("/") + card_path(guild_id, user_id)
    if public:
        return path + (f"?{urlencode({'v': version})}" if version else "")
    query = signed_query(guild_id, user_id)
    return f"{path}?{query}" if query else None
