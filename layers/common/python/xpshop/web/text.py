"""Untrusted names made drawable with the bundled font: glyph coverage, a fallback glyph, visual order.

Pillow draws with its BASIC layout everywhere (raqm needs a system FriBiDi that Lambda does not have, and the
same layout locally keeps the bytes of a card the same on every machine). So this module does, in a small way,
what a shaping engine would: characters the font has no glyph for become one fallback glyph (an emoji sequence
joined with ZWJ, or a flag's pair of regional indicators, becomes one), invisible format characters are
dropped, and right-to-left runs are put in visual order. Arabic letters are not joined (shown in their isolated
forms); Hebrew, Latin, Greek and Cyrillic read as they should.
"""

from __future__ import annotations

import struct
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

FALLBACK = "\ufffd"  # REPLACEMENT CHARACTER: DejaVu Sans has it, in both faces
ELLIPSIS = "\u2026"
ZWJ = "\u200d"
MAX_INPUT = 100  # Discord names are at most 32 characters; more is never drawn

_REGIONAL_INDICATORS = range(0x1F1E6, 0x1F200)
# Ignorable when the font lacks them: variation selectors, emoji skin tones, tag characters, keycap mark.
_IGNORABLE = (range(0xFE00, 0xFE10), range(0xE0100, 0xE01F0), range(0x1F3FB, 0x1F400), range(0xE0000, 0xE0080))


@lru_cache(maxsize=4)
def coverage(font_path: str) -> frozenset[int]:
    """The code points a TrueType font maps to a glyph, read from its `cmap` table (formats 12 and 4)."""
    data = Path(font_path).read_bytes()
    (num_tables,) = struct.unpack_from(">H", data, 4)
    tables = {
        data[12 + 16 * i : 16 + 16 * i]: struct.unpack_from(">II", data, 20 + 16 * i)[0] for i in range(num_tables)
    }
    cmap = tables[b"cmap"]
    _, count = struct.unpack_from(">HH", data, cmap)
    subtables: dict[tuple[int, int], int] = {}
    for i in range(count):
        platform, encoding, offset = struct.unpack_from(">HHI", data, cmap + 4 + 8 * i)
        subtables[(platform, encoding)] = cmap + offset
    for key in ((3, 10), (0, 4), (0, 6)):  # full Unicode (format 12) first
        if key in subtables and struct.unpack_from(">H", data, subtables[key])[0] == 12:
            return _format12(data, subtables[key])
    for key in ((3, 1), (0, 3), (0, 0)):
        if key in subtables and struct.unpack_from(">H", data, subtables[key])[0] == 4:
            return _format4(data, subtables[key])
    raise ValueError(f"{font_path}: no Unicode cmap of format 4 or 12")


def _format12(data: bytes, at: int) -> frozenset[int]:
    (groups,) = struct.unpack_from(">I", data, at + 12)
    found: set[int] = set()
    for i in range(groups):
        start, end, glyph = struct.unpack_from(">III", data, at + 16 + 12 * i)
        found.update(c for c in range(start, end + 1) if glyph + (c - start))  # glyph 0 is .notdef
    return frozenset(found)


def _format4(data: bytes, at: int) -> frozenset[int]:
    seg_count = struct.unpack_from(">H", data, at + 6)[0] // 2
    ends = struct.unpack_from(f">{seg_count}H", data, at + 14)
    starts = struct.unpack_from(f">{seg_count}H", data, at + 16 + 2 * seg_count)
    deltas = struct.unpack_from(f">{seg_count}h", data, at + 16 + 4 * seg_count)
    range_at = at + 16 + 6 * seg_count
    offsets = struct.unpack_from(f">{seg_count}H", data, range_at)
    found: set[int] = set()
    for i in range(seg_count):
        for c in range(starts[i], ends[i] + 1):
            if c == 0xFFFF:
                continue
            if offsets[i] == 0:
                glyph = (c + deltas[i]) & 0xFFFF
            else:
                (glyph,) = struct.unpack_from(">H", data, range_at + 2 * i + offsets[i] + 2 * (c - starts[i]))
                glyph = (glyph + deltas[i]) & 0xFFFF if glyph else 0
            if glyph:
                found.add(c)
    return frozenset(found)


def _ignorable(code: int) -> bool:
    return any(code in r for r in _IGNORABLE)


