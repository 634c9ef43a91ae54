"""Avatars for rank cards (xpshop.web.avatars) against a local fake CDN: only the CDN's host, a total time
budget, a size cap, no redirects, safe decoding, an LRU cache, a short memory of failures."""

from __future__ import annotations

import io
import struct
import time
import zlib
from collections.abc import Iterator

import pytest
from PIL import Image

from tests.support.fake_cdn import FakeCdn, png
from xpshop.web import avatars

USER = "234567890123456789"
HASH = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def cdn(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCdn]:
    with FakeCdn() as fake:
        monkeypatch.setenv(avatars.CDN_ENV, fake.base_url)
        avatars.clear_cache()
        yield fake
    avatars.clear_cache()


def _path(user: str = USER, avatar: str = HASH) -> str:
    return f"/avatars/{user}/{avatar}.png"


def test_the_url_is_built_from_the_id_and_hash_on_discords_cdn(monkeypatch):
    monkeypatch.delenv(avatars.CDN_ENV, raising=False)
    assert avatars.avatar_url(USER, HASH) == f"https://cdn.discordapp.com/avatars/{USER}/{HASH}.png?size=256"
    assert avatars.avatar_url(USER, "a_" + HASH).endswith(f"/a_{HASH}.png?size=256")  # animated: first frame
    for bad in (None, "", "x" * 32, HASH.upper(), HASH + "0", "../../../etc/passwd", "https://evil.example/a.png"):
        assert avatars.avatar_url(USER, bad) is None, bad
    assert avatars.avatar_url("not-a-snowflake", HASH) is None
    assert avatars.avatar_url("1/../../x", HASH) is None


def test_an_avatar_is_fetched_once_and_then_served_from_memory(cdn):
    cdn.serve(_path(), png(256))
    url = avatars.avatar_url(USER, HASH)
    first = avatars.get(url)
    assert first is not None and first.size == (avatars.SIZE, avatars.SIZE) and first.mode == "RGBA"
    assert avatars.get(url) is first
    assert cdn.paths() == [_path()]
    assert cdn.requests[0].endswith("?size=256")


def test_a_larger_or_non_square_image_is_cropped_to_a_square(cdn):
    wide = Image.new("RGB", (600, 300), (10, 20, 30))
    out = io.BytesIO()
    wide.save(out, format="JPEG")
    cdn.serve(_path(), out.getvalue(), content_type="image/jpeg")
    assert avatars.get(avatars.avatar_url(USER, HASH)).size == (256, 256)


def test_the_cache_is_bounded(cdn, monkeypatch):
    monkeypatch.setattr(avatars, "CACHE_ENTRIES", 3)
    hashes = [f"{n:032x}" for n in range(5)]
    for h in hashes:
        cdn.serve(_path(avatar=h), png(32))
        assert avatars.get(avatars.avatar_url(USER, h)) is not None
    assert len(avatars._images) == 3
    avatars.get(avatars.avatar_url(USER, hashes[0]))  # evicted: fetched again
    assert cdn.paths().count(_path(avatar=hashes[0])) == 2


def test_a_slow_cdn_is_given_up_on_within_the_budget_and_remembered(cdn):
    cdn.serve(_path(), png(64), delay=3.0)
    url = avatars.avatar_url(USER, HASH)
    started = time.monotonic()
    assert avatars.get(url) is None
    assert time.monotonic() - started < avatars.TIMEOUT_SECONDS + 0.5
    started = time.monotonic()
    assert avatars.get(url) is None  # remembered: no second wait
    assert time.monotonic() - started < 0.1
    assert cdn.paths() == [_path()]


def test_a_body_that_trickles_in_is_cut_at_the_total_budget(cdn):
    """Every piece arrives well within a socket timeout, but the whole would take seconds."""
    cdn.serve(_path(), png(64) + b"\x00" * 64_000, trickle=0.1)
    started = time.monotonic()
    assert avatars.get(avatars.avatar_url(USER, HASH)) is None
    assert time.monotonic() - started < avatars.TIMEOUT_SECONDS + 0.5


def test_headers_that_trickle_in_are_cut_at_the_total_budget(cdn):
    """Each header line arrives well within a socket timeout, but all of them take twice the budget: the
    budget covers the status line and headers too, not only the body (a slow CDN held a card for seconds)."""
    lines = int(avatars.TIMEOUT_SECONDS * 3 / 0.1)
    cdn.serve(_path(), png(64), headers={f"X-Pad-{i}": "a" for i in range(lines)}, header_trickle=0.1)
    with pytest.raises(avatars.AvatarError):
        avatars.fetch(avatars.avatar_url(USER, HASH))
    cdn.wait_answered()
    assert cdn.completed == []  # the client hung up while the headers still came


@pytest.mark.parametrize("chunked", [False, True])
def test_an_avatar_over_the_size_cap_is_refused(cdn, chunked):
    big = png(64) + b"\x00" * (avatars.MAX_BYTES + 10)
    cdn.serve(_path(), big, chunked=chunked)
    assert avatars.get(avatars.avatar_url(USER, HASH)) is None


@pytest.mark.parametrize(
    ("status", "body", "content_type", "headers"),
    [
        (404, b"nope", "text/plain", {}),
        (500, b"oops", "text/plain", {}),
        (302, b"", "text/plain", {"Location": "https://example.com/evil.png"}),
        (200, b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml", {}),
        (200, b"GIF89a-but-not-really", "image/gif", {}),
        (200, b"", "image/png", {}),
    ],
)
def test_anything_but_a_good_image_is_refused(cdn, status, body, content_type, headers):
    cdn.serve(_path(), body, status=status, content_type=content_type, headers=headers)
    assert avatars.get(avatars.avatar_url(USER, HASH)) is None
    assert cdn.paths() == [_path()]  # a redirect is not followed


def test_a_format_pillow_knows_but_we_do_not_accept_is_refused(cdn):
    out = io.BytesIO()
    Image.new("RGB", (32, 32)).save(out, format="BMP")
    cdn.serve(_path(), out.getvalue())
    assert avatars.get(avatars.avatar_url(USER, HASH)) is None


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that claims to be huge (a decompression bomb's header)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(("width", "height"), [(20_000, 20_000), (5_000, 300), (1, 2_000_000)])
def test_decompression_bombs_are_refused_before_decoding(cdn, width, height):
    cdn.serve(_path(), _png_header_only(width, height))
    assert avatars.get(avatars.avatar_url(USER, HASH)) is None


def test_only_the_configured_cdn_host_is_ever_fetched(cdn):
    with pytest.raises(avatars.AvatarError):
        avatars.fetch("https://example.com/avatars/1/2.png")
    with pytest.raises(avatars.AvatarError):
        avatars.fetch(cdn.base_url.replace("http://", "https://") + _path())  # same host, other scheme
    assert avatars.get(None) is None
    assert cdn.requests == []


def test_an_unreachable_cdn_is_a_fallback_not_an_error(monkeypatch):
    monkeypatch.setenv(avatars.CDN_ENV, "http://127.0.0.1:9")  # discard port: nothing listens
    avatars.clear_cache()
    assert avatars.get(avatars.avatar_url(USER, HASH)) is None
    avatars.clear_cache()
