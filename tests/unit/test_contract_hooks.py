"""local/contract_hooks.py: the only "schema-valid request rejected" failures `make contract` drops are the ones
it can explain; anything else stands."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from local.contract_hooks import explain, reused_key

G = "123456789012345678"


@dataclass
class Case:
    method: str
    path: str
    path_parameters: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    headers: dict[str, Any] = field(default_factory=dict)


USER = "/api/xp/users/{guildId}/{userId}"
CONFIG = "/api/xp/config/{guildId}"


@pytest.mark.parametrize(
    ("case", "code", "message"),
    [
        (Case("POST", "/api/xp/config/{guildId}/rewards", {"guildId": G}), "DUPLICATE_REWARD", "already exists"),
        (Case("POST", USER, {"guildId": G, "userId": G}), "INVALID_AMOUNT", "amount would take xp above the maximum"),
        (Case("GET", "/api/xp/guilds", query={"cursor": "MDAw"}), "INVALID_REQUEST", "cursor is not a valid"),
        (Case("GET", USER, {"guildId": G, "userId": "null"}), "INVALID_REQUEST", "userId must be a snowflake"),
        (Case("GET", "/api/v1/users/info", query={"id": "null"}), "INVALID_REQUEST", "id: must be"),
        (
            Case("PUT", CONFIG, {"guildId": G}, body={"roleRewards": [{"level": 1, "roleId": G}] * 2}),
            "INVALID_CONFIG",
            "roleRewards: more than one reward at level(s) [1]",
        ),
        (
            Case("POST", "/api/xp/ingest/messages", body={}),
            "INVALID_REQUEST",
            "messages.0.timestamp: is 376023347 s old; at most 604800 s is accepted",
        ),
        (
            Case("POST", "/api/v1/categories/create", body={"name": "\ufdfa" * 4}),  # NFKC: 18 characters each
            "INVALID_REQUEST",
            "name: must be at most 64 characters once Unicode-normalised",
        ),
        (
            Case("PATCH", "/api/v1/coupons/edit", body={"original_code": "C", "credit_grant": None}),
            "INVALID_REQUEST",
            "credit_grant, cosmetic_grant: a coupon must keep a credit_grant (above 0) or a cosmetic_grant; "
            "this edit would leave it neither",
        ),
    ],
)
def test_explained_refusals_are_dropped(case: Case, code: str, message: str) -> None:
    assert explain(case, code, message)


@pytest.mark.parametrize(
    ("case", "code", "message"),
    [
        (Case("POST", USER, {"guildId": G, "userId": G}), "INVALID_AMOUNT", "amount must be a number > 0"),
        (Case("GET", "/api/xp/guilds"), "INVALID_REQUEST", "cursor is not a valid pagination cursor"),
        (Case("GET", USER, {"guildId": G, "userId": G}), "INVALID_REQUEST", "userId must be a snowflake"),
        (Case("GET", "/api/xp/guilds", query={"limit": 5}), "INVALID_REQUEST", "limit: bad"),
        (
            Case("PUT", CONFIG, {"guildId": G}, body={"roleRewards": [{"level": 1, "roleId": G}]}),
            "INVALID_CONFIG",
            "roleRewards: something else",
        ),
        (Case("POST", "/api/v1/categories/create", body={"name": "Hats"}), "INVALID_REQUEST", "name: bad"),
        (
            Case(
                "PATCH", "/api/v1/coupons/edit", body={"original_code": "C", "credit_grant": 0, "cosmetic_grant": None}
            ),
            "INVALID_REQUEST",
            "credit_grant, cosmetic_grant: a coupon must keep one of them (this edit clears both)",
        ),
    ],
)
def test_anything_else_stands(case: Case, code: str, message: str) -> None:
    assert explain(case, code, message) is None


def test_only_a_reused_idempotency_key_explains_a_422():
    reused = Case("POST", "/api/v1/keys", headers={"Idempotency-Key": "0"})
    assert reused_key(reused, "IDEMPOTENCY_KEY_REUSED") is not None
    assert reused_key(Case("POST", "/api/v1/keys"), "IDEMPOTENCY_KEY_REUSED") is None  # no key sent: a real fault
    assert reused_key(reused, "INVALID_REQUEST") is None
