"""Request bodies of /api/v1/creatorcodes (ShopCreatorCodesFunction): see the package's docstring."""

from typing import Self

from pydantic import BaseModel, Field, model_validator

from .... import names
from ...fields import body_config, required_non_null
from .common import EXAMPLE_UID, NOT_ZERO_CODE, AccountId, Code, DiscordId


class CreatorCodeCreate(BaseModel):
    model_config = body_config(
        [{"code": "STEVE", "assigned_user": EXAMPLE_UID}],
        strip=True,
        # "0" is reserved (it removes a code from an account)
        allOf=[{"properties": {"code": NOT_ZERO_CODE}}],
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
        [{"original_code": "STEVE", "new_code": "STEVE2"}, {"original_code": "STEVE", "new_owner": EXAMPLE_UID}],
        strip=True,
        # a new code or a new owner (or both); "0" is reserved
        allOf=[
            {"anyOf": [required_non_null("new_code"), required_non_null("new_owner")]},
            {"properties": {"new_code": NOT_ZERO_CODE}},
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
    model_config = body_config([{"id": EXAMPLE_UID, "code": "STEVE"}, {"id": EXAMPLE_UID, "code": "0"}], strip=True)
    id: AccountId
    code: Code = Field(description='The creator code, or "0" to remove it')
