"""API keys v2: made and revoked by the admin, resolved on every request they sign.

The secret is `xpk_<id>_<random>`: 256 random bits after the id. The id names the key's item, so resolving a
key is one GetItem (`store.access_keys.get`), and the SHA-256 of the whole secret is compared with the stored
digest in constant time. A fast hash is right for a secret of 256 random bits: slow hashes (bcrypt, scrypt)
defend guessable passwords against a dictionary, and no dictionary reaches 2^256; SHA-256 costs
microseconds per request where bcrypt would cost ~100 ms.

Resolved keys (and unknown ids) are cached in the container for CACHE_SECONDS, so a revocation or an
expiry is honoured within that time on every container, and a busy key costs one read per container per
CACHE_SECONDS instead of one per request. `lastUsedAt` is refreshed when it is older than
LAST_USED_PRECISION_MS: one UpdateItem per key per container at most that often.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ..clock import iso, now_ms
from ..errors import ApiError, ErrorCode
from ..store import access_keys as store
from ..store.guards import Guard, GuardFailed

if TYPE_CHECKING:  # its model is the API keys function's alone: every other function checks keys, none makes one
    from ..api.keys import CreateKeyBody

PREFIX = "xpk_"
_SECRET = re.compile(r"^xpk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
CACHE_SECONDS = 30.0
CACHE_MAX = 1024  # entries; a container seeing more distinct keys starts its cache again
LAST_USED_PRECISION_MS = 300_000
DEFAULT_RATE_LIMIT = 1500  # requests per minute, when RATE_LIMIT_PER_MINUTE is not set
# Active keys one server manager may hold per server through /xp api-key: each key has its own rate limit, so
# without a cap one manager could multiply what they may ask of the API (and fill the admin's key list).
MAX_KEYS_PER_MANAGER = 5

_cache: dict[str, tuple[float, store.AccessKey | None]] = {}


def default_rate_limit() -> int:
    """The deployment's per-key limit (template parameter RateLimitPerMinute)."""
    try:
        return max(1, int(os.environ.get("RATE_LIMIT_PER_MINUTE") or DEFAULT_RATE_LIMIT))
    except ValueError:
        return DEFAULT_RATE_LIMIT


def looks_like_key(presented: str | None) -> bool:
    return presented is not None and presented.startswith(PREFIX)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def limit_of(key: store.AccessKey) -> int:
    return key.rate_limit or default_rate_limit()


def view(key: store.AccessKey) -> dict[str, Any]:
    return {
        "id": key.key_id,
        "name": key.name,
        "scopes": list(key.scopes),
        "guildIds": list(key.guild_ids),
        "expiresAt": iso(key.expires_at),
        "rateLimitPerMinute": limit_of(key),
        "createdAt": iso(key.created_at),
        "createdBy": key.created_by,
        "lastUsedAt": iso(key.last_used_at),
        "revokedAt": iso(key.revoked_at),
    }


def issue(
    name: str,
    scopes: list[str],
    guild_ids: list[str],
    *,
    expires_at: int | None = None,
    rate_limit: int | None = None,
    created_by: str | None = None,
    quota: str | None = None,
) -> dict[str, Any]:
    """Make a key (already validated: see CreateKeyBody) and answer it with its secret, shown this once.
    `quota`: the maker whose active keys it counts in (`manager_quota`): refused with KeyLimitReached when
    they hold MAX_KEYS_PER_MANAGER already, checked in the key's own write."""
    for _ in range(3):  # 64-bit ids: a clash is astronomically unlikely, but the write is guarded
        key_id = secrets.token_hex(8)
        secret = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        key = store.AccessKey(
            key_id=key_id,
            name=name,
            digest=digest(secret),
            scopes=tuple(scopes),
            guild_ids=tuple(guild_ids),
            rate_limit=rate_limit,
            created_at=now_ms(),
            created_by=created_by,
            expires_at=expires_at,
            quota=quota,
        )
        try:
            store.put_new(key, MAX_KEYS_PER_MANAGER if quota else None)
        except GuardFailed as exc:
            if Guard.KEY_QUOTA in exc:
                raise KeyLimitReached(MAX_KEYS_PER_MANAGER) from None
            continue
        shown = view(key)
        return {
            "id": key_id,
            "key": secret,
            **{k: shown[k] for k in ("name", "scopes", "guildIds", "expiresAt", "rateLimitPerMinute", "createdAt")},
        }
    raise ApiError(ErrorCode.CONFLICT, "Could not draw a free key id; try again")


class KeyLimitReached(ApiError):
    """The maker holds as many active keys as they may."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            ErrorCode.CONFLICT,
            f"You already hold {limit} active API keys for this server, the most one manager may have. "
            "Ask the bot's admin to revoke one you no longer use (DELETE /api/keys/{id}), then try again.",
        )
        self.limit = limit


def manager_quota(guild_id: str, user_id: str) -> str:
    """Whose count a key made by a server manager (/xp api-key) is kept in: theirs, in that server."""
    return f"{guild_id}:{user_id}"


def create(body: CreateKeyBody, created_by: str | None = None) -> dict[str, Any]:
    return issue(
        body.name,
        body.scopes,
        body.guildIds,
        expires_at=body.expires_ms(),
        rate_limit=body.rateLimitPerMinute,
        created_by=created_by,
    )


def list_keys() -> dict[str, Any]:
    return {"keys": [view(k) for k in store.list_all()]}


def revoke(key_id: str) -> dict[str, Any]:
    try:
        key = store.revoke(key_id, now_ms())
    except GuardFailed:
        raise ApiError(ErrorCode.KEY_NOT_FOUND, f"No active API key with id {key_id}") from None
    _cache.pop(key_id, None)
    return {"id": key_id, "revoked": True, "revokedAt": iso(key.revoked_at)}


@dataclass(frozen=True, slots=True)
class Resolved:
    key: store.AccessKey | None
    problem: str | None  # why the secret is refused (401), None when it is good


def _lookup(key_id: str) -> store.AccessKey | None:
    now = time.monotonic()
    cached = _cache.get(key_id)
    if cached is not None and cached[0] > now:
        return cached[1]
    key = store.get(key_id)
    if len(_cache) >= CACHE_MAX:
        _cache.clear()
    _cache[key_id] = (now + CACHE_SECONDS, key)
    return key


def resolve(secret: str) -> Resolved:
    """The key a secret belongs to, or why it is refused: unknown, revoked or expired."""
    match = _SECRET.match(secret)
    key = _lookup(match.group(1)) if match else None
    if key is None or not hmac.compare_digest(key.digest, digest(secret)):
        return Resolved(None, "The API key is not valid")
    now = now_ms()
    if key.revoked_at is not None:
        return Resolved(None, "The API key was revoked")
    if key.expires_at is not None and key.expires_at <= now:
        return Resolved(None, f"The API key expired at {iso(key.expires_at)}")
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_PRECISION_MS:
        try:
            store.touch(key.key_id, now)
        except GuardFailed:
            return Resolved(None, "The API key is not valid")
        key = replace(key, last_used_at=now)
        _cache[key.key_id] = (_cache.get(key.key_id, (time.monotonic() + CACHE_SECONDS, None))[0], key)
    return Resolved(key, None)


def forget_cache() -> None:
    _cache.clear()
