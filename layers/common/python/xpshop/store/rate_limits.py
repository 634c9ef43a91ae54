"""Fixed-window request counters: one item per caller per window, counted with one conditional UpdateItem
(ADD) that refuses to go past the limit, and removed by TTL."""

from __future__ import annotations

from botocore.exceptions import ClientError

from . import keys
from .table import is_condition_failure, table

# A window's item outlives its window by this much before TTL may remove it (TTL deletes within days;
# an expired window is never read again, its partition key names the window).
KEEP_SECONDS = 120


def hit(subject: str, window_start_s: int, window_s: int, limit: int) -> int | None:
    """Count one request of `subject` in the window starting at `window_start_s`: the window's count with
    it, or None when the window already holds `limit` requests (nothing is written then)."""
    try:
        resp = table().update_item(
            Key=keys.rate_window(subject, window_start_s),
            UpdateExpression="ADD n :one SET #ttl = if_not_exists(#ttl, :ttl)",
            ConditionExpression="attribute_not_exists(n) OR n < :limit",
            ExpressionAttributeNames={"#ttl": "ttl"},
            ExpressionAttributeValues={":one": 1, ":limit": limit, ":ttl": window_start_s + window_s + KEEP_SECONDS},
            ReturnValues="UPDATED_NEW",
        )
    except ClientError as exc:
        if is_condition_failure(exc):
            return None
        raise
    return int(resp["Attributes"]["n"])
