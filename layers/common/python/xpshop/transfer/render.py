"""Export rows as the importer reads them: JSON objects `{id, xp, level, messages, hidden}`, or CSV with that
header (`hidden` written `true` or `false`, as the importer reads it)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

CSV_COLUMNS = ("id", "xp", "level", "messages", "hidden")
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


def csv_text(members: Iterable[dict[str, Any]]) -> str:
    """The header and one line per member (`\\r\\n` line ends, as RFC 4180 and spreadsheets expect)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for member in members:
        writer.writerow([_cell(member[column]) for column in CSV_COLUMNS])
    return out.getvalue()


def _cell(value: Any) -> Any:
    """`true` / `false` as JSON writes them (csv would write Python's True / False)."""
    return ("true" if value else "false") if isinstance(value, bool) else value
