"""Member avatars for rank cards: fetched from Discord's CDN only, bounded, decoded safely, cached.

The URL is built here from the member's id and avatar hash (both checked against Discord's formats), on the
CDN base `DISCORD_CDN_BASE_URL` (https://cdn.discordapp.com; tests aim it at a local fake). Nothing from a
guild's configuration is ever fetched (`theme.backgroundUrl` stays data for clients). A fetch has a total time
budget, a size cap, follows no redirect, and the image must be a PNG/JPEG/WebP/GIF of bounded dimensions.
Successes are kept per container (LRU by URL: a Discord avatar URL never changes content); failures are
remembered for a minute, so a CDN outage costs one timeout per avatar per minute, not one per card.
"""

from __future__ import annotations

import http.client
import io
import os
import re
import socket
import threading
import time
from collections import OrderedDict
from urllib.parse import urlsplit

from aws_lambda_powertools import Logger
from PIL import Image, ImageOps

from .. import ids, snapstart

logger = Logger(child=True)

CDN_ENV = "DISCORD_CDN_BASE_URL"
DEFAULT_CDN = "https://cdn.discordapp.com"
TIMEOUT_SECONDS = 1.5  # the whole fetch: connect, headers and body
MAX_BYTES = 512 * 1024  # a 256 px avatar is ~10-80 KB
MAX_PIXELS = 1024 * 1024  # we ask for 256 px: anything far larger is not an avatar (decompression bombs)
FORMATS = ("PNG", "JPEG", "WEBP", "GIF")
SIZE = 256  # what we ask the CDN for (the card draws 180 px)
CACHE_ENTRIES = 256  # ~256 x 256 KB decoded at worst, well within the function's memory
FAILURE_SECONDS = 60.0
_HASH = re.compile(r"(a_)?[0-9a-f]{32}")  # Discord's avatar hashes ("a_" for animated ones)


class AvatarError(Exception):
    """The avatar could not be fetched or is not an acceptable image."""


def avatar_url(user_id: str, avatar_hash: str | None) -> str | None:
    """The CDN URL of a member's avatar (PNG, first frame of an animated one), or None without a valid hash."""
    if not avatar_hash or not _HASH.fullmatch(avatar_hash) or not ids.is_snowflake(user_id):
        return None
    return f"{_cdn_base()}/avatars/{user_id}/{avatar_hash}.png?size={SIZE}"


def _cdn_base() -> str:
    return (os.environ.get(CDN_ENV) or DEFAULT_CDN).rstrip("/")


# ---------------------------------------------------------------- cache

_lock = threading.Lock()
_images: OrderedDict[str, Image.Image] = OrderedDict()
_failed: dict[str, float] = {}


def get(url: str | None) -> Image.Image | None:
    """The decoded avatar (RGBA, square) at `url`, or None when there is none or it cannot be had now."""
    if url is None:
        return None
    now = time.monotonic()
    with _lock:
        if url in _images:
            _images.move_to_end(url)
            return _images[url]
        if _failed.get(url, 0.0) > now:
            return None
    try:
        image = decode(fetch(url))
    except AvatarError as exc:
        logger.warning("avatar unavailable, drawing the fallback", extra={"reason": str(exc)})
        with _lock:
            _failed[url] = now + FAILURE_SECONDS
            if len(_failed) > CACHE_ENTRIES:
                _failed.pop(next(iter(_failed)))
        return None
    with _lock:
        _images[url] = image
        while len(_images) > CACHE_ENTRIES:
            _images.popitem(last=False)
        _failed.pop(url, None)
    return image


@snapstart.on_restore
def clear_cache() -> None:
    with _lock:
        _images.clear()
        _failed.clear()


# ---------------------------------------------------------------- fetch and decode


def fetch(url: str) -> bytes:
    """GET `url` from the configured CDN host only: total time budget, size cap, no redirects."""
    base, target = urlsplit(_cdn_base()), urlsplit(url)
    if (target.scheme, target.netloc) != (base.scheme, base.netloc) or base.scheme not in ("https", "http"):
        raise AvatarError("not the CDN's host")  # only URLs built by avatar_url are fetched
    deadline = time.monotonic() + TIMEOUT_SECONDS
    connection_type = http.client.HTTPSConnection if base.scheme == "https" else http.client.HTTPConnection
    connection = connection_type(target.netloc, timeout=TIMEOUT_SECONDS)
    try:
        connection.connect()
        # Every read (status line and headers included, not only the body) gets what is left of the budget:
        # a server that sends a header line a second would otherwise hold the card for as long as it likes.
        connection.sock = _DeadlineSocket(connection.sock, deadline)
        connection.request("GET", target.path + (f"?{target.query}" if target.query else ""), headers=_HEADERS)
        response = connection.getresponse()
        if response.status != 200:
            raise AvatarError(f"CDN answered {response.status}")
        declared = response.getheader("Content-Length")
        if declared and declared.isdigit() and int(declared) > MAX_BYTES:
            raise AvatarError("larger than the cap")
        body = bytearray()
        while len(body) <= MAX_BYTES:
            if deadline <= time.monotonic():
                raise AvatarError("timed out")
            chunk = response.read1(min(65536, MAX_BYTES + 1 - len(body)))
            if not chunk:
                return bytes(body)
            body += chunk
        raise AvatarError("larger than the cap")
    except TimeoutError as exc:
        raise AvatarError("timed out") from exc
    except (OSError, http.client.HTTPException) as exc:  # refused, reset, TLS
        raise AvatarError(f"fetch failed: {type(exc).__name__}") from exc
    finally:
        connection.close()


class _DeadlineSocket:
    """A connected socket whose every read is bounded by what is left until `deadline` (monotonic)."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline

    def __getattr__(self, name: str) -> object:  # sendall, close, settimeout...: the socket's own
        return getattr(self._sock, name)

    def _arm(self) -> None:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("avatar fetch budget spent")
        self._sock.settimeout(remaining)

    # Arguments pass through as given: a TLS socket's defaults differ from a plain one's.
    def recv_into(self, buffer: memoryview, *args: int) -> int:
        self._arm()
        return self._sock.recv_into(buffer, *args)

    def recv(self, bufsize: int, *args: int) -> bytes:
        self._arm()
        return self._sock.recv(bufsize, *args)

    def makefile(self, mode: str = "rb", buffering: int | None = None) -> io.BufferedReader:
        # What http.client reads the response through: reads come back here, so each one is armed.
        return io.BufferedReader(socket.SocketIO(self, "rb"))  # type: ignore[arg-type]

    def _decref_socketios(self) -> None:  # SocketIO.close() calls it; the socket itself is closed by us
        pass


_HEADERS = {"User-Agent": "xpshop-rank-cards/1", "Accept": "image/png,image/*;q=0.8"}


def decode(data: bytes) -> Image.Image:
    """Untrusted bytes to a square RGBA image, refusing anything but a modest PNG/JPEG/WebP/GIF."""
    try:
        with Image.open(io.BytesIO(data), formats=FORMATS) as opened:
            if opened.width * opened.height > MAX_PIXELS or min(opened.size) < 1:
                raise AvatarError(f"{opened.width}x{opened.height} is not an avatar")
            opened.seek(0)  # an animated avatar: its first frame
            square = ImageOps.fit(opened.convert("RGBA"), (SIZE, SIZE), Image.Resampling.LANCZOS)
    except AvatarError:
        raise
    except Exception as exc:  # Pillow raises many kinds on hostile input (OSError, SyntaxError, ValueError...)
        raise AvatarError(f"not a usable image: {type(exc).__name__}") from exc
    return square
