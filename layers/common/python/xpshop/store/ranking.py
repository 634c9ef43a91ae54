"""Rank counters (see xpshop.ranking) and the score-index reads that resolve ties and fill pages.

Counter items are small ({n, seq}), so an update costs 1 WCU. They are written only by the rank index
function, from the table's stream, with the stream sequence number as a guard: a counter takes a batch's
delta only if it has not taken that batch (or a later one) already, so retried or bisected batches never
count twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from ..ranking import Counter
from . import keys
from .table import is_condition_failure, plain, resource, table

SEQ_WIDTH = 40  # stream sequence numbers are 21-40 digits: zero-padded, they compare as strings
_WORKERS = 8


def seq_key(sequence_number: str) -> str:
    return sequence_number.zfill(SEQ_WIDTH)


def _add(guild_id: str, counter: Counter, delta: int, seq: str) -> bool:
    try:
        table().update_item(
            Key=keys.rank_counter(guild_id, counter.level, counter.parent, counter.key),
            UpdateExpression="ADD n :d SET seq = :seq",
            ConditionExpression="attribute_not_exists(seq) OR seq < :seq",
            ExpressionAttributeValues={":d": delta, ":seq": seq},
        )
    except ClientError as exc:
        if is_condition_failure(exc):
            return False  # this batch (or a later one) is in already
        raise
    return True


def apply(guild_id: str, changes: Mapping[Counter, int], sequence_number: str) -> int:
    """Add a batch's net deltas to a guild's counters (concurrently: they are independent items).
    Returns how many counters changed."""
    seq = seq_key(sequence_number)
    if not changes:
        return 0
    with ThreadPoolExecutor(max_workers=min(_WORKERS, len(changes))) as pool:
        done = list(pool.map(lambda item: _add(guild_id, item[0], item[1], seq), changes.items()))
    return sum(done)


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


def count_scores(guild_id: str, low_exclusive: int, high_inclusive: int) -> int:
    """How many members have a score in (low, high] on the Leaderboard index (COUNT: no items returned)."""
    if high_inclusive <= low_exclusive:
        return 0  # e.g. the lowest user id of its range: nobody in it comes first
    kwargs: dict[str, Any] = {
        "IndexName": keys.LEADERBOARD_INDEX,
        "KeyConditionExpression": Key("PK").eq(keys.guild_pk(guild_id))
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


def scores_from(guild_id: str, start_score: int, skip: int, limit: int) -> list[dict[str, Any]]:
    """Index entries from `start_score` down (leaderboard order), skipping `skip`, at most `limit`."""
    kwargs: dict[str, Any] = {
        "IndexName": keys.LEADERBOARD_INDEX,
        "KeyConditionExpression": Key("PK").eq(keys.guild_pk(guild_id)) & Key("score").lte(start_score),
        "ScanIndexForward": False,
    }
    wanted = skip + limit
    found: list[dict[str, Any]] = []
    while len(found) < wanted:
        resp = table().query(Limit=wanted - len(found), **kwargs)
        found += resp.get("Items", [])
        if "LastEvaluatedKey" not in resp:
            break
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
    return [plain(item) for item in found[skip:wanted]]


def put_all(guild_id: str, totals: Mapping[Counter, int]) -> None:
    """Write counters outright (a guild imported without the stream, e.g. the bench's bulk load)."""
    with resource().Table(table().name).batch_writer() as batch:
        for counter, n in totals.items():
            batch.put_item(
                Item={**keys.rank_counter(guild_id, counter.level, counter.parent, counter.key), "n": n, "seq": "0"}
            )
