"""The shop API's field types shared by its request models (/api/v1): account and Discord ids, short ids,
names and codes, integers given as numbers or strings; the examples their schemas show; `account_param` (a
query-string account id) and `CODE_PATTERN`. See the package's docstring."""

import functools
import re
import unicodedata
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, TypeAdapter, ValidationError, WithJsonSchema

from .... import ids, names
from ....errors import ErrorCode, InvalidInput
from ...fields import (
    PATTERN_RULES,
    SNOWFLAKE_EXAMPLE,
    SNOWFLAKE_PATTERN,
    SNOWFLAKE_SCHEMA,
    SPACE,
    VISIBLE_CHAR,
    VISIBLE_NON_SPACE,
    max_length_folded,
    numeric_string_pattern,
    trimmed_pattern,
)


def _account(value: Any) -> str:
    if ids.is_snowflake(value):  # a string, or an integer (snowflakes may be sent as numbers)
        return str(value)
    uuid = ids.minecraft_uuid(value)  # text only: 32 decimal digits as a JSON number are not a UUID
    if uuid is None:
        raise ValueError(
            "must be a Discord ID (snowflake) or a Minecraft UUID (32 hex digits, or 8-4-4-4-12 with dashes)"
        )
    return uuid


def _snowflake(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not ids.is_snowflake(value):
        raise ValueError("must be a Discord ID (17-20 digits)")
    return str(value)


# A whole number given as text: ASCII digits with an optional sign, trimmed ("125", "-5", "+5", "0125").
# What Python's int() (and pydantic's lax int) also reads is refused: "1_000", "1.0", "1e3", other scripts'
# digits ("١٢"); 40 characters bound the text long before int()'s 4300-digit limit.
_WHOLE_TEXT = re.compile(r"[+-]?[0-9]{1,40}")


def _number(value: Any) -> Any:
    """An integer field's value: a JSON number (pydantic then refuses a fraction), or its decimal string."""
    if isinstance(value, bool):
        raise ValueError("must be an integer, not a boolean")
    if isinstance(value, str):
        text = value.strip()
        if not _WHOLE_TEXT.fullmatch(text):
            raise ValueError('must be a whole number written with the digits 0-9, e.g. 125 or "125"')
        return int(text)
    if isinstance(value, float) and value.is_integer():
        return int(value)  # 600.0 is 600; 1e300 then meets the field's bounds, not pydantic's integer size
    return value


# A Minecraft UUID: 32 hex digits, or 8-4-4-4-12 with dashes (ids.UUID_PATTERN); any case, not trimmed. With
# the snowflake, the exact rule of `_account`.
ACCOUNT_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "string", "pattern": SNOWFLAKE_PATTERN},
        {"type": "string", "pattern": ids.UUID_PATTERN},
    ],
    "description": (
        "Discord ID (snowflake: 17-20 digits, at most 2^64-1) or Minecraft UUID (32 hex digits, or 8-4-4-4-12 "
        "with dashes)"
    ),
    "examples": [SNOWFLAKE_EXAMPLE, "069a79f444e94726a5befca90e38aaf5"],
}
AccountId = Annotated[str, BeforeValidator(_account), WithJsonSchema(ACCOUNT_SCHEMA)]
DiscordId = Annotated[str, BeforeValidator(_snowflake), WithJsonSchema(SNOWFLAKE_SCHEMA)]
SHORT_ID_PATTERN = f"^{SPACE}*[A-Za-z0-9]{{8}}{SPACE}*$"
PATTERN_RULES.setdefault(SHORT_ID_PATTERN, "an id of 8 letters or digits (as the API gave it)")
ShortId = Annotated[str, Field(pattern=SHORT_ID_PATTERN, description="8-character id", examples=["aB3dE5gH"])]


def _visible(value: str) -> str:
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs") for ch in value):
        raise ValueError("must not contain control or invisible characters")
    return value


