"""Response shapes of /api/v1/coupons (ShopCouponsFunction): see the package's docstring."""

from pydantic import BaseModel, Field

from ._view import VIEW as _VIEW


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
