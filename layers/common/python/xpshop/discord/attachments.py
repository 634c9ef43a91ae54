"""Files members attach to a command (`/xp import file:`): downloaded from Discord's CDN only, size-capped.

An attachment option resolves to `{id, filename, size, url, proxy_url, content_type}`. Only URLs on Discord's
CDN hosts (`cdn.discordapp.com`, `media.discordapp.net`, over HTTPS) under an attachments path are fetched,
plus the host of `DISCORD_CDN_BASE_URL` when it is set (the fake CDN in tests and `make dev`, the same setting
as the rank cards' avatars). The declared size is checked before anything is downloaded, the body's bytes
while they are read; no redirect is followed; the whole download has a time budget.
"""

from __future__ import annotations

import http.client
import os
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..transfer import MAX_BODY_BYTES

CDN_ENV = "DISCORD_CDN_BASE_URL"
CDN_HOSTS = ("cdn.discordapp.com", "media.discordapp.net")
PATHS = ("/attachments/", "/ephemeral-attachments/")
MAX_BYTES = MAX_BODY_BYTES  # what the importer reads at most (10 MB)
TIMEOUT_SECONDS = 20.0  # the whole download (the worker has 60 s, the import needs the rest)
_HEADERS = {"User-Agent": "xpshop-import/1", "Accept": "*/*"}


class AttachmentRefused(Exception):
    """The attachment is not fetched (or not usable): the message says why, for the member."""


@dataclass(frozen=True)
class Attachment:
    id: str
    filename: str
    size: int | None  # bytes, as Discord declared it
    url: str
    content_type: str | None

    @classmethod
    def resolve(cls, resolved: dict[str, Any], attachment_id: str) -> Attachment:
        """The attachment an option names, from the interaction's `resolved.attachments`."""
        found = (resolved.get("attachments") or {}).get(str(attachment_id))
        if not isinstance(found, dict) or not isinstance(found.get("url"), str):
            raise AttachmentRefused("I can't see the attached file: attach it again.")
        size = found.get("size")
        content_type = found.get("content_type")
        return cls(
            id=str(found.get("id") or attachment_id),
            filename=str(found.get("filename") or "file"),
            size=size if isinstance(size, int) and not isinstance(size, bool) else None,
            url=found["url"],
            content_type=content_type if isinstance(content_type, str) else None,
        )


def _bytes(size: int) -> str:
    return f"{size:,} bytes"


def allowed(url: str) -> bool:
    """Whether `url` is a Discord CDN attachment URL (or on the configured fake CDN): the only ones fetched."""
    try:
        target = urlsplit(url)
        port = target.port
    except ValueError:
        return False
    if target.username is not None or target.password is not None or not target.hostname:
        return False
    configured = os.environ.get(CDN_ENV, "").strip()
    if configured:
        base = urlsplit(configured.rstrip("/"))
        if base.scheme in ("http", "https") and (target.scheme, target.netloc) == (base.scheme, base.netloc):
            return target.path.startswith(PATHS)
    return (
        target.scheme == "https"
        and target.hostname in CDN_HOSTS
        and port in (None, 443)
        and target.path.startswith(PATHS)
    )


def check_size(attachment: Attachment, max_bytes: int = MAX_BYTES) -> None:
    """Refuse a file Discord says is larger than the import reads, before downloading anything."""
    if attachment.size is not None and attachment.size > max_bytes:
        raise AttachmentRefused(
            f"{attachment.filename} is {_bytes(attachment.size)}; an import reads at most {_bytes(max_bytes)} "
            "(10 MB): split the file, or send it to the import API (POST /api/xp/import/{guildId}, gzip accepted)."
        )


def download(attachment: Attachment, *, max_bytes: int = MAX_BYTES, timeout: float = TIMEOUT_SECONDS) -> bytes:
    """The attachment's bytes, from Discord's CDN only, at most `max_bytes`, within `timeout` seconds."""
    check_size(attachment, max_bytes)
    if not allowed(attachment.url):
        raise AttachmentRefused("That file is not on Discord's CDN: attach the file to the command itself.")
    target = urlsplit(attachment.url)
    deadline = time.monotonic() + timeout
    connection_type = http.client.HTTPSConnection if target.scheme == "https" else http.client.HTTPConnection
    connection = connection_type(target.netloc, timeout=timeout)
    too_large = AttachmentRefused(f"{attachment.filename} is larger than {_bytes(max_bytes)}: split the file.")
    try:
        connection.request("GET", target.path + (f"?{target.query}" if target.query else ""), headers=_HEADERS)
        response = connection.getresponse()
        if response.status != 200:
            raise AttachmentRefused(
                f"Discord's CDN answered {response.status} for {attachment.filename}: attach it again."
            )
        declared = response.getheader("Content-Length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise too_large
        body = bytearray()
        while len(body) <= max_bytes:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AttachmentRefused(f"Downloading {attachment.filename} took too long; try again.")
            if connection.sock is not None:
                connection.sock.settimeout(remaining)
            chunk = response.read1(min(65536, max_bytes + 1 - len(body)))
            if not chunk:
                return bytes(body)
            body += chunk
        raise too_large
    except (OSError, http.client.HTTPException) as exc:  # refused, reset, TLS, timeout
        raise AttachmentRefused(
            f"I could not download {attachment.filename} from Discord ({type(exc).__name__}); try again."
        ) from exc
    finally:
        connection.close()
