"""The admin key: where it comes from and how a request presents it."""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass

from . import snapstart
from .errors import ApiError, ErrorCode

_CACHE_SECONDS = 300


def _secret(local_env: str, param_env: str) -> str | None:
    """A secret from `local_env` (local runs), else the SSM SecureString named by `param_env` (cached 5 min)."""
    local = os.environ.get(local_env)
    if local:
        return local
    name = os.environ.get(param_env)
    if not name:
        return None
    from aws_lambda_powertools.utilities import parameters  # only deployed functions pay for this import

    value = parameters.get_parameter(name, decrypt=True, max_age=_CACHE_SECONDS)
    return str(value) if value else None


@snapstart.on_restore
def forget_secrets() -> None:
    """Drop the cached SSM values (a restored copy reads the current keys: a rotation is honoured at once)."""
    import sys

    parameters = sys.modules.get("aws_lambda_powertools.utilities.parameters")
    if parameters is not None:
        parameters.clear_caches()


def admin_key() -> str | None:
    """XPSHOP_ADMIN_KEY locally; deployed, the SSM SecureString named by ADMIN_KEY_PARAM."""
    return _secret("XPSHOP_ADMIN_KEY", "ADMIN_KEY_PARAM")


def presented_key(headers: Mapping[str, str]) -> str | None:
    """`Authorization: Bearer <key>` or `X-API-Key: <key>` (header names are case-insensitive)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    auth = lowered.get("authorization", "")
    if auth[:7].lower() == "bearer " and auth[7:].strip():
        return auth[7:].strip()
    key = lowered.get("x-api-key", "").strip()
    return key or None


# A key sent without the `Bearer ` scheme (`Authorization: <key>`) or with another one (`Basic ...`) is not
# read as a key: saying "a key is required" to a caller who sent one would send them looking in the wrong place.
_MALFORMED_AUTHORIZATION = (
    "The Authorization header must be `Bearer <key>` (the key can also be sent as `X-API-Key: <key>`)"
)


def _missing_key_message(headers: Mapping[str, str], missing: str) -> str:
    """Why no key was read from `headers`: `missing` when none was sent, or what is wrong with a non-empty
    Authorization header that is not `Bearer <key>`."""
    auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    return _MALFORMED_AUTHORIZATION if auth.strip() else missing


def is_admin(presented: str | None) -> bool:
    expected = admin_key()
    if not presented or not expected:
        return False
    return hmac.compare_digest(presented.encode(), expected.encode())


def require_admin(headers: Mapping[str, str]) -> None:
    presented = presented_key(headers)
    if not is_admin(presented):
        message = (
            _missing_key_message(headers, "A valid admin key is required")
            if presented is None
            else "The API key is not valid"
        )
        raise ApiError(ErrorCode.UNAUTHORIZED, message, {"WWW-Authenticate": 'Bearer realm="xpshop"'})


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling the shop API: the admin, or the owner of a user API key."""

    admin: bool
    discord_id: str | None = None


def identify(headers: Mapping[str, str]) -> Caller:
    """The admin or a user key's owner; 401 for no key and for an unknown or revoked one."""
    presented = presented_key(headers)
    if is_admin(presented):
        return Caller(admin=True)
    if presented is not None:
        from .store.profiles import key_owner  # user keys live in the table

        owner = key_owner(presented)
        if owner is not None:
            return Caller(admin=False, discord_id=owner)
    message = (
        _missing_key_message(headers, "An API key is required") if presented is None else "The API key is not valid"
    )
    raise ApiError(ErrorCode.UNAUTHORIZED, message, {"WWW-Authenticate": 'Bearer realm="xpshop"'})


def require_shop_admin(headers: Mapping[str, str]) -> Caller:
    caller = identify(headers)
    if not caller.admin:
        raise ApiError(ErrorCode.FORBIDDEN, "This endpoint needs the admin key; a user key cannot use it")
    return caller


def relay_key() -> str | None:
    """The gateway relay's key: XPSHOP_RELAY_KEY locally, else the SSM SecureString named by RELAY_KEY_PARAM."""
    return _secret("XPSHOP_RELAY_KEY", "RELAY_KEY_PARAM")


def require_relay(headers: Mapping[str, str]) -> None:
    """Only the relay may push messages (its own secret: the admin key is not accepted here)."""
    presented = presented_key(headers)
    expected = relay_key()
    if not presented or not expected or not hmac.compare_digest(presented.encode(), expected.encode()):
        message = (
            _missing_key_message(headers, "The relay key is required")
            if presented is None
            else "The relay key is not valid"
        )
        raise ApiError(ErrorCode.UNAUTHORIZED, message, {"WWW-Authenticate": 'Bearer realm="xpshop-relay"'})


def card_signing_key() -> str | None:
    """The key of signed rank card URLs: XPSHOP_CARD_SIGNING_KEY locally, else the SSM SecureString named by
    CARD_SIGNING_KEY_PARAM (cached 5 min). Without one, only public cards are served."""
    return _secret("XPSHOP_CARD_SIGNING_KEY", "CARD_SIGNING_KEY_PARAM")


def discord_bot_token() -> str | None:
    """The bot token for Discord's REST API: DISCORD_BOT_TOKEN locally, else the SSM SecureString named by
    DISCORD_BOT_TOKEN_PARAM (cached 5 min). Interaction webhooks (deferred answers) need none."""
    return _secret("DISCORD_BOT_TOKEN", "DISCORD_BOT_TOKEN_PARAM")


def shop_guild_ids() -> frozenset[str]:
    """The Discord servers the shop trusts (SHOP_GUILD_IDS, comma separated): only their level-ups pay
    credits and only their join dates count for a coupon's day_limit. Credits are one balance per user
    across servers, so a server anyone can add the bot to must not be able to mint them."""
    return frozenset(g.strip() for g in os.environ.get("SHOP_GUILD_IDS", "").split(",") if g.strip())
