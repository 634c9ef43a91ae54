"""Request bodies of /api/v1/coupons (ShopCouponsFunction): see the package's docstring."""

from typing import Annotated, Any, Self

from pydantic import BaseModel, BeforeValidator, Field, WithJsonSchema, model_validator

from ...fields import body_config, required_non_null
from .amounts import Credits
from .common import EXAMPLE_COSMETIC, EXAMPLE_UID, AccountId, Code, Count, ShortId, UnixSeconds, any_of_present


def _flag(value: Any) -> bool:
    """A JSON boolean, or the words "true"/"false" in any case (the shop document writes `False`; a query
    string carries text only). What pydantic's lax bool also reads ("yes", "on", "1", 0, 1) is refused: a
    typo must not switch a coupon on."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ValueError('must be a boolean: true or false (JSON), or the text "true" or "false"')


Flag = Annotated[
    bool,
    BeforeValidator(_flag),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "boolean"},
                {"type": "string", "pattern": "^(?:[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])$"},
            ],
            "description": 'true or false; also the text "true" or "false" (any case)',
        }
    ),
]


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
        [
            {"code": "SUMMER25", "credit_grant": 25, "uses": 100},
            {"code": "FREEHAT", "cosmetic_grant": EXAMPLE_COSMETIC},
        ],
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
        # original_code or its alias original_name (not both), and at least one field to edit; code and active
        # not null
        allOf=[
            {"anyOf": [required_non_null("original_code"), required_non_null("original_name")]},
            {"not": {"required": ["original_code", "original_name"]}},
            {"properties": {"code": {"not": {"type": "null"}}, "active": {"not": {"type": "null"}}}},
            any_of_present(*_EDITABLE_COUPON),
            # not both grants cleared by the edit itself (one cleared while the coupon has no other grant is
            # refused too, by the service: that depends on what is stored)
            {
                "not": {
                    "required": ["credit_grant", "cosmetic_grant"],
                    "properties": {
                        "credit_grant": {"enum": [0, "0", "-0", "+0", None]},
                        "cosmetic_grant": {"type": "null"},
                    },
                }
            },
        ],
    )
    original_code: Code | None = None
    original_name: Code | None = Field(default=None, description="Alias of original_code")
    code: Code | None = None

    @model_validator(mode="after")
    def _addressed(self) -> Self:
        if not (self.original_code or self.original_name):
            raise ValueError("original_code is required")
        if {"original_code", "original_name"} <= self.model_fields_set:
            # it edited original_code's coupon silently, even when original_name named another one
            raise ValueError("original_name is an alias of original_code: give one of them, not both")
        for field in ("code", "active"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        if not self.model_fields_set - {"original_code", "original_name"}:
            raise ValueError("give at least one field to edit besides original_code")
        if {"credit_grant", "cosmetic_grant"} <= self.model_fields_set and not (
            self.credit_grant or self.cosmetic_grant
        ):
            raise ValueError("credit_grant, cosmetic_grant: a coupon must keep one of them (this edit clears both)")
        return self

    @property
    def target(self) -> str:
        return self.original_code or self.original_name or ""


class CouponDelete(BaseModel):
    model_config = body_config([{"code": "SUMMER25"}], strip=True)
    code: Code


class RedeemBody(BaseModel):
    model_config = body_config([{"id": EXAMPLE_UID, "code": "SUMMER25"}], strip=True)
    id: AccountId
    code: Code
