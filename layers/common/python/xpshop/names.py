"""When two names (or codes) are the same: the one rule for uniqueness, renames, lookups and sorting.

Names are compared after Unicode NFKC normalisation, trimming and case folding, so "Café" typed two ways,
"HAT"/"hat", "Straße"/"STRASSE" and "ﬁre"/"Fire" are the same name.
"""

from __future__ import annotations

import unicodedata


def fold(value: str) -> str:
    """The form names are compared, keyed and sorted in."""
    return unicodedata.normalize("NFKC", value).strip().casefold()


def same(a: str, b: str) -> bool:
    return fold(a) == fold(b)
