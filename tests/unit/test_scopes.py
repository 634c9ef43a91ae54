"""The one route -> scope rule (xpshop.scopes): every route of every function has a scope (or is public,
the relay's, or admin-only), and the table below is what the README's scopes table promises."""

from __future__ import annotations

import sys

import pytest

from local import REPO_ROOT
from local.lambdas import load_handler
from local.template import functions, load_template
from xpshop.scopes import ALL_GUILDS, Kind, Need, Scope, missing, need


def registered_routes() -> list[tuple[str, str, str]]:
    """(function, method, rule) for every route every resolver registers, plus the template's routes of
    the plain handlers (web leaderboard, rank cards, interactions, docs)."""
    found = []
    for spec in sorted(functions(load_template()).values(), key=lambda s: s.logical_id):
        if not spec.routes:
            continue
        handler = load_handler(REPO_ROOT, spec)
        app = getattr(sys.modules[handler.__module__], "app", None)
        for route in getattr(app, "registered", []):
            found.append((spec.logical_id, route.method, route.rule))
    return found


ROUTES = registered_routes()
# Functions that are not resolvers: anonymous by design (limited per client address) or signed.
PLAIN = {"WebLeaderboardFunction", "RankCardsFunction", "DiscordInteractionsFunction", "ApiDocsFunction"}


def test_every_http_function_with_a_resolver_is_enumerated():
    with_routes = {s.logical_id for s in functions(load_template()).values() if s.routes}
    assert with_routes - PLAIN == {f for f, _, _ in ROUTES}
    assert len(ROUTES) > 60


@pytest.mark.parametrize(("function", "method", "rule"), ROUTES, ids=[f"{m} {r}" for _, m, r in ROUTES])
def test_every_registered_route_has_a_scope_rule(function, method, rule):
    want = need(method, rule)
    if want.kind is Kind.SCOPED:
        assert want.scope is not None
        # a route with no guild in its path is either global (needs ["*"]) or a "guildId is required" route
        if "<guildId>" in rule:
            assert not want.global_route
    elif want.kind is Kind.PUBLIC:
        assert rule == "/api/xp/health"
    elif want.kind is Kind.RELAY:
        assert function == "XpIngestFunction"
    else:
        assert function == "ApiKeysFunction"


EXPECTED = [
    ("GET", "/api/xp/users/<guildId>", Scope.XP_READ, False),
    ("GET", "/api/xp/users/<guildId>/<userId>", Scope.XP_READ, False),
    ("POST", "/api/xp/users/<guildId>/<userId>", Scope.XP_WRITE, False),
    ("PUT", "/api/xp/users/<guildId>/<userId>", Scope.XP_WRITE, False),
    ("DELETE", "/api/xp/users/<guildId>/<userId>", Scope.XP_WRITE, False),
    ("GET", "/api/xp/leaderboard/<guildId>", Scope.XP_READ, False),
    ("GET", "/api/xp/leaderboard/<guildId>/<userId>", Scope.XP_READ, False),
    ("GET", "/api/xp/stats/<guildId>", Scope.XP_READ, False),
    ("GET", "/api/xp/guilds", Scope.XP_READ, True),
    ("PUT", "/api/xp/guilds/<guildId>", Scope.XP_WRITE, False),
    ("GET", "/api/xp/config/global", Scope.CONFIG_READ, True),
    ("PUT", "/api/xp/config/global", Scope.CONFIG_WRITE, True),
    ("GET", "/api/xp/config/<guildId>", Scope.CONFIG_READ, False),
    ("PUT", "/api/xp/config/<guildId>", Scope.CONFIG_WRITE, False),
    ("POST", "/api/xp/config/<guildId>/rewards", Scope.CONFIG_WRITE, False),
    ("DELETE", "/api/xp/config/<guildId>/multipliers", Scope.CONFIG_WRITE, False),
    ("POST", "/api/xp/recalc", Scope.XP_WRITE, True),
    ("POST", "/api/xp/recalc/<guildId>", Scope.XP_WRITE, False),
    ("POST", "/api/xp/import/<guildId>", Scope.IMPORT, False),
    ("GET", "/api/xp/import/<guildId>/jobs/<jobId>", Scope.IMPORT, False),
    ("GET", "/api/xp/export/<guildId>", Scope.EXPORT, False),
    ("GET", "/api/v1/cosmetics/list", Scope.SHOP_READ, True),
    ("POST", "/api/v1/cosmetics/buy", Scope.SHOP_WRITE, True),
    ("PATCH", "/api/v1/credits/modify", Scope.SHOP_WRITE, True),
    ("DELETE", "/api/v1/keys", Scope.SHOP_WRITE, True),
]


