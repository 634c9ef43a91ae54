"""What a rank card shows, apart from the drawing (no Pillow here: the Discord webhook imports this)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

DEFAULT_ACCENT = "#5865F2"  # Discord blurple, like the embeds when a guild sets no theme.embedColor
_ACCENT = re.compile(r"#[0-9A-Fa-f]{6}")


@dataclass(frozen=True, slots=True)
class Card:
    """What a card shows. `name` and `username` are untrusted text as Discord gave them."""

    name: str
    username: str | None
    level: int
    rank: int
    in_level: int
    needed: int  # XP of the whole current level (in_level + to next)
    accent: str = DEFAULT_ACCENT
    xp_label: str = "XP"


def accent_of(config: dict[str, Any] | None) -> str:
    """The guild's `theme.embedColor` when it is a valid #RRGGBB, else the default."""
    theme = (config or {}).get("theme")
    value = theme.get("embedColor") if isinstance(theme, dict) else None
    return value.upper() if isinstance(value, str) and _ACCENT.fullmatch(value) else DEFAULT_ACCENT
