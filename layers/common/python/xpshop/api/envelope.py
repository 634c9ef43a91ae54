"""The envelope of /api/xp (`{success, data}`, `{success: false, error}`) as models, and the helpers that
document a route's answers in both APIs: `responses()` (/api/xp, in the envelope) and `shop_responses()`
(/api/v1, the seed's bare shapes, with the shop's error statuses `SHOP_ERRORS`)."""

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")
_VIEW = ConfigDict(extra="forbid", defer_build=True)

SHOP_ERRORS = (400, 401, 403, 404, 405, 409)


class Envelope(BaseModel, Generic[T]):
    model_config = _VIEW
    success: Literal[True] = True
    data: T


class ErrorBody(BaseModel):
    model_config = _VIEW
    code: str = Field(description="One of the documented error codes, e.g. USER_NOT_FOUND")
    message: str = Field(description="What went wrong, naming the field at fault")


class ErrorEnvelope(BaseModel):
    model_config = _VIEW
    success: Literal[False] = False
    error: ErrorBody


def responses(
    model: Any,
    description: str = "Success",
    statuses: tuple[int, ...] = (200,),
    errors: tuple[int, ...] = (400, 401, 404, 405),
    envelope: bool = True,
) -> dict[int, dict[str, Any]]:
    """The `responses=` argument of a Powertools route: `model` (in our envelope for /api/xp; bare for the
    shop, which keeps the seed's shapes), plus the error envelope for the listed error statuses."""
    content = {"application/json": {"model": Envelope[model] if envelope else model}}
    documented: dict[int, dict[str, Any]] = {
        status: {"description": description, "content": content} for status in statuses
    }
    for code in errors:
        documented[code] = {
            "description": "Error (see the error codes)",
            "content": {"application/json": {"model": ErrorEnvelope}},
        }
    return documented


def shop_responses(model: Any, description: str = "Success", statuses: tuple[int, ...] = (200,)) -> dict[int, Any]:
    return responses(model, description, statuses, errors=SHOP_ERRORS, envelope=False)
