"""docs/openapi.json's response schemas say what the values are where they are fixed: enums for fixed strings,
`format: date-time` for ISO 8601 timestamps (the contract tests check the answers hold to them)."""

from __future__ import annotations

import json

from local import REPO_ROOT
from xpshop.errors import ErrorCode
from xpshop.scopes import ALL_SCOPES
from xpshop.shop import COSMETIC_TYPES

SCHEMAS = json.loads((REPO_ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))["components"]["schemas"]


def _branches(prop: dict) -> list[dict]:
    return [b for b in prop.get("anyOf", [prop]) if b.get("type") != "null"]


def test_key_timestamps_are_date_times_and_scopes_an_enum():
    for model, fields in [
        ("KeyView", ("createdAt", "expiresAt", "lastUsedAt", "revokedAt")),
        ("KeyCreated", ("createdAt", "expiresAt")),
        ("KeyRevoked", ("revokedAt",)),
    ]:
        for field in fields:
            assert [b.get("format") for b in _branches(SCHEMAS[model]["properties"][field])] == ["date-time"], field
    for model in ("KeyView", "KeyCreated"):
        assert SCHEMAS[model]["properties"]["scopes"]["items"]["enum"] == list(ALL_SCOPES)


def test_fixed_strings_are_enums():
    for model, field, values in [
        ("Cosmetic", "type", set(COSMETIC_TYPES)),
        ("Bought", "type", set(COSMETIC_TYPES)),
        ("GuildView", "source", {"api", "discord", "gateway"}),
        ("GuildRegistered", "source", {"api", "discord", "gateway"}),
        ("ImportJob", "format", {"json", "mee6", "export", "csv"}),
        (
            "Transaction",
            "type",
            {"purchase", "grant", "revoke", "redeem", "credits_modify", "credits_set", "creator_payout"}
            | {"level_reward"},
        ),
        ("ErrorBody", "code", {code.value for code in ErrorCode}),
    ]:
        assert set(SCHEMAS[model]["properties"][field]["enum"]) == values, (model, field)
