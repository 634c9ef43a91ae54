"""Request parameters of the shop API (/api/v1). Names follow the seed (`cosmeticid`, `new_amount`, ...).

POST/PATCH/PUT/DELETE parameters come from the JSON body, or from the query string when there is no body
(`xpshop.http` folds them in before validation). Numbers may be given as strings ("125", "-5").
Query-string parameters reuse the same rules: `account_param` (an account id) and `CODE_PATTERN`.
"""

import functools
import unicodedata
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

from ... import ids, names
from ...errors import ErrorCode, InvalidInput
from ...shop import CLOAK, COSMETIC_TYPES, MAX_CREDITS, url_with_suffix
from ..fields import (
    NON_SPACE,
    PY_SPACE,
    SNOWFLAKE_EXAMPLE,
    SNOWFLAKE_PATTERN,
    SNOWFLAKE_SCHEMA,
    SPACE,
    VISIBLE_CHAR,
    VISIBLE_NON_SPACE,
    body_config,
    max_length_folded,
    numeric_string_pattern,
    required_non_null,
    trimmed_pattern,
)

CosmeticType = Literal["cloak", "wings", "pet", "hat", "bodywear", "bandana", "mask", "shoes", "glasses"]
assert set(CosmeticType.__args__) == set(COSMETIC_TYPES)  # type: ignore[attr-defined]


def _account(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if ids.is_snowflake(value):
        return str(value)
    uuid = ids.minecraft_uuid(value)
    if uuid is None:
        raise ValueError("must be a Discord ID (snowflake) or a Minecraft UUID (32 hex, dashes allowed)")
    return uuid


def _snowflake(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not ids.is_snowflake(value):
        raise ValueError("must be a Discord ID (17-20 digits)")
    return str(value)


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be an integer, not a boolean")
    return value


def _url(*suffixes: str) -> Any:
    def check(value: str) -> str:
        if not url_with_suffix(value, suffixes):
            raise ValueError(f"must be an http(s) URL ending in {' or '.join(suffixes)}")
        return value

    return AfterValidator(check)


_HEX = "[0-9A-Fa-f]"
# A Minecraft UUID: 32 hex digits, or 36 characters of which 4 are dashes (anywhere); case-insensitive and
# trimmed. With the snowflake, the exact rule of `_account`.
ACCOUNT_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "string", "pattern": SNOWFLAKE_PATTERN},
        {"type": "string", "pattern": f"^{PY_SPACE}*{_HEX}{{32}}{PY_SPACE}*$"},
        {"type": "string", "pattern": f"^(?:{_HEX}*-){{4}}{_HEX}*$", "minLength": 36, "maxLength": 36},
    ],
    "description": "Discord ID (snowflake: 17-20 digits, at most 2^64-1) or Minecraft UUID (32 hex, dashes allowed)",
    "examples": [SNOWFLAKE_EXAMPLE, "069a79f444e94726a5befca90e38aaf5"],
}
AccountId = Annotated[str, BeforeValidator(_account), WithJsonSchema(ACCOUNT_SCHEMA)]
DiscordId = Annotated[str, BeforeValidator(_snowflake), WithJsonSchema(SNOWFLAKE_SCHEMA)]
SHORT_ID_PATTERN = f"^{SPACE}*[A-Za-z0-9]{{8}}{SPACE}*$"
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


def _text(pattern: str, description: str, example: str, **extra: Any) -> Any:
    return WithJsonSchema(
        {"type": "string", "pattern": pattern, "description": description, "examples": [example], **extra}
    )


DisplayName = Annotated[
    str,
    Field(min_length=1, max_length=names.MAX_NAME_CHARS),
    AfterValidator(_visible),
    _folded(names.MAX_NAME_CHARS),
    _text(NAME_PATTERN, _NAME_RULE, "Golden Crown", **max_length_folded(names.MAX_NAME_CHARS, _NAME_RULE)),
]
NameRef = Annotated[
    str,
    Field(min_length=1, max_length=names.MAX_NAME_CHARS),
    AfterValidator(_visible),
    _folded(None),
    _text(NAME_PATTERN, "An existing name (compared Unicode-normalised and case-folded)", "Golden Crown"),
]
CODE_PATTERN = r"^[A-Za-z0-9_.-]+$"
Code = Annotated[
    str,
    Field(min_length=1, max_length=names.MAX_CODE_CHARS, pattern=CODE_PATTERN),
    _folded(names.MAX_CODE_CHARS),
    _text(
        trimmed_pattern(names.MAX_CODE_CHARS, "[A-Za-z0-9_.-]", "[A-Za-z0-9_.-]"),
        "1-32 letters, digits, _ . - (case-insensitive)",
        "SUMMER25",
    ),
]


