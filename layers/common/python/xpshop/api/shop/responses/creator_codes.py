"""Response shapes of /api/v1/creator-codes (ShopCreatorCodesFunction): see the package's docstring."""

from pydantic import BaseModel, Field

from ._view import VIEW as _VIEW


class CreatorCodeUse(BaseModel):
    model_config = _VIEW
    amount_to_creator: int
    cost: int
    customer: str
    item_bought: str
    timestamp: int


class CreatorCodeBrief(BaseModel):
    model_config = _VIEW
    code: str
    id: str
    owner: str


class CreatorCode(CreatorCodeBrief):
    uses: list[CreatorCodeUse]
    hasMoreUses: bool = Field(
        default=False,
        description="Given with uses_limit only (without it every use is listed): true when uses_limit cut `uses`",
    )


class CreatorCodesPage(BaseModel):
    model_config = _VIEW
    creatorCodes: list[CreatorCode]
    nextCursor: str | None


class CreatorCodeCreated(BaseModel):
    model_config = _VIEW
    created: bool
    creatorCode: CreatorCodeBrief


class CreatorCodeEdited(BaseModel):
    model_config = _VIEW
    edited: bool
    creatorCode: CreatorCodeBrief


class Supporting(BaseModel):
    model_config = _VIEW
    supporting: bool


class Processed(BaseModel):
    model_config = _VIEW
    processed: bool
