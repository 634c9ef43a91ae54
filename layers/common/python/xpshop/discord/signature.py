"""Ed25519 verification of Discord interaction requests: the first thing the webhook does, on the raw bytes.

Only PyNaCl is imported here, so a cold start reaches the check without pydantic, boto3 or Powertools.
"""

from __future__ import annotations

import time

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

MAX_SKEW_SECONDS = 300  # a signed request older (or newer) than this is refused: a replay window of 5 minutes
# Header shapes, checked before any arithmetic or decoding: the caller is not authenticated yet, and an
# unbounded timestamp overflowed float (309+ digits) or int()'s digit limit (4300+) into a 500.
MAX_TIMESTAMP_DIGITS = 12  # unix seconds up to the year 33658
SIGNATURE_HEX_CHARS = 128  # an Ed25519 signature is 64 bytes
_HEX = frozenset("0123456789abcdefABCDEF")

_keys: dict[str, VerifyKey] = {}


def _verify_key(public_key_hex: str) -> VerifyKey:
    key = _keys.get(public_key_hex)
    if key is None:
        key = _keys[public_key_hex] = VerifyKey(bytes.fromhex(public_key_hex))
    return key


def _parse(signature_hex: str | None, timestamp: str | None) -> tuple[bytes, int] | None:
    """The signature's 64 bytes and the timestamp, decoded only once their shapes are right: exactly 128
    ASCII hex characters and 1-12 ASCII digits (isascii: str.isdigit alone also accepts "²"). Else None."""
    if signature_hex is None or len(signature_hex) != SIGNATURE_HEX_CHARS or not _HEX.issuperset(signature_hex):
        return None
    if timestamp is None or not (0 < len(timestamp) <= MAX_TIMESTAMP_DIGITS and timestamp.isascii()):
        return None
    if not timestamp.isdigit():
        return None
    return bytes.fromhex(signature_hex), int(timestamp)


def verify(
    public_key_hex: str,
    signature_hex: str | None,
    timestamp: str | None,
    body: bytes,
    *,
    now: float | None = None,
    max_skew: int = MAX_SKEW_SECONDS,
) -> bool:
    """True when `signature_hex` signs `timestamp + body` with the application's key and the timestamp is
    recent. Any malformed input (missing header, bad hex, wrong length, non-numeric or overlong timestamp) is
    False, never an exception."""
    parsed = _parse(signature_hex, timestamp)
    if not public_key_hex or parsed is None or timestamp is None:
        return False
    signature, signed_at = parsed
    if abs((time.time() if now is None else now) - signed_at) > max_skew:
        return False
    try:
        _verify_key(public_key_hex).verify(timestamp.encode() + body, signature)
    except (ValueError, TypeError, BadSignatureError):  # a malformed public key (configuration)
        return False
    return True