def _integer(low: int, high: int) -> Any:
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


_NUMBER = BeforeValidator(_no_bool)
Cost = Annotated[int, _NUMBER, Field(ge=0, le=MAX_CREDITS), _integer(0, MAX_CREDITS)]
Credits = Annotated[int, _NUMBER, Field(ge=0, le=MAX_CREDITS), _integer(0, MAX_CREDITS)]
SignedCredits = Annotated[int, _NUMBER, Field(ge=-MAX_CREDITS, le=MAX_CREDITS), _integer(-MAX_CREDITS, MAX_CREDITS)]
Count = Annotated[int, _NUMBER, Field(ge=0, le=10**9), _integer(0, 10**9)]
UnixSeconds = Annotated[int, _NUMBER, Field(ge=0, le=10**11), _integer(0, 10**11)]


def _url_schema(*suffixes: str) -> Any:
    """An http(s) URL whose path ends in one of the suffixes (any case): the rule of `shop.url_with_suffix`."""
    ends = "|".join("".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else "\\" + c for c in s) for s in suffixes)
    host = f"[^/?#\\[\\]{NON_SPACE[2:-1]}]+"
    pattern = f"^{SPACE}*[Hh][Tt][Tt][Pp][Ss]?://{host}/[^?#\\t\\r\\n]*(?:{ends})(?:[?#][^\\t\\r\\n]*)?{SPACE}*$"
    return WithJsonSchema(
        {
            "type": "string",
            "maxLength": 2048,
            "pattern": pattern,
            "description": f"An http(s) URL whose path ends in {' or '.join(suffixes)}",
            "examples": [f"https://cdn.example.com/cosmetics/crown{suffixes[0]}"],
        }
    )


ShowcaseUrl = Annotated[
    str, Field(max_length=2048), _url(".png", ".jpeg", ".jpg"), _url_schema(".png", ".jpeg", ".jpg")
]
ModelUrl = Annotated[str, Field(max_length=2048), _url(".cfg"), _url_schema(".cfg")]
TextureUrl = Annotated[str, Field(max_length=2048), _url(".png"), _url_schema(".png")]


_UID = SNOWFLAKE_EXAMPLE
_CAT = "aB3dE5gH"
_COS = "Zx81Qw3e"
_CDN = "https://cdn.example.com/cosmetics/crown"
_BOOL_WORDS = "0|1|true|false|yes|no|on|off|t|f|y|n"
# A boolean as JSON or as the words a query string carries ("true", "yes", "1"; any case).
Flag = Annotated[
    bool,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "boolean"},
                {"type": "integer", "enum": [0, 1]},
                {"type": "string", "pattern": f"^(?:{_BOOL_WORDS}|{_BOOL_WORDS.upper()})$"},
            ]
        }
    ),
]
Description = Annotated[
    str,
    Field(min_length=1, max_length=500),
    _text(trimmed_pattern(500), "1-500 characters once trimmed", "A crown of pure gold"),
]
_NOT_ZERO_CODE = {"not": {"type": "string", "pattern": f"^{SPACE}*0{SPACE}*$"}}


def _any_of_present(*fields: str) -> dict[str, Any]:
    return {"anyOf": [{"required": [f]} for f in fields]}


class Account(BaseModel):
    model_config = body_config([{"id": _UID}], strip=True)
    id: AccountId


class LinkBody(BaseModel):
    model_config = body_config([{"discordid": _UID, "minecraft_username": "Notch"}], strip=True)
    discordid: DiscordId
    minecraft_username: Annotated[
        str,
        Field(
            pattern=f"^{SPACE}*[A-Za-z0-9_]{{1,16}}{SPACE}*$",
            description="Minecraft username (1-16 letters, digits, _)",
        ),
    ]


_COSMETIC_EXAMPLE = {
    "name": "Golden Crown",
    "type": "hat",
    "description": "A crown of pure gold",
    "categoryid": _CAT,
    "cost": "125",
    "showcase_image_url": f"{_CDN}.png",
    "model_source_url": f"{_CDN}.cfg",
    "texture_source_url": f"{_CDN}-texture.png",
}


