"""Guild and global configuration overrides: one item each, versioned for optimistic concurrency."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from .. import retry
from ..errors import Unavailable
from . import keys
from .guilds import Guild
from .table import batch_get, failed_item, is_condition_failure, table, write_id

# Concurrent edits of one scope all land (tested with 20 at once): more tries than retry.ATTEMPTS.
MAX_ATTEMPTS = 10


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    """The overrides a config item holds. Stored as a JSON string: numbers keep their JSON types (1.0 stays a
    float)."""
    raw = item.get("config")
    return json.loads(raw) if isinstance(raw, str) else {}


def _key(guild_id: str | None) -> dict[str, str]:
    return keys.guild_config(guild_id) if guild_id else keys.global_config()


def read_layers(guild_id: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(global overrides, guild overrides) in one BatchGetItem."""
    wanted = [keys.global_config()] + ([keys.guild_config(guild_id)] if guild_id else [])
    found = {item["PK"]: from_item(item) for item in batch_get(wanted, consistent=True)}
    guild = found.get(keys.guild_pk(guild_id), {}) if guild_id else {}
    return found.get(keys.GLOBAL_PK, {}), guild


def read_layers_and_recalc(guild_id: str) -> tuple[dict[str, Any], dict[str, Any], bool]:
    """(global overrides, guild overrides, whether a recalculation is pending for the guild) in one
    BatchGetItem. Pending (the guild's marker or every guild's): stored levels, and so the leaderboard
    bands, may still follow a previous curve."""
    global_overrides, guild_overrides, _, pending = _read_for_guild(guild_id, with_meta=False, consistent=True)
    return global_overrides, guild_overrides, pending


def read_layers_and_guild(guild_id: str) -> tuple[dict[str, Any], dict[str, Any], Guild | None, bool]:
    """(global overrides, guild overrides, the guild's registry record or None, whether a recalculation is
    pending) in one BatchGetItem: what a public page must know before it shows anything. Eventually
    consistent (half the cost): public pages are cached for a minute anyway."""
    return _read_for_guild(guild_id, with_meta=True, consistent=False)


def _read_for_guild(
    guild_id: str, *, with_meta: bool, consistent: bool
) -> tuple[dict[str, Any], dict[str, Any], Guild | None, bool]:
    wanted = [keys.global_config(), keys.guild_config(guild_id), keys.recalc_marker(guild_id), keys.recalc_marker(None)]
    if with_meta:
        wanted.append(keys.guild_meta(guild_id))
    global_overrides: dict[str, Any] = {}
    guild_overrides: dict[str, Any] = {}
    guild: Guild | None = None
    pending = False
    marker_sk = keys.recalc_marker(None)["SK"]
    for item in batch_get(wanted, consistent=consistent):
        if item["SK"] == marker_sk:
            pending = True
        elif item["PK"] == keys.GLOBAL_PK:
            global_overrides = from_item(item)
        elif item["SK"] == keys.CONFIG:
            guild_overrides = from_item(item)
        elif item["SK"] == keys.META:
            guild = Guild.from_item(item)
    return global_overrides, guild_overrides, guild, pending


def read(guild_id: str | None) -> tuple[dict[str, Any], int]:
    """The overrides of one scope and their version (0 when never written)."""
    item = table().get_item(Key=_key(guild_id), ConsistentRead=True).get("Item")
    if not item:
        return {}, 0
    return from_item(item), int(item.get("version", 0))


def update(guild_id: str | None, mutate: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    """Apply `mutate` to the stored overrides and write them back if nobody else wrote in between.

    The write is conditional on the version we read, so two concurrent updates never lose each other's
    change: the loser re-reads and re-applies. `mutate` may raise to reject (nothing is written).
    """
    for _ in retry.attempts(MAX_ATTEMPTS, base=0.02):
        current, version = read(guild_id)
        updated = mutate(current)
        condition = "attribute_not_exists(PK)" if version == 0 else "version = :v"
        wid = write_id()  # a second send of this same write (its answer lost) is recognised by it
        values: dict[str, Any] = {
            ":c": json.dumps(updated, separators=(",", ":")),
            ":next": version + 1,
            ":wid": wid,
        }
        if version:
            values[":v"] = version
        try:
            table().update_item(
                Key=_key(guild_id),
                UpdateExpression="SET config = :c, version = :next, wid = :wid",
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return updated
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            if (failed_item(exc) or {}).get("wid") == wid:
                return updated  # the first send was applied
    raise Unavailable("The configuration is being changed concurrently; retry shortly")
