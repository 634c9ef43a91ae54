"""Credit amounts of the shop's request models (/api/v1), as numbers or decimal strings, bounded by
`shop.MAX_CREDITS`: see the package's docstring."""

from typing import Annotated

from pydantic import Field

from ....shop import MAX_CREDITS
from .common import NUMBER, integer_schema

Cost = Annotated[int, NUMBER, Field(ge=0, le=MAX_CREDITS), integer_schema(0, MAX_CREDITS)]
Credits = Annotated[int, NUMBER, Field(ge=0, le=MAX_CREDITS), integer_schema(0, MAX_CREDITS)]
SignedCredits = Annotated[
    int, NUMBER, Field(ge=-MAX_CREDITS, le=MAX_CREDITS), integer_schema(-MAX_CREDITS, MAX_CREDITS)
]
