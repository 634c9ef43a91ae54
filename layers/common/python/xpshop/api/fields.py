"""Field types several models share, each stating in the OpenAPI document exactly the rule its validator
enforces (a pattern, bounds), so that a client generated from the document sends only what is accepted:
Discord snowflakes, whole numbers, multipliers, and the schema helpers the shop's types use
(`trimmed_pattern`, `numeric_string_pattern`, `VISIBLE_CHAR`). The shop's own types are in `shop.requests`.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, Field, StrictFloat, StrictInt, WithJsonSchema

from ..ids import SNOWFLAKE_PATTERN, SNOWFLAKE_RULE_TEXT, digits_at_most, is_snowflake

SNOWFLAKE_RULE = "A Discord snowflake: 17-20 digits, at most 2^64-1 (18446744073709551615)"
SNOWFLAKE_EXAMPLE = "123456789012345678"
SNOWFLAKE_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": SNOWFLAKE_PATTERN,
    "description": SNOWFLAKE_RULE,
    "examples": [SNOWFLAKE_EXAMPLE],
}


def _as_snowflake(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not is_snowflake(value):
        raise ValueError(f"must be {SNOWFLAKE_RULE_TEXT}")
    return value


def _whole(value: Any) -> Any:
    """JSON has one number type: 5.0 is the integer 5 (JSON Schema's `integer` says so too)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Snowflake = Annotated[str, BeforeValidator(_as_snowflake), WithJsonSchema(SNOWFLAKE_SCHEMA)]
# Numbers and booleans are strict: "5", true or "yes" are refused where a number or a boolean is expected;
# a whole number written 5.0 is 5.
WholeNumber = Annotated[StrictInt, BeforeValidator(_whole)]
PositiveMultiplier = Annotated[StrictFloat, Field(gt=0, le=100)]


def numeric_string_pattern(low: int, high: int) -> str:
    """A pattern for the decimal strings of the integers low..high (low <= 0 <= high), e.g. "-5", "60"."""
    if not low <= 0 <= high:
        raise ValueError("the range must contain 0")
    positive = digits_at_most(high) if high else "0"
    if low == 0:
        return f"^(?:{positive})$"
    return f"^(?:{positive}|-(?:{digits_at_most(-low)}))$"


def _char_ranges(codepoints: list[int]) -> str:
    """A character-class body for the code points (BMP ones as \\uXXXX escapes, astral ones literally)."""
    parts: list[str] = []
    start = prev = codepoints[0]
    for cp in [*codepoints[1:], -1]:
        if cp == prev + 1:
            prev = cp
            continue
        parts.append(_char(start) if start == prev else f"{_char(start)}-{_char(prev)}")
        start = prev = cp
    return "".join(parts)


def _char(cp: int) -> str:
    return f"\\u{cp:04x}" if cp <= 0xFFFF else chr(cp)


# Control, format (zero-width, bidi) and private-use code points: what names refuse (with lone surrogates,
# which valid UTF-8 cannot carry and regular expressions of JSON Schema validators cannot name).
INVISIBLE_CATEGORIES = ("Cc", "Cf", "Co")


def invisible_ranges() -> str:
    """The character-class body of every code point in INVISIBLE_CATEGORIES, from the running Python's Unicode
    database (a walk over all 1.1M code points: ~200 ms, so not at import; `_INVISIBLE` is its value for the
    runtime's Unicode 15.1, and tests/unit/test_imports.py checks the two agree)."""
    import unicodedata

    return _char_ranges(
        [cp for cp in range(sys.maxunicode + 1) if unicodedata.category(chr(cp)) in INVISIBLE_CATEGORIES]
    )


_INVISIBLE = (
    "\\u0000-\\u001f\\u007f-\\u009f\\u00ad\\u0600-\\u0605\\u061c\\u06dd\\u070f\\u0890-\\u0891\\u08e2\\u180e"
    "\\u200b-\\u200f\\u202a-\\u202e\\u2060-\\u2064\\u2066-\\u206f\\ue000-\\uf8ff\\ufeff\\ufff9-\\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f\U000f0000-\U000ffffd\U00100000-\U0010fffd"
)
VISIBLE_CHAR = f"[^{_INVISIBLE}]"
# Whitespace spelled out (regex engines disagree on `\s`): Unicode's White_Space, what pydantic's
# str_strip_whitespace trims; Python's str.strip() also trims U+001C-U+001F (`PY_SPACE`).
_WHITE_SPACE = "\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
SPACE = f"[{_WHITE_SPACE}]"
NON_SPACE = f"[^{_WHITE_SPACE}]"
PY_SPACE = f"[{_WHITE_SPACE}\\u001c-\\u001f]"
VISIBLE_NON_SPACE = f"[^{_WHITE_SPACE}{_INVISIBLE}]"


# What each pattern made by `trimmed_pattern` asks for, in words: a 400 says that instead of quoting the
# pattern (a visible-text one is ~2 KB of character ranges).
PATTERN_RULES: dict[str, str] = {}


def trimmed_pattern(max_chars: int, char: str = r"[\s\S]", edge: str = NON_SPACE) -> str:
    """Text of 1..max_chars characters once leading and trailing whitespace is trimmed (as the shop's
    models do before checking lengths): `char` for any character, `edge` for the first and last."""
    inner = f"(?:{char}){{0,{max_chars - 2}}}" if max_chars > 2 else ""
    middle = f"(?:{edge})(?:{inner}(?:{edge}))?" if max_chars > 1 else f"(?:{edge})"
    pattern = f"^{SPACE}*{middle}{SPACE}*$"
    if char == VISIBLE_CHAR:
        kind = "visible characters once trimmed (no control, zero-width, bidi or private-use characters)"
    elif char == r"[\s\S]":
        kind = "characters once trimmed"
    else:
        kind = f"characters matching {char} once trimmed"
    PATTERN_RULES.setdefault(pattern, f"1-{max_chars} {kind}")
    return pattern


def body_config(examples: list[dict[str, Any]], *, strip: bool = False, **rules: Any) -> ConfigDict:
    """The config of a request body model: unknown fields refused, built on first use, its `examples` (the
    OpenAPI document shows and the contract tests send them) and cross-field `rules` as JSON Schema
    keywords (`anyOf`, `if`/`then`/`else`, ...) stating what the model's validators enforce."""
    extra: dict[str, Any] = {"examples": examples, **rules}
    return ConfigDict(extra="forbid", defer_build=True, str_strip_whitespace=strip, json_schema_extra=extra)


# Rules JSON Schema cannot state, on the field they bind (`x-xpshop-rules`, a vendor extension; each rule's
# description is in the field's description too, and the server's 400 names the field). Tools may read them:
# local/contract_hooks.py does, so that schemathesis knows a request that breaks one is not valid data.
RULES_EXTENSION = "x-xpshop-rules"


def unique_by(key: str, description: str) -> dict[str, Any]:
    """The rule: no two items of the list have the same `key`."""
    return {RULES_EXTENSION: [{"rule": "unique-by", "key": key, "description": description}]}


def max_length_folded(max_chars: int, description: str) -> dict[str, Any]:
    """The rule: at most `max_chars` characters once NFKC-normalised, trimmed and case-folded (names.fold)."""
    return {RULES_EXTENSION: [{"rule": "max-length-folded", "max": max_chars, "description": description}]}


def required_non_null(*fields: str) -> dict[str, Any]:
    """JSON Schema: every one of `fields` is present and not null."""
    return {"required": list(fields), "properties": {f: {"not": {"type": "null"}} for f in fields}}
