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

import base64
import json
import re
from datetime import UTC, datetime

import pytest

from tests.support import discord as d
from tests.support import shop
from tests.support.storage import new_user_id

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
    assert names.problem("\ufdfa" * 4, names.MAX_NAME_CHARS) is not None  # 72 once normalised
    assert names.problem("\ufdfa" * 4) is None  # a lookup only has to fit a key
    assert names.problem("\ufdfa" * 31) is not None  # 1023 bytes
    assert names.problem("ok\ud800") is not None


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
    """Where cosmetics are sorted by name (Discord's /shop; the API lists them in creation order, as the shop
    document does), the folded name is the key."""
    from xpshop.service.shop import catalog

    category = shop.category(api)
    n = shop.unique("")
    for name in (f"Sz {n}", f"ﬁg {n}", f"Sa {n}", f"fz {n}", f"fa {n}"):
        shop.cosmetic(api, category, name=name)
    by_name = [c["name"] for c in catalog.list_cosmetics(by_name=True) if c["name"].endswith(f" {n}")]
    assert by_name == [f"fa {n}", f"ﬁg {n}", f"fz {n}", f"Sa {n}", f"Sz {n}"]
    assert [name for name in _cosmetic_names(api) if name.endswith(f" {n}")] == [
        f"Sz {n}",
        f"ﬁg {n}",
        f"Sa {n}",
        f"fz {n}",
        f"fa {n}",
    ]


# ================================================================ finding 5: limits on what is keyed


def test_category_create_with_a_name_that_expands_is_400_and_stores_nothing(api):
    _refused(api.post("/api/v1/categories/create", {"name": BIG}), "name")
    assert BIG not in _category_names(api)


@pytest.mark.parametrize(
    "name",
    [
        "ﬃ" * 30,  # 30 characters, 90 once NFKC-normalised
        "ß" * 40,  # 40 characters, 80 once case-folded
        "\ufdfa" * 4,  # 4 characters, 72 once normalised
    ],
)
def test_name_length_is_counted_after_normalisation(api, name):
    _refused(api.post("/api/v1/categories/create", {"name": name}), "name")
    assert name not in _category_names(api)


def test_a_name_of_64_folded_characters_is_accepted(api):
    name = shop.unique("ß") + "x" * 64
    name = name[: 64 - (len(name.casefold()) - len(name))]  # 64 once folded ("ß" is 2)
    created = api.post("/api/v1/categories/create", {"name": name})
    assert created.status == 201, created.body


def test_category_rename_with_names_that_expand(api):
    old = shop.unique("Keep me ")
    assert api.post("/api/v1/categories/create", {"name": old}).status == 201
    _refused(_patch(api, "/api/v1/categories/rename", {"old_name": old, "new_name": BIG}), "new_name")
    _refused(_patch(api, "/api/v1/categories/rename", {"old_name": BIG, "new_name": old + "2"}), "old_name")
    names = _category_names(api)
    assert old in names and BIG not in names and old + "2" not in names


def test_cosmetic_create_update_delete_with_names_that_expand(api):
    category = shop.category(api)
    _refused(api.post("/api/v1/cosmetics/create", _cosmetic_body(category, BIG)), "name")
    kept = shop.cosmetic(api, category)["name"]
    _refused(_patch(api, "/api/v1/cosmetics/update", {"original_name": kept, "name": BIG}), "name")
    _refused(_patch(api, "/api/v1/cosmetics/update", {"original_name": BIG, "cost": 5}), "original_name")
    _refused(api.delete("/api/v1/cosmetics/delete", {"cosmetic": BIG}), "cosmetic")
    names = _cosmetic_names(api)
    assert kept in names and BIG not in names
    # the category counts exactly the one cosmetic that was created
    deleted = api.delete("/api/v1/categories/delete", {"category_id": category})
    assert (deleted.status, deleted.error["code"]) == (409, "CATEGORY_NOT_EMPTY")
    assert f"holds 1 cosmetic(s): {kept}." in deleted.error["message"]


def test_coupon_create_edit_redeem_delete_with_codes_that_expand(api):
    _refused(api.post("/api/v1/coupons/create", {"code": BIG_CODE, "credit_grant": 5}), "code")
    code = shop.unique("KEEP")
    assert api.post("/api/v1/coupons/create", {"code": code, "credit_grant": 5}).status == 201
    _refused(_patch(api, "/api/v1/coupons/edit", {"original_code": code, "code": BIG_CODE}), "code")
    _refused(_patch(api, "/api/v1/coupons/edit", {"original_code": BIG_CODE, "uses": 3}), "original_code")
    _refused(_patch(api, "/api/v1/coupons/edit", {"original_name": BIG_CODE, "uses": 3}), "original_name")
    user = shop.funded_user(api, new_user_id(), 0)
    _refused(api.post("/api/v1/coupons/redeem", {"id": user, "code": BIG_CODE}), "code")
    _refused(api.post("/api/v1/coupons/redeem", {"id": user, "code": BIG}), "code")
    _refused(api.delete("/api/v1/coupons/delete", {"code": BIG_CODE}), "code")
    codes = _coupon_codes(api)
    assert code in codes and BIG_CODE not in codes
    assert api.get(f"/api/v1/users/info?id={user}").body["credits"] == 0


