"""Response shapes of more than one /api/v1 function: see the package's docstring."""

from pydantic import BaseModel

from ._view import VIEW as _VIEW


class Deleted(BaseModel):
    model_config = _VIEW
    deleted: bool
