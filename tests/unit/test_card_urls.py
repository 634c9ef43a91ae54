"""Signed rank card URLs (xpshop.web.card_urls) and the conditional GET helpers (xpshop.web.responses)."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import pytest

from xpshop.web import card_urls, responses

KEY = "unit-card-key"
G, U, OTHER = "111111111111111111", "222222222222222222", "333333333333333333"
NOW = 1_800_000_000


def _signed(guild: str = G, user: str = U, now: int = NOW, key: str = KEY) -> tuple[str, str]:
    query = parse_qs(card_urls.signed_query(guild, user, now=now, key=key) or "")
    return query["exp"][0], query["sig"][0]


def test_a_signed_url_is_valid_for_its_card_until_it_expires():
    exp, sig = _signed()
    assert int(exp) == NOW + card_urls.TTL_SECONDS and len(sig) == 64
    assert card_urls.verify(G, U, exp, sig, now=NOW, key=KEY)
    assert card_urls.verify(G, U, exp, sig, now=NOW + card_urls.TTL_SECONDS, key=KEY)  # the last second
    assert not card_urls.verify(G, U, exp, sig, now=NOW + card_urls.TTL_SECONDS + 1, key=KEY)  # expired


@pytest.mark.parametrize(
    "case",
    ["other member", "other guild", "swapped", "other key", "tampered sig", "later exp", "earlier exp", "no key"],
)
def test_a_signature_proves_only_its_own_card(case):
    exp, sig = _signed()
    guild, user, key = G, U, KEY
    if case == "other member":
        user = OTHER
    elif case == "other guild":
        guild = OTHER
    elif case == "swapped":
        guild, user = U, G
    elif case == "other key":
        key = "another-key"
    elif case == "tampered sig":
        sig = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    elif case == "later exp":
        exp = str(int(exp) + 1)
    elif case == "earlier exp":
        exp = str(int(exp) - 1)
    elif case == "no key":
        key = ""
    assert not card_urls.verify(guild, user, exp, sig, now=NOW, key=key)


@pytest.mark.parametrize(
    ("exp", "sig"),
    [
        (None, None),
        ("", ""),
        ("abc", "0" * 64),
        ("-1", "0" * 64),
        ("0" + str(NOW + 60), None),
        (str(NOW + 60) + ",1", "0" * 64),  # a repeated parameter, as API Gateway joins them
        ("1e10", "0" * 64),
        ("9" * 13, "0" * 64),
        (str(NOW + 60), "0" * 63),
        (str(NOW + 60), "0" * 65),
        (str(NOW + 60), "G" * 64),
        (str(NOW + 60), "%00" * 21),
    ],
)
def test_malformed_parameters_are_refused_without_error(exp, sig):
    assert not card_urls.verify(G, U, exp, sig, now=NOW, key=KEY)


def test_uppercase_hex_and_leading_zeros_are_not_ours():
    exp, sig = _signed()
    assert not card_urls.verify(G, U, exp, sig.upper(), now=NOW, key=KEY)
    assert not card_urls.verify(G, U, "0" + exp, sig, now=NOW, key=KEY)


def test_an_expiry_further_out_than_we_ever_sign_is_refused_even_when_signed():
    far = NOW + 365 * 24 * 3600
    sig = card_urls.signature(KEY, G, U, far)
    assert not card_urls.verify(G, U, str(far), sig, now=NOW, key=KEY)


def test_card_urls_are_plain_when_public_and_signed_otherwise(monkeypatch):
    monkeypatch.setenv("XPSHOP_CARD_SIGNING_KEY", KEY)
    public = card_urls.card_url("https://x.example/", G, U, public=True, version="abc")
    assert public == f"https://x.example/cards/{G}/{U}.png?v=abc"
    signed = urlsplit(card_urls.card_url("https://x.example", G, U, public=False) or "")
    assert (signed.scheme, signed.netloc, signed.path) == ("https", "x.example", f"/cards/{G}/{U}.png")
    query = parse_qs(signed.query)
    assert set(query) == {"exp", "sig"}
    assert card_urls.verify(G, U, query["exp"][0], query["sig"][0], key=KEY)
    monkeypatch.delenv("XPSHOP_CARD_SIGNING_KEY")
    monkeypatch.delenv("CARD_SIGNING_KEY_PARAM", raising=False)
    assert card_urls.card_url("https://x.example", G, U, public=False) is None  # nothing can sign: no image


# ---------------------------------------------------------------- responses


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        (None, False),
        ("", False),
        ('"abc"', True),
        ('W/"abc"', True),
        ('"x", "abc"', True),
        ('"x" ,W/"abc" ', True),
        ("*", True),
        ('"abcd"', False),
        ("abc", False),
    ],
)
def test_if_none_match(header, matches):
    assert responses.etag_matches(header, '"abc"') is matches


def test_binary_bodies_are_base64_for_api_gateway():
    answer = responses.binary(b"\x89PNG\x00\xff", "image/png", headers={"ETag": '"1"'})
    assert answer["isBase64Encoded"] is True
    assert base64.b64decode(answer["body"]) == b"\x89PNG\x00\xff"
    assert answer["headers"]["Content-Type"] == "image/png" and answer["headers"]["ETag"] == '"1"'
    assert answer["headers"]["X-Content-Type-Options"] == "nosniff"
    assert responses.not_modified({"ETag": '"1"'}) == {
        "statusCode": 304,
        "headers": {"ETag": '"1"'},
        "body": "",
        "isBase64Encoded": False,
    }