def test_creator_code_create_update_set_with_codes_that_expand(api):
    owner = new_user_id()
    _refused(api.post("/api/v1/creatorcodes/create", {"code": BIG_CODE, "assigned_user": owner}), "code")
    code = shop.unique("keep")
    assert api.post("/api/v1/creatorcodes/create", {"code": code, "assigned_user": owner}).status == 201
    _refused(_patch(api, "/api/v1/creatorcodes/update", {"original_code": code, "new_code": BIG_CODE}), "new_code")
    _refused(
        _patch(api, "/api/v1/creatorcodes/update", {"original_code": BIG_CODE, "new_owner": owner}), "original_code"
    )
    fan = shop.funded_user(api, new_user_id(), 0)
    _refused(api.post("/api/v1/creatorcodes/set", {"id": fan, "code": BIG_CODE}), "code")
    _refused(api.get(f"/api/v1/creatorcodes/supporting?id={fan}&creator_code={BIG_CODE}"), "creator_code")
    codes = _creator_codes(api)
    assert code in codes and BIG_CODE not in codes
    assert api.get(f"/api/v1/creatorcodes/supporting?id={fan}&creator_code={code}").body == {"supporting": False}


# ---------------------------------------------------------------- the same through Discord


def _text(answer: dict) -> str:
    data = answer["data"]
    return "\n".join([data.get("content") or ""] + [e.get("description") or "" for e in data.get("embeds", [])])


def _now(discord_app, guild: str, user: str, name: str, options: list) -> str:
    status, answer = d.call(discord_app.signer, d.command(guild, user, name, options=options))
    assert status == 200
    assert answer["type"] == 4 and answer["data"]["flags"] == EPHEMERAL
    return _text(answer)


def _deferred(discord_app, queue: str, guild: str, user: str, name: str, options: list) -> str:
    from tests.support.sqs import receive_all, run_worker

    payload = d.command(guild, user, name, options=options)
    payload["member"]["joined_at"] = datetime.now(UTC).isoformat()
    _, answer = d.call(discord_app.signer, payload)
    assert answer == {"type": 5, "data": {"flags": EPHEMERAL}}
    assert run_worker(receive_all(queue)) == {"batchItemFailures": []}  # answered, not failed and retried
    edit = discord_app.fake.webhook_messages[(d.APP_ID, payload["token"])][-1]
    return "\n".join(e.get("description", "") for e in edit["embeds"])


def _clear_refusal(text: str, field: str) -> None:
    assert "went wrong" not in text, text
    assert re.search(rf"\b{field}\b", text), text


def test_discord_redeem_with_a_code_that_expands_is_a_refusal(api, guild, discord_app, interactions_queue):
    user = shop.funded_user(api, new_user_id(), 0)
    text = _deferred(discord_app, interactions_queue, guild, user, "redeem", [d.option("code", BIG)])
    _clear_refusal(text, "code")
    assert api.get(f"/api/v1/users/info?id={user}").body["credits"] == 0


def test_discord_creator_code_with_a_code_that_expands_is_a_refusal(api, guild, discord_app):
    user = shop.funded_user(api, new_user_id(), 0)
    _clear_refusal(_now(discord_app, guild, user, "creator-code", [d.option("code", BIG)]), "code")


def test_discord_buy_and_equip_with_a_name_that_expands_are_refusals(api, guild, discord_app, interactions_queue):
    user = shop.funded_user(api, new_user_id(), 100)
    huge = "\ufdfa" * 100  # the commands' max_length
    text = _deferred(discord_app, interactions_queue, guild, user, "buy", [d.option("cosmetic", huge)])
    _clear_refusal(text, "cosmetic")  # the command's option, in the member's words (not the API's `name`)
    _clear_refusal(_now(discord_app, guild, user, "equip", [d.option("cosmetic", huge)]), "cosmetic")
    assert api.get(f"/api/v1/users/info?id={user}").body["credits"] == 100


# ---------------------------------------------------------------- pagination cursors are keys too


def _cursor(key: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, ensure_ascii=False).encode()).decode().rstrip("=")


def _oversized_cursors(discord_id: str) -> dict[str, tuple[str, str]]:
    """Cursors that pass each listing's shape check yet carry a key value of 1 KB+ (path, cursor). (The GSI1
    listings repeat the id in PK and GSI1SK, so 2048 cursor characters cannot carry a 1 KB id there.)"""
    digits = "\u0663" * 600  # ARABIC-INDIC DIGIT THREE: str.isdigit() is true; 1200 UTF-8 bytes
    links = {"PK": "MC#" + "0" * 32, "SK": "LINK", "GSI1PK": "LINKS", "GSI1SK": digits}
    ledger = {"PK": f"USER#{discord_id}", "SK": "TX#" + "9" * 1100}
    transactions = f"/api/v1/users/transactions?id={discord_id}&limit=1&cursor="
    # JSON can carry a lone surrogate ("\\ud800"), which no UTF-8 key can hold
    surrogate = base64.urlsafe_b64encode(
        json.dumps({"PK": f"USER#{discord_id}", "SK": "TX#0000000000000#\ud800abcdefgh"}).encode()
    )
    return {
        "links": ("/api/v1/users/list?limit=1&cursor=", _cursor(links)),
        "ledger": (transactions, _cursor(ledger)),
        "ledger, lone surrogate": (transactions, surrogate.decode().rstrip("=")),
    }


@pytest.mark.parametrize("listing", ["links", "ledger", "ledger, lone surrogate"])
def test_a_crafted_cursor_with_an_oversized_key_is_400(api, listing):
    user = shop.funded_user(api, new_user_id(), 1)
    path, token = _oversized_cursors(user)[listing]
    assert len(token) <= 2048  # within the cursor parameter's max_length
    result = api.get(path + token)
    assert result.status == 400, result.body
    assert result.error["code"] == "INVALID_REQUEST"
    assert "cursor" in result.error["message"]
