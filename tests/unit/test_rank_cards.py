"""Rank card images (xpshop.web.cards, xpshop.web.text): size, mode, same bytes for the same input, names of
every kind (long, emoji, CJK, right-to-left, control characters), missing avatar, the bundled font."""

from __future__ import annotations

import io
import random
import struct
import zlib
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageFont

from xpshop.web import cards, text
from xpshop.web.card_data import DEFAULT_ACCENT, Card, accent_of

CARD = Card(name="Aurora", username="aurora", level=12, rank=3, in_level=450, needed=1_320, accent="#E91E63")
FONTS = Path(cards.REGULAR).parent


def _open(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def _chunks(png: bytes) -> list[bytes]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    found, at = [], 8
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        kind = png[at + 4 : at + 8]
        assert (
            zlib.crc32(png[at + 4 : at + 8 + length]) == struct.unpack(">I", png[at + 8 + length : at + 12 + length])[0]
        )
        found.append(kind)
        at += 12 + length
    return found


def _noise_avatar(seed: int = 1) -> Image.Image:
    """The worst case for PNG size: an avatar of random pixels (no compression possible)."""
    rng = random.Random(seed)
    return Image.frombytes("RGB", (256, 256), rng.randbytes(256 * 256 * 3)).convert("RGBA")


# ---------------------------------------------------------------- the image


def test_a_card_is_a_934x282_rgb_png_without_metadata():
    png = cards.render(CARD)
    image = _open(png)
    assert image.format == "PNG" and image.size == (934, 282) and image.mode == "RGB"
    # no tIME, tEXt, iTXt, pHYs...: nothing that changes between renders or says where it was made
    assert set(_chunks(png)) == {b"IHDR", b"IDAT", b"IEND"}


def test_same_input_same_bytes_and_any_change_shows():
    avatar = _noise_avatar()
    assert cards.render(CARD) == cards.render(CARD)
    assert cards.render(CARD, avatar) == cards.render(CARD, avatar.copy())
    variants = [
        CARD,
        replace(CARD, level=13),
        replace(CARD, rank=4),
        replace(CARD, in_level=451),
        replace(CARD, accent="#00FF00"),
        replace(CARD, name="Borealis"),
        replace(CARD, username="someone"),
        replace(CARD, xp_label="Points"),
    ]
    renders = {cards.render(card) for card in variants} | {cards.render(CARD, avatar)}
    assert len(renders) == len(variants) + 1


def test_the_png_stays_under_150_kb_even_with_an_incompressible_avatar():
    png = cards.render(replace(CARD, name="W" * 40), _noise_avatar())
    assert len(png) <= 150 * 1024, len(png)


def test_the_progress_bar_follows_the_share_and_the_accent():
    def bar_pixels(card: Card) -> int:
        image = _open(cards.render(card))
        row = cards.BAR_Y + cards.BAR_HEIGHT // 2
        return sum(1 for x in range(cards.TEXT_X, cards.TEXT_RIGHT) if image.getpixel((x, row)) == (0, 200, 83))

    accent = "#00C853"
    empty, half, full = (replace(CARD, accent=accent, in_level=n, needed=100) for n in (0, 50, 100))
    assert bar_pixels(empty) == 0
    width = cards.TEXT_RIGHT - cards.TEXT_X
    assert abs(bar_pixels(half) - width / 2) < 8
    assert abs(bar_pixels(full) - width) < 8


def test_a_missing_avatar_is_the_initial_on_the_accent_and_an_avatar_is_drawn():
    centre = (cards.AVATAR_X + 20, cards.AVATAR_Y + cards.AVATAR // 2)  # left of the letter, inside the circle
    without = _open(cards.render(replace(CARD, accent="#123456")))
    assert without.getpixel(centre) == (0x12, 0x34, 0x56)
    red = Image.new("RGBA", (256, 256), (255, 0, 0, 255))
    assert _open(cards.render(CARD, red)).getpixel(centre) == (255, 0, 0)
    # a transparent avatar shows the panel behind it, not the black its transparent pixels hide
    clear = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    assert _open(cards.render(CARD, clear)).getpixel(centre) == cards.PANEL


@pytest.mark.parametrize(
    "name",
    [
        "",
        " ",
        "W" * 200,
        "😀🎉🔥 party 🥳",
        "👨‍👩‍👧‍👦 family",
        "🇫🇷🇩🇪🇯🇵",
        "山田太郎",
        "김민준",
        "שלום עולם",
        "مرحبا بالعالم",
        "Ελένη Παπαδοπούλου",
        "Анастасия Владимировна",
        "Zoë Ångström-Łukasiewicz",
        "\u202eevil\u202c",
        "line\nbreak\ttab\x00nul\x7f",
        "\ufeff\u200b\u200d",
        "Z̷̢̧̛̤͎̬̖̹͎̺̠̗̜̰̟̓͒̔̓̂̈́̈͒̿̕͜͝a̸l̸g̸o̸",
        "\U000f0000\U0010fffd",  # private use planes
        "\ud800",  # a lone surrogate (what a bad JSON decoder could hand over)
    ],
)
def test_names_of_every_kind_render(name):
    png = cards.render(replace(CARD, name=name, username=name or None))
    assert _open(png).size == (934, 282)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.text(max_size=60), username=st.one_of(st.none(), st.text(max_size=40)), label=st.text(max_size=40))
def test_any_text_renders(name, username, label):
    png = cards.render(replace(CARD, name=name, username=username, xp_label=label))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("level", "rank", "in_level", "needed"),
    [(0, 1, 0, 0), (0, 1, 0, 100), (10_000, 10**9, 10**15, 10**15), (5, 2, 150, 100), (1, 1, -5, 100)],
)
def test_extreme_numbers_render(level, rank, in_level, needed):
    card = replace(CARD, level=level, rank=rank, in_level=in_level, needed=needed)
    assert _open(cards.render(card)).size == (934, 282)


