"""What an API key may do: the scopes, and the one rule mapping every route to the scope it needs.

A route is named as registered on its resolver (`/api/xp/users/<guildId>/<userId>`) with its method. The
rule goes by path prefix and method, so a new route under a known prefix gets the right scope without an
edit here, and `need` refuses (raises) on a path no prefix covers: tests/unit/test_scopes.py walks every
route every function registers, so a route without a scope fails the tests rather than a caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum


class Scope(StrEnum):
    XP_READ = "xp:read"
    XP_WRITE = "xp:write"
    CONFIG_READ = "config:read"
    CONFIG_WRITE = "config:write"
    SHOP_READ = "shop:read"
    SHOP_WRITE = "shop:write"
    IMPORT = "import"
    EXPORT = "export"


ALL_SCOPES: tuple[str, ...] = tuple(s.value for s in Scope)
ALL_GUILDS = "*"  # a key's guildIds == ["*"]: every guild, and the routes of no guild (global ones)
# What `/xp api-key` issues: what a dashboard reads.
DASHBOARD_SCOPES: tuple[Scope, ...] = (Scope.XP_READ, Scope.CONFIG_READ)


class Kind(Enum):
    PUBLIC = "public"  # no key needed (health)
    RELAY = "relay"  # the gateway relay's own key only
    ADMIN_ONLY = "admin-only"  # the admin key only (/api/keys: keys cannot make keys)
    SCOPED = "scoped"  # the admin key, or a key with `scope` (and the guild, see `global_route`)


@dataclass(frozen=True, slots=True)
class Need:
    kind: Kind
    scope: Scope | None = None
    # True: the route touches no one guild (global config, global recalculation, guild list, the shop), so
    # a key needs guildIds ["*"]. False with a guildId in the path: that guild must be in the key's list.
    global_route: bool = False


_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# (path, exact?, scope to read, scope to write, global route): the first that matches decides. Exact rules
# come before the prefixes they share ("/api/xp/config/global" before "/api/xp/config").
_RULES: tuple[tuple[str, bool, Scope, Scope, bool], ...] = (
    ("/api/xp/users", False, Scope.XP_READ, Scope.XP_WRITE, False),
    ("/api/xp/leaderboard", False, Scope.XP_READ, Scope.XP_WRITE, False),
    ("/api/xp/stats", False, Scope.XP_READ, Scope.XP_WRITE, False),
    ("/api/xp/guilds", True, Scope.XP_READ, Scope.XP_WRITE, True),
    ("/api/xp/guilds/", False, Scope.XP_READ, Scope.XP_WRITE, False),
    ("/api/xp/config/global", True, Scope.CONFIG_READ, Scope.CONFIG_WRITE, True),
    ("/api/xp/config", False, Scope.CONFIG_READ, Scope.CONFIG_WRITE, False),
    ("/api/xp/recalc", True, Scope.XP_WRITE, Scope.XP_WRITE, True),
    ("/api/xp/recalc/", False, Scope.XP_WRITE, Scope.XP_WRITE, False),
    ("/api/xp/import", False, Scope.IMPORT, Scope.IMPORT, False),
    ("/api/xp/export", False, Scope.EXPORT, Scope.EXPORT, False),
    ("/api/v1/", False, Scope.SHOP_READ, Scope.SHOP_WRITE, True),
)
_KINDS: tuple[tuple[str, bool, Kind], ...] = (
    ("/api/xp/health", True, Kind.PUBLIC),
    ("/api/xp/ingest", False, Kind.RELAY),
    ("/api/keys", True, Kind.ADMIN_ONLY),
    ("/api/keys/", False, Kind.ADMIN_ONLY),
)


def _matches(path: str, rule: str, exact: bool) -> bool:
    return path == rule if exact else path.startswith(rule)


def need(method: str, rule: str) -> Need:
    """The scope (and guild rule) a request needs, by its method and the route rule it matched."""
    path = rule.rstrip("/")
    for prefix, exact, kind in _KINDS:
        if _matches(path, prefix, exact):
            return Need(kind)
    reading = method.upper() in _READ_METHODS
    for prefix, exact, read, write, global_route in _RULES:
        if _matches(path, prefix, exact):
            return Need(Kind.SCOPED, read if reading else write, global_route)
    raise LookupError(f"no scope rule for {method.upper()} {rule}: add one to xpshop.scopes")


def missing(scopes: frozenset[str], guild_ids: frozenset[str], want: Need, guild_id: str | None) -> str | None:
    """Why a key with `scopes` on `guild_ids` may not make a request needing `want` (on `guild_id`, the
    path's guild if any), or None when it may. The message names the missing scope or guild."""
    problem: str | None = None
    if want.kind is Kind.PUBLIC:
        problem = None
    elif want.kind is not Kind.SCOPED or want.scope is None:
        problem = "This endpoint needs the admin key; an API key cannot use it"
    elif want.scope.value not in scopes:
        problem = f"This API key lacks the scope {want.scope.value}"
    elif ALL_GUILDS in guild_ids:
        problem = None
    elif want.global_route:
        problem = 'This endpoint is not about one guild: it needs a key for all guilds (guildIds ["*"])'
    elif guild_id is not None and guild_id not in guild_ids:
        problem = f"This API key has no access to guild {guild_id}"
    return problem
