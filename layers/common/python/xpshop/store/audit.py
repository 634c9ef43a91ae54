"""XP audit trail: who changed a member's XP, by how much, and why. Expires by TTL.

Records of XP changes made through the API, /xp and member events are written from the table's stream
(`record_changes`, called by the rank index function), keyed by the change's write id: exactly once each,
a second or so after the change."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..clock import now_ms as clock_ms
from . import keys, stats, tx
from .conditions import Key
from .members import LAST_CHANGE, Change
from .stats import Totals
from .table import batch_get, delete_prefix, plain, table

DEFAULT_RETENTION_DAYS = 90


def _retention_seconds() -> int:
    return int(os.environ.get("AUDIT_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)) * 86_400


def _item(guild_id: str, user_id: str, change: Change, note: Mapping[str, Any]) -> dict[str, Any]:
    """The audit record of one noted change, keyed by its write id (the same change, the same key)."""
    at_ms = int(note["at"])
    item: dict[str, Any] = {
        **keys.audit(guild_id, user_id, at_ms, str(note["wid"])),
        "guildId": guild_id,
        "userId": user_id,
        "delta": change.new_xp - change.old_xp,
        "oldXp": change.old_xp,
        "newXp": change.new_xp,
        "oldLevel": change.old_level,
        "newLevel": change.new_level,
        "source": str(note["source"]),
        "at": at_ms,
        "ttl": at_ms // 1000 + _retention_seconds(),
    }
    if note.get("reason"):
        item["reason"] = str(note["reason"])
    return item


@dataclass(frozen=True, slots=True)
class Noted:
    """One XP change as the stream shows it: the member, its change (from the old and new images) and the
    `lastChange` note its write stored (write id, time, source, reason; store/members.py)."""

    user_id: str
    change: Change
    note: Mapping[str, Any]


MAX_PER_TRANSACTION = 99  # TransactWriteItems takes 100 items: 99 audit records and their counter shard


def record_changes(guild_id: str, noted: Sequence[Noted]) -> int:
    """The audit records of a guild's changes and their summed counter deltas, exactly once whatever the
    redeliveries: each record is keyed by its change's write id and written with attribute_not_exists, in
    one TransactWriteItems (99 records a transaction) with the shard update. A record already there (this
    change was applied by an earlier delivery) cancels the transaction: it is run again without the
    changes refused, so no delta is added twice and none is lost. Returns how many changes were applied."""
    applied = 0
    for start in range(0, len(noted), MAX_PER_TRANSACTION):
        pending = list(noted[start : start + MAX_PER_TRANSACTION])
        while pending:  # each pass applies them all, or drops at least one already applied
            totals = Totals()
            items = []
            for n in pending:
                totals.add(n.change)
                items.append(tx.put(_item(guild_id, n.user_id, n.change, n.note), "attribute_not_exists(PK)"))
            items.append(stats.totals_update(guild_id, pending[0].user_id, totals))
            try:
                tx.write(items)
            except tx.Cancelled as exc:
                done = [i for i in range(len(pending)) if exc.failed(i)]
                if not done:
                    raise
                pending = [n for i, n in enumerate(pending) if i not in done]
                continue
            applied += len(pending)
            break
    return applied


def pending(guild_id: str, members: Sequence[Mapping[str, Any]]) -> list[str]:
    """The members (items as read) whose last noted change has no audit record yet: the stream has not
    applied it (nor, since a member's records come in order, any of its noted changes before it), so its
    counter deltas are still to come. One BatchGetItem (keys only) per 100 members with a note."""
    wanted: dict[tuple[str, str], str] = {}
    for item in members:
        note = item.get(LAST_CHANGE)
        if isinstance(note, Mapping) and note.get("wid") is not None and note.get("at") is not None:
            user_id = str(item.get("userId") or keys.user_id_from_member_sk(str(item["SK"])))
            key = keys.audit(guild_id, user_id, int(note["at"]), str(note["wid"]))
            wanted[(key["PK"], key["SK"])] = user_id
    if not wanted:
        return []
    found = batch_get([{"PK": pk, "SK": sk} for pk, sk in wanted], consistent=True, projection="PK, SK")
    seen = {(str(i["PK"]), str(i["SK"])) for i in found}
    return [user for key, user in wanted.items() if key not in seen]


def history(guild_id: str, user_id: str) -> list[dict[str, Any]]:
    """Every audit record of a member in a guild (those not yet expired), oldest first: one Query a 1 MB page."""
    kwargs: dict[str, Any] = {
        "KeyConditionExpression": Key("PK").eq(keys.guild_pk(guild_id))
        & Key("SK").begins_with(keys.audit_prefix(user_id)),
    }
    found: list[dict[str, Any]] = []
    while True:
        resp = table().query(**kwargs)
        found += [keys.strip(plain(i)) for i in resp.get("Items", []) if "delta" in i]  # not tombstones
        if not resp.get("LastEvaluatedKey"):
            return found
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def recent(guild_id: str, user_id: str, limit: int = 20) -> list[dict[str, Any]]:
    resp = table().query(
        KeyConditionExpression=Key("PK").eq(keys.guild_pk(guild_id))
        & Key("SK").begins_with(keys.audit_prefix(user_id)),
        ScanIndexForward=False,
        Limit=limit,
    )
    return [keys.strip(plain(i)) for i in resp.get("Items", []) if "delta" in i]  # not tombstones


def forget(guild_id: str, user_id: str) -> int:
    """Delete every audit record of a member in a guild; returns how many there were."""
    return delete_prefix(keys.guild_pk(guild_id), keys.audit_prefix(user_id))


TOMBSTONE_SECONDS = 2 * 86_400  # longer than the stream keeps a record (24 h): no redelivery outlives it


def forget_through(guild_id: str, user_id: str, at_ms: int) -> int:
    """Strip a forgotten member's audit records up to the time of the last noted change its item held: the
    stream writes a record a moment after its change, so one may land after the member was forgotten.
    Each becomes a tombstone (its key and a 2-day TTL, nothing else: no XP, no reason), because the key is
    also what makes a redelivered stream record write nothing twice. Records of the member's changes after
    that (if they came back) are kept. Returns how many records were stripped."""
    prefix = keys.audit_prefix(user_id)
    kwargs: dict[str, Any] = {
        "KeyConditionExpression": Key("PK").eq(keys.guild_pk(guild_id))
        & Key("SK").between(prefix, f"{prefix}{at_ms:013d}#~"),
        "ProjectionExpression": "PK, SK, delta",
    }
    stripped = 0
    expires = clock_ms() // 1000 + TOMBSTONE_SECONDS
    while True:
        resp = table().query(**kwargs)
        for item in resp.get("Items", []):
            if "delta" in item:
                table().put_item(Item={"PK": item["PK"], "SK": item["SK"], "ttl": expires})
                stripped += 1
        if "LastEvaluatedKey" not in resp:
            return stripped
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
