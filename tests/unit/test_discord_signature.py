"""Ed25519 verification of Discord interaction requests: `timestamp + body` signed by the application's key,
with a replay window; every malformed input is False, never an exception."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from nacl.signing import SigningKey

from xpshop.discord.signature import MAX_SKEW_SECONDS, verify

KEY = SigningKey.generate()
PUBLIC = KEY.verify_key.encode().hex()
OTHER_KEY = SigningKey.generate()

NOW = 1_700_000_000
TS = str(NOW)
BODY = b'{"type":1,"id":"123","application_id":"456"}'


def sign(message: bytes, key: SigningKey = KEY) -> str:
    return key.sign(message).signature.hex()


SIG = sign(TS.encode() + BODY)


def test_max_skew_is_five_minutes():
    assert MAX_SKEW_SECONDS == 300


def test_valid_signature():
    assert verify(PUBLIC, SIG, TS, BODY, now=NOW) is True


def test_valid_signature_against_the_clock():
    ts = str(int(time.time()))
    assert verify(PUBLIC, sign(ts.encode() + BODY), ts, BODY) is True


def test_empty_body_can_be_signed():
    assert verify(PUBLIC, sign(TS.encode()), TS, b"", now=NOW) is True


def test_uppercase_signature_hex_is_accepted():
    assert verify(PUBLIC, SIG.upper(), TS, BODY, now=NOW) is True


def test_uppercase_public_key_hex_is_accepted():
    assert verify(PUBLIC.upper(), SIG, TS, BODY, now=NOW) is True


@pytest.mark.parametrize(
    "body",
    [BODY + b" ", BODY[:-1], BODY.replace(b"123", b"124"), b"", BODY.upper()],
)
def test_tampered_body(body):
    assert verify(PUBLIC, SIG, TS, body, now=NOW) is False


def test_tampered_timestamp_within_the_window():
    assert verify(PUBLIC, SIG, str(NOW + 1), BODY, now=NOW) is False


def test_signature_from_another_key():
    assert verify(PUBLIC, sign(TS.encode() + BODY, OTHER_KEY), TS, BODY, now=NOW) is False


def test_right_signature_checked_against_another_key():
    assert verify(OTHER_KEY.verify_key.encode().hex(), SIG, TS, BODY, now=NOW) is False


def test_signed_message_is_exactly_timestamp_then_body():
    assert verify(PUBLIC, sign(BODY), TS, BODY, now=NOW) is False
    assert verify(PUBLIC, sign(BODY + TS.encode()), TS, BODY, now=NOW) is False
    assert verify(PUBLIC, sign(TS.encode() + b" " + BODY), TS, BODY, now=NOW) is False
    assert verify(PUBLIC, sign(TS.encode() + BODY), TS, BODY, now=NOW) is True


@pytest.mark.parametrize("signature", [None, ""])
def test_missing_signature(signature):
    assert verify(PUBLIC, signature, TS, BODY, now=NOW) is False


@pytest.mark.parametrize("timestamp", [None, ""])
def test_missing_timestamp(timestamp):
    assert verify(PUBLIC, SIG, timestamp, BODY, now=NOW) is False


def test_missing_public_key():
    assert verify("", SIG, TS, BODY, now=NOW) is False


@pytest.mark.parametrize(
    "signature",
    [
        "zz" * 64,
        "g" + SIG[1:],
        SIG[:-1],  # odd length
        SIG[:-1] + "x",
        "0x" + SIG[2:],
        "not a signature",
    ],
)
def test_non_hex_signature(signature):
    assert verify(PUBLIC, signature, TS, BODY, now=NOW) is False


@pytest.mark.parametrize("length", [0, 1, 32, 63, 65, 128])
def test_wrong_length_signature(length):
    raw = bytes.fromhex(SIG)
    signature = (raw * 3)[:length].hex()
    assert verify(PUBLIC, signature, TS, BODY, now=NOW) is False


def test_signature_with_a_trailing_byte_is_refused():
    assert verify(PUBLIC, SIG + "00", TS, BODY, now=NOW) is False


@pytest.mark.parametrize(
    "timestamp",
    ["abc", "1700000000.5", "-1700000000", "+1700000000", " 1700000000", "1700000000 ", "1e9", "0x6553f100"],
)
def test_non_numeric_timestamp(timestamp):
    assert verify(PUBLIC, sign(timestamp.encode() + BODY), timestamp, BODY, now=NOW) is False


# str.isdigit() accepts Unicode digits that int() cannot parse (superscripts, circled digits).
@pytest.mark.parametrize("timestamp", ["²", "①", "1700000000²"])
def test_rule_unicode_digit_timestamp_is_false_not_an_exception(timestamp):
    assert verify(PUBLIC, SIG, timestamp, BODY, now=NOW) is False


@pytest.mark.parametrize("delta", [0, 1, 299, 300, -1, -299, -300])
def test_timestamp_inside_the_window(delta):
    # `delta` is how far the clock is ahead of the timestamp (negative: the timestamp is in the future).
    assert verify(PUBLIC, SIG, TS, BODY, now=NOW + delta) is True


@pytest.mark.parametrize("delta", [301, 3600, -301, -3600, NOW])
def test_timestamp_outside_the_window(delta):
    assert verify(PUBLIC, SIG, TS, BODY, now=NOW + delta) is False


def test_stale_timestamp_is_refused_before_the_signature_matters():
    old = str(NOW - 301)
    assert verify(PUBLIC, sign(old.encode() + BODY), old, BODY, now=NOW) is False
    assert verify(PUBLIC, sign(old.encode() + BODY), old, BODY, now=NOW - 2) is True


def test_fractional_now():
    assert verify(PUBLIC, SIG, TS, BODY, now=NOW + 300.0) is True
    assert verify(PUBLIC, SIG, TS, BODY, now=NOW + 300.5) is False


def test_custom_max_skew():
    assert verify(PUBLIC, SIG, TS, BODY, now=NOW + 10, max_skew=10) is True
    assert verify(PUBLIC, SIG, TS, BODY, now=NOW + 11, max_skew=10) is False
    assert verify(PUBLIC, SIG, TS, BODY, now=NOW + 1000, max_skew=3600) is True


@pytest.mark.parametrize(
    "public_key",
    [
        PUBLIC[:-1],  # odd length
        PUBLIC[:-2],  # 31 bytes
        PUBLIC + "00",  # 33 bytes
        "00",
        "zz" * 32,
        "not hex at all",
        PUBLIC * 2,
    ],
    ids=["odd length", "31 bytes", "33 bytes", "1 byte", "not hex", "words", "64 bytes"],  # one name per run (xdist)
)
def test_malformed_public_key_is_false_not_an_exception(public_key):
    assert verify(public_key, SIG, TS, BODY, now=NOW) is False


def test_malformed_key_does_not_poison_the_good_one():
    assert verify(PUBLIC[:-1], SIG, TS, BODY, now=NOW) is False
    assert verify(PUBLIC, SIG, TS, BODY, now=NOW) is True
    assert verify(PUBLIC[:-1], SIG, TS, BODY, now=NOW) is False


# --- properties ----------------------------------------------------------------------------------------------


@given(st.binary(max_size=200))
def test_any_bytes_as_signature_never_raise(raw):
    assert verify(PUBLIC, raw.hex(), TS, BODY, now=NOW) is False


@given(st.text(max_size=200))
def test_any_text_as_signature_never_raises(signature):
    assert verify(PUBLIC, signature, TS, BODY, now=NOW) is False


@given(st.binary(min_size=64, max_size=64))
def test_random_64_byte_signature_is_refused(raw):
    assert verify(PUBLIC, raw.hex(), TS, BODY, now=NOW) is False


@given(st.text(alphabet=st.characters(codec="ascii"), max_size=30))
def test_any_ascii_timestamp_never_raises(timestamp):
    result = verify(PUBLIC, SIG, timestamp, BODY, now=NOW)
    assert result is (timestamp == TS)


@given(st.text(max_size=100))
def test_any_text_as_public_key_never_raises(public_key):
    assert verify(public_key, SIG, TS, BODY, now=NOW) is False


@given(st.sampled_from([PUBLIC, PUBLIC.upper()]), st.text(alphabet=" \t\n0fgz", max_size=4))
def test_public_key_with_junk_appended_never_raises(public_key, junk):
    # bytes.fromhex skips ASCII whitespace, so only trailing whitespace leaves the key intact.
    assert verify(public_key + junk, SIG, TS, BODY, now=NOW) is (junk.strip() == "")


@given(st.binary(max_size=2000), st.integers(-MAX_SKEW_SECONDS, MAX_SKEW_SECONDS))
def test_any_signed_body_verifies_inside_the_window(body, delta):
    assert verify(PUBLIC, sign(TS.encode() + body), TS, body, now=NOW + delta) is True


@given(st.binary(min_size=1, max_size=500), st.data())
def test_flipping_any_bit_of_the_body_fails(body, data):
    signature = sign(TS.encode() + body)
    index = data.draw(st.integers(0, len(body) - 1))
    bit = data.draw(st.integers(0, 7))
    tampered = bytearray(body)
    tampered[index] ^= 1 << bit
    assert verify(PUBLIC, signature, TS, bytes(tampered), now=NOW) is False


@given(st.data())
def test_flipping_any_bit_of_the_signature_fails(data):
    raw = bytearray(bytes.fromhex(SIG))
    raw[data.draw(st.integers(0, 63))] ^= 1 << data.draw(st.integers(0, 7))
    assert verify(PUBLIC, raw.hex(), TS, BODY, now=NOW) is False
