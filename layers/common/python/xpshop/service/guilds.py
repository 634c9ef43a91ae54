"""Guild registry use cases."""

from __future__ import annotations

from typing import Any

from ..errors import ErrorCode, NotFound
from ..ids import is_snowflake
from ..store import guilds


def require(guild_id: str) -> None:
    """404 GUILD_NOT_FOUND unless the guild is registered (an id that is not a snowflake never is)."""
    if not is_snowflake(guild_id) or not guilds.exists(guild_id):
        shown = guild_id if len(guild_id) <= 40 else guild_id[:40] + "..."
        raise NotFound(ErrorCode.GUILD_NOT_FOUND, f"Guild {shown} is not registered")


def register(guild_id: str, name: str | None, source: str = "api") -> tuple[dict[str, Any], bool]:
    guild, created = guilds.register(guild_id, name, source)
    return guild.as_dict(), created


def list_guilds(limit: int, cursor: str | None) -> dict[str, Any]:
    page, next_cursor = guilds.list_page(limit, cursor)
    return {"guilds": [g.as_dict() for g in page], "nextCursor": next_cursor}
