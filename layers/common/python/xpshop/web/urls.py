"""Absolute URLs of the public pages and images, for links that leave the API (OpenGraph tags, embeds).

The base is PUBLIC_BASE_URL when set (a custom domain in front of the API), otherwise the host the request
came to (API Gateway's domain name, or the Host header locally), so no deployment needs to know its own URL.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

_HOST = re.compile(r"^[A-Za-z0-9.-]+(:\d{1,5})?$")  # a host[:port], nothing a header could smuggle in


def base_url(event: Mapping[str, Any] | None = None) -> str:
    """`https://<host>` (no trailing slash) for links to this deployment."""
    configured = os.environ.get("PUBLIC_BASE_URL", "").strip().rstrip("/")
    if configured:
        return configured
    event = event or {}
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    host = (event.get("requestContext") or {}).get("domainName") or headers.get("host") or ""
    if not _HOST.fullmatch(host):
        host = "localhost"
    proto = headers.get("x-forwarded-proto", "https")
    scheme = "http" if proto == "http" else "https"
    return f"{scheme}://{host}"


def leaderboard_path(guild_id: str, page: int = 1) -> str:
    return f"/leaderboard/{guild_id}" + (f"?page={page}" if page > 1 else "")


def card_path(guild_id: str, user_id: str) -> str:
    return f"/cards/{guild_id}/{user_id}.png"