class CosmeticCreate(BaseModel):
    model_config = body_config(
        [_COSMETIC_EXAMPLE, {k: v for k, v in _COSMETIC_EXAMPLE.items() if k != "model_source_url"} | {"type": CLOAK}],
        strip=True,
        # model_source_url: required for every type except cloak
        **{"if": {"properties": {"type": {"const": CLOAK}}}, "then": {}, "else": required_non_null("model_source_url")},
    )
    name: DisplayName
    type: CosmeticType
    description: Description
    categoryid: ShortId
    cost: Cost = Field(description='Credits; "0" = not for sale')
    showcase_image_url: ShowcaseUrl
    model_source_url: ModelUrl | None = Field(default=None, description="Required for every type except cloak")
    texture_source_url: TextureUrl

    @model_validator(mode="after")
    def _model_needed(self) -> Self:
        if self.type != CLOAK and not self.model_source_url:
            raise ValueError("model_source_url is required for every type except cloak")
        return self


_EDITABLE_COSMETIC = (
    "name",
    "type",
    "description",
    "categoryid",
    "cost",
    "showcase_image_url",
    "model_source_url",
    "texture_source_url",
)


class CosmeticUpdate(BaseModel):
    model_config = body_config(
        [{"original_name": "Golden Crown", "cost": 150}],
        strip=True,
        # at least one field to edit; a cosmetic cannot become a cloak
        allOf=[{"properties": {"type": {"not": {"const": CLOAK}}}}, _any_of_present(*_EDITABLE_COSMETIC)],
    )
    original_name: NameRef
    name: DisplayName | None = None
    type: CosmeticType | None = Field(default=None, description="Any type but cloak")
    description: Description | None = None
    categoryid: ShortId | None = None
    cost: Cost | None = None
    showcase_image_url: ShowcaseUrl | None = None
    model_source_url: ModelUrl | None = None
    texture_source_url: TextureUrl | None = None

    @model_validator(mode="after")
    def _something_to_edit(self) -> Self:
        if not self.model_fields_set - {"original_name"}:
            raise ValueError("give at least one field to edit besides original_name")
        if self.type == CLOAK:
            raise ValueError("type: a cosmetic cannot become a cloak")
        return self


class CosmeticDelete(BaseModel):
    model_config = body_config([{"cosmetic": "Golden Crown"}], strip=True)
    cosmetic: NameRef = Field(description="The cosmetic's name")


class OwnershipBody(BaseModel):
    model_config = body_config([{"id": _UID, "cosmeticid": _COS}], strip=True)
    id: AccountId
    cosmeticid: ShortId


class EquipBody(BaseModel):
    model_config = body_config([{"id": _UID, "cosmetictype": "hat", "cosmeticid": _COS}], strip=True)
    id: AccountId
    cosmetictype: CosmeticType
    cosmeticid: ShortId


class UnequipBody(BaseModel):
    model_config = body_config([{"id": _UID, "cosmetictype": "hat"}], strip=True)
    id: AccountId
    cosmetictype: CosmeticType


class CategoryCreate(BaseModel):
    model_config = body_config([{"name": "Hats"}], strip=True)
    name: DisplayName


class CategoryRename(BaseModel):
    model_config = body_config([{"old_name": "Hats", "new_name": "Headwear"}], strip=True)
    old_name: NameRef
    new_name: DisplayName


class CategoryDelete(BaseModel):
    model_config = body_config([{"category_id": _CAT}], strip=True)
    category_id: ShortId


class CreditsModify(BaseModel):
    model_config = body_config([{"id": _UID, "amount": "-5"}, {"id": _UID, "amount": 60}], strip=True)
    id: AccountId
    amount: SignedCredits = Field(description='Signed change, e.g. "-5" or "60"')


class CreditsSet(BaseModel):
    model_config = body_config([{"id": _UID, "new_amount": 500}], strip=True)
    id: AccountId
    new_amount: Credits


