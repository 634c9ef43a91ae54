"""Export rows as the importer reads them: JSON objects `{id, xp, level, messages}`, or CSV with that header."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

CSV_COLUMNS = ("id", "xp", "level", "messages")
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


def csv_text(members: Iterable[dict[str, Any]]) -> str:
    """The header and one line per member (`\\r\\n` line ends, as RFC 4180 and spreadsheets expect)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for member in members:
        writer.writerow([member[column] for column in CSV_COLUMNS])
    return out.getvalue()