def test_counts_are_compact_beyond_five_digits():
    assert [cards._count(n) for n in (0, 999, 1_234, 99_999)] == ["0", "999", "1,234", "99,999"]
    assert [cards._count(n) for n in (100_000, 123_456, 999_949, 999_950, 1_250_000)] == [
        "100K",
        "123.5K",
        "999.9K",
        "1M",
        "1.2M",
    ]
    assert cards._count(10**15) == "1Q" and cards._count(10**18) == "1000Q"


def test_the_accent_is_the_guilds_valid_colour_or_the_default():
    assert accent_of({"theme": {"embedColor": "#ff8800"}}) == "#FF8800"
    for bad in (None, {}, {"theme": None}, {"theme": {"embedColor": "red"}}, {"theme": {"embedColor": "#12345"}}):
        assert accent_of(bad) == DEFAULT_ACCENT
    assert accent_of({"theme": {"embedColor": "#123456\n"}}) == DEFAULT_ACCENT


def test_a_black_accent_is_lightened_where_it_would_vanish():
    assert cards._visible_on_dark((0, 0, 0)) != (0, 0, 0)
    assert cards._visible_on_dark((233, 30, 99)) == (233, 30, 99)


def test_etag_depends_on_every_input():
    tag = cards.etag(CARD, None)
    assert tag.startswith('"') and tag.endswith('"') and tag == cards.etag(CARD, None)
    assert tag != cards.etag(CARD, "https://cdn.discordapp.com/avatars/1/a.png")
    assert tag != cards.etag(replace(CARD, in_level=451), None)


# ---------------------------------------------------------------- names as text