class CouponFields(BaseModel):
    model_config = body_config([], strip=True)
    active: Flag | None = None
    uses: Count | None = Field(default=None, description="Total redemptions allowed (all users); absent = unlimited")
    expires: UnixSeconds | None = Field(default=None, description="Unix seconds; absent = never")
    day_limit: Count | None = Field(default=None, description="Max days in the server to redeem (Discord only)")
    credit_grant: Credits | None = None
    cosmetic_grant: ShortId | None = None


class CouponCreate(CouponFields):
    model_config = body_config(
        [{"code": "SUMMER25", "credit_grant": 25, "uses": 100}, {"code": "FREEHAT", "cosmetic_grant": _COS}],
        strip=True,
        # credit_grant (not 0) or cosmetic_grant, or both (in allOf: the body stays one object for generators)
        allOf=[
            {
                "anyOf": [
                    {
                        "required": ["credit_grant"],
                        "properties": {"credit_grant": {"not": {"enum": [0, "0", "-0", None]}}},
                    },
                    required_non_null("cosmetic_grant"),
                ]
            }
        ],
    )
    code: Code

    @model_validator(mode="after")
    def _grants_something(self) -> Self:
        if not self.credit_grant and not self.cosmetic_grant:
            raise ValueError("give credit_grant or cosmetic_grant (or both)")
        return self


_EDITABLE_COUPON = ("code", "active", "uses", "expires", "day_limit", "credit_grant", "cosmetic_grant")


class CouponEdit(CouponFields):
    model_config = body_config(
        [{"original_code": "SUMMER25", "uses": 200}],
        strip=True,
        # original_code (or its alias original_name), and at least one field to edit; code and active not null
        allOf=[
            {"anyOf": [required_non_null("original_code"), required_non_null("original_name")]},
            {"properties": {"code": {"not": {"type": "null"}}, "active": {"not": {"type": "null"}}}},
            _any_of_present(*_EDITABLE_COUPON),
        ],
    )
    original_code: Code | None = None
    original_name: Code | None = Field(default=None, description="Alias of original_code")
    code: Code | None = None

    @model_validator(mode="after")
    def _addressed(self) -> Self:
        if not (self.original_code or self.original_name):
            raise ValueError("original_code is required")
        for field in ("code", "active"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        if not self.model_fields_set - {"original_code", "original_name"}:
            raise ValueError("give at least one field to edit besides original_code")
        return self

    @property
    def target(self) -> str:
        return self.original_code or self.original_name or ""


class CouponDelete(BaseModel):
    model_config = body_config([{"code": "SUMMER25"}], strip=True)
    code: Code


class RedeemBody(BaseModel):
    model_config = body_config([{"id": _UID, "code": "SUMMER25"}], strip=True)
    id: AccountId
    code: Code


class CreatorCodeCreate(BaseModel):
    model_config = body_config(
        [{"code": "STEVE", "assigned_user": _UID}],
        strip=True,
        # "0" is reserved (it removes a code from an account)
        allOf=[{"properties": {"code": _NOT_ZERO_CODE}}],
    )
    code: Code
    assigned_user: DiscordId

    @model_validator(mode="after")
    def _not_zero(self) -> Self:
        if names.same(self.code, "0"):
            raise ValueError('code: "0" is reserved (it removes a code from an account)')
        return self


class CreatorCodeUpdate(BaseModel):
    model_config = body_config(
        [{"original_code": "STEVE", "new_code": "STEVE2"}, {"original_code": "STEVE", "new_owner": _UID}],
        strip=True,
        # a new code or a new owner (or both); "0" is reserved
        allOf=[
            {"anyOf": [required_non_null("new_code"), required_non_null("new_owner")]},
            {"properties": {"new_code": _NOT_ZERO_CODE}},
        ],
    )
    original_code: Code
    new_code: Code | None = None
    new_owner: DiscordId | None = None

    @model_validator(mode="after")
    def _something(self) -> Self:
        if self.new_code is None and self.new_owner is None:
            raise ValueError("give new_code or new_owner")
        if self.new_code is not None and names.same(self.new_code, "0"):
            raise ValueError('new_code: "0" is reserved')
        return self


class CreatorCodeDelete(BaseModel):
    model_config = body_config([{"code": "STEVE"}], strip=True)
    code: Code


class CreatorCodeSet(BaseModel):
    model_config = body_config([{"id": _UID, "code": "STEVE"}, {"id": _UID, "code": "0"}], strip=True)
    id: AccountId
    code: Code = Field(description='The creator code, or "0" to remove it')


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
