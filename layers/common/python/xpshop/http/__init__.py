"""What the HTTP functions share, in a few modules:

- `resolver`: `make_resolver(style, ...)`, the `ApiStyle` settings, request normalisation, paging;
- `envelope`: success (`ok`, or `plain` for the shop) and error bodies;
- `gate`: access modes, then the guild and user id checks (and the one "guildId is required");
- `errors`: exceptions and validation errors as our codes, 404/405;
- `idempotency`: writes run once per Idempotency-Key.
"""

from .envelope import fail, ok, plain
from .gate import Access, admin_key_only, anonymous, caller, guild_id_param, no_misspelled_query
from .resolver import (
    RELAY_API,
    SHOP_API,
    XP_API,
    ApiStyle,
    Limit,
    Offset,
    Page,
    QueryInt,
    Resolver,
    make_resolver,
    once,
    page_window,
    raw_body,
    resolve,
)

__all__ = [
    "RELAY_API",
    "SHOP_API",
    "XP_API",
    "Access",
    "ApiStyle",
    "Limit",
    "Offset",
    "Page",
    "QueryInt",
    "Resolver",
    "admin_key_only",
    "anonymous",
    "caller",
    "fail",
    "guild_id_param",
    "make_resolver",
    "no_misspelled_query",
    "ok",
    "once",
    "page_window",
    "plain",
    "raw_body",
    "resolve",
]
