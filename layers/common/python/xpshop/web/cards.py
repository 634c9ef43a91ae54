"""Rank card images: one PNG per member (avatar, name, level, rank, progress), drawn with Pillow.

Deterministic: the same card and avatar give the same bytes (no timestamps or other metadata in the PNG, a
fixed compression level, Pillow's BASIC text layout everywhere), so the ETag can be computed from the inputs
and a 304 costs no drawing. Shapes and text are drawn at twice the size and reduced once, which smooths the
ring and the bar's rounded ends; the avatar is pasted after, through an anti-aliased circular mask.
"""

from __future__ import annotations

import hashlib
import io
from functools import cache
from pathlib import Path

import PIL
from PIL import Image, ImageDraw, ImageFont

from . import text
from .card_data import DEFAULT_ACCENT, Card, accent_of

__all__ = ["DEFAULT_ACCENT", "Card", "accent_of", "etag", "render"]

WIDTH, HEIGHT = 934, 282
SCALE = 2  # drawn at 2x, then reduced: anti-aliased shapes for a few ms
AVATAR = 180  # the avatar's diameter on the card
RENDER_VERSION = "2"  # part of the ETag: bump when the drawing changes (2: brackets mirrored in right-to-left names)
PNG_COMPRESSION = 1  # zlib level: twice as fast to encode as 6 for ~9 % more bytes (measured, docs/PERFORMANCE.md)

_FONTS = Path(__file__).with_name("fonts")
REGULAR = str(_FONTS / "DejaVuSans.ttf")
BOLD = str(_FONTS / "DejaVuSans-Bold.ttf")

BACKGROUND = (30, 31, 34)
PANEL = (43, 45, 49)
TRACK = (30, 31, 34)
WHITE = (242, 243, 245)
MUTED = (181, 186, 193)

# Layout, in card pixels (1x).
MARGIN = 16
AVATAR_X, AVATAR_Y = 52, (HEIGHT - AVATAR) // 2
TEXT_X, TEXT_RIGHT = 272, WIDTH - 48
HEADER_Y, NAME_Y = 44, 122
BAR_Y, BAR_HEIGHT = 188, 38


def etag(card: Card, avatar_key: str | None) -> str:
    """A strong ETag from the inputs alone (`avatar_key`: the avatar's URL when it was drawn, else None)."""
    parts = (RENDER_VERSION, PIL.__version__, repr(card), avatar_key or "-")
    return '"' + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32] + '"'


