"""Security review (issue 12), finding 9: `GET /api/v1/creatorcodes/supporting` let any user key probe
whether any Discord id or Minecraft UUID has a shop account, and which code it supports. A user key may
ask about its own account only, and cannot tell an unknown account from an unknown code; the admin's
answers are those of the shop's API document, unchanged."""

from __future__ import annotations

import pytest

from tests.support import shop
from tests.support.storage import new_user_id

SUPPORTING = "/api/v1/creatorcodes/supporting"


@pytest.fixture
def code(api) -> str:
    creator = shop.funded_user(api, new_user_id(), 0)
    name = shop.unique("maker")
    assert api.post("/api/v1/creatorcodes/create", {"code": name, "assigned_user": creator}).status == 201
    return name


def _supporter(api, code: str) -> tuple[str, str]:
    """A shop account supporting `code`, linked to a Minecraft account: (discord id, uuid)."""
    user = shop.funded_user(api, new_user_id(), 0)
    assert api.post("/api/v1/creatorcodes/set", {"id": user, "code": code}).body == {"processed": True}
    linked = api.post("/api/v1/users/link", {"discordid": user, "minecraft_username": shop.unique("Fan")[:16]})
    return user, linked.body["uuid"]


def _key(api, user: str) -> str:
    issued = api.post("/api/v1/keys", {"id": user})
    assert issued.status == 201, issued.body
    return issued.body["key"]


def _ask(api, who: str, creator_code: str, key):  # -> Result
    return api.get(f"{SUPPORTING}?id={who}&creator_code={creator_code}", key=key)


def test_a_user_key_cannot_ask_about_another_account(api, code):
    victim, victim_uuid = _supporter(api, code)
    prober = shop.funded_user(api, new_user_id(), 0)
    key = _key(api, prober)
    unknown_uuid = "0123456789abcdef0123456789abcdef"
    for who in (victim, victim_uuid, new_user_id(), unknown_uuid):
        for creator_code in (code, "no-such-code"):
            r = _ask(api, who, creator_code, key)
            assert (r.status, r.error["code"]) == (403, "FORBIDDEN"), (who, creator_code, r.body)
            assert r.error["message"] == "A user key can only act on its own account"


def test_a_user_key_answers_for_its_own_account(api, code):
    user, uuid = _supporter(api, code)
    key = _key(api, user)
    assert _ask(api, user, code, key).body == {"supporting": True}
    assert _ask(api, uuid, code, key).body == {"supporting": True}
    other_code = shop.unique("other")
    assert api.post("/api/v1/creatorcodes/create", {"code": other_code, "assigned_user": new_user_id()}).status == 201
    assert _ask(api, user, other_code, key).body == {"supporting": False}


def test_unknown_account_and_unknown_code_look_the_same_to_a_user_key(api, code):
    member = shop.funded_user(api, new_user_id(), 0)
    member_key = _key(api, member)
    no_account = new_user_id()  # a key (e.g. /apikey) but no shop profile
    no_account_key = _key(api, no_account)

    unknown_code = _ask(api, member, "no-such-code", member_key)
    unknown_account = _ask(api, no_account, code, no_account_key)
    both_unknown = _ask(api, no_account, "no-such-code", no_account_key)
    assert unknown_code.status == 404, unknown_code.body
    for r in (unknown_account, both_unknown):
        assert (r.status, r.body) == (unknown_code.status, unknown_code.body)
    assert "creator_code" in unknown_code.error["message"] and "id" in unknown_code.error["message"]


def test_the_admin_answers_as_the_shop_document_says(api, code):
    user, uuid = _supporter(api, code)
    assert _ask(api, user, code, _admin()).body == {"supporting": True}
    assert _ask(api, uuid, code, _admin()).body == {"supporting": True}
    unknown_user = _ask(api, new_user_id(), code, _admin())
    assert (unknown_user.status, unknown_user.error["code"]) == (404, "USER_NOT_FOUND")
    unknown_uuid = _ask(api, "0123456789abcdef0123456789abcdef", code, _admin())
    assert (unknown_uuid.status, unknown_uuid.error["code"]) == (404, "USER_NOT_FOUND")
    unknown_code = _ask(api, user, "no-such-code", _admin())
    assert (unknown_code.status, unknown_code.error["code"]) == (404, "CREATOR_CODE_NOT_FOUND")


def _admin():  # the client's sentinel for "send the admin key"
    from tests.support.client import ADMIN

    return ADMIN
