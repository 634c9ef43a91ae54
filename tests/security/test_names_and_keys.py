"""Security review (issue 12), findings 4 and 5: one name-equality rule, and limits checked on what is keyed.

Names and codes are unique after Unicode NFKC normalisation and case folding (`NAME#<kind>#<folded>`).
Finding 4: renames compared names with `.lower()`, so `Straße` -> `STRASSE` (or `ﬁre` -> `Fire`) deleted and
put the same NAME item in one transaction, which DynamoDB refuses: a 500.
Finding 5: length limits were checked before normalisation. U+FDFA is one character that NFKC expands to 18,
so a 64-character name became a key of 2 KB+ that DynamoDB refuses: a 500 (and, from Discord, a failed
command). User text that becomes part of a key now gets a 400 naming the field, and nothing is stored.

These run on DynamoDB Local: the real engine is what refuses oversized keys and double-touched items.
"""

from __future__ import annotations

import re

import pytest

from tests.support import shop
from tests.support.storage import new_user_id

pytestmark = pytest.mark.integration

# One character each, 64 in all: within every raw max_length, 1152 characters (2112 UTF-8 bytes) once NFKC.
BIG = "\ufdfa" * 64
BIG_CODE = "\ufdfa" * 32  # the shortest max_length (codes, creator_code)
EPHEMERAL = 64


def _refused(result, field: str) -> None:
    """A 400 in the envelope whose message names `field` (messages read "<field>: ...", joined by "; ")."""
    assert result.status == 400, result.body
    error = result.error
    assert error["code"] == "INVALID_REQUEST", error
    assert re.search(rf"(^|; ){re.escape(field)}: ", error["message"]), error["message"]


def _patch(api, path: str, body: dict):
    return api.request("PATCH", path, body)


def _category_names(api) -> list[str]:
    listed = api.get("/api/v1/categories/list")
    assert listed.status == 200
    return [c["name"] for c in listed.body]


def _cosmetic_names(api) -> list[str]:
    listed = api.get("/api/v1/cosmetics/list")
    assert listed.status == 200
    return [c["name"] for c in listed.body]


def _coupon_codes(api) -> list[str]:
    listed = api.get("/api/v1/coupons/list")
    assert listed.status == 200
    return [c["code"] for c in listed.body]


def _creator_codes(api) -> list[str]:
    listed = api.get("/api/v1/creatorcodes/list")
    assert listed.status == 200
    return [c["code"] for c in listed.body]


def _cosmetic_body(category_id: str, name: str) -> dict:
    return {
        "name": name,
        "type": "hat",
        "description": "A test cosmetic",
        "categoryid": category_id,
        "cost": 10,
        "showcase_image_url": "https://cdn.example/s.png",
        "model_source_url": "https://cdn.example/m.cfg",
        "texture_source_url": "https://cdn.example/t.png",
    }


# ================================================================ finding 4: one name-equality rule


def test_the_rule():
    from xpshop import names

    assert names.same("Straße", "STRASSE") and names.same("ﬁre", "Fire") and names.same(" Ｈａｔ ", "hat")
    assert names.same("Cafe\u0301", "CAFÉ") and not names.same("Hat", "Hats")


@pytest.mark.parametrize(
    ("old", "new"),
    [("Straße", "STRASSE"), ("ﬁre", "Fire"), ("Ｈａｔｓ", "hats"), ("Hats", "Hats"), ("Hats", "HATS")],
)
def test_renaming_a_category_to_a_name_that_folds_the_same_changes_only_its_display(api, old, new):
    n = shop.unique("")
    old, new = f"{old} {n}", f"{new} {n}"
    created = api.post("/api/v1/categories/create", {"name": old})
    assert created.status == 201, created.body
    renamed = _patch(api, "/api/v1/categories/rename", {"old_name": old, "new_name": new})
    assert renamed.status == 200, renamed.body
    assert renamed.body == {"id": created.body["id"], "name": new}
    listed = api.get("/api/v1/categories/list").body
    assert [c for c in listed if c["id"] == created.body["id"]] == [{"id": created.body["id"], "name": new}]
    # the unique name is still held (under the same folded key), by the same category
    for twin in (old, new, new.upper()):
        taken = api.post("/api/v1/categories/create", {"name": twin})
        assert (taken.status, taken.error["code"]) == (409, "DUPLICATE_NAME")
    # and it moves away cleanly afterwards
    moved = _patch(api, "/api/v1/categories/rename", {"old_name": old, "new_name": f"Elsewhere {n}"})
    assert moved.status == 200, moved.body
    assert api.post("/api/v1/categories/create", {"name": new}).status == 201


def test_renaming_a_cosmetic_to_a_name_that_folds_the_same(api):
    category = shop.category(api)
    n = shop.unique("")
    cosmetic = shop.cosmetic(api, category, name=f"Maße {n}")
    edited = _patch(api, "/api/v1/cosmetics/update", {"original_name": f"Maße {n}", "name": f"MASSE {n}"})
    assert edited.status == 200, edited.body
    assert edited.body["cosmetic"]["name"] == f"MASSE {n}"
    taken = api.post("/api/v1/cosmetics/create", _cosmetic_body(category, f"masse {n}"))
    assert (taken.status, taken.error["code"]) == (409, "DUPLICATE_NAME")
    assert [c["name"] for c in api.get("/api/v1/cosmetics/list").body if c["id"] == cosmetic["id"]] == [f"MASSE {n}"]


def test_renaming_codes_by_letter_case_only(api):
    code = shop.unique("case")
    assert api.post("/api/v1/coupons/create", {"code": code, "credit_grant": 1}).status == 201
    edited = _patch(api, "/api/v1/coupons/edit", {"original_code": code, "code": code.upper()})
    assert (edited.status, edited.body["coupon"]["code"]) == (200, code.upper())
    creator = shop.unique("maker")
    owner = new_user_id()
    assert api.post("/api/v1/creatorcodes/create", {"code": creator, "assigned_user": owner}).status == 201
    updated = _patch(api, "/api/v1/creatorcodes/update", {"original_code": creator, "new_code": creator.upper()})
    assert (updated.status, updated.body["creatorCode"]["code"]) == (200, creator.upper())


def test_cosmetics_sort_by_the_folded_name(api):
    category = shop.category(api)
    n = shop.unique("")
    for name in (f"Sz {n}", f"ﬁg {n}", f"Sa {n}", f"fz {n}", f"fa {n}"):
        shop.cosmetic(api, category, name=name)
    mine = [name for name in _cosmetic_names(api) if name.endswith(f" {n}")]
    assert mine == [f"fa {n}", f"ﬁg {n}", f"fz {n}", f"Sa {n}", f"Sz {n}"]