def displayable(text: str, covered: frozenset[int]) -> str:
    """`text` with what the font cannot draw replaced: one FALLBACK per missing character (or per emoji
    ZWJ sequence / flag), format and control characters dropped, whitespace runs made one space."""
    out: list[str] = []
    joined = False  # the previous character was a ZWJ after a fallback: the sequence is one picture
    lone_indicator = False  # a regional indicator waiting for its pair (two make one flag)
    for ch in unicodedata.normalize("NFC", text[:MAX_INPUT]):
        code, category = ord(ch), unicodedata.category(ch)
        if ch.isspace() or category == "Cc":
            if out and out[-1] != " ":
                out.append(" ")
            joined = lone_indicator = False
            continue
        if ch == ZWJ:
            joined = bool(out) and out[-1] == FALLBACK
            continue
        # Invisible: format characters (bidi controls too: the order is ours, see `visual`), selectors.
        if category == "Cf" or _ignorable(code):
            continue
        if code in covered:
            out.append(ch)
            joined = lone_indicator = False
            continue
        if category in ("Mn", "Me"):  # a combining mark the font lacks: the base letter stays
            continue
        if code in _REGIONAL_INDICATORS and lone_indicator:
            lone_indicator = False
            continue
        if not joined:
            out.append(FALLBACK)
        joined = False
        lone_indicator = code in _REGIONAL_INDICATORS
    return "".join(out).strip()


# Bidi_Mirroring pairs (Unicode's BidiMirroring.txt, the ones a name may hold and the font draws): in a
# right-to-left run the glyph is the mirrored one, so "(בית)" shows its brackets facing the text they enclose.
_PAIRS = "()<>[]{}«»‹›⁅⁆⁽⁾₍₎≤≥≪≫⟨⟩⟦⟧⦃⦄⦅⦆〈〉《》「」『』【】〔〕〖〗〘〙〚〛"
MIRRORED = {a: b for a, b in zip(_PAIRS[::2], _PAIRS[1::2], strict=True)} | {
    b: a for a, b in zip(_PAIRS[::2], _PAIRS[1::2], strict=True)
}


def _direction(ch: str) -> str | None:
    kind = unicodedata.bidirectional(ch)
    if kind in ("R", "AL"):
        return "R"
    if kind == "L":
        return "L"
    return None


def _is_number(text: str, i: int) -> bool:
    """A digit, or a separator between two digits ("1,000"): numbers read left to right in any text."""
    kind = unicodedata.bidirectional(text[i])
    if kind in ("EN", "AN"):
        return True
    inside = 0 < i < len(text) - 1
    return kind in ("CS", "ES", "ET") and inside and _is_number(text, i - 1) and _is_number(text, i + 1)


def visual(text: str) -> str:
    """Logical order to the order to draw left to right, for names (a small part of Unicode's bidi rules):
    the paragraph takes the direction of its first strong character, numbers that of the text before them,
    neutrals that of their neighbours when both agree (else the paragraph's); right-to-left runs are
    reversed, numbers inside them kept left to right, brackets in them mirrored."""
    if not any(_direction(ch) == "R" for ch in text):
        return text
    base = next(d for d in map(_direction, text) if d is not None)
    numbers = [_is_number(text, i) for i in range(len(text))]
    dirs: list[str | None] = []
    last = base
    for ch, number in zip(text, numbers, strict=True):
        strong = _direction(ch)
        last = strong or last
        dirs.append(strong or (last if number else None))
    for i, d in enumerate(dirs):
        if d is None:
            before = next((x for x in reversed(dirs[:i]) if x is not None), base)
            after = next((x for x in dirs[i + 1 :] if x is not None), base)
            dirs[i] = before if before == after else base
    runs: list[tuple[str | None, list[str]]] = []  # (direction, atoms); a number is one atom
    for i, (ch, d) in enumerate(zip(text, dirs, strict=True)):
        if not runs or runs[-1][0] != d:
            runs.append((d, []))
        atoms = runs[-1][1]
        if atoms and numbers[i] and numbers[i - 1]:
            atoms[-1] += ch
        else:
            atoms.append(ch)
    drawn = ["".join(_mirror(a) for a in reversed(atoms)) if d == "R" else "".join(atoms) for d, atoms in runs]
    if base == "R":
        drawn.reverse()
    return "".join(drawn)


def _mirror(atom: str) -> str:
    return MIRRORED.get(atom, atom)


def fit(text: str, width: float, measure: Callable[[str], float]) -> str:
    """`text` in visual order, cut with an ellipsis (at its logical end) to fit `width` as `measure`s it."""
    if measure(visual(text)) <= width:
        return visual(text)
    low, high = 0, len(text)  # the longest prefix that fits with the ellipsis: binary search
    while low < high:
        mid = (low + high + 1) // 2
        if measure(visual(text[:mid].rstrip() + ELLIPSIS)) <= width:
            low = mid
        else:
            high = mid - 1
    return visual(text[:low].rstrip() + ELLIPSIS) if low else ELLIPSIS
