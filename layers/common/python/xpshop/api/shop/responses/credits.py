"""Response shapes of /api/v1/credits (ShopCreditsFunction): see the package's docstring."""

from pydantic import BaseModel

from ._view import VIEW as _VIEW


class Credits(BaseModel):
    model_config = _VIEW
    credits: int
