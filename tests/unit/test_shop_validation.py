"""Validation tables of the shop API, on moto: a cosmetic refused before any write names its field."""

from __future__ import annotations

import pytest

from tests.support import shop


@pytest.fixture(scope="module")
def api(api_moto_of_module):  # -> ApiClient
    return api_moto_of_module


@pytest.fixture(scope="module")
def catalog(api) -> dict[str, str]:
    return {"category": shop.category(api)}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "hoodie"}, "type"),
        ({"cost": "-1"}, "cost"),
        ({"cost": "12.5"}, "cost"),
        ({"cost": True}, "cost"),
        ({"showcase_image_url": "https://x/y.gif"}, "showcase_image_url"),
        ({"texture_source_url": "ftp://x/y.png"}, "texture_source_url"),
        ({"model_source_url": None}, "model_source_url"),
        ({"categoryid": "short"}, "categoryid"),
        ({"name": ""}, "name"),
    ],
)
def test_cosmetic_validation(api, catalog, change, field):
    body = {
        "name": shop.unique("Invalid "),
        "type": "hat",
        "description": "d",
        "categoryid": catalog["category"],
        "cost": "10",
        "showcase_image_url": "https://x/s.png",
        "model_source_url": "https://x/m.cfg",
        "texture_source_url": "https://x/t.png",
        **change,
    }
    body = {k: v for k, v in body.items() if v is not None}
    r = api.post("/api/v1/cosmetics/create", body)
    assert (r.status, r.error["code"]) == (400, "INVALID_REQUEST")
    assert field in r.error["message"]
