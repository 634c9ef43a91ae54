"""Rank counters (see xpshop.rank_tree), the position each member is counted at, and the score-index reads
that resolve ties and fill pages.

Every change to the counters is one TransactWriteItems with the member's *ranked* item (the XP it is
counted at, rank_tree.counted: the bottom of its bucket, and the stream sequence number of the last change
applied): the counters always add up to the ranked items, a redelivered or reordered record is refused by
the ranked item's condition, and a member whose ranked item disagrees with the member (never counted, or a
change lost) is repaired by the same move. A change inside one bucket (most awards from 1000 XP on) moves
no counter and writes nothing, the ranked item included: it still says where the member is counted, and
its sequence number is only compared with records that move the member. Counter items are small ({n}),
one partition per parent, so a level is one Query.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .. import rank_tree, retry
from ..rank_tree import Counter, Position, canonical
from . import keys, tx
from .conditions import Key
from .table import batch_get, plain, resource, table

SEQ_WIDTH = 40  # stream sequence numbers are 21-40 digits: zero-padded, they compare as strings
REPAIR_SEQ = "0" * SEQ_WIDTH  # a repair is older than any stream record: the record wins afterwards


def seq_key(sequence_number: str) -> str:
    return sequence_number.zfill(SEQ_WIDTH)


def _as_read(item: Mapping[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """The condition that the ranked item is still as read: absent, or the same sequence number AND XP. A
    repair moves the XP and keeps the sequence number, so the sequence number alone would let a write based
    on a read from before a repair move the member out of a bucket it has already left."""
    if item is None:
        return "attribute_not_exists(PK)", {}
    return "seq = :seen AND xp = :seen_xp", {":seen": item["seq"], ":seen_xp": item["xp"]}


def _counter_updates(guild_id: str, changes: Mapping[Counter, int]) -> list[dict[str, Any]]:
    return [
        tx.update(keys.rank_counter(guild_id, c.level, c.parent, c.key), "ADD n :d", values={":d": d})
        for c, d in changes.items()
    ]


def _ranked_write(
    guild_id: str, user_id: str, new: Position | None, seq: str, guard: tuple[str, dict[str, Any]]
) -> dict[str, Any]:
    key = keys.ranked(guild_id, user_id)
    condition, values = guard
    if new is None:
        return tx.delete(key, condition, values=values or None)
    return tx.update(key, "SET xp = :xp, seq = :seq", condition, values={":xp": new[0], ":seq": seq, **values})


def _try(
    guild_id: str,
    user_id: str,
    move_: tuple[Position | None, Position | None],
    seq: str,
    guard: tuple[str, dict[str, Any]],
) -> bool:
    """One transaction: move the member's ranked item from `counted` to `new` (canonical positions) and the
    counters with it, if the ranked item is as `guard` says. False when it was not (nothing written)."""
    counted, new = move_
    items = [_ranked_write(guild_id, user_id, new, seq, guard)]
    items += _counter_updates(guild_id, rank_tree.deltas([(counted, new)]))
    try:
        tx.write(items)
    except tx.Cancelled as exc:
        if exc.failed(0):
            return False
        raise
    return True


def move(guild_id: str, user_id: str, old: Position | None, new: Position | None, sequence_number: str) -> bool:
    """Apply one member change (old -> new, as the stream record says; None = absent) once. Returns whether
    the counters changed (False: the record was applied before, or nothing moved). A change inside one
    bucket writes nothing: the member stays counted where it is (a record older or newer than what the
    ranked item holds is then decided by the next change that leaves the bucket, as always)."""
    old, new = canonical(old), canonical(new)
    if old == new:
        return False
    seq = seq_key(sequence_number)
    # The usual case: the member is counted where the record says it was (and this record is newer).
    if old is None:
        guard: tuple[str, dict[str, Any]] = ("attribute_not_exists(PK)", {})
    else:
        guard = ("xp = :old AND seq < :seq", {":old": old[0], ":seq": seq} if new is None else {":old": old[0]})
    if _try(guild_id, user_id, (old, new), seq, guard):
        return True
    return _move_from_counted(guild_id, user_id, new, seq)


def _move_from_counted(guild_id: str, user_id: str, new: Position | None, seq: str) -> bool:
    """The record's condition failed: read what is counted (applied already, never counted: older than the
    rank index, or counted elsewhere: a repair got there first) and move from there, unless a record at
    least as new was applied."""
    for _ in retry.attempts():
        item = table().get_item(Key=keys.ranked(guild_id, user_id), ConsistentRead=True).get("Item")
        if item and str(item["seq"]) >= seq:
            return False
        counted = from_item(item, user_id)
        if counted == new and item is None:
            return False
        if _try(guild_id, user_id, (counted, new), seq, _as_read(item)):
            return True
    return False


def forget(guild_id: str, user_id: str) -> bool:
    """Take a member out of the rank counters now (a forgotten member, whose member item is already
    deleted): its ranked item deleted and the counters it sat in decremented, in one transaction guarded by
    the ranked item as read and by the member item still being absent. Returns whether it was taken out.
    The member item's own REMOVE record, when the stream brings it, then finds nothing to move; a record of
    an older change still in flight may count the member again, and that REMOVE record, which always comes
    after it, takes it out again. A member written again since its deletion is left to the stream: its
    records (the removal, then the return) may have been applied already, and the ranked item then counts
    the member as it is now."""
    for _ in retry.attempts():
        item = table().get_item(Key=keys.ranked(guild_id, user_id), ConsistentRead=True).get("Item")
        if item is None:
            return False
        condition, values = _as_read(item)
        items = [
            _ranked_write(guild_id, user_id, None, str(item["seq"]), (condition, values)),
            tx.check(keys.member(guild_id, user_id), "attribute_not_exists(PK)"),
        ]
        items += _counter_updates(guild_id, rank_tree.deltas([(from_item(item, user_id), None)]))
        try:
            tx.write(items)
        except tx.Cancelled as exc:
            if exc.failed(1):
                return False  # the member is back
            if exc.failed(0):
                continue  # the ranked item moved since it was read: read it again
            raise
        return True
    return False


def repair(guild_id: str, members: Iterable[Position]) -> int:
    """Bring the ranked items (and counters) of these members in line with their XP: one BatchGetItem per
    100 members, then for those that differ a fresh read of the member and one transaction each.

    Safe beside the stream: the move is guarded by the ranked item's sequence number as read, and keeps it
    (a repair is never newer than a record still in flight, which then applies over it). The member is
    read again after its ranked item, so a change the stream applied after the caller's read is not
    undone: whatever the repair writes was the member's XP at or after the ranked item's state."""
    fixed = 0
    batch = list(members)
    for start in range(0, len(batch), 100):
        chunk = batch[start : start + 100]
        found = _ranked_items(guild_id, [user for _, user in chunk])
        differ = [user for xp, user in chunk if from_item(found.get(user), user) != canonical((xp, user))]
        if not differ:
            continue
        current = _member_xp(guild_id, differ)
        for user in differ:
            item = found.get(user)
            counted = from_item(item, user)
            target = canonical((current[user], user)) if user in current else None  # None: removed since
            if counted == target:
                continue
            seq = str(item["seq"]) if item else REPAIR_SEQ
            if _try(guild_id, user, (counted, target), seq, _as_read(item)):
                fixed += 1
    return fixed


def from_item(item: Mapping[str, Any] | None, user_id: str) -> Position | None:
    """The position a ranked item counts its member at (None: no ranked item, the member is not counted).
    Canonical as written; canonicalised again so an item of any shape compares with canonical positions."""
    return canonical((int(item["xp"]), user_id)) if item else None


def _ranked_items(guild_id: str, user_ids: list[str]) -> dict[str, dict[str, Any]]:
    found = batch_get([keys.ranked(guild_id, u) for u in user_ids], consistent=True, projection="PK, xp, seq")
    return {str(item["PK"]).rsplit("#", 1)[-1]: plain(item) for item in found}


def _member_xp(guild_id: str, user_ids: list[str]) -> dict[str, int]:
    """user id -> XP now, for the members that exist (strongly consistent)."""
    found = batch_get([keys.member(guild_id, u) for u in user_ids], consistent=True, projection="SK, xp")
    return {keys.user_id_from_member_sk(str(item["SK"])): int(item["xp"]) for item in found}


def counts(guild_id: str, level: str, parent: tuple[int, ...] = ()) -> dict[int, int]:
    """key -> count for the counters under one parent (one Query; zeros left out)."""
    kwargs: dict[str, Any] = {
        "KeyConditionExpression": Key("PK").eq(keys.rank_counters_pk(guild_id, level, parent)),
        "ProjectionExpression": "SK, n",
    }
    found: dict[int, int] = {}
    while True:
        resp = table().query(**kwargs)
        for item in resp.get("Items", []):
            n = int(item.get("n", 0))
            if n:
                found[int(item["SK"])] = n
        if "LastEvaluatedKey" not in resp:
            return found
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def count_scores(guild_id: str, band: int, low_exclusive: int, high_inclusive: int) -> int:
    """How many members of one leaderboard band have a score in (low, high] (COUNT: no items returned)."""
    if high_inclusive <= low_exclusive:
        return 0  # e.g. the lowest user id of its range: nobody in it comes first
    kwargs: dict[str, Any] = {
        "IndexName": keys.LEADERBOARD_INDEX,
        "KeyConditionExpression": Key("board").eq(keys.board(guild_id, band))
        & Key("score").between(low_exclusive + 1, high_inclusive),
        "Select": "COUNT",
    }
    total = 0
    while True:
        resp = table().query(**kwargs)
        total += int(resp.get("Count", 0))
        if "LastEvaluatedKey" not in resp:
            return total
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def scores_from(guild_id: str, band: int, start_score: int, wanted: int) -> list[dict[str, Any]]:
    """Up to `wanted` index entries of one leaderboard band from `start_score` down (leaderboard order);
    fewer when the band ends first."""
    kwargs: dict[str, Any] = {
        "IndexName": keys.LEADERBOARD_INDEX,
        "KeyConditionExpression": Key("board").eq(keys.board(guild_id, band)) & Key("score").lte(start_score),
        "ScanIndexForward": False,
    }
    found: list[dict[str, Any]] = []
    while len(found) < wanted:
        resp = table().query(Limit=wanted - len(found), **kwargs)
        found += resp.get("Items", [])
        if "LastEvaluatedKey" not in resp:
            break
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
    return [plain(item) for item in found]


def import_members(guild_id: str, members: Iterable[Position]) -> None:
    """Ranked items and counters written outright, for a guild loaded in bulk with nothing else writing
    (the bench). Anything live goes through `move` / `repair`."""
    members = [(rank_tree.counted(xp), user) for xp, user in members]
    totals = rank_tree.deltas((None, position) for position in members)
    with resource().Table(table().name).batch_writer() as batch:
        for xp, user in members:
            batch.put_item(Item={**keys.ranked(guild_id, user), "xp": xp, "seq": REPAIR_SEQ})
        for counter, n in totals.items():
            batch.put_item(Item={**keys.rank_counter(guild_id, counter.level, counter.parent, counter.key), "n": n})
