"""The envelope of /api/xp (`{success, data}`, `{success: false, error}`) as models, and the helpers that
document a route's answers in both APIs: `responses()` (/api/xp, in the envelope) and `shop_responses()`
(/api/v1, the seed's bare shapes, with the shop's error statuses `SHOP_ERRORS`)."""

import functools
import types
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, create_model

from ..errors import ErrorCode

_VIEW = ConfigDict(extra="forbid", defer_build=True)

SHOP_ERRORS = (400, 401, 403, 404, 405, 409)


class Envelope(BaseModel):
    """`{success: true, data}`; `Envelope[Model]` is the envelope of `Model` (named `Envelope[Model]`).

    One plain subclass per data model, made on first use, rather than a pydantic generic: the first
    parametrisation of a generic model builds the generic itself (its schema, validator and pydantic's plugin
    lookup, ~10-20 ms), and the /api/xp functions parametrise it at import, one route at a time."""

    model_config = _VIEW
    success: Literal[True] = True
    data: Any

    def __class_getitem__(cls, model: Any) -> type[BaseModel]:
        return _enveloped(model)


def _type_name(model: Any) -> str:
    """How pydantic names a type argument (`XpSet`, `Union[A, B]`): the name its generics gave the envelopes."""
    if get_origin(model) in (Union, types.UnionType):
        return f"Union[{', '.join(_type_name(arg) for arg in get_args(model))}]"
    return model.__name__ if isinstance(model, type) else repr(model)


@functools.cache
def _enveloped(model: Any) -> type[BaseModel]:
    return create_model(f"Envelope[{_type_name(model)}]", __base__=Envelope, __module__=__name__, data=(model, ...))


class ErrorBody(BaseModel):
    model_config = _VIEW
    code: str = Field(
        description="One of the documented error codes, e.g. USER_NOT_FOUND",
        json_schema_extra={"enum": [code.value for code in ErrorCode]},  # every code an answer may carry
    )
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
    content = {"application/json": {"model": _enveloped(model) if envelope else model}}
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
