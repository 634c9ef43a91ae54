"""Every key format of the single table, and nothing else builds keys.

| item            | PK            | SK                                  |
|-----------------|---------------|-------------------------------------|
| guild registry  | GUILD#<g>     | META        (GSI1: GUILDS / <g>)    |
| guild config    | GUILD#<g>     | CONFIG                              |
| global config   | GLOBAL        | CONFIG                              |
| member XP       | GUILD#<g>     | MEMBER#<u>  (Leaderboard: PK/score) |
| guild counters  | GUILD#<g>     | STATS#<shard>                       |
| XP audit record | GUILD#<g>     | AUDIT#<u>#<ms>#<id>  (TTL)          |
| idempotency     | IDEMPOTENCY#<function> | <hash>  (Powertools)       |
"""

from __future__ import annotations

from typing import Any

META = "META"
CONFIG = "CONFIG"
GLOBAL_PK = "GLOBAL"
GUILDS_GSI1PK = "GUILDS"
MEMBER_PREFIX = "MEMBER#"
STATS_PREFIX = "STATS#"
AUDIT_PREFIX = "AUDIT#"
LEADERBOARD_INDEX = "Leaderboard"
GSI1 = "GSI1"

# Counters are spread over shards so that no single item takes every write of a busy guild.
STATS_SHARDS = 16

# Leaderboard order in one number: XP descending, then user id ascending on ties.
# score = xp * 10^20 + (10^20 - 1 - userId); fits DynamoDB's 38 significant digits for xp < 10^15.
SCORE_XP_UNIT = 10**20


def guild_pk(guild_id: str) -> str:
    return f"GUILD#{guild_id}"


def guild_meta(guild_id: str) -> dict[str, str]:
    return {"PK": guild_pk(guild_id), "SK": META}


def guild_config(guild_id: str) -> dict[str, str]:
    return {"PK": guild_pk(guild_id), "SK": CONFIG}


def global_config() -> dict[str, str]:
    return {"PK": GLOBAL_PK, "SK": CONFIG}


def member(guild_id: str, user_id: str) -> dict[str, str]:
    return {"PK": guild_pk(guild_id), "SK": f"{MEMBER_PREFIX}{user_id}"}


def stats_shard(guild_id: str, user_id: str) -> dict[str, str]:
    return {"PK": guild_pk(guild_id), "SK": f"{STATS_PREFIX}{int(user_id) % STATS_SHARDS:02d}"}


def audit(guild_id: str, user_id: str, at_ms: int, record_id: str) -> dict[str, str]:
    return {"PK": guild_pk(guild_id), "SK": f"{AUDIT_PREFIX}{user_id}#{at_ms:013d}#{record_id}"}


def audit_prefix(user_id: str) -> str:
    return f"{AUDIT_PREFIX}{user_id}#"


def guild_index(guild_id: str) -> dict[str, str]:
    return {"GSI1PK": GUILDS_GSI1PK, "GSI1SK": guild_id}


def idempotency_pk(function_name: str) -> str:
    return f"IDEMPOTENCY#{function_name}"


def score(xp: int, user_id: str) -> int:
    return xp * SCORE_XP_UNIT + (SCORE_XP_UNIT - 1 - int(user_id))


def level_counter(level: int) -> str:
    """Attribute name of a level-histogram counter on a stats shard."""
    return f"lv_{level}"


def level_from_counter(attribute: str) -> int | None:
    return int(attribute[3:]) if attribute.startswith("lv_") and attribute[3:].isdigit() else None


def user_id_from_member_sk(sk: str) -> str:
    return sk[len(MEMBER_PREFIX) :]


def strip(item: dict[str, Any]) -> dict[str, Any]:
    """An item without its key and index attributes (what the domain sees)."""
    return {k: v for k, v in item.items() if k not in {"PK", "SK", "GSI1PK", "GSI1SK", "score"}}
