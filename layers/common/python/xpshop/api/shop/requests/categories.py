"""Request bodies of /api/v1/categories (ShopCategoriesFunction): see the package's docstring."""

from pydantic import BaseModel

from ...fields import body_config
from .common import EXAMPLE_CATEGORY, DisplayName, NameRef, ShortId


class CategoryCreate(BaseModel):
    model_config = body_config([{"name": "Hats"}], strip=True)
    name: DisplayName


class CategoryRename(BaseModel):
    model_config = body_config([{"old_name": "Hats", "new_name": "Headwear"}], strip=True)
    old_name: NameRef
    new_name: DisplayName


class CategoryDelete(BaseModel):
    model_config = body_config([{"category_id": EXAMPLE_CATEGORY}], strip=True)
    category_id: ShortId
