"""Request bodies of /api/xp/users (XpUsersFunction): XP to add, set or remove, and privacy. See the
package's docstring."""

from typing import Annotated

from pydantic import BaseModel, Field, StrictBool

from ....levels import MAX_XP
from ...fields import WholeNumber, body_config

Reason = Annotated[str, Field(max_length=500, description="Why, kept in the audit trail")]


class AddXpBody(BaseModel):
    model_config = body_config([{"amount": 50, "reason": "event winner"}])
    amount: WholeNumber = Field(gt=0, le=MAX_XP, description="XP to add, a positive integer")
    reason: Reason | None = None


class SetXpBody(BaseModel):
    model_config = body_config([{"xp": 1000}])
    xp: WholeNumber = Field(ge=0, le=MAX_XP, description="The member's new total XP")
    reason: Reason | None = None


class RemoveXpBody(BaseModel):
    model_config = body_config([{"amount": 25, "reason": "spam"}])
    amount: WholeNumber = Field(gt=0, le=MAX_XP, description="XP to remove; the total never goes below 0")
    reason: Reason | None = None


class PrivacyBody(BaseModel):
    model_config = body_config([{"hidden": True}])
    hidden: StrictBool = Field(description='true: public views show the member as "Hidden member"; false: shown')
