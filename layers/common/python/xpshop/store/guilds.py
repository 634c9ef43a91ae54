"""The guild registry: a guild exists once seen from Discord or registered by an admin."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from .. import snapstart
from ..clock import now_ms
from . import keys, pages
from .table import failed_item, is_condition_failure, plain, table

# Registrations are never undone, so a positive answer can be remembered for the container's life.
_KNOWN: set[str] = set()


@dataclass(frozen=True, slots=True)
class Guild:
    guild_id: str
    name: str | None
    registered_at: int
    source: str

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Guild:
        item = plain(item)
        return cls(str(item["guildId"]), item.get("name"), int(item["registeredAt"]), item.get("source", "api"))

    def as_dict(self) -> dict[str, Any]:
        return {"guildId": self.guild_id, "name": self.name, "registeredAt": self.registered_at, "source": self.source}


def register(guild_id: str, name: str | None, source: str) -> tuple[Guild, bool]:
    """Register a guild once; a repeat returns the existing record, renamed when it names the guild otherwise
    (Discord and the relay register guilds without a name: an admin names them afterwards). Returns (guild,
    created)."""
    now = now_ms()
    item: dict[str, Any] = {
        **keys.guild_meta(guild_id),
        **keys.guild_index(guild_id),
        "guildId": guild_id,
        "registeredAt": now,
        "source": source,
    }
    if name:
        item["name"] = name
    try:
        table().put_item(
            Item=item, ConditionExpression="attribute_not_exists(PK)", ReturnValuesOnConditionCheckFailure="ALL_OLD"
        )
    except ClientError as exc:
        if not is_condition_failure(exc):
            raise
        _KNOWN.add(guild_id)
        existing = failed_item(exc)
        if name and existing is not None and existing.get("name") != name:
            return _rename(guild_id, name), False
        return Guild.from_item(existing or item), False
    _KNOWN.add(guild_id)
    return Guild.from_item(item), True


def _rename(guild_id: str, name: str) -> Guild:
    """One write: the name only (who registered the guild, and when, are kept)."""
    resp = table().update_item(
        Key=keys.guild_meta(guild_id),
        UpdateExpression="SET #name = :name",
        ConditionExpression="attribute_exists(PK)",  # registrations are never undone: this always holds
        ExpressionAttributeNames={"#name": "name"},
        ExpressionAttributeValues={":name": name},
        ReturnValues="ALL_NEW",
    )
    return Guild.from_item(resp["Attributes"])


def exists(guild_id: str) -> bool:
    if guild_id in _KNOWN:
        return True
    # Strongly consistent: a guild registered a moment ago through another function must be found.
    resp = table().get_item(Key=keys.guild_meta(guild_id), ProjectionExpression="PK", ConsistentRead=True)
    if "Item" in resp:
        _KNOWN.add(guild_id)
        return True
    return False


@snapstart.on_restore
def forget_cache() -> None:
    _KNOWN.clear()


def list_page(limit: int, token: str | None) -> tuple[list[Guild], str | None]:
    belongs = keys.gsi1_cursor_check(keys.GUILDS_GSI1PK, "GUILD#")
    found, next_cursor = pages.gsi1_page(keys.GUILDS_GSI1PK, limit, token, belongs)
    return [Guild.from_item(i) for i in found], next_cursor
