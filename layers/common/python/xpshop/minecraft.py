"""Minecraft usernames to UUIDs: the Mojang-shaped profile service, or offline-mode UUIDs.

MINECRAFT_PROFILE_API is the base URL of a service answering GET {base}/users/profiles/minecraft/{name}
with {"id", "name"} (Mojang: https://api.mojang.com). Unset or "offline": the UUID an offline-mode
server derives, UUID v3 of "OfflinePlayer:<name>" (Java's UUID.nameUUIDFromBytes).
"""

from __future__ import annotations

import hashlib
import json
import os

from . import ids
from .errors import Unavailable

TIMEOUT_SECONDS = 3


def offline_uuid(username: str) -> str:
    digest = bytearray(hashlib.md5(f"OfflinePlayer:{username}".encode()).digest())
    digest[6] = (digest[6] & 0x0F) | 0x30  # version 3
    digest[8] = (digest[8] & 0x3F) | 0x80  # IETF variant
    return digest.hex()


def lookup_uuid(username: str) -> str | None:
    """The UUID for a username, or None when the service does not know it."""
    base = os.environ.get("MINECRAFT_PROFILE_API", "").strip().rstrip("/")
    if not base or base == "offline":
        return offline_uuid(username)
    import urllib.error  # with http.client, ssl and email: a lookup's, not every shop cold start's
    import urllib.request

    url = f"{base}/users/profiles/minecraft/{urllib.parse.quote(username)}"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            if response.status == 204:
                return None
            body = response.read()
    except urllib.error.HTTPError as exc:
        if exc.code in (204, 404):
            return None
        raise Unavailable(f"The Minecraft profile service answered {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError, ValueError) as exc:
        raise Unavailable("The Minecraft profile service is unreachable") from exc
    if not body.strip():  # Mojang's older "no such name" (204), as some proxies pass it on: an empty 200
        return None
    # Any other 200 must be a profile: a body without a UUID `id` is the service misbehaving (the name may
    # well exist), so the caller is told to retry (503), never that the account does not exist (404).
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise Unavailable("The Minecraft profile service answered something that is not JSON") from exc
    found = ids.minecraft_uuid(payload.get("id")) if isinstance(payload, dict) else None
    if found is None:
        raise Unavailable("The Minecraft profile service answered without a profile id")
    return found
