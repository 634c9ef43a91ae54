"""/api/keys (API keys v2): what an admin sends to make a key and what the API answers. Validation here
names the field at fault with its own code (KEYS_FIELD_CODES)."""

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, JsonValue, WithJsonSchema, field_validator

from ..clock import now_ms
from ..errors import ErrorCode
from ..ids import is_snowflake
from ..scopes import ALL_GUILDS, ALL_SCOPES
from .fields import SNOWFLAKE_SCHEMA, VISIBLE_CHAR, VISIBLE_NON_SPACE, trimmed_pattern

_VIEW = ConfigDict(extra="forbid", defer_build=True)

MAX_NAME = 100
NAME_PATTERN = trimmed_pattern(MAX_NAME, VISIBLE_CHAR, VISIBLE_NON_SPACE)
MAX_GUILDS = 100
MAX_RATE_LIMIT = 60_000  # requests per minute (the HTTP API itself is throttled at 100/s, see template.yaml)

KEYS_FIELD_CODES: dict[str, ErrorCode] = {
    "name": ErrorCode.INVALID_KEY_NAME,
    "scopes": ErrorCode.INVALID_SCOPES,
    "guildIds": ErrorCode.INVALID_GUILD_IDS,
    "expiresAt": ErrorCode.INVALID_EXPIRES_AT,
    "rateLimitPerMinute": ErrorCode.INVALID_RATE_LIMIT,
}


def parse_instant(value: Any) -> datetime:
    """An ISO 8601 date-time (`2027-01-31T12:00:00Z`); without an offset it is read as UTC."""
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date-time string, e.g. 2027-01-31T12:00:00Z")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("must be an ISO 8601 date-time, e.g. 2027-01-31T12:00:00Z") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _guild_entry(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if value != ALL_GUILDS and not is_snowflake(value):
        raise ValueError('each entry must be a Discord snowflake (17-20 digits), or the list exactly ["*"]')
    return value


def _guild_ids_schema(schema: dict[str, Any]) -> None:
    """guildIds in the document as the validators take it: distinct snowflakes, or exactly ["*"]."""
    description = schema.get("description")
    schema.clear()
    schema["description"] = description
    schema["anyOf"] = [
        {"type": "array", "maxItems": MAX_GUILDS, "uniqueItems": True, "items": dict(SNOWFLAKE_SCHEMA)},
        {"type": "array", "minItems": 1, "maxItems": 1, "items": {"const": ALL_GUILDS}},
    ]


def _strict_int(value: Any) -> Any:
    """A whole number, as JSON has it: 600 or 600.0 (JSON Schema's `integer` takes both); not true or "600"."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be a whole number")
    return value


class CreateKeyBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        defer_build=True,
        json_schema_extra={
            "examples": [
                {
                    "name": "Stats dashboard",
                    "scopes": ["xp:read", "config:read"],
                    "guildIds": ["490537526436560896"],
                    "expiresAt": "2030-01-01T00:00:00Z",
                    "rateLimitPerMinute": 600,
                }
            ]
        },
    )
    name: str = Field(
        pattern=NAME_PATTERN,
        description=f"Who or what the key is for: 1-{MAX_NAME} visible characters once trimmed",
    )
    scopes: list[str] = Field(
        min_length=1,
        max_length=len(ALL_SCOPES),
        description="What the key may do: " + ", ".join(ALL_SCOPES),
        json_schema_extra={"items": {"type": "string", "enum": list(ALL_SCOPES)}, "uniqueItems": True},
    )
    guildIds: list[Annotated[str, BeforeValidator(_guild_entry)]] = Field(
        max_length=MAX_GUILDS,
        description='The guilds the key may touch: snowflakes; [] none; ["*"] every guild and the global routes',
        json_schema_extra=_guild_ids_schema,
    )
    expiresAt: str | None = Field(
        None,
        description="ISO 8601 date-time in the future (UTC without an offset); absent: never expires",
        json_schema_extra={"format": "date-time"},
    )
    rateLimitPerMinute: Annotated[int | None, BeforeValidator(lambda v: v if v is None else _strict_int(v))] = Field(
        None, ge=1, le=MAX_RATE_LIMIT, description="Requests per minute; absent: the deployment's default"
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return value.strip()  # the pattern has refused blank and invisible text

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, value: list[str]) -> list[str]:
        unknown = [s for s in value if s not in ALL_SCOPES]
        if unknown:
            raise ValueError(f"unknown scope {unknown[0]!r}; scopes are {', '.join(ALL_SCOPES)}")
        if len(set(value)) != len(value):
            raise ValueError("a scope is listed twice")
        return [s for s in ALL_SCOPES if s in value]

    @field_validator("guildIds")
    @classmethod
    def _guilds(cls, value: list[str]) -> list[str]:
        if ALL_GUILDS in value and value != [ALL_GUILDS]:
            raise ValueError('"*" (every guild) must be the only entry')
        if len(set(value)) != len(value):
            raise ValueError("a guild is listed twice")
        return value

    @field_validator("expiresAt")
    @classmethod
    def _expiry(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if parse_instant(value).timestamp() * 1000 <= now_ms():
            raise ValueError("must be in the future")
        return value

    def expires_ms(self) -> int | None:
        return None if self.expiresAt is None else int(parse_instant(self.expiresAt).timestamp() * 1000)


# What the answers hold, stated for generated clients: ISO 8601 instants in UTC (`clock.iso`, RFC 3339 with
# `Z`), and scopes from the fixed set.
Instant = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
_SCOPES: dict[str, JsonValue] = {"items": {"type": "string", "enum": list(ALL_SCOPES)}}


class KeyView(BaseModel):
    model_config = _VIEW
    id: str
    name: str
    scopes: list[str] = Field(json_schema_extra=_SCOPES)
    guildIds: list[str]
    expiresAt: Instant | None = Field(description="ISO 8601; null: never expires")
    rateLimitPerMinute: int = Field(description="Requests per minute this key may make")
    createdAt: Instant
    createdBy: str | None = None
    lastUsedAt: Instant | None = Field(None, description="ISO 8601, to within 5 minutes; null: never used")
    revokedAt: Instant | None = Field(None, description="ISO 8601; set once the key is revoked")


class KeyCreated(BaseModel):
    model_config = _VIEW
    id: str
    key: str = Field(description="The secret: shown this once, never again (only its SHA-256 is stored)")
    name: str
    scopes: list[str] = Field(json_schema_extra=_SCOPES)
    guildIds: list[str]
    expiresAt: Instant | None
    rateLimitPerMinute: int
    createdAt: Instant


class KeyList(BaseModel):
    model_config = _VIEW
    keys: list[KeyView]


class KeyRevoked(BaseModel):
    model_config = _VIEW
    id: str
    revoked: bool = True
    revokedAt: Instant