def test_the_bundled_fonts_cover_latin_greek_and_cyrillic_with_the_licence_beside_them():
    assert (FONTS / "LICENSE-DejaVu.txt").read_text().count("Bitstream") > 3
    for path in (cards.REGULAR, cards.BOLD):
        covered = text.coverage(path)
        for block in (range(0x20, 0x7F), range(0xA0, 0x180), range(0x391, 0x3AA), range(0x3B1, 0x3CA)):
            letters = set(block) - {0x3A2}  # U+03A2 is unassigned
            assert letters <= covered, (path, [hex(c) for c in letters - covered][:5])
        assert set(range(0x400, 0x460)) <= covered  # Cyrillic, with the extensions Ukrainian, Serbian... use
        assert {ord(text.FALLBACK), ord(text.ELLIPSIS)} <= covered
        assert not {0x4E00, 0xAC00, 0x1F468, 0x1F1EB} & covered  # CJK, Hangul, 👨, 🇫: the fallback's job


def test_the_cmap_reader_agrees_with_freetype():
    """A code point our cmap reader calls missing is drawn as .notdef by FreeType, and one it calls covered is
    not, over a spread of blocks."""
    font = ImageFont.truetype(cards.REGULAR, 20, layout_engine=ImageFont.Layout.BASIC)

    def drawn(ch: str) -> bytes:
        image = Image.new("L", (48, 48))
        ImageDraw.Draw(image).text((12, 12), ch, font=font, fill=255)
        return image.tobytes()

    notdef = drawn("\U0010fffd")
    covered = text.coverage(cards.REGULAR)
    rng = random.Random(7)
    sample = [
        c for c in (*range(0x20, 0x3000, 5), *rng.sample(range(0x3000, 0x30000), 300)) if not 0xD800 <= c <= 0xDFFF
    ]
    for code in sample:
        assert (drawn(chr(code)) == notdef) is (code not in covered), hex(code)


COVERED = text.coverage(cards.BOLD)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("Alice", "Alice"),
        ("Zoë Ω Жук", "Zoë Ω Жук"),
        ("  two   spaces\n", "two spaces"),
        ("山田太郎", "\ufffd" * 4),
        ("👨‍👩‍👧 fam", "\ufffd fam"),  # one ZWJ sequence, one fallback
        ("🇫🇷🇩🇪", "\ufffd\ufffd"),  # two flags
        ("👍🏽ok", "\ufffdok"),  # the skin tone is part of the emoji
        ("a\u202eb\u200fc", "abc"),  # bidi controls dropped: the order is ours
        ("\u200b\ufeff", ""),
        ("e\u0301", "é"),  # composed
    ],
)
def test_displayable_replaces_what_the_font_lacks(raw, shown):
    assert text.displayable(raw, COVERED) == shown


@pytest.mark.parametrize(
    ("logical", "drawn"),
    [
        ("abc", "abc"),
        ("שלום", "םולש"),
        ("שלום 123", "123 םולש"),
        ("שלום abc", "abc םולש"),
        ("Dan שלום 12", "Dan 12 םולש"),
        ("שלום 1,000", "1,000 םולש"),
        # brackets in a right-to-left run face the text they enclose (their mirrored glyph)
        ("שלום (בית)", "(תיב) םולש"),
        ("אבג [1] דהו", "והד [1] גבא"),
        ("مرحبا «عالم»", "«ملاع» ابحرم"),
        ("דני <3", "3> ינד"),
        ("abc (אבג) def", "abc (גבא) def"),  # a bracket between left-to-right text stays as it is
    ],
)
def test_right_to_left_runs_are_drawn_in_visual_order(logical, drawn):
    assert text.visual(logical) == drawn


def test_long_names_are_ellipsised_to_fit():
    font = ImageFont.truetype(cards.BOLD, 40, layout_engine=ImageFont.Layout.BASIC)
    fitted = text.fit("Maximilian Alexander von Habsburg-Lothringen", 300, font.getlength)
    assert fitted.endswith(text.ELLIPSIS) and font.getlength(fitted) <= 300
    assert fitted.startswith("Maximilian")
    assert text.fit("Short", 300, font.getlength) == "Short"
    assert text.fit("W" * 50, 5, font.getlength) == text.ELLIPSIS
    hebrew = text.fit("שלום " * 20, 300, font.getlength)
    assert hebrew.startswith(text.ELLIPSIS)  # the cut is at the logical end, which is on the left
