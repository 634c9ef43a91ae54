"""Response shapes of /api/v1/cosmetics (ShopCosmeticsFunction): see the package's docstring."""

from pydantic import BaseModel, Field, JsonValue

from ....shop import COSMETIC_TYPES
from ._view import VIEW as _VIEW

_TYPE: dict[str, JsonValue] = {"enum": list(COSMETIC_TYPES)}  # what the answers hold, stated for generated clients


class Cosmetic(BaseModel):
    model_config = _VIEW
    id: str
    name: str
    type: str = Field(json_schema_extra=_TYPE)
    description: str
    categoryId: str
    cost: int = Field(description="0 = not for sale")
    showcaseImage: str
    modelSourceUrl: str | None
    textureSourceUrl: str


class CosmeticEdited(BaseModel):
    model_config = _VIEW
    edited: bool
    cosmetic: Cosmetic


class CreatorShare(BaseModel):
    model_config = _VIEW
    code: str
    payout: int


class Bought(BaseModel):
    model_config = _VIEW
    bought: bool
    cosmeticId: str
    name: str
    type: str = Field(json_schema_extra=_TYPE)
    cost: int
    credits: int = Field(description="The buyer's balance after the purchase")
    creator: CreatorShare | None


class Granted(BaseModel):
    model_config = _VIEW
    granted: bool


class RevokedCosmetic(BaseModel):
    model_config = _VIEW
    revoked: bool


class EquippedResult(BaseModel):
    model_config = _VIEW
    equipped: bool


class Unequipped(BaseModel):
    model_config = _VIEW
    unequipped: bool
