"""/api/xp/config (guild and global), role rewards, multipliers, and the guild registry."""

from __future__ import annotations

from xpshop import coldstart  # pauses the garbage collector until `coldstart.done()` below

# isort: split

from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from xpshop import guild_config, http, tracing
from xpshop.api.envelope import responses
from xpshop.api.xp.requests.config import (
    AddRewardBody,
    ConfigPatch,
    DeleteMultipliersBody,
    PutMultipliersBody,
    RegisterGuildBody,
    RemoveRewardBody,
)
from xpshop.api.xp.responses.config import (
    GuildConfigView,
    GuildRegistered,
    GuildsPage,
    MultiplierMaps,
    MultipliersView,
    RewardAdded,
    RewardRemoved,
    RewardsView,
)
from xpshop.errors import ErrorCode

# The routes' services, with the stores behind them: imported by the first request that uses them.
config = coldstart.later("xpshop.service.config")
guilds = coldstart.later("xpshop.service.guilds")

logger = Logger()

GLOBAL = "/api/xp/config/global"
GUILD = "/api/xp/config/<guildId>"
REWARDS = f"{GUILD}/rewards"
MULTIPLIERS = f"{GUILD}/multipliers"
REGISTRY = "/api/xp/guilds/<guildId>"

app = http.make_resolver(
    http.XP_API,
    missing_guild=["/api/xp/config"],
    unregistered_ok={REGISTRY},
    body_error_codes={
        ("PUT", GLOBAL): ErrorCode.INVALID_CONFIG,
        ("PUT", GUILD): ErrorCode.INVALID_CONFIG,
        ("DELETE", MULTIPLIERS): ErrorCode.INVALID_REQUEST,
    },
)


def _patch(body: ConfigPatch) -> dict[str, Any]:
    patch = body.model_dump(exclude_unset=True, mode="json")
    http.admin_key_only(app, patch, guild_config.ADMIN_KEY_FIELDS)
    return patch


@app.get(
    GLOBAL,
    tags=["config"],
    summary="Global defaults (system defaults overlaid with global overrides)",
    responses=responses(GuildConfigView),
)
def get_global_config():
    return http.ok(config.merged_global())


@app.put(
    GLOBAL,
    tags=["config"],
    summary="Update global defaults (partial; null resets a field)",
    responses=responses(GuildConfigView),
)
def put_global_config(body: Annotated[ConfigPatch, Body()]):
    return http.once(app, lambda: (config.update_global(_patch(body)), 200))


@app.get(
    GUILD,
    tags=["config"],
    summary="The merged configuration of a guild (guild > global > system)",
    responses=responses(GuildConfigView),
)
def get_guild_config(guildId: str):
    return http.ok(config.merged_guild(guildId))


@app.put(
    GUILD,
    tags=["config"],
    summary="Update a guild's configuration (partial; null resets a field)",
    responses=responses(GuildConfigView),
)
def put_guild_config(guildId: str, body: Annotated[ConfigPatch, Body()]):
    return http.once(app, lambda: (config.update_guild(guildId, _patch(body)), 200))


@app.get(REWARDS, tags=["rewards"], summary="Role rewards, sorted by level", responses=responses(RewardsView))
def get_rewards(guildId: str):
    return http.ok(config.rewards(guildId))


@app.post(REWARDS, tags=["rewards"], summary="Add a role reward (one per level)", responses=responses(RewardAdded))
def add_reward(guildId: str, body: Annotated[AddRewardBody, Body()]):
    return http.once(app, lambda: (config.add_reward(guildId, body.level, body.roleId), 200))


@app.delete(
    REWARDS,
    tags=["rewards"],
    summary="Remove the role reward at a level",
    responses=responses(RewardRemoved),
)
def remove_reward(guildId: str, body: Annotated[RemoveRewardBody, Body()]):
    return http.once(app, lambda: (config.remove_reward(guildId, body.level), 200))


@app.get(
    MULTIPLIERS,
    tags=["multipliers"],
    summary="Server, role and user multipliers",
    responses=responses(MultipliersView),
)
def get_multipliers(guildId: str):
    return http.ok(config.multipliers(guildId))


@app.put(
    MULTIPLIERS,
    tags=["multipliers"],
    summary="Set or update multipliers (merged; null resets a field)",
    responses=responses(MultiplierMaps),
)
def put_multipliers(guildId: str, body: Annotated[PutMultipliersBody, Body()]):
    return http.once(
        app,
        lambda: (config.put_multipliers(guildId, body.server, body.role, body.user, resets=body.resets()), 200),
    )


@app.delete(
    MULTIPLIERS,
    tags=["multipliers"],
    summary="Remove specific multipliers",
    responses=responses(MultiplierMaps),
)
def delete_multipliers(guildId: str, body: Annotated[DeleteMultipliersBody, Body()]):
    return http.once(app, lambda: (config.delete_multipliers(guildId, body.server, body.role, body.user), 200))


@app.get(
    "/api/xp/guilds",
    tags=["guilds"],
    summary="Registered guilds (cursor pagination)",
    responses=responses(GuildsPage),
)
def list_guilds(
    limit: Annotated[http.QueryInt, Query(ge=1, le=100, description="Max guilds (default 50)")] = None,
    cursor: Annotated[str | None, Query(max_length=2048, description="nextCursor of the previous page")] = None,
):
    return http.ok(guilds.list_guilds(limit or 50, cursor))


@app.put(
    REGISTRY,
    tags=["guilds"],
    summary="Register a guild (idempotent): 201 when new, 200 when known",
    responses=responses(GuildRegistered, "Registered (201) or already known (200)", (200, 201)),
)
def register_guild(guildId: str, body: Annotated[RegisterGuildBody | None, Body()] = None):
    guild_id = http.guild_id_param(guildId)

    def register() -> tuple[dict[str, Any], int]:
        guild, created = guilds.register(guild_id, body.name if body else None)
        return {**guild, "created": created}, 201 if created else 200

    return http.once(app, register)  # a retry with the Idempotency-Key replays the first answer (its 201)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracing.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return http.resolve(app, event, context)


coldstart.done()  # the end of init
