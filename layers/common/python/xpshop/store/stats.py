"""Guild counters, sharded: members, total XP, messages, level sum and a level histogram.

Each member write adds its delta to the shard of that member (user id mod STATS_SHARDS); every shard has
its own partition key, so a busy guild spreads its counter writes over 16 partitions. Reading the stats is
one BatchGetItem of the 16 shards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from . import keys, tx
from .members import Change
from .table import batch_get, is_condition_failure, plain, table, write_id


@dataclass(slots=True)
class Totals:
    members: int = 0
    xp: int = 0
    messages: int = 0
    xp_messages: int = 0
    level_sum: int = 0
    distribution: dict[int, int] = field(default_factory=dict)

    def add(self, change: Change, messages: int = 0, xp_messages: int = 0) -> None:
        """Sum one member change into these deltas (what `apply` would write for it alone)."""
        self.members += 1 if change.created else 0
        self.xp += change.new_xp - change.old_xp
        self.level_sum += change.new_level - change.old_level
        self.messages += messages
        self.xp_messages += xp_messages
        if change.created or change.old_level != change.new_level:
            self.distribution[change.new_level] = self.distribution.get(change.new_level, 0) + 1
            if not change.created:
                self.distribution[change.old_level] = self.distribution.get(change.old_level, 0) - 1

    def empty(self) -> bool:
        return not (
            self.members
            or self.xp
            or self.level_sum
            or self.messages
            or self.xp_messages
            or any(self.distribution.values())
        )


def apply(guild_id: str, user_id: str, change: Change, messages: int = 0, xp_messages: int = 0) -> None:
    """Add one member change to its counter shard (ADD on absent attributes starts from 0)."""
    values: dict[str, Any] = {
        ":members": 1 if change.created else 0,
        ":xp": change.new_xp - change.old_xp,
        ":levels": change.new_level - change.old_level,
        ":messages": messages,
        ":xpMessages": xp_messages,
    }
    names: dict[str, str] = {}
    # `ver` counts the writes to a shard, so a counter rebuild can tell that live traffic touched it.
    parts = [
        "members :members",
        "xp :xp",
        "levelSum :levels",
        "messages :messages",
        "xpMessages :xpMessages",
        "ver :one",
    ]
    values[":one"] = 1
    if change.created or change.old_level != change.new_level:
        names["#new"] = keys.level_counter(change.new_level)
        parts.append("#new :one")
        if not change.created:
            names["#old"] = keys.level_counter(change.old_level)
            values[":minus"] = -1
            parts.append("#old :minus")
    _add(keys.stats_shard(guild_id, user_id), parts, names, values)


def _add(key: dict[str, str], parts: list[str], names: dict[str, str], values: dict[str, Any]) -> int | None:
    """ADD the deltas to one shard, once: the write carries a fresh write id, so when botocore sends it
    again because the answer was lost after DynamoDB applied it, the second send is refused on that id
    instead of counting twice. (A write to the same shard by someone else in between hides the id: the
    recalculation job rebuilds counters from members.) Returns the members the shard counts after the
    write when it counted new members (handed back by the same write: no request of its own), else None."""
    wid = write_id()
    kwargs: dict[str, Any] = {
        "Key": key,
        "UpdateExpression": "ADD " + ", ".join(parts) + " SET wid = :wid",
        "ConditionExpression": "attribute_not_exists(wid) OR wid <> :wid",
        "ExpressionAttributeValues": {**values, ":wid": wid},
    }
    if names:
        kwargs["ExpressionAttributeNames"] = names
    created = bool(values.get(":members"))
    if created:
        kwargs["ReturnValues"] = "UPDATED_NEW"
    try:
        resp = table().update_item(**kwargs)
    except ClientError as exc:
        if not is_condition_failure(exc):
            raise  # refused on our own id: the first send counted
        return None
    return int(resp.get("Attributes", {}).get("members", 0)) if created else None


def _totals_update(totals: Totals) -> tuple[list[str], dict[str, str], dict[str, Any]]:
    """The ADD clauses (and their names and values) that add summed deltas to a shard."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {
        ":members": totals.members,
        ":xp": totals.xp,
        ":levels": totals.level_sum,
        ":messages": totals.messages,
        ":xpMessages": totals.xp_messages,
        ":one": 1,
    }
    parts = [
        "members :members",
        "xp :xp",
        "levelSum :levels",
        "messages :messages",
        "xpMessages :xpMessages",
        "ver :one",
    ]
    for i, (level, count) in enumerate(sorted(totals.distribution.items())):
        if count:
            names[f"#l{i}"] = keys.level_counter(level)
            values[f":l{i}"] = count
            parts.append(f"#l{i} :l{i}")
    return parts, names, values


def apply_totals(guild_id: str, shard_user_id: str, totals: Totals) -> int | None:
    """Add summed deltas (a whole batch of a guild) in one write; any shard will do, the reads sum them all.
    When the deltas count new members: the members that shard counts now (else None)."""
    parts, names, values = _totals_update(totals)
    return _add(keys.stats_shard(guild_id, shard_user_id), parts, names, values)


def totals_update(guild_id: str, shard_user_id: str, totals: Totals) -> dict[str, Any]:
    """`apply_totals` as an item of a TransactWriteItems, for a caller whose other items make it happen once
    (the audit records written from the stream, store/audit.py)."""
    parts, names, values = _totals_update(totals)
    return tx.update(keys.stats_shard(guild_id, shard_user_id), "ADD " + ", ".join(parts), names=names, values=values)


def members_on_shard(guild_id: str, user_id: str) -> int:
    """The members one shard counts (the shard of `user_id`): one small GetItem, eventually consistent."""
    item = table().get_item(Key=keys.stats_shard(guild_id, user_id), ProjectionExpression="members").get("Item")
    return int((item or {}).get("members", 0))


def read(guild_id: str) -> Totals:
    """Sum the 16 shards of a guild: one BatchGetItem."""
    totals = Totals()
    # Eventually consistent: counters are derived figures, and it halves the cost of 16 small reads.
    for raw in batch_get(keys.all_stats_shards(guild_id), consistent=False):
        item = plain(raw)
        totals.members += int(item.get("members", 0))
        totals.xp += int(item.get("xp", 0))
        totals.messages += int(item.get("messages", 0))
        totals.xp_messages += int(item.get("xpMessages", 0))
        totals.level_sum += int(item.get("levelSum", 0))
        for name, count in item.items():
            level = keys.level_from_counter(name)
            if level is not None and count:
                totals.distribution[level] = totals.distribution.get(level, 0) + int(count)
    totals.distribution = {lv: n for lv, n in sorted(totals.distribution.items()) if n}
    return totals
