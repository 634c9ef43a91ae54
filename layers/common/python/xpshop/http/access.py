"""Keys v2 and rate limits at the gate: which key is calling, whether its scopes and guilds cover the route
(xpshop.scopes, the one route -> scope rule), and the caller's rate limit, with the X-RateLimit-* headers
added to whatever the request is answered with."""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from .. import auth, scopes
from ..errors import ApiError, ErrorCode
from ..service import access_keys, rate_limits
from ..store.access_keys import AccessKey

_verdict: ContextVar[rate_limits.Verdict | None] = ContextVar("xpshop_rate_verdict", default=None)
_counted: ContextVar[bool] = ContextVar("xpshop_rate_counted", default=False)
# Who the request was let in as, for its log line: "admin", "key:<id>", "user" (a shop user key), "relay",
# "anonymous" (never a key or a secret, nor a member id or a client address).
_caller: ContextVar[str | None] = ContextVar("xpshop_caller", default=None)
# The methods of the route when the request's own method is not one of them (a 405 on its way): set by the
# not-found handler (http.errors) before it runs the route's checks.
_route_methods: ContextVar[tuple[str, ...]] = ContextVar("xpshop_route_methods", default=())
_UNAUTHORIZED = {"WWW-Authenticate": 'Bearer realm="xpshop"'}


def begin() -> None:
    """A new request: nothing counted yet."""
    _verdict.set(None)
    _counted.set(False)
    _caller.set(None)
    _route_methods.set(())


def method_not_routed(methods: tuple[str, ...]) -> None:
    """The request's method is not one of the route's `methods`: the key's scope is checked against those."""
    _route_methods.set(methods)


def identified(who: str) -> None:
    """Name the caller for the request's log line (see `_caller`)."""
    _caller.set(who)


def caller_label() -> str | None:
    return _caller.get()


def decorate(result: dict[str, Any]) -> dict[str, Any]:
    """The X-RateLimit-* headers of the request's count on its answer (a limited caller only)."""
    verdict = _verdict.get()
    if verdict is not None and isinstance(result, dict):
        result["headers"] = {**(result.get("headers") or {}), **verdict.headers()}
    return result


def _limit(subject: str, limit: int) -> None:
    # no member id nor address in a log line: "user" and "anonymous" say enough
    identified("anonymous" if subject.startswith("ip:") else "user" if subject.startswith("user:") else subject)
    if _counted.get():  # the preflight can run twice for a request (see http.errors): count it once
        verdict = _verdict.get()
    else:
        _counted.set(True)
        verdict = None if limit <= 0 else rate_limits.count(subject, limit)
        _verdict.set(verdict)
    if verdict is not None and not verdict.allowed:
        raise verdict.refusal()


def anonymous(event: Mapping[str, Any]) -> None:
    """An unauthenticated caller of a public route: limited per client address."""
    _limit(rate_limits.ip_subject(event), rate_limits.anonymous_limit())


def public(app: APIGatewayHttpResolver) -> None:
    """A public route (health): the admin key under its own limit, anyone else per client address."""
    if auth.is_admin(auth.presented_key(app.current_event.headers or {})):
        _limit("admin", rate_limits.admin_limit())
    else:
        anonymous(app.current_event.raw_event)


def _key(presented: str) -> AccessKey:
    resolved = access_keys.resolve(presented)
    if resolved.key is None:
        raise ApiError(ErrorCode.UNAUTHORIZED, resolved.problem or "The API key is not valid", _UNAUTHORIZED)
    return resolved.key


def _authorize(key: AccessKey, method: str, rule: str, guild_id: str | None) -> None:
    guild = unquote(guild_id).strip() if guild_id is not None else None
    # A method the route does not have needs no scope of its own: a key that may use one of the route's methods
    # gets the 405 naming them (a 403 for a write scope would not help it); any other key, the 403.
    methods = _route_methods.get() or (method,)
    problems = [
        scopes.missing(frozenset(key.scopes), frozenset(key.guild_ids), scopes.need(m, rule), guild or None)
        for m in methods
    ]
    if all(problem is not None for problem in problems):
        raise ApiError(ErrorCode.FORBIDDEN, str(problems[0]))


API_KEY_ID = "api_key_id"  # the request context's entry naming the API key that was let in


def _keyed(app: APIGatewayHttpResolver, presented: str, rule: str, guild_id: str | None) -> None:
    key = _key(presented)
    _limit(f"key:{key.key_id}", access_keys.limit_of(key))
    _authorize(key, app.current_event.http_method, rule, guild_id)
    # an API key acts as the admin, but its Idempotency-Keys are its own (http.idempotency)
    app.append_context(**{API_KEY_ID: key.key_id})


def admin_or_key(app: APIGatewayHttpResolver, rule: str, guild_id: str | None) -> None:
    """The admin key, or an API key whose scopes and guilds cover the route; 401 otherwise."""
    headers = app.current_event.headers or {}
    presented = auth.presented_key(headers)
    if auth.is_admin(presented):
        _limit("admin", rate_limits.admin_limit())
    elif presented is not None and access_keys.looks_like_key(presented):
        _keyed(app, presented, rule, guild_id)
    else:
        auth.require_admin(headers)


def shop_caller(app: APIGatewayHttpResolver, rule: str, *, admin_only: bool) -> auth.Caller:
    """The shop's callers: the admin key, an API key with the shop scope (acts as the admin), or a user key
    (its own account only; 403 on admin routes)."""
    headers = app.current_event.headers or {}
    presented = auth.presented_key(headers)
    if auth.is_admin(presented):
        _limit("admin", rate_limits.admin_limit())
        return auth.Caller(admin=True)
    if presented is not None and access_keys.looks_like_key(presented):
        _keyed(app, presented, rule, None)
        return auth.Caller(admin=True)
    caller = auth.identify(headers)
    _limit(f"user:{caller.discord_id}", access_keys.default_rate_limit())
    if admin_only and not caller.admin:
        raise ApiError(ErrorCode.FORBIDDEN, "This endpoint needs the admin key; a user key cannot use it")
    return caller
