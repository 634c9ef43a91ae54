"""Moving a leaderboard in and out (issue 15), the pure rules: reading import files (JSON rows, MEE6 pages,
xpshop exports, CSV) into validated rows, the import modes, merging role rewards, writing CSV.

No I/O here: `service/imports.py` and `service/exports.py` apply these rules with the store.
"""

from .modes import Mode, refusal, target
from .parse import Parsed, parse
from .rows import MAX_BODY_BYTES, MAX_ERRORS, MAX_ROWS, Rejected, Reward, Row

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_ERRORS",
    "MAX_ROWS",
    "Mode",
    "Parsed",
    "Rejected",
    "Reward",
    "Row",
    "parse",
    "refusal",
    "target",
]
