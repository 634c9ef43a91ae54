"""Request bodies of /api/v1/credits (ShopCreditsFunction): see the package's docstring."""

from pydantic import BaseModel, Field

from ...fields import body_config
from .amounts import Credits, SignedCredits
from .common import EXAMPLE_UID, AccountId


class CreditsModify(BaseModel):
    model_config = body_config([{"id": EXAMPLE_UID, "amount": "-5"}, {"id": EXAMPLE_UID, "amount": 60}], strip=True)
    id: AccountId
    amount: SignedCredits = Field(description='Signed change, e.g. "-5" or "60"')


class CreditsSet(BaseModel):
    model_config = body_config([{"id": EXAMPLE_UID, "new_amount": 500}], strip=True)
    id: AccountId
    new_amount: Credits
