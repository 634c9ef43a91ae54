"""What an import does to a member the file lists: `replace` (the file's values), `add` (the file's values added
to the stored ones) or `max` (the larger of the two). `messages` follows the same mode when the row has it;
a row without it leaves the stored count as it is."""

from __future__ import annotations

from enum import StrEnum

from ..levels import MAX_XP


class Mode(StrEnum):
    REPLACE = "replace"
    ADD = "add"
    MAX = "max"


def target(mode: Mode, stored_xp: int, stored_messages: int, xp: int, messages: int | None) -> tuple[int, int]:
    """(xp, messages) a member stored at (stored_xp, stored_messages) ends with (a new member is at (0, 0)).
    `add` may pass the maximum XP: the caller refuses that row."""
    if mode is Mode.REPLACE:
        return xp, stored_messages if messages is None else messages
    if mode is Mode.ADD:
        return stored_xp + xp, stored_messages + (messages or 0)
    return max(stored_xp, xp), stored_messages if messages is None else max(stored_messages, messages)


def refusal(xp: int) -> str | None:
    """Why a row whose member would end at `xp` is rejected (None: it is not)."""
    return f"xp would be {xp}, above the maximum of {MAX_XP}" if xp > MAX_XP else None
