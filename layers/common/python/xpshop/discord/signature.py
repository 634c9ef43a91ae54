"""Ed25519 verification of Discord interaction requests: the first thing the webhook does, on the raw bytes.

Only PyNaCl is imported here, so a cold start reaches the check without pydantic, boto3 or Powertools.
"""

from __future__ import annotations

import time

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

MAX_SKEW_SECONDS = 300  # a signed request older (or newer) than this is refused: a replay window of 5 minutes

_keys: dict[str, VerifyKey] = {}


def _verify_key(public_key_hex: str) -> VerifyKey:
    key = _keys.get(public_key_hex)
    if key is None:
        key = _keys[public_key_hex] = VerifyKey(bytes.fromhex(public_key_hex))
    return key


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
    recent. Any malformed input (missing header, bad hex, wrong length, non-numeric timestamp) is False."""
    # isascii: str.isdigit() also accepts digits like "²" that int() refuses
    if not public_key_hex or not signature_hex or not timestamp or not (timestamp.isascii() and timestamp.isdigit()):
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > max_skew:
        return False
    try:
        signature = bytes.fromhex(signature_hex)
        if len(signature) != 64:
            return False
        _verify_key(public_key_hex).verify(timestamp.encode() + body, signature)
    except (ValueError, TypeError, BadSignatureError):
        return False
    return True
