"""/api/xp/users: list members, read one, add / set / remove XP, recalculate a level, privacy, forget."""

from __future__ import annotations

from xpshop import coldstart  # pauses the garbage collector until `coldstart.done()` below

# isort: split

from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from xpshop import http, tracing
from xpshop.api.envelope import responses
from xpshop.api.xp.requests.members import AddXpBody, PrivacyBody, RemoveXpBody, SetXpBody
from xpshop.api.xp.responses.members import (
    Forgotten,
    MemberDetail,
    MembersPage,
    Privacy,
    Recalculated,
    XpAdded,
    XpRemoved,
    XpSet,
)

# The routes' services, with the stores behind them: imported by the first request that uses them.
members = coldstart.later("xpshop.service.members")

logger = Logger()
app = http.make_resolver(http.XP_API, missing_guild=["/api/xp/users"])

MEMBER = "/api/xp/users/<guildId>/<userId>"


@app.get(
    "/api/xp/users/<guildId>",
    tags=["users"],
    summary="List tracked members, XP descending",
    responses=responses(MembersPage),
)
def list_users(
    guildId: str,
    offset: http.Offset = None,
    limit: http.Limit = None,
    page: http.Page = None,
):
    start, size = http.page_window(offset, limit, page)
    return http.ok(members.list_members(guildId, start, size))


@app.get(MEMBER, tags=["users"], summary="A member's XP, level and progress", responses=responses(MemberDetail))
def get_user(guildId: str, userId: str):
    return http.ok(members.get_member(guildId, userId))


@app.post(MEMBER, tags=["users"], summary="Add XP (creates the member when absent)", responses=responses(XpAdded))
def add_xp(guildId: str, userId: str, body: Annotated[AddXpBody, Body()]):
    return http.once(app, lambda: (members.add_xp(guildId, userId, body.amount, body.reason), 200))


@app.put(MEMBER, tags=["users"], summary="Set a member's XP", responses=responses(XpSet))
def set_xp(guildId: str, userId: str, body: Annotated[SetXpBody, Body()]):
    return http.once(app, lambda: (members.set_xp(guildId, userId, body.xp, body.reason), 200))


@app.delete(MEMBER, tags=["users"], summary="Remove XP (never below 0)", responses=responses(XpRemoved))
def remove_xp(guildId: str, userId: str, body: Annotated[RemoveXpBody, Body()]):
    return http.once(app, lambda: (members.remove_xp(guildId, userId, body.amount, body.reason), 200))


@app.post(
    f"{MEMBER}/recalc",
    tags=["users"],
    summary="Recompute a member's level from total XP",
    responses=responses(Recalculated),
)
def recalc_user(guildId: str, userId: str):
    return http.once(app, lambda: (members.recalc_member(guildId, userId), 200))


@app.put(
    f"{MEMBER}/privacy",
    tags=["users"],
    summary="Hide a member from public views, or show them again",
    description='A hidden member appears on public leaderboards as "Hidden member" (no id, name or avatar); '
    "their rank still counts. Hiding a member without a record creates it at 0 XP; showing one does not.",
    responses=responses(Privacy),
)
def set_privacy(guildId: str, userId: str, body: Annotated[PrivacyBody, Body()]):
    return http.once(app, lambda: (members.set_privacy(guildId, userId, body.hidden), 200))


@app.post(
    f"{MEMBER}/forget",
    tags=["users"],
    summary="Forget a member: remove their XP data in this guild",
    description="Removes the member's record (XP, level, message counts, display names and avatar, privacy "
    "choice), their XP audit records, their rank index entry and their level-up announcement marks, and takes "
    "them out of the guild's counters; answers what was removed. A second call answers zeros. Shop data "
    "(/api/v1 profile, credits, cosmetics, the level-credits mark) is not XP data and is kept.",
    responses=responses(Forgotten),
)
def forget_user(guildId: str, userId: str):
    return http.once(app, lambda: (members.forget(guildId, userId), 200))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracing.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return http.resolve(app, event, context)


coldstart.done()  # the end of init
