"""Response shapes of the shop API (/api/v1): the seed's shapes, stated as models for the OpenAPI document
and for contract tests (extra fields forbidden, so the document cannot drift from the API). Routes document
them bare with `api.envelope.shop_responses`."""

from pydantic import BaseModel, ConfigDict, Field

_VIEW = ConfigDict(extra="forbid", defer_build=True)


class Equipped(BaseModel):
    model_config = _VIEW
    bandana: str | None
    bodywear: str | None
    cloak: str | None
    glasses: str | None
    hat: str | None
    mask: str | None
    pet: str | None
    shoes: str | None
    wings: str | None


class UserCosmetics(BaseModel):
    model_config = _VIEW
    equipped: Equipped
    locker: list[str] = Field(description="Owned cosmetic ids")


class UserInfo(BaseModel):
    model_config = _VIEW
    discord_id: str
    uuid: str | None
    credits: int
    cosmetics: UserCosmetics


class Transaction(BaseModel):
    model_config = _VIEW
    type: str = Field(
        description="purchase, grant, revoke, redeem, credits_modify, credits_set, creator_payout, level_reward"
    )
    cosmeticId: str | None
    cost: int = Field(description="Credits paid (0 for entries that are not purchases)")
    amount: int | None
    timestamp: int = Field(description="Unix seconds")
    couponCode: str | None = None
    creatorCode: str | None = None
    guildId: str | None = Field(default=None, description="level_reward: the guild where the level was reached")
    level: int | None = Field(default=None, description="level_reward: the level reached")


class UserTransactions(BaseModel):
    model_config = _VIEW
    discord_id: str
    uuid: str | None
    transactions: list[Transaction]
    nextCursor: str | None = Field(default=None, description="Only when limit or cursor was given")


class LinksPage(BaseModel):
    model_config = _VIEW
    links: dict[str, str]
    nextCursor: str | None


class Linked(BaseModel):
    model_config = _VIEW
    linked: bool
    discord_id: str
    uuid: str
    created: bool = Field(description="False when the same pair was already linked")


class Unlinked(BaseModel):
    model_config = _VIEW
    unlinked: bool
    discord_id: str
    uuid: str


class IssuedKey(BaseModel):
    model_config = _VIEW
    key: str = Field(description="Shown once; only its SHA-256 hash is stored")
    discord_id: str


class RevokedKey(BaseModel):
    model_config = _VIEW
    revoked: bool
    discord_id: str


class Cosmetic(BaseModel):
    model_config = _VIEW
    id: str
    name: str
    type: str
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


class Deleted(BaseModel):
    model_config = _VIEW
    deleted: bool


class CreatorShare(BaseModel):
    model_config = _VIEW
    code: str
    payout: int


class Bought(BaseModel):
    model_config = _VIEW
    bought: bool
    cosmeticId: str
    name: str
    type: str
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


class Category(BaseModel):
    model_config = _VIEW
    id: str
    name: str


class CategoryDeleted(BaseModel):
    model_config = _VIEW
    deleted: bool
    id: str


class Credits(BaseModel):
    model_config = _VIEW
    credits: int


class Coupon(BaseModel):
    model_config = _VIEW
    code: str
    id: str
    active: bool
    uses: int | None = Field(description="Total redemptions allowed; null = unlimited")
    used: int
    expires: int | None
    day_limit: int | None
    credit_grant: int | None
    cosmetic_grant: str | None


class CouponsPage(BaseModel):
    model_config = _VIEW
    coupons: list[Coupon]
    nextCursor: str | None


class CouponCreated(BaseModel):
    model_config = _VIEW
    created: bool
    coupon: Coupon


class CouponEdited(BaseModel):
    model_config = _VIEW
    edited: bool
    coupon: Coupon


class Rewards(BaseModel):
    model_config = _VIEW
    credits: int
    cosmetic: str | None = Field(description="The granted cosmetic's name")


class Redeemed(BaseModel):
    model_config = _VIEW
    redeemed: bool
    rewards: Rewards


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