def _folded(max_chars: int | None) -> Any:
    """The limits on the form names are compared and keyed in (xpshop.names): `max_chars` for a new name,
    none for a lookup beyond fitting a key."""

    def check(value: str) -> str:
        why = names.problem(value, max_chars)
        if why is not None:
            raise ValueError(why)
        return value

    return AfterValidator(check)


_NAME_RULE = (
    f"At most {names.MAX_NAME_CHARS} characters, also once Unicode-normalised (NFKC) and case-folded: "
    "names are unique in that form"
)
# A new name (create, rename) and a name that finds one (lookups accept names stored before the limits).
# Names: 1-64 visible characters once trimmed (no control, zero-width, private-use or surrogate code points).
NAME_PATTERN = trimmed_pattern(names.MAX_NAME_CHARS, VISIBLE_CHAR, VISIBLE_NON_SPACE)


def text_schema(pattern: str, description: str, example: str, **extra: Any) -> Any:
    return WithJsonSchema(
        {"type": "string", "pattern": pattern, "description": description, "examples": [example], **extra}
    )


DisplayName = Annotated[
    str,
    Field(min_length=1, max_length=names.MAX_NAME_CHARS),
    AfterValidator(_visible),
    _folded(names.MAX_NAME_CHARS),
    text_schema(NAME_PATTERN, _NAME_RULE, "Golden Crown", **max_length_folded(names.MAX_NAME_CHARS, _NAME_RULE)),
]
NameRef = Annotated[
    str,
    Field(min_length=1, max_length=names.MAX_NAME_CHARS),
    AfterValidator(_visible),
    _folded(None),
    text_schema(NAME_PATTERN, "An existing name (compared Unicode-normalised and case-folded)", "Golden Crown"),
]
CODE_PATTERN = r"^[A-Za-z0-9_.-]+$"
PATTERN_RULES.setdefault(CODE_PATTERN, "letters, digits, _ . - only")
Code = Annotated[
    str,
    Field(min_length=1, max_length=names.MAX_CODE_CHARS, pattern=CODE_PATTERN),
    _folded(names.MAX_CODE_CHARS),
    text_schema(
        trimmed_pattern(names.MAX_CODE_CHARS, "[A-Za-z0-9_.-]", "[A-Za-z0-9_.-]"),
        "1-32 letters, digits, _ . - (case-insensitive)",
        "SUMMER25",
    ),
]


def integer_schema(low: int, high: int) -> Any:
    """The schema of an integer low..high given as a JSON number or as its decimal string (the shop seed's
    callers send strings: "125", "-5")."""
    return WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": low, "maximum": high},
                {"type": "string", "pattern": numeric_string_pattern(low, high)},
            ]
        }
    )


NUMBER = BeforeValidator(_number)  # every integer of the shop's bodies and query strings
Whole = Annotated[int, NUMBER]  # a query string's integer (its bounds are the parameter's)
Count = Annotated[int, NUMBER, Field(ge=0, le=10**9), integer_schema(0, 10**9)]
UnixSeconds = Annotated[int, NUMBER, Field(ge=0, le=10**11), integer_schema(0, 10**11)]

EXAMPLE_UID = SNOWFLAKE_EXAMPLE
EXAMPLE_CATEGORY = "aB3dE5gH"
EXAMPLE_COSMETIC = "Zx81Qw3e"

NOT_ZERO_CODE = {"not": {"type": "string", "pattern": f"^{SPACE}*0{SPACE}*$"}}


def any_of_present(*fields: str) -> dict[str, Any]:
    return {"anyOf": [{"required": [f]} for f in fields]}


@functools.cache
def _account_adapter() -> TypeAdapter[str]:
    """The account id's validator, built on first use like the models (a TypeAdapter builds when made)."""
    return TypeAdapter(AccountId)


def account_param(value: str, field: str = "id") -> str:
    """A query-string account id, normalised, or 400 naming the field."""
    try:
        return _account_adapter().validate_python(value)
    except ValidationError as exc:
        raise InvalidInput(
            ErrorCode.INVALID_REQUEST, f"{field}: must be a Discord ID (snowflake) or a Minecraft UUID"
        ) from exc
