"""Shop fixtures built through the API: categories, cosmetics, funded users."""

from __future__ import annotations

import itertools
from typing import Any

_names = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_names)}"


def category(api: Any) -> str:
    r = api.post("/api/v1/categories/create", {"name": unique("Category ")})
    assert r.status == 201, r.body
    return r.body["id"]


def cosmetic(api: Any, category_id: str, cost: int = 10, kind: str = "hat", name: str | None = None) -> dict:
    body = {
        "name": name or unique("Cosmetic "),
        "type": kind,
        "description": "A test cosmetic",
        "categoryid": category_id,
        "cost": cost,
        "showcase_image_url": "https://cdn.example/s.png",
        "texture_source_url": "https://cdn.example/t.png",
    }
    if kind != "cloak":
        body["model_source_url"] = "https://cdn.example/m.cfg"
    r = api.post("/api/v1/cosmetics/create", body)
    assert r.status == 201, r.body
    return r.body


def funded_user(api: Any, user_id: str, credits: int) -> str:
    r = api.request("PATCH", "/api/v1/credits/set", {"id": user_id, "new_amount": credits})
    assert r.status == 200, r.body
    return user_id


def supported_code(api: Any, prefix: str, owner: str, buyer: str, purchases: int) -> str:
    """A creator code of `owner` that `buyer` supports and has bought `purchases` cosmetics with (20 credits
    each: the buyer needs them): each purchase records a use of the code."""
    code = unique(prefix)
    assert api.post("/api/v1/creatorcodes/create", {"code": code, "assigned_user": owner}).status == 201
    assert api.post("/api/v1/creatorcodes/set", {"id": buyer, "code": code}).status == 200
    category_id = category(api)
    for _ in range(purchases):
        bought = cosmetic(api, category_id, cost=20)
        assert api.post("/api/v1/cosmetics/buy", {"id": buyer, "cosmeticid": bought["id"]}).status == 200
    return code
