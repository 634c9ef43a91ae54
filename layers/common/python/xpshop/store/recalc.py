"""The recalculation job's storage: markers, resumable progress, member pages, counter rebuild.

A guild is recalculated when marked (its curve changed, or an admin asked). The job reads the guild's
members page by page, rewrites only the levels that differ (each write guarded by the XP it read, so a
concurrent award is never lost), and sums fresh counters. It checkpoints its cursor and partial sums
after every page, so an invocation that runs out of time resumes where it stopped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from ..clock import now_ms
from . import keys, pages, tx
from .conditions import Key
from .table import batch_get, is_condition_failure, plain, table

PAGE_SIZE = 200


def mark(guild_id: str | None, reason: str) -> None:
    """Ask for a recalculation of one guild (or of every guild with None)."""
    item: dict[str, Any] = {**keys.recalc_marker(guild_id), "markedAt": now_ms(), "reason": reason}
    if guild_id:
        item.update(keys.recalc_marker_index(guild_id))
    table().put_item(Item=item)


def mark_once(guild_id: str | None, reason: str) -> bool:
    """`mark` unless the guild (every guild with None) is marked already (a pass under way keeps its marker,
    and its progress): one conditional write. Whether this call marked it."""
    item: dict[str, Any] = {**keys.recalc_marker(guild_id), "markedAt": now_ms(), "reason": reason}
    if guild_id:
        item.update(keys.recalc_marker_index(guild_id))
    try:
        table().put_item(Item=item, ConditionExpression="attribute_not_exists(PK)")
    except ClientError as exc:
        if not is_condition_failure(exc):
            raise
        return False
    return True


def mark_layout_change(layout: int, record: dict[str, str] | None = None) -> bool:
    """Mark every guild for recalculation if the table was built in an older layout (or none recorded),
    recording `layout` in the same transaction; `record`: which layout (the rank counters' by default, or
    keys.board_layout_record() for the leaderboard bands). False when this layout or a newer one is
    recorded: forward only, so an older release still running beside a newer one (or rolled back to)
    never flips the table back to a layout it has stopped keeping."""
    record = record or keys.rank_layout_record()
    reason = "rank-layout" if record == keys.rank_layout_record() else "board-layout"
    try:
        tx.write(
            [
                tx.put(
                    {**record, "layout": layout, "changedAt": now_ms()},
                    "attribute_not_exists(PK) OR layout < :l",
                    values={":l": layout},
                ),
                tx.put({**keys.recalc_marker(None), "markedAt": now_ms(), "reason": f"{reason}-v{layout}"}),
            ]
        )
    except tx.Cancelled as exc:
        if exc.failed(0):
            return False
        raise
    return True


def layout_recorded(record: dict[str, str] | None = None) -> int | None:
    item = table().get_item(Key=record or keys.rank_layout_record()).get("Item")
    return int(item["layout"]) if item else None


def marker(guild_id: str | None) -> dict[str, Any] | None:
    item = table().get_item(Key=keys.recalc_marker(guild_id), ConsistentRead=True).get("Item")
    return plain(item) if item else None


def clear_marker(guild_id: str | None, marked_at: int) -> None:
    """Remove the marker unless it was set again while the job ran (then the next run goes again)."""
    try:
        table().delete_item(
            Key=keys.recalc_marker(guild_id),
            ConditionExpression="markedAt = :m",
            ExpressionAttributeValues={":m": marked_at},
        )
    except ClientError as exc:
        if not is_condition_failure(exc):
            raise


def marked_guilds() -> list[str]:
    return [str(i["GSI1SK"]) for i in pages.gsi1_all(keys.RECALC_GSI1PK)]


def load_progress(guild_id: str) -> dict[str, Any] | None:
    item = table().get_item(Key=keys.recalc_checkpoint(guild_id), ConsistentRead=True).get("Item")
    return json.loads(item["state"]) if item else None


def save_progress(guild_id: str, state: dict[str, Any]) -> None:
    table().put_item(Item={**keys.recalc_checkpoint(guild_id), "state": json.dumps(state), "savedAt": now_ms()})


def clear_progress(guild_id: str) -> None:
    table().delete_item(Key=keys.recalc_checkpoint(guild_id))


def member_pages(guild_id: str, start: dict[str, Any] | None) -> Iterator[tuple[list[dict[str, Any]], Any]]:
    """(members, cursor after them) per page, from `start`; the cursor is None after the last page."""
    kwargs: dict[str, Any] = {
        "KeyConditionExpression": Key("PK").eq(keys.guild_pk(guild_id)) & Key("SK").begins_with(keys.member_prefix()),
        "ConsistentRead": True,
        "Limit": PAGE_SIZE,
    }
    if start:
        kwargs["ExclusiveStartKey"] = start
    while True:
        resp = table().query(**kwargs)
        last = resp.get("LastEvaluatedKey")
        yield [plain(i) for i in resp.get("Items", [])], last
        if not last:
            return
        kwargs["ExclusiveStartKey"] = last


def read_shards(guild_id: str) -> dict[int, dict[str, Any]]:
    return {
        int(item["PK"].rsplit("#", 1)[1]): keys.strip(plain(item))
        for item in batch_get(keys.all_stats_shards(guild_id), consistent=True)
    }


def shard_versions(guild_id: str) -> dict[int, int]:
    return {shard: int(item.get("ver", 0)) for shard, item in read_shards(guild_id).items()}


def write_shards(guild_id: str, rebuilt: dict[int, dict[str, Any]], expected: dict[int, int]) -> bool:
    """Replace the counters of the shards in `rebuilt`, only if no other write reached ANY shard of the guild
    since `expected` (their versions) was read: one TransactWriteItems of the 16 shards (a Put for each
    rebuilt one, a ConditionCheck for the others). All or none, because a batch's deltas are summed onto
    one shard (an import's, a stream batch's): rewriting the shards its members belong to while that one
    keeps its deltas would count them twice. A rewrite moves `ver` on, so a second pass that read the
    same versions (an overlapping run) leaves the shards alone. False when refused."""
    items = []
    for shard in range(keys.STATS_SHARDS):
        key = keys.stats_shard_key(guild_id, shard)
        version = int(expected.get(shard, 0))
        # a shard never written has no `ver` (nor any item); one rebuilt from nothing has ver 1
        condition = "attribute_not_exists(ver) OR ver = :v" if version == 0 else "ver = :v"
        values = {":v": version}
        if shard in rebuilt:
            items.append(tx.put({**key, **rebuilt[shard], "ver": version + 1}, condition, values=values))
        else:
            items.append(tx.check(key, condition, values=values))
    try:
        tx.write(items)
    except tx.Cancelled as exc:
        if any(exc.failed(i) for i in range(len(items))):
            return False
        raise
    return True


def global_progress() -> dict[str, Any] | None:
    item = table().get_item(Key=keys.recalc_checkpoint_global(), ConsistentRead=True).get("Item")
    return plain(item) if item else None


def save_global_progress(marked_at: int, after: str) -> None:
    table().put_item(Item={**keys.recalc_checkpoint_global(), "markedAt": marked_at, "after": after})


def clear_global_progress() -> None:
    table().delete_item(Key=keys.recalc_checkpoint_global())
