"""Response shapes of /api/v1/users (ShopUsersFunction): see the package's docstring."""

from pydantic import BaseModel, Field

from ._view import VIEW as _VIEW


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
    locker: list[str] = Field(description="Owned cosmetic ids, in the order they were acquired")


class UserInfo(BaseModel):
    model_config = _VIEW
    discord_id: str
    uuid: str | None
    credits: int
    cosmetics: UserCosmetics


# The ledger's entry kinds (store.ledger), in the order the description lists them.
TRANSACTION_TYPES = (
    "purchase",
    "grant",
    "revoke",
    "redeem",
    "credits_modify",
    "credits_set",
    "creator_payout",
    "level_reward",
)


class Transaction(BaseModel):
    model_config = _VIEW
    type: str = Field(description=", ".join(TRANSACTION_TYPES), json_schema_extra={"enum": list(TRANSACTION_TYPES)})
    cosmeticId: str | None
    cost: int = Field(description="Credits paid (0 for entries that are not purchases)")
    amount: int | None
    previous: int | None = Field(
        default=None,
        description="credits_set: the balance it replaced (so a set counts as amount - previous, in any order)",
    )
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
