"""The shop's main path over HTTP against the local server (`make dev`'s), as the Minecraft plugin would."""

from __future__ import annotations

import requests

from tests.e2e.conftest import E2E_KEY

# names and ids of this module only: the e2e session shares one server (tests/e2e/conftest.py)
BUYER, CREATOR = "490537526436560851", "447076198762151951"


def test_shop_sequence(server):
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {E2E_KEY}"

    def call(method: str, path: str, status: int = 200, **kw):
        r = s.request(method, f"{server}/api/v1{path}", timeout=10, **kw)
        assert r.status_code == status, (method, path, r.text)
        return r.json()

    category = call("POST", "/categories/create", 201, json={"name": "Thunder Set"})
    hat = call(
        "POST",
        "/cosmetics/create",
        201,
        json={
            "name": "Thunder Hat",
            "type": "hat",
            "description": "Crackles.",
            "categoryid": category["id"],
            "cost": "50",
            "showcase_image_url": "https://cdn.example/thunder.png",
            "model_source_url": "https://cdn.example/thunder.cfg",
            "texture_source_url": "https://cdn.example/thunder-texture.png",
        },
    )
    assert call("PATCH", "/credits/modify", json={"id": BUYER, "amount": "120"}) == {"credits": 120}
    assert call("POST", "/creatorcodes/create", 201, json={"code": "thr", "assigned_user": CREATOR})["created"] is True
    # parameters as a query string, as the seed's callers send them
    assert call("POST", f"/creatorcodes/set?code=thr&id={BUYER}") == {"processed": True}
    bought = call("POST", "/cosmetics/buy", json={"id": BUYER, "cosmeticid": hat["id"]})
    assert (bought["bought"], bought["credits"], bought["creator"]) == (True, 70, {"code": "thr", "payout": 2})
    assert call("POST", "/cosmetics/equip", json={"id": BUYER, "cosmetictype": "hat", "cosmeticid": hat["id"]}) == {
        "equipped": True
    }
    info = call("GET", f"/users/info?id={BUYER}")
    assert info["credits"] == 70
    assert info["cosmetics"]["equipped"]["hat"] == hat["id"]
    assert info["cosmetics"]["locker"] == [hat["id"]]
    txs = call("GET", f"/users/transactions?id={BUYER}")["transactions"]
    assert [(t["type"], t["cosmeticId"], t["cost"]) for t in txs if t["type"] == "purchase"] == [
        ("purchase", hat["id"], 50)
    ]
    codes = call("GET", "/creatorcodes/list")
    thr = next(c for c in codes if c["code"] == "thr")
    assert thr["owner"] == CREATOR
    assert [(u["customer"], u["amount_to_creator"], u["item_bought"]) for u in thr["uses"]] == [(BUYER, 2, hat["id"])]
    assert call("GET", f"/users/info?id={CREATOR}")["credits"] == 2
    key = call("POST", "/keys", 201, json={"id": BUYER})["key"]
    mine = requests.get(f"{server}/api/v1/users/info?id={BUYER}", headers={"X-API-Key": key}, timeout=10)
    assert mine.status_code == 200
    theirs = requests.get(f"{server}/api/v1/users/info?id={CREATOR}", headers={"X-API-Key": key}, timeout=10)
    assert (theirs.status_code, theirs.json()["error"]["code"]) == (403, "FORBIDDEN")
