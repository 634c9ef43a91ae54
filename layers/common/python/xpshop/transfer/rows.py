"""One import row: validated on its own (id, xp, messages), so a bad row is rejected with its row number and
the reason while the others are imported."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from ..ids import SNOWFLAKE_RULE_TEXT, is_snowflake
from ..levels import MAX_XP

MAX_BODY_BYTES = 10 * 1024 * 1024  # 10 MB a call (after gzip, when the body came compressed)
MAX_ROWS = 100_000  # rows a call
MAX_ERRORS = 100  # rejected rows listed in an answer (all are counted)
MAX_MESSAGES = MAX_XP  # a message count is a counter like XP: the same bound keeps sums exact


class Fields(NamedTuple):
    """A row's fields as the uploaded file names them (a MEE6 player's `message_count`, a CSV's `User ID`
    column): a rejected row's reason names the field the caller can find in their file."""

    id: str = "id"
    xp: str = "xp"
    messages: str = "messages"
    hidden: str = "hidden"


FIELDS = Fields()


@dataclass(frozen=True, slots=True)
class Row:
    """A valid row: `row` is its position in the file (see `parse` for how rows are numbered)."""

    row: int
    user_id: str
    xp: int
    messages: int | None = None  # None: the file does not say; the stored count is kept
    # The member's privacy choice as an xpshop export states it (True: hidden). None: the row does not say
    # (a MEE6 or Lurkr file never does); an import hides, it never shows (service/imports.py).
    hidden: bool | None = None


@dataclass(frozen=True, slots=True)
class Rejected:
    row: int
    id: str | None  # the id as the file wrote it (None when there was none)
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "id": self.id, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Reward:
    level: int
    role_id: str


@dataclass(frozen=True, slots=True)
class SkippedReward:
    """A role reward of the file that was not imported: another role has its level earlier in the file
    (one reward per level). `entry` is where the file has it (`role_rewards[1]`, `pages[2].role_rewards[0]`)."""

    entry: str
    level: int
    role_id: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"entry": self.entry, "level": self.level, "roleId": self.role_id, "reason": self.reason}


def _shown(value: Any) -> str | None:
    """An id as the file gave it, short enough to echo back."""
    if value is None or isinstance(value, bool | dict | list):
        return None
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _count(value: Any, field: str, maximum: int) -> int | str:
    """A non-negative whole number, or the reason it is not one. JSON has one number type: 100.0 is 100, as
    in every other body of the API; 1.5, "100" and true are not whole numbers."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return f"{field} must be a whole number, got {_describe(value)}"
    if value < 0:
        return f"{field} must be >= 0, got {value}"
    if value > maximum:
        return f"{field} must be at most {maximum}, got {value}"
    return value


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return repr(value if len(value) <= 20 else value[:17] + "...")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return "an object" if isinstance(value, dict) else "a list"
    return repr(value)[:20]


def _problem(raw_id: Any, raw_xp: Any, xp_missing: bool, names: Fields) -> str | None:
    """Why a row's id or xp can't be imported, or None."""
    if raw_id is None or raw_id == "":
        return f"{names.id} is missing"
    if isinstance(raw_id, bool) or not is_snowflake(raw_id):
        return f"{names.id} must be {SNOWFLAKE_RULE_TEXT}"
    if xp_missing:
        return f"{names.xp} is missing"
    xp = _count(raw_xp, names.xp, MAX_XP)
    return xp if isinstance(xp, str) else None


def validate(
    row: int,
    raw_id: Any,
    raw_xp: Any,
    raw_messages: Any,
    *,
    xp_missing: bool = False,
    names: Fields = FIELDS,
    raw_hidden: Any = None,
) -> Row | Rejected:
    """Check one row's fields (ids as strings or integers; counts as integers; `hidden` true, false or absent);
    `names`: as the file has them."""
    problem = _problem(raw_id, raw_xp, xp_missing, names)
    if problem is not None:
        return Rejected(row, _shown(raw_id), problem)
    messages = None if raw_messages is None else _count(raw_messages, names.messages, MAX_MESSAGES)
    if isinstance(messages, str):
        return Rejected(row, _shown(raw_id), messages)
    if raw_hidden is not None and not isinstance(raw_hidden, bool):
        return Rejected(row, _shown(raw_id), f"{names.hidden} must be true or false, got {_describe(raw_hidden)}")
    return Row(row, str(raw_id), int(raw_xp), messages, raw_hidden)


class Collector:
    """Rows as they are read: valid ones kept, rejected ones counted. An id repeated in the file is rejected
    (the row that has it first stands or falls on its own), pointing at that first row."""

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.rejected: list[Rejected] = []
        self._first: dict[str, int] = {}

    @property
    def received(self) -> int:
        return len(self.rows) + len(self.rejected)

    def add(
        self,
        row: int,
        raw_id: Any,
        raw_xp: Any,
        raw_messages: Any,
        *,
        xp_missing: bool = False,
        names: Fields = FIELDS,
        raw_hidden: Any = None,
    ) -> None:
        if not isinstance(raw_id, bool) and is_snowflake(raw_id):
            first = self._first.setdefault(str(raw_id), row)
            if first != row:
                self.rejected.append(Rejected(row, str(raw_id), f"{names.id} repeated: already at row {first}"))
                return
        found = validate(row, raw_id, raw_xp, raw_messages, xp_missing=xp_missing, names=names, raw_hidden=raw_hidden)
        if isinstance(found, Rejected):
            self.rejected.append(found)
        else:
            self.rows.append(found)

    def reject(self, row: int, raw_id: Any, reason: str) -> None:
        self.rejected.append(Rejected(row, _shown(raw_id), reason))
