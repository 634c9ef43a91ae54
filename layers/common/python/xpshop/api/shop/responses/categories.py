"""Response shapes of /api/v1/categories (ShopCategoriesFunction): see the package's docstring."""

from pydantic import BaseModel

from ._view import VIEW as _VIEW


class Category(BaseModel):
    model_config = _VIEW
    id: str
    name: str


class CategoryDeleted(BaseModel):
    model_config = _VIEW
    deleted: bool
    id: str
