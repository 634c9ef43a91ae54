"""Request parameters of the shop API (/api/v1). Names follow the seed (`cosmeticid`, `new_amount`, ...).

POST/PATCH/PUT/DELETE parameters come from the JSON body, or from the query string when there is no body
(`xpshop.http` folds them in before validation). Numbers may be given as strings ("125", "-5").
Query-string parameters reuse the same rules: `account_param` (an account id) and `CODE_PATTERN`.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from ... import ids, names
from ...errors import ErrorCode, InvalidInput
from ...shop import CLOAK, COSMETIC_TYPES, MAX_CREDITS, url_with_suffix

_BODY = ConfigDict(extra="forbid", defer_build=True, str_strip_whitespace=True)
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


AccountId = Annotated[str, BeforeValidator(_account), Field(description="Discord ID or Minecraft UUID")]
DiscordId = Annotated[str, BeforeValidator(_snowflake)]
ShortId = Annotated[str, Field(pattern=r"^[A-Za-z0-9]{8}$", description="8-character id")]


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
DisplayName = Annotated[
    str,
    Field(min_length=1, max_length=names.MAX_NAME_CHARS, description=_NAME_RULE),
    AfterValidator(_visible),
    _folded(names.MAX_NAME_CHARS),
]
NameRef = Annotated[str, Field(min_length=1, max_length=names.MAX_NAME_CHARS), AfterValidator(_visible), _folded(None)]
CODE_PATTERN = r"^[A-Za-z0-9_.-]+$"
Code = Annotated[
    str, Field(min_length=1, max_length=names.MAX_CODE_CHARS, pattern=CODE_PATTERN), _folded(names.MAX_CODE_CHARS)
]
Cost = Annotated[int, BeforeValidator(_no_bool), Field(ge=0, le=MAX_CREDITS)]
Credits = Annotated[int, BeforeValidator(_no_bool), Field(ge=0, le=MAX_CREDITS)]
SignedCredits = Annotated[int, BeforeValidator(_no_bool), Field(ge=-MAX_CREDITS, le=MAX_CREDITS)]
Count = Annotated[int, BeforeValidator(_no_bool), Field(ge=0, le=10**9)]
UnixSeconds = Annotated[int, BeforeValidator(_no_bool), Field(ge=0, le=10**11)]
ShowcaseUrl = Annotated[str, Field(max_length=2048), _url(".png", ".jpeg", ".jpg")]
ModelUrl = Annotated[str, Field(max_length=2048), _url(".cfg")]
TextureUrl = Annotated[str, Field(max_length=2048), _url(".png")]


class Account(BaseModel):
    model_config = _BODY
    id: AccountId


class LinkBody(BaseModel):
    model_config = _BODY
    discordid: DiscordId
    minecraft_username: Annotated[
        str, Field(pattern=r"^[A-Za-z0-9_]{1,16}$", description="Minecraft username (1-16 letters, digits, _)")
    ]


class CosmeticCreate(BaseModel):
    model_config = _BODY
    name: DisplayName
    type: CosmeticType
    description: Annotated[str, Field(min_length=1, max_length=500)]
    categoryid: ShortId
    cost: Cost = Field(description='Credits; "0" = not for sale')
    showcase_image_url: ShowcaseUrl
    model_source_url: ModelUrl | None = Field(default=None, description="Required except for cloaks")
    texture_source_url: TextureUrl

    @model_validator(mode="after")
    def _model_needed(self) -> CosmeticCreate:
        if self.type != CLOAK and not self.model_source_url:
            raise ValueError("model_source_url is required for every type except cloak")
        return self


class CosmeticUpdate(BaseModel):
    model_config = _BODY
    original_name: NameRef
    name: DisplayName | None = None
    type: CosmeticType | None = None
    description: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    categoryid: ShortId | None = None
    cost: Cost | None = None
    showcase_image_url: ShowcaseUrl | None = None
    model_source_url: ModelUrl | None = None
    texture_source_url: TextureUrl | None = None

    @model_validator(mode="after")
    def _something_to_edit(self) -> CosmeticUpdate:
        if not self.model_fields_set - {"original_name"}:
            raise ValueError("give at least one field to edit besides original_name")
        if self.type == CLOAK:
            raise ValueError("type: a cosmetic cannot become a cloak")
        return self


class CosmeticDelete(BaseModel):
    model_config = _BODY
    cosmetic: NameRef = Field(description="The cosmetic's name")


class OwnershipBody(BaseModel):
    model_config = _BODY
    id: AccountId
    cosmeticid: ShortId


class EquipBody(BaseModel):
    model_config = _BODY
    id: AccountId
    cosmetictype: CosmeticType
    cosmeticid: ShortId


class UnequipBody(BaseModel):
    model_config = _BODY
    id: AccountId
    cosmetictype: CosmeticType


class CategoryCreate(BaseModel):
    model_config = _BODY
    name: DisplayName


class CategoryRename(BaseModel):
    model_config = _BODY
    old_name: NameRef
    new_name: DisplayName


class CategoryDelete(BaseModel):
    model_config = _BODY
    category_id: ShortId


class CreditsModify(BaseModel):
    model_config = _BODY
    id: AccountId
    amount: SignedCredits = Field(description='Signed change, e.g. "-5" or "60"')


class CreditsSet(BaseModel):
    model_config = _BODY
    id: AccountId
    new_amount: Credits


class CouponFields(BaseModel):
    model_config = _BODY
    active: bool | None = None
    uses: Count | None = Field(default=None, description="Total redemptions allowed (all users); absent = unlimited")
    expires: UnixSeconds | None = Field(default=None, description="Unix seconds; absent = never")
    day_limit: Count | None = Field(default=None, description="Max days in the server to redeem (Discord only)")
    credit_grant: Credits | None = None
    cosmetic_grant: ShortId | None = None


class CouponCreate(CouponFields):
    code: Code

    @model_validator(mode="after")
    def _grants_something(self) -> CouponCreate:
        if not self.credit_grant and not self.cosmetic_grant:
            raise ValueError("give credit_grant or cosmetic_grant (or both)")
        return self


class CouponEdit(CouponFields):
    original_code: Code | None = None
    original_name: Code | None = Field(default=None, description="Alias of original_code")
    code: Code | None = None

    @model_validator(mode="after")
    def _addressed(self) -> CouponEdit:
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
    model_config = _BODY
    code: Code


class RedeemBody(BaseModel):
    model_config = _BODY
    id: AccountId
    code: Code


class CreatorCodeCreate(BaseModel):
    model_config = _BODY
    code: Code
    assigned_user: DiscordId

    @model_validator(mode="after")
    def _not_zero(self) -> CreatorCodeCreate:
        if names.same(self.code, "0"):
            raise ValueError('code: "0" is reserved (it removes a code from an account)')
        return self


class CreatorCodeUpdate(BaseModel):
    model_config = _BODY
    original_code: Code
    new_code: Code | None = None
    new_owner: DiscordId | None = None

    @model_validator(mode="after")
    def _something(self) -> CreatorCodeUpdate:
        if self.new_code is None and self.new_owner is None:
            raise ValueError("give new_code or new_owner")
        if self.new_code is not None and names.same(self.new_code, "0"):
            raise ValueError('new_code: "0" is reserved')
        return self


class CreatorCodeDelete(BaseModel):
    model_config = _BODY
    code: Code


class CreatorCodeSet(BaseModel):
    model_config = _BODY
    id: AccountId
    code: Code = Field(description='The creator code, or "0" to remove it')


_ACCOUNT = TypeAdapter(AccountId)


def account_param(value: str, field: str = "id") -> str:
    """A query-string account id, normalised, or 400 naming the field."""
    try:
        return _ACCOUNT.validate_python(value)
    except ValidationError as exc:
        raise InvalidInput(
            ErrorCode.INVALID_REQUEST, f"{field}: must be a Discord ID (snowflake) or a Minecraft UUID"
        ) from exc
