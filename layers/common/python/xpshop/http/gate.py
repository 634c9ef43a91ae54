"""Who may call a route and for which guild: access modes, then guild and user id checks.

Order of checks on a per-guild route (the XP seed's reference behaviour, plus auth first):
auth -> guild exists -> user id valid -> method allowed -> body parses -> fields.
Powertools validates bodies and query strings before route middlewares run, so the error handlers run
the same preflight first: a request that fails two checks gets the earlier one's error.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import TYPE_CHECKING
from urllib.parse import unquote

from .. import coldstart, ids
from ..errors import ErrorCode, InvalidInput

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

    from .. import auth
    from ..service import guilds as guild_service
    from . import access
else:  # the checks themselves (keys, scopes, rate limits, the guild; all read DynamoDB): on the first request
    auth = coldstart.later("xpshop.auth")
    guild_service = coldstart.later("xpshop.service.guilds")
    access = coldstart.later("xpshop.http.access")


class Access(Enum):
    PUBLIC = "public"
    ADMIN = "admin"
    LEADERBOARD = "leaderboard"  # public when the guild's leaderboard.public is true, else admin
    SHOP_ADMIN = "shop-admin"  # admin key; a user key gets 403
    ANY_KEY = "any-key"  # admin key or any user key
    OWN_ACCOUNT = "own-account"  # admin key, or a user key acting on its own account (see `account`)
    RELAY = "relay"  # the gateway relay's key only


_ID_FIELDS = {ErrorCode.MISSING_GUILD_ID: "guildId", ErrorCode.MISSING_USER_ID: "userId"}


def required(code: ErrorCode, hint: str | None = None) -> InvalidInput:
    """The one "guildId is required" / "userId is required" error (400), with the route to use as a hint."""
    message = f"{_ID_FIELDS[code]} is required"
    return InvalidInput(code, f"{message}: {hint}" if hint else message)


def guild_id_param(value: str) -> str:
    return ids.snowflake(value, "guildId")


class Preflight:
    """Auth, guild and user checks for a matched route pattern (see the module docstring for the order)."""

    def __init__(self, access: Mapping[str, Access], unregistered_ok: set[str]) -> None:
        self.access = access
        self.unregistered_ok = unregistered_ok

    def check(self, app: APIGatewayHttpResolver, route_path: str, args: Mapping[str, str]) -> None:
        if app.context.get("preflight_done"):
            return
        headers = app.current_event.headers or {}
        mode = self.access.get(route_path, Access.ADMIN)
        guild_id = args.get("guildId")
        # keys v2, scopes and rate limits: http.access (the route -> scope rule is xpshop.scopes)
        if mode is Access.ADMIN:
            access.admin_or_key(app, route_path, guild_id)
        elif mode is Access.SHOP_ADMIN:
            app.append_context(caller=access.shop_caller(app, route_path, admin_only=True))
        elif mode in (Access.ANY_KEY, Access.OWN_ACCOUNT):
            app.append_context(caller=access.shop_caller(app, route_path, admin_only=False))
        elif mode is Access.RELAY:
            auth.require_relay(headers)
            access.identified("relay")
        elif mode is Access.LEADERBOARD:
            app.append_context(anonymous=self._leaderboard_gate(app, route_path, guild_id))
        elif mode is Access.PUBLIC:
            access.public(app)
        if guild_id is not None and not unquote(guild_id).strip():
            raise required(ErrorCode.MISSING_GUILD_ID)
        if guild_id is not None and route_path not in self.unregistered_ok:
            # "guild exists" is the reference's second check: an id that is not a snowflake names no guild
            # (404 GUILD_NOT_FOUND, as the reference answers); only a route that registers one says 400.
            guild_service.require(guild_id)
        if "userId" in args:
            if not unquote(args["userId"]).strip():
                raise required(ErrorCode.MISSING_USER_ID)
            ids.snowflake(args["userId"], "userId")
        app.append_context(preflight_done=True)

    @staticmethod
    def _leaderboard_gate(app: APIGatewayHttpResolver, route_path: str, guild_id: str | None) -> bool:
        """Admin (or an API key with xp:read on the guild), or anyone when the guild's leaderboard is public;
        True for an anonymous caller let in (limited per client address)."""
        headers = app.current_event.headers or {}
        if auth.presented_key(headers) is not None or guild_id is None:
            access.admin_or_key(app, route_path, guild_id)
            return False
        from ..service.config import merged_guild  # only for anonymous reads

        if not (
            ids.is_snowflake(guild_id)
            and guild_service.guilds.exists(guild_id)
            and merged_guild(guild_id)["leaderboard"].get("public")
        ):
            auth.require_admin(headers)
        access.anonymous(app.current_event.raw_event)
        return True


def anonymous(app: APIGatewayHttpResolver) -> bool:
    """Whether a LEADERBOARD route was called without a key (a public leaderboard): public views apply, e.g.
    hidden members are masked. Admin calls see everything."""
    return app.context.get("anonymous") is True


def admin_key_only(app: APIGatewayHttpResolver, body: Mapping[str, object], fields: tuple[str, ...]) -> None:
    """Fields of a body that only the admin key may send (a null that resets one included): a scoped API
    key that may call the route otherwise gets 403 naming the field, before anything is written."""
    named = [name for name in fields if name in body]
    if named and not auth.is_admin(auth.presented_key(app.current_event.headers or {})):
        from ..errors import ApiError

        raise ApiError(ErrorCode.FORBIDDEN, f"{named[0]} can be set with the admin key only")


def _folded(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def no_misspelled_query(app: APIGatewayHttpResolver, known: tuple[str, ...]) -> None:
    """A write whose query parameters change what it does (the importer's `dryRun`): a parameter spelled
    like one of them but not quite (`dry_run`, `dryrun`, `Mode`) is a 400 naming both, before anything is
    written. Other unknown parameters stay ignored, as on every route; this one would be ignored too, and
    `dry_run=true` would then import for real."""
    exact = set(known)
    by_fold = {_folded(name): name for name in known}
    for given in app.current_event.query_string_parameters or {}:
        meant = by_fold.get(_folded(given))
        if meant is not None and given not in exact:
            raise InvalidInput(
                ErrorCode.INVALID_REQUEST,
                f"{given} is not a parameter of this route: did you mean {meant}? (nothing was written)",
            )


def caller(app: APIGatewayHttpResolver) -> auth.Caller:
    """Who called an ANY_KEY / OWN_ACCOUNT / SHOP_ADMIN route (set by the preflight)."""
    found = app.context.get("caller")
    if not isinstance(found, auth.Caller):
        raise RuntimeError("caller() used on a route without a key-based Access mode")
    return found