@pytest.mark.parametrize(("method", "rule", "scope", "global_route"), EXPECTED)
def test_the_scope_of_each_kind_of_route(method, rule, scope, global_route):
    assert need(method, rule) == Need(Kind.SCOPED, scope, global_route)
    assert (method, rule) in {(m, r) for _, m, r in ROUTES}, "the table names a route that exists"


def test_keys_public_and_relay_routes():
    assert need("POST", "/api/keys").kind is Kind.ADMIN_ONLY
    assert need("DELETE", "/api/keys/<keyId>").kind is Kind.ADMIN_ONLY
    assert need("GET", "/api/xp/health").kind is Kind.PUBLIC
    assert need("POST", "/api/xp/ingest/messages").kind is Kind.RELAY


def test_an_unknown_route_has_no_scope_and_says_so():
    with pytest.raises(LookupError, match="no scope rule"):
        need("GET", "/api/v2/anything")


G, OTHER = "111111111111111111", "222222222222222222"


@pytest.mark.parametrize(
    ("scopes", "guilds", "want", "guild", "problem"),
    [
        ({"xp:read"}, {G}, Need(Kind.SCOPED, Scope.XP_READ), G, None),
        ({"xp:read"}, {G}, Need(Kind.SCOPED, Scope.XP_WRITE), G, "lacks the scope xp:write"),
        ({"xp:read"}, {G}, Need(Kind.SCOPED, Scope.XP_READ), OTHER, f"no access to guild {OTHER}"),
        ({"xp:read"}, set(), Need(Kind.SCOPED, Scope.XP_READ), G, f"no access to guild {G}"),
        ({"xp:read"}, {ALL_GUILDS}, Need(Kind.SCOPED, Scope.XP_READ), OTHER, None),
        ({"config:read"}, {G}, Need(Kind.SCOPED, Scope.CONFIG_READ, True), None, 'guildIds ["*"]'),
        ({"config:read"}, {ALL_GUILDS}, Need(Kind.SCOPED, Scope.CONFIG_READ, True), None, None),
        ({"shop:read"}, {ALL_GUILDS}, Need(Kind.ADMIN_ONLY), None, "needs the admin key"),
        ({"xp:write"}, {ALL_GUILDS}, Need(Kind.RELAY), None, "needs the admin key"),
        (set(), set(), Need(Kind.PUBLIC), None, None),
    ],
)
def test_what_a_key_is_refused_names_the_missing_scope_or_guild(scopes, guilds, want, guild, problem):
    got = missing(frozenset(scopes), frozenset(guilds), want, guild)
    if problem is None:
        assert got is None
    else:
        assert got is not None and problem in got


def _documented_operations() -> list[tuple[str, str, dict]]:
    import json

    document = json.loads((REPO_ROOT / "docs" / "openapi.json").read_text())
    return [
        (method.upper(), path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if isinstance(operation, dict) and "responses" in operation
    ]


OPERATIONS = _documented_operations()


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS])
def test_every_operation_an_api_key_can_be_refused_on_documents_403(method, path, operation):
    """An API key without the route's scope or guild (or any API key on /api/keys) is answered 403 FORBIDDEN:
    the document must say so, or a generated client has no model for the answer it gets."""
    want = need(method, path)
    if want.kind in (Kind.SCOPED, Kind.ADMIN_ONLY):
        assert "403" in operation["responses"], f"{method} {path} answers 403 to a key without its scope"
        assert "scope" in operation["responses"]["403"]["description"]
    else:  # public (health) and the relay's routes never answer 403
        assert "403" not in operation["responses"]
