"""Request bodies of /api/v1/cosmetics (ShopCosmeticsFunction): see the package's docstring."""

import functools
import re
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, BaseModel, Field, WithJsonSchema, model_validator

from ....shop import CLOAK, COSMETIC_TYPES
from ...fields import NON_SPACE, SPACE, body_config, required_non_null, trimmed_pattern
from .amounts import Cost
from .common import (
    EXAMPLE_CATEGORY,
    EXAMPLE_COSMETIC,
    EXAMPLE_UID,
    AccountId,
    DisplayName,
    NameRef,
    ShortId,
    any_of_present,
    text_schema,
)

CosmeticType = Literal["cloak", "wings", "pet", "hat", "bodywear", "bandana", "mask", "shoes", "glasses"]
assert set(CosmeticType.__args__) == set(COSMETIC_TYPES)  # type: ignore[attr-defined]


def url_pattern(*suffixes: str) -> str:
    """An http(s) URL whose path ends in one of the suffixes (any case): a host without `/ ? # [ ]` or
    whitespace, then `/`, a path without `? #` tab, CR or LF, then an optional query or fragment. The one rule:
    the OpenAPI document publishes it and the validator matches it (`_url`)."""
    ends = "|".join("".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else "\\" + c for c in s) for s in suffixes)
    host = f"[^/?#\\[\\]{NON_SPACE[2:-1]}]+"
    return f"^{SPACE}*[Hh][Tt][Tt][Pp][Ss]?://{host}/[^?#\\t\\r\\n]*(?:{ends})(?:[?#][^\\t\\r\\n]*)?{SPACE}*$"


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)  # on first use, not at import (cold starts)


def _url(*suffixes: str) -> Any:
    # the published pattern itself, not a URL parser: urlsplit drops tabs and newlines anywhere, strips leading
    # control characters and refuses hosts it would normalise, so it disagreed with the document both ways
    def check(value: str) -> str:
        if not _compiled(url_pattern(*suffixes)).fullmatch(value):
            raise ValueError(f"must be an http(s) URL ending in {' or '.join(suffixes)}")
        return value

    return AfterValidator(check)


def _url_schema(*suffixes: str) -> Any:
    return WithJsonSchema(
        {
            "type": "string",
            "maxLength": 2048,
            "pattern": url_pattern(*suffixes),
            "description": f"An http(s) URL whose path ends in {' or '.join(suffixes)}",
            "examples": [f"https://cdn.example.com/cosmetics/crown{suffixes[0]}"],
        }
    )


ShowcaseUrl = Annotated[
    str, Field(max_length=2048), _url(".png", ".jpeg", ".jpg"), _url_schema(".png", ".jpeg", ".jpg")
]
ModelUrl = Annotated[str, Field(max_length=2048), _url(".cfg"), _url_schema(".cfg")]
TextureUrl = Annotated[str, Field(max_length=2048), _url(".png"), _url_schema(".png")]


_CDN = "https://cdn.example.com/cosmetics/crown"

Description = Annotated[
    str,
    Field(min_length=1, max_length=500),
    text_schema(trimmed_pattern(500), "1-500 characters once trimmed", "A crown of pure gold"),
]


_COSMETIC_EXAMPLE = {
    "name": "Golden Crown",
    "type": "hat",
    "description": "A crown of pure gold",
    "categoryid": EXAMPLE_CATEGORY,
    "cost": "125",
    "showcase_image_url": f"{_CDN}.png",
    "model_source_url": f"{_CDN}.cfg",
    "texture_source_url": f"{_CDN}-texture.png",
}


class CosmeticCreate(BaseModel):
    model_config = body_config(
        [
            _COSMETIC_EXAMPLE,
            {k: v for k, v in _COSMETIC_EXAMPLE.items() if k != "model_source_url"} | {"type": CLOAK},
        ],
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
        # at least one field to edit, none of them null (nothing here can be cleared); a cosmetic cannot
        # become a cloak
        allOf=[
            {"properties": {"type": {"not": {"const": CLOAK}}}},
            {"properties": {f: {"not": {"type": "null"}} for f in _EDITABLE_COSMETIC}},
            any_of_present(*_EDITABLE_COSMETIC),
        ],
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
        # null would be read as "not given": an edit of nothing answered {"edited": true}
        nulls = [f for f in _EDITABLE_COSMETIC if f in self.model_fields_set and getattr(self, f) is None]
        if nulls:
            raise ValueError(f"{', '.join(nulls)}: cannot be null (leave a field out to keep it)")
        if self.type == CLOAK:
            raise ValueError("type: a cosmetic cannot become a cloak")
        return self


class CosmeticDelete(BaseModel):
    model_config = body_config([{"cosmetic": "Golden Crown"}], strip=True)
    cosmetic: NameRef = Field(description="The cosmetic's name")


class OwnershipBody(BaseModel):
    model_config = body_config([{"id": EXAMPLE_UID, "cosmeticid": EXAMPLE_COSMETIC}], strip=True)
    id: AccountId
    cosmeticid: ShortId


class EquipBody(BaseModel):
    model_config = body_config([{"id": EXAMPLE_UID, "cosmetictype": "hat", "cosmeticid": EXAMPLE_COSMETIC}], strip=True)
    id: AccountId
    cosmetictype: CosmeticType
    cosmeticid: ShortId


class UnequipBody(BaseModel):
    model_config = body_config([{"id": EXAMPLE_UID, "cosmetictype": "hat"}], strip=True)
    id: AccountId
    cosmetictype: CosmeticType
