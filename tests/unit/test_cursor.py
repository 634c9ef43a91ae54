"""Pagination cursors: url-safe base64 of JSON, nothing else (the OpenAPI document's `cursor` pattern)."""

from __future__ import annotations

import re

import pytest

from xpshop.errors import InvalidInput
from xpshop.store import cursor


def test_an_issued_cursor_round_trips_and_fits_the_documented_pattern():
    key = {"PK": "GUILDS", "SK": "GUILD#123456789012345678"}
    token = cursor.encode(key)
    assert token is not None and re.fullmatch(cursor.CURSOR_PATTERN, token)
    assert cursor.decode(token, set(key)) == key


@pytest.mark.parametrize("stray", ["!", "=", " ", "\n", "+", "/"])
def test_a_character_outside_url_safe_base64_is_refused(stray):
    """b64decode alone skips characters outside the alphabet: "<cursor>!" decoded as the cursor."""
    key = {"PK": "GUILDS", "SK": "GUILD#123456789012345678"}
    token = cursor.encode(key)
    assert token is not None
    with pytest.raises(InvalidInput):
        cursor.decode(token + stray, set(key))
    with pytest.raises(ValueError):
        cursor.unpack(token[:4] + stray + token[4:])