def render(card: Card, avatar: Image.Image | None = None) -> bytes:
    """The card as PNG bytes. `avatar`: a square RGBA image (any size), or None for the initial-letter one."""
    accent = _rgb(card.accent)
    image = Image.new("RGB", (WIDTH * SCALE, HEIGHT * SCALE), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle(_box(MARGIN, MARGIN, WIDTH - MARGIN, HEIGHT - MARGIN), radius=24 * SCALE, fill=PANEL)
    _draw_header(draw, card, accent)
    _draw_name_line(draw, card)
    _draw_bar(draw, card, _visible_on_dark(accent))
    ring = 8
    draw.ellipse(
        _box(AVATAR_X - ring, AVATAR_Y - ring, AVATAR_X + AVATAR + ring, AVATAR_Y + AVATAR + ring),
        fill=_visible_on_dark(accent),
    )
    card_image = image.reduce(SCALE)
    card_image.paste(*_avatar_layer(card, avatar, accent))
    out = io.BytesIO()
    card_image.save(out, format="PNG", compress_level=PNG_COMPRESSION)
    return out.getvalue()


# ---------------------------------------------------------------- parts


def _draw_header(draw: ImageDraw.ImageDraw, card: Card, accent: tuple[int, int, int]) -> None:
    """Right-aligned "RANK #n  LEVEL n"; the @username on the left in what is left."""
    label, number = _font(REGULAR, 22), _font(BOLD, 46)
    pieces = [
        ("RANK", label, MUTED),
        (f"#{_count(card.rank)}", number, WHITE),
        ("LEVEL", label, MUTED),
        (_count(card.level), number, _visible_on_dark(accent)),
    ]
    gaps = [10, 28, 10, 0]
    x = TEXT_RIGHT * SCALE - sum(f.getlength(s) for s, f, _ in pieces) - sum(gaps) * SCALE
    left_edge = x
    baseline = (HEADER_Y + 46) * SCALE
    for (s, f, colour), gap in zip(pieces, gaps, strict=True):
        draw.text((x, baseline), s, font=f, fill=colour, anchor="ls")
        x += f.getlength(s) + gap * SCALE
    if card.username and card.username != card.name:
        small = _font(REGULAR, 24)
        shown = "@" + text.displayable(card.username, _coverage(REGULAR))
        room = left_edge - TEXT_X * SCALE - 24 * SCALE
        if room > small.getlength("@" + text.ELLIPSIS):
            draw.text(
                (TEXT_X * SCALE, baseline), text.fit(shown, room, small.getlength), font=small, fill=MUTED, anchor="ls"
            )


def _draw_name_line(draw: ImageDraw.ImageDraw, card: Card) -> None:
    """The name on the left (ellipsised to the room the XP figures leave), "in / needed XP" on the right."""
    name_font, figure, label = _font(BOLD, 40), _font(BOLD, 26), _font(REGULAR, 26)
    xp_label = text.displayable(card.xp_label, _coverage(REGULAR))[:16] or "XP"
    pieces = [(_count(card.in_level), figure, WHITE), (f" / {_count(card.needed)} {xp_label}", label, MUTED)]
    baseline = (NAME_Y + 44) * SCALE
    x = TEXT_RIGHT * SCALE - sum(f.getlength(s) for s, f, _ in pieces)
    figures_left = x
    for s, f, colour in pieces:
        draw.text((x, baseline), s, font=f, fill=colour, anchor="ls")
        x += f.getlength(s)
    name = text.displayable(card.name, _coverage(BOLD)) or "Member"
    room = figures_left - TEXT_X * SCALE - 24 * SCALE
    draw.text(
        (TEXT_X * SCALE, baseline), text.fit(name, room, name_font.getlength), font=name_font, fill=WHITE, anchor="ls"
    )


def _draw_bar(draw: ImageDraw.ImageDraw, card: Card, colour: tuple[int, int, int]) -> None:
    left, top, right, bottom = TEXT_X, BAR_Y, TEXT_RIGHT, BAR_Y + BAR_HEIGHT
    radius = BAR_HEIGHT // 2 * SCALE
    draw.rounded_rectangle(_box(left, top, right, bottom), radius=radius, fill=TRACK)
    share = min(1.0, max(0.0, card.in_level / card.needed)) if card.needed > 0 else 0.0
    if share > 0:
        # never narrower than its own rounded ends, so a sliver of progress still shows as a pill
        filled = max(BAR_HEIGHT, round((right - left) * share))
        draw.rounded_rectangle(_box(left, top, left + filled, bottom), radius=radius, fill=colour)


def _avatar_layer(
    card: Card, avatar: Image.Image | None, accent: tuple[int, int, int]
) -> tuple[Image.Image, tuple[int, int], Image.Image]:
    """(image, position, mask) to paste: the avatar in a circle, or the name's initial on the accent colour."""
    face = _photo(avatar) if avatar is not None else _initial(card, accent)
    return face, (AVATAR_X, AVATAR_Y), _circle_mask(AVATAR)


def _photo(avatar: Image.Image) -> Image.Image:
    """The avatar at card size, its transparent parts on the panel's colour (not whatever RGB they hide)."""
    scaled = avatar.convert("RGBA").resize((AVATAR, AVATAR), Image.Resampling.LANCZOS)
    return Image.alpha_composite(Image.new("RGBA", scaled.size, (*PANEL, 255)), scaled).convert("RGB")


def _initial(card: Card, accent: tuple[int, int, int]) -> Image.Image:
    face = Image.new("RGB", (AVATAR, AVATAR), accent)
    letter = next((ch for ch in text.displayable(card.name, _coverage(BOLD)) if ch.isalnum()), "?").upper()
    if len(letter) != 1 or ord(letter) not in _coverage(BOLD):  # "ß".upper() is "SS"
        letter = "?"
    ink = (20, 20, 24) if _luminance(accent) > 0.6 else (255, 255, 255)
    ImageDraw.Draw(face).text(
        (AVATAR / 2, AVATAR / 2), letter, font=_font(BOLD, 88, scaled=False), fill=ink, anchor="mm"
    )
    return face


# ---------------------------------------------------------------- helpers


@cache
def _font(path: str, size: int, *, scaled: bool = True) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size * (SCALE if scaled else 1), layout_engine=ImageFont.Layout.BASIC)


def _coverage(path: str) -> frozenset[int]:
    return text.coverage(path)


@cache
def _circle_mask(size: int) -> Image.Image:
    """An anti-aliased circle (drawn at 4x, reduced): the same mask for every avatar."""
    big = Image.new("L", (size * 4, size * 4), 0)
    ImageDraw.Draw(big).ellipse((0, 0, size * 4 - 1, size * 4 - 1), fill=255)
    return big.reduce(4)


def _box(left: float, top: float, right: float, bottom: float) -> tuple[int, int, int, int]:
    return (round(left * SCALE), round(top * SCALE), round(right * SCALE) - 1, round(bottom * SCALE) - 1)


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    value = int(hex_colour[1:], 16)
    return (value >> 16) & 255, (value >> 8) & 255, value & 255


def _luminance(rgb: tuple[int, int, int]) -> float:
    """Relative luminance (WCAG), 0 (black) to 1 (white)."""

    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _visible_on_dark(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """The accent, lightened when it would vanish on the dark panel (a guild may pick #000000)."""
    if _luminance(rgb) >= 0.08:
        return rgb
    r, g, b = rgb
    return (r + (255 - r) * 2 // 5, g + (255 - g) * 2 // 5, b + (255 - b) * 2 // 5)


def _count(n: int) -> str:
    """1,234 up to 99,999; then 123.4K, 12.3M, ... (a card has room for about seven characters)."""
    if n < 100_000:
        return f"{n:,}"
    value = float(n)
    for suffix in ("K", "M", "B", "T", "Q"):
        value /= 1000
        if round(value, 1) < 1000 or suffix == "Q":
            return f"{value:.1f}".rstrip("0").rstrip(".") + suffix
    raise AssertionError("unreachable")
