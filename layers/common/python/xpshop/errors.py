"""Error codes and their HTTP status: the one place that maps one to the other."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    # /api/xp codes from the XP seed
    MISSING_GUILD_ID = "MISSING_GUILD_ID"
    GUILD_NOT_FOUND = "GUILD_NOT_FOUND"
    MISSING_USER_ID = "MISSING_USER_ID"
    USER_NOT_FOUND = "USER_NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    INVALID_REQUEST = "INVALID_REQUEST"
    INVALID_AMOUNT = "INVALID_AMOUNT"
    INVALID_CONFIG = "INVALID_CONFIG"
    INVALID_LEVEL = "INVALID_LEVEL"
    INVALID_ROLE_ID = "INVALID_ROLE_ID"
    INVALID_MULTIPLIER = "INVALID_MULTIPLIER"
    DUPLICATE_REWARD = "DUPLICATE_REWARD"
    REWARD_NOT_FOUND = "REWARD_NOT_FOUND"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    # xpshop additions
    UNAUTHORIZED = "UNAUTHORIZED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    REQUEST_IN_PROGRESS = "REQUEST_IN_PROGRESS"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    # import / export (issue 15)
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    JOB_NOT_FOUND = "JOB_NOT_FOUND"
    # /api/v1 (shop)
    COSMETIC_NOT_FOUND = "COSMETIC_NOT_FOUND"
    CATEGORY_NOT_FOUND = "CATEGORY_NOT_FOUND"
    COUPON_NOT_FOUND = "COUPON_NOT_FOUND"
    CREATOR_CODE_NOT_FOUND = "CREATOR_CODE_NOT_FOUND"
    MINECRAFT_PROFILE_NOT_FOUND = "MINECRAFT_PROFILE_NOT_FOUND"
    KEY_NOT_FOUND = "KEY_NOT_FOUND"
    KEY_ALREADY_CREATED = "KEY_ALREADY_CREATED"
    ALREADY_OWNED = "ALREADY_OWNED"
    NOT_OWNED = "NOT_OWNED"
    NOT_FOR_SALE = "NOT_FOR_SALE"
    INSUFFICIENT_CREDITS = "INSUFFICIENT_CREDITS"
    CREDIT_LIMIT = "CREDIT_LIMIT"
    TYPE_MISMATCH = "TYPE_MISMATCH"
    ALREADY_LINKED = "ALREADY_LINKED"
    NOT_LINKED = "NOT_LINKED"
    DUPLICATE_NAME = "DUPLICATE_NAME"
    DUPLICATE_CODE = "DUPLICATE_CODE"
    CATEGORY_NOT_EMPTY = "CATEGORY_NOT_EMPTY"
    COUPON_INACTIVE = "COUPON_INACTIVE"
    COUPON_EXPIRED = "COUPON_EXPIRED"
    COUPON_EXHAUSTED = "COUPON_EXHAUSTED"
    COUPON_ALREADY_REDEEMED = "COUPON_ALREADY_REDEEMED"
    COUPON_DAY_LIMIT = "COUPON_DAY_LIMIT"
    COUPON_USES_BELOW_USED = "COUPON_USES_BELOW_USED"
    SELF_SUPPORT = "SELF_SUPPORT"
    # API keys v2 and rate limits (issue 17)
    RATE_LIMITED = "RATE_LIMITED"
    INVALID_KEY_NAME = "INVALID_KEY_NAME"
    INVALID_SCOPES = "INVALID_SCOPES"
    INVALID_GUILD_IDS = "INVALID_GUILD_IDS"
    INVALID_EXPIRES_AT = "INVALID_EXPIRES_AT"
    INVALID_RATE_LIMIT = "INVALID_RATE_LIMIT"


STATUS: dict[ErrorCode, int] = {
    ErrorCode.MISSING_GUILD_ID: 400,
    ErrorCode.GUILD_NOT_FOUND: 404,
    ErrorCode.MISSING_USER_ID: 400,
    ErrorCode.USER_NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.INVALID_REQUEST: 400,
    ErrorCode.INVALID_AMOUNT: 400,
    ErrorCode.INVALID_CONFIG: 400,
    ErrorCode.INVALID_LEVEL: 400,
    ErrorCode.INVALID_ROLE_ID: 400,
    ErrorCode.INVALID_MULTIPLIER: 400,
    ErrorCode.DUPLICATE_REWARD: 400,
    ErrorCode.REWARD_NOT_FOUND: 404,
    ErrorCode.INTERNAL_ERROR: 500,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.CONFLICT: 409,
    ErrorCode.IDEMPOTENCY_KEY_REUSED: 422,
    ErrorCode.REQUEST_IN_PROGRESS: 409,
    ErrorCode.SERVICE_UNAVAILABLE: 503,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: 415,
    ErrorCode.JOB_NOT_FOUND: 404,
    ErrorCode.COSMETIC_NOT_FOUND: 404,
    ErrorCode.CATEGORY_NOT_FOUND: 404,
    ErrorCode.COUPON_NOT_FOUND: 404,
    ErrorCode.CREATOR_CODE_NOT_FOUND: 404,
    ErrorCode.MINECRAFT_PROFILE_NOT_FOUND: 404,
    ErrorCode.KEY_NOT_FOUND: 404,
    ErrorCode.KEY_ALREADY_CREATED: 409,
    ErrorCode.ALREADY_OWNED: 409,
    ErrorCode.NOT_OWNED: 409,
    ErrorCode.NOT_FOR_SALE: 409,
    ErrorCode.INSUFFICIENT_CREDITS: 409,
    ErrorCode.CREDIT_LIMIT: 409,
    ErrorCode.TYPE_MISMATCH: 409,
    ErrorCode.ALREADY_LINKED: 409,
    ErrorCode.NOT_LINKED: 409,
    ErrorCode.DUPLICATE_NAME: 409,
    ErrorCode.DUPLICATE_CODE: 409,
    ErrorCode.CATEGORY_NOT_EMPTY: 409,
    ErrorCode.COUPON_INACTIVE: 409,
    ErrorCode.COUPON_EXPIRED: 409,
    ErrorCode.COUPON_EXHAUSTED: 409,
    ErrorCode.COUPON_ALREADY_REDEEMED: 409,
    ErrorCode.COUPON_DAY_LIMIT: 409,
    ErrorCode.COUPON_USES_BELOW_USED: 409,
    ErrorCode.SELF_SUPPORT: 409,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.INVALID_KEY_NAME: 400,
    ErrorCode.INVALID_SCOPES: 400,
    ErrorCode.INVALID_GUILD_IDS: 400,
    ErrorCode.INVALID_EXPIRES_AT: 400,
    ErrorCode.INVALID_RATE_LIMIT: 400,
}


class ApiError(Exception):
    """A failure the caller can act on: carries a code, its status and a message naming the field."""

    def __init__(self, code: ErrorCode, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.headers = headers or {}

    @property
    def status(self) -> int:
        return STATUS[self.code]


class NotFound(ApiError):
    """A guild, member, reward or route that does not exist."""


class InvalidInput(ApiError):
    """A parameter or body field that fails validation."""


class Conflict(ApiError):
    """A well-formed request that conflicts with the current state (409)."""


class Unavailable(ApiError):
    """Storage is throttling or unreachable after retries."""

    def __init__(self, message: str = "Storage is busy, retry shortly") -> None:
        super().__init__(ErrorCode.SERVICE_UNAVAILABLE, message, {"Retry-After": "1"})
