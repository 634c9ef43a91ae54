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


def fine_bands(item: dict[str, Any] | None) -> bool:
    """Whether a guild's CONFIG item says its leaderboard is on the fine bands (store.keys.FINE_BANDS). The
    layout is an attribute beside the overrides, never in them: no config edit can change or show it."""
    return int((item or {}).get("bands", keys.SINGLE_BAND)) == keys.FINE_BANDS


def fine_bands_of(guild_id: str) -> bool:
    """The guild's band layout alone (one GetItem of its CONFIG item's `bands`), for a function that does not
    read the guild's config otherwise (the stream's)."""
    item = table().get_item(Key=keys.guild_config(guild_id), ProjectionExpression="bands").get("Item")
    return fine_bands(item)


def read_layers(guild_id: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(global overrides, guild overrides) in one BatchGetItem."""
    global_overrides, guild_overrides, _ = read_layers_and_bands(guild_id)
    return global_overrides, guild_overrides


def read_layers_and_bands(guild_id: str | None) -> tuple[dict[str, Any], dict[str, Any], bool]:
    """(global overrides, guild overrides, whether the guild is on the fine bands) in one BatchGetItem."""
    wanted = [keys.global_config()] + ([keys.guild_config(guild_id)] if guild_id else [])
    items = {item["PK"]: item for item in batch_get(wanted, consistent=True)}
    guild = items.get(keys.guild_pk(guild_id)) if guild_id else None
    return from_item(items.get(keys.GLOBAL_PK) or {}), from_item(guild or {}), fine_bands(guild)


def spread_bands(guild_id: str) -> bool:
    """Switch a guild's leaderboard to the fine bands (one-way). One conditional write of the layout beside
    its config (creating the item when the guild has no overrides: `version` stays absent, so the first
    config write still starts at version 1). False when it already was."""
    try:
        table().update_item(
            Key=keys.guild_config(guild_id),
            UpdateExpression="SET bands = :fine",
            ConditionExpression="attribute_not_exists(bands) OR bands < :fine",
            ExpressionAttributeValues={":fine": keys.FINE_BANDS},
        )
    except ClientError as exc:
        if not is_condition_failure(exc):
            raise
        return False
    return True


def read_layers_for_curve(guild_id: str) -> tuple[dict[str, Any], dict[str, Any], bool, bool]:
    """(global overrides, guild overrides, whether the guild is on the fine bands, whether a recalculation is
    pending for it) in one BatchGetItem. Pending (the guild's marker or every guild's): stored levels, and so
    the leaderboard bands, may still follow a previous curve or layout."""
    global_overrides, guild_overrides, fine, _, pending = _read_for_guild(guild_id, with_meta=False, consistent=True)
    return global_overrides, guild_overrides, fine, pending


def read_layers_and_guild(guild_id: str) -> tuple[dict[str, Any], dict[str, Any], bool, Guild | None, bool]:
    """(global overrides, guild overrides, whether it is on the fine bands, the guild's registry record or
    None, whether a recalculation is pending) in one BatchGetItem: what a public page must know before it
    shows anything. Eventually consistent (half the cost): public pages are cached for a minute anyway."""
    return _read_for_guild(guild_id, with_meta=True, consistent=False)


def _read_for_guild(
    guild_id: str, *, with_meta: bool, consistent: bool
) -> tuple[dict[str, Any], dict[str, Any], bool, Guild | None, bool]:
    wanted = [keys.global_config(), keys.guild_config(guild_id), keys.recalc_marker(guild_id), keys.recalc_marker(None)]
    if with_meta:
        wanted.append(keys.guild_meta(guild_id))
    global_overrides: dict[str, Any] = {}
    guild_overrides: dict[str, Any] = {}
    fine = False
    guild: Guild | None = None
    pending = False
    marker_sk = keys.recalc_marker(None)["SK"]
    for item in batch_get(wanted, consistent=consistent):
        if item["SK"] == marker_sk:
            pending = True
        elif item["PK"] == keys.GLOBAL_PK:
            global_overrides = from_item(item)
        elif item["SK"] == keys.CONFIG:
            guild_overrides, fine = from_item(item), fine_bands(item)
        elif item["SK"] == keys.META:
            guild = Guild.from_item(item)
    return global_overrides, guild_overrides, fine, guild, pending


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
        # version 0: never written (the item may still exist, holding only the leaderboard's band layout)
        condition = "attribute_not_exists(version)" if version == 0 else "version = :v"
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
