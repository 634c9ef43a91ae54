"""When two names (or codes) are the same: the one rule for uniqueness, renames, lookups, sorting and limits.

Names are compared after Unicode NFKC normalisation, trimming and case folding, so "Café" typed two ways,
"HAT"/"hat", "Straße"/"STRASSE" and "ﬁre"/"Fire" are the same name. Limits apply to that folded form, since
it is what becomes a DynamoDB key: NFKC can expand one character to 18 (U+FDFA), case folding "ß" to "ss".
"""

from __future__ import annotations

import unicodedata

from .errors import ErrorCode, InvalidInput

MAX_NAME_CHARS = 64  # cosmetic and category names, once folded
MAX_CODE_CHARS = 32  # coupon and creator codes, once folded
# A folded name is keyed as NAME#<kind>#<folded>: this leaves room for the prefix under 1024 bytes, DynamoDB's
# sort-key limit (a partition key may have 2048; the smaller bound is the safe one for any key).
MAX_FOLDED_BYTES = 1000


def fold(value: str) -> str:
    """The form names are compared, keyed and sorted in."""
    return unicodedata.normalize("NFKC", value).strip().casefold()


def same(a: str, b: str) -> bool:
    return fold(a) == fold(b)


def problem(value: str, max_chars: int | None = None) -> str | None:
    """Why `value` cannot name something (empty or too long once folded), or None. `max_chars` bounds new
    names; a lookup only needs to fit a key (names stored before the limit applied stay reachable)."""
    folded = fold(value)
    if not folded:
        return "must not be empty once Unicode-normalised"
    if max_chars is not None and len(folded) > max_chars:
        return (
            f"must be at most {max_chars} characters once Unicode-normalised (NFKC) and case-folded "
            f"(this one has {len(folded)})"
        )
    size = utf8_size(folded)
    if size is None:
        return "must be valid Unicode text (no lone surrogates)"
    if size > MAX_FOLDED_BYTES:
        return f"is too long once Unicode-normalised (NFKC): at most {MAX_FOLDED_BYTES} bytes of UTF-8"
    return None


def utf8_size(value: str) -> int | None:
    """Bytes of `value` in UTF-8, as DynamoDB counts them; None for text UTF-8 cannot encode (a lone
    surrogate, which JSON's "\\ud800" can produce)."""
    try:
        return len(value.encode())
    except UnicodeEncodeError:
        return None


def folded_key_part(value: str, field: str) -> str:
    """`value` folded for a key, or a 400 naming `field` when it cannot be one."""
    why = problem(value)
    if why is not None:
        raise InvalidInput(ErrorCode.INVALID_REQUEST, f"{field}: {why}")
    return fold(value)
