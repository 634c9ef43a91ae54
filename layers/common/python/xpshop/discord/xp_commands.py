"""The XP commands: /rank, /leaderboard, /xp give|remove|set|recalc|api-key, /xp config ..., and the View rank and
Give XP context commands. The dispatcher (dispatch.py) has checked permissions and the server before a
handler runs; every rule lives in the services (the same ones the HTTP API uses), so `/rank` and
`GET /api/xp/users/...` can never disagree.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from ..errors import NotFound
from ..ids import is_snowflake, snowflake_ms
from . import embeds, role_safety
from .definitions import GIVE_XP, MESSAGE, USER, VIEW_RANK
from .model import LEADERBOARD_PAGE_SIZE, Interaction, Refused, guild_of

if TYPE_CHECKING:
    from ..store.members import Profile

logger = Logger(child=True)
# A deferred command's work budget: the worker times out at 60 s (template.yaml) and must still edit the
# answer; a guild recalculation that does not fit is marked and finished by the scheduled job.
DEFERRED_BUDGET_SECONDS = 40.0


# ---------------------------------------------------------------- XP commands


def _config(guild_id: str) -> dict[str, Any]:
    """The guild's config for display (colour, XP label): the cached copy the awards use (<= 30 s old)."""
    from ..service import curves

    return curves.config_for(guild_id)


def _rank_of(i: Interaction, user_id: str) -> dict[str, Any]:
    from ..service import members

    guild_id = guild_of(i)
    user = i.shown_user(user_id)
    try:
        detail, position, profile = members.rank_card_with_profile(guild_id, user_id)
    except NotFound:
        who = "You have" if user_id == i.user_id else f"{embeds.mention(user_id)} has"
        return embeds.done(f"{who} no XP yet: chat a little and check again!", ephemeral=True)
    cfg = _config(guild_id)
    image = _card_url(i, guild_id, user_id, detail=detail, position=position, profile=profile, cfg=cfg)
    return embeds.rank_card(user, detail, position, cfg, image_url=image)


def _card_url(
    i: Interaction,
    guild_id: str,
    user_id: str,
    *,
    detail: dict[str, Any],
    position: dict[str, Any],
    profile: Profile,
    cfg: dict[str, Any],
) -> str | None:
    """The rank card image for the embed: a plain URL when the card is public, else a signed one (the people
    in the channel see it; nobody can list cards). None when this deployment's address is unknown."""
    if not i.base_url:
        return None
    from ..service import cards
    from ..web import card_urls

    card = cards.card_from(detail, position, profile, cfg)
    try:
        return card_urls.card_url(
            i.base_url, guild_id, user_id, public=cards.is_public(cfg, profile), version=cards.version(card, profile)
        )
    except Exception:  # the signing key unreadable (SSM): the embed without its image still answers
        logger.exception("could not sign a rank card URL", extra={"guildId": guild_id})
        return None


def _rank(i: Interaction) -> dict[str, Any]:
    return _rank_of(i, str(i.options.get("user") or i.user_id))


def _view_rank(i: Interaction) -> dict[str, Any]:
    return _rank_of(i, str(i.target_id))


def _leaderboard(i: Interaction) -> dict[str, Any]:
    from ..service import members

    guild_id = guild_of(i)
    page = int(i.options.get("page") or 1)
    board = members.leaderboard(guild_id, (page - 1) * LEADERBOARD_PAGE_SIZE, LEADERBOARD_PAGE_SIZE)
    return embeds.leaderboard_page(
        board["entries"], page=page, total=board["total"], per_page=LEADERBOARD_PAGE_SIZE, cfg=_config(guild_id)
    )


def _reason(i: Interaction) -> str:
    given = i.options.get("reason")
    return f"{given} (by {i.user_id} via /xp)" if given else f"by {i.user_id} via /xp"


def _xp_change(i: Interaction) -> dict[str, Any]:
    from ..service import members

    guild_id, target, action = guild_of(i), str(i.options["user"]), i.path[0]
    # Bots earn no XP (the relay skips them, Give XP refuses their messages); clearing a bot's XP is allowed.
    adds = action == "give" or (action == "set" and int(i.options["xp"]) > 0)
    if adds and i.resolved_user(target).get("bot"):
        raise Refused("Bots don't earn XP.")
    if action == "give":
        r = members.add_xp(guild_id, target, int(i.options["amount"]), _reason(i), source="discord")
        verb = f"Gave **{int(i.options['amount']):,}** XP to"
    elif action == "remove":
        r = members.remove_xp(guild_id, target, int(i.options["amount"]), _reason(i), source="discord")
        verb = f"Removed **{int(i.options['amount']):,}** XP from"
    else:
        r = members.set_xp(guild_id, target, int(i.options["xp"]), _reason(i), source="discord")
        verb = "Set the XP of"
    levels = (
        f"level {r['oldLevel']} → **{r['newLevel']}**" if r["oldLevel"] != r["newLevel"] else f"level {r['newLevel']}"
    )
    return embeds.done(
        f"{verb} {embeds.mention(target)}: {r['oldXp']:,} → **{r['newXp']:,}** XP ({levels}).", _config(guild_id)
    )


def _xp_recalc(i: Interaction) -> dict[str, Any]:
    guild_id = guild_of(i)
    if i.options.get("user"):
        from ..service import members

        target = str(i.options["user"])
        r = members.recalc_member(guild_id, target)
        return embeds.done(
            f"Recalculated {embeds.mention(target)}: level {r['oldLevel']} → **{r['newLevel']}** "
            f"({r['totalXp']:,} XP).",
            ephemeral=True,
        )
    from ..service import recalc

    deadline = time.monotonic() + DEFERRED_BUDGET_SECONDS
    recalc.request(guild_id)
    report = recalc.recalc_guild(guild_id, lambda: deadline - time.monotonic())
    status = "done" if report["done"] else "paused (the scheduled job continues it)"
    return embeds.done(
        f"Recalculation {status}: {report['members']:,} members checked, {report['releveled']:,} re-leveled.",
        ephemeral=True,
    )


# ---------------------------------------------------------------- /xp config


def _edit(i: Interaction, change: Callable[[dict[str, Any]], dict[str, Any]], summary: str) -> dict[str, Any]:
    from ..service import config

    cfg = config.edit_guild(guild_of(i), change)
    return embeds.done(f"✅ {summary}", cfg, ephemeral=True)


def _toggle_id(key: str, action: str, value: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def change(cfg: dict[str, Any]) -> dict[str, Any]:
        current = list(cfg[key])
        if action == "add":
            return {key: [*current, value] if value not in current else current}
        return {key: [x for x in current if x != value]}

    return change


# Lists shown by /xp config show: the config allows 500 channels, 250 roles and 250 rewards, far past an
# embed description's 4,096 characters (Discord refuses the whole answer then); the rest is counted.
SHOWN_PER_LIST = 20


def _some(items: list[str]) -> str:
    """The first SHOWN_PER_LIST items, comma-separated, and how many more; "none" for an empty list."""
    shown = ", ".join(items[:SHOWN_PER_LIST]) or "none"
    return f"{shown} and {len(items) - SHOWN_PER_LIST:,} more" if len(items) > SHOWN_PER_LIST else shown


def _config_show(i: Interaction) -> dict[str, Any]:
    from ..service import config

    cfg = config.merged_guild(guild_of(i))  # fresh: an admin checks what they just changed
    rewards = _some([f"L{r['level']} {embeds.mention_role(r['roleId'])}" for r in cfg["roleRewards"]])
    announce = cfg["levelUpAnnouncement"]
    m = cfg["multipliers"]
    lines = [
        f"**Cooldown** {cfg['cooldownSeconds']} s · **rate** ×{cfg['xpRate']}",
        f"**No-XP channels** {_some([f'<#{c}>' for c in cfg['noXpChannelIds']])}",
        f"**No-XP roles** {_some([embeds.mention_role(r) for r in cfg['noXpRoleIds']])}",
        f"**Rewards** ({cfg['rewardsMode']}, remove on loss: {'yes' if cfg['removeRewardOnXpLoss'] else 'no'}) "
        f"{rewards}",
        f"**Multipliers** server ×{m.get('server') or 1.0}, {len(m.get('role') or {})} role, "
        f"{len(m.get('user') or {})} user",
        f"**Command XP** {'on' if cfg['commandXp'] else 'off'} · **Give XP** {cfg['giveXpAmount']} XP",
        "**Announcements** " + (f"<#{announce['channelId']}>" if announce.get("channelId") else "off"),
        f"**Credits per level** {cfg['creditsPerLevel']}",
    ]
    return embeds.message(
        embeds=[{"title": "Leveling configuration", "description": "\n".join(lines), "color": embeds.color_of(cfg)}],
        ephemeral=True,
    )


def _announce(o: dict[str, Any]) -> tuple[dict[str, Any], str]:
    channel = o.get("channel")
    patch: dict[str, Any] = {"channelId": str(channel) if channel else None}
    if o.get("message"):
        patch["message"] = o["message"]
    summary = f"Level-ups are announced in <#{channel}>." if channel else "Level-up announcements are off."
    return {"levelUpAnnouncement": patch}, summary


def _listed(key: str, option: str, o: dict[str, Any], what: str) -> tuple[Callable[..., dict[str, Any]], str]:
    action, value = o["action"], str(o[option])
    return _toggle_id(key, action, value), f"{what} {'now earn no XP' if action == 'add' else 'earn XP again'}."


# /xp config <sub>: options -> (a patch, or a function of the merged config returning one; the summary)
_CONFIG_EDITS: dict[str, Callable[[dict[str, Any]], tuple[Any, str]]] = {
    "cooldown": lambda o: ({"cooldownSeconds": int(o["seconds"])}, f"Cooldown set to {o['seconds']} s."),
    "rate": lambda o: ({"xpRate": float(o["rate"])}, f"XP rate set to ×{o['rate']}."),
    "no-xp-channel": lambda o: _listed("noXpChannelIds", "channel", o, f"Messages in <#{o['channel']}>"),
    "no-xp-role": lambda o: _listed("noXpRoleIds", "role", o, f"Members with {embeds.mention_role(str(o['role']))}"),
    "reward-mode": lambda o: ({"rewardsMode": o["mode"]}, f"Reward mode set to **{o['mode']}**."),
    "remove-on-loss": lambda o: (
        {"removeRewardOnXpLoss": bool(o["enabled"])},
        f"Reward roles are {'removed' if o['enabled'] else 'kept'} when members lose levels.",
    ),
    "command-xp": lambda o: (
        {"commandXp": bool(o["enabled"])},
        f"Commands {'earn' if o['enabled'] else 'no longer earn'} XP.",
    ),
    "announce": _announce,
}


def _credits_per_level_retired(i: Interaction) -> dict[str, Any]:
    """Credits are one balance across servers and buy cosmetics: their rate is the shop operator's (admin key,
    PUT /api/xp/config/{guildId}), not a server manager's. An old registration may still send this."""
    raise Refused(
        "Credits per level are set by the shop's admin through the admin API, not from Discord. "
        "(This sub-command was removed; re-register the commands to hide it.)"
    )


def _check_announce_channel(i: Interaction, channel_id: str) -> None:
    """The bot posts the announcement template there with its own permissions: only someone who may post in
    the channel themselves may point it there (else a moderator could have the bot write in a read-only or
    staff channel). Discord resolves the channel option with the invoker's permissions in it."""
    channel = (i.resolved.get("channels") or {}).get(channel_id)
    if not isinstance(channel, dict) or not role_safety.can_post_in(channel.get("permissions")):
        raise Refused(
            f"You can't send messages in <#{channel_id}> yourself, so the bot won't post announcements there for you."
        )


def _config_set(i: Interaction) -> dict[str, Any]:
    if i.path[-1] in ("reward-mode", "remove-on-loss"):
        _check_reward_setting(i)
    if i.path[-1] == "announce" and i.options.get("channel"):
        _check_announce_channel(i, str(i.options["channel"]))
    edit, summary = _CONFIG_EDITS[i.path[-1]](i.options)
    change = edit if callable(edit) else (lambda _cfg: edit)
    return _edit(i, change, summary)


def _config_reward(i: Interaction) -> dict[str, Any]:
    from ..service import config

    guild_id, level = guild_of(i), int(i.options["level"])
    if i.path[-1] == "reward-add":
        role = str(i.options["role"])
        refusal = _reward_role_refusal(i, guild_id, role)
        if refusal:
            raise Refused(refusal)
        _check_reward_setting(i)
        config.add_reward(guild_id, level, role)
        return embeds.done(f"✅ Members reaching level {level} get {embeds.mention_role(role)}.", ephemeral=True)
    _check_reward_setting(i)
    removed = config.remove_reward(guild_id, level)["removed"]
    return embeds.done(
        f"✅ Removed the level {level} reward ({embeds.mention_role(removed['roleId'])}).", ephemeral=True
    )


def _reward_role_refusal(i: Interaction, guild_id: str, role_id: str) -> str | None:
    """Why the invoker may not make this role a reward (role_safety), from what Discord resolved in the
    interaction and, fresher and complete, the guild's roles and owner from Discord's REST API."""
    return reward_roles_refusal(i, guild_id, [role_id])


def reward_roles_refusal(i: Interaction, guild_id: str, role_ids: list[str]) -> str | None:
    """Why the invoker may not make these roles rewards, or None: Manage Roles (or Administrator), then each
    role against role_safety (one read of the guild's roles from Discord for all of them). `/xp import` asks
    this for the roles a file's role rewards would add: a file must not reach what reward-add refuses."""
    if not role_safety.can_configure_rewards(i.permissions):
        return "Role rewards need the **Manage Roles** permission: the bot hands these roles out for you."
    roles: dict[str, dict[str, Any]] = {
        str(rid): r for rid, r in (i.resolved.get("roles") or {}).items() if isinstance(r, dict)
    }
    owner_id: str | None = None
    fresh = _guild_snapshot_for(i, guild_id)
    if fresh is not None:
        owner_id, listed = fresh
        roles.update(listed)
        for role_id in role_ids:
            if role_id not in listed:  # deleted since the command was typed
                roles.pop(role_id, None)
    positions = {rid: pos for rid, r in roles.items() if (pos := _position(r)) is not None}
    positions[guild_id] = 0  # @everyone, which every member holds
    for role_id in role_ids:
        refusal = role_safety.reward_refusal(
            guild_id=guild_id,
            role=roles.get(role_id),
            invoker_id=i.user_id,
            invoker_roles=i.roles,
            positions=positions,
            owner_id=owner_id,
        )
        if refusal:
            return refusal if len(role_ids) == 1 else f"{embeds.mention_role(role_id)}: {refusal}"
    return None


def _check_reward_setting(i: Interaction) -> None:
    """Refuse a reward change that would have the bot add or take away, on members' levels, a configured reward
    role at or above the invoker's highest role: Discord would not let them manage that role themselves, and the
    bot acts with its own permissions (a confused deputy). Which configured roles a change reaches
    (`_touched_rewards`); roles Discord no longer lists are left out (the bot can't move them anyway)."""
    from ..service import config

    guild_id = guild_of(i)
    touched = _touched_rewards(i, config.merged_guild(guild_id))
    if not touched:
        return
    snapshot = _guild_snapshot_for(i, guild_id)
    if snapshot is None:
        raise Refused("I couldn't check the role hierarchy right now; try again in a moment.")
    owner_id, listed = snapshot
    if owner_id is not None and owner_id == i.user_id:
        return  # the owner is above every role
    positions = {rid: pos for rid, r in listed.items() if (pos := _position(r)) is not None}
    positions[guild_id] = 0
    mine = role_safety.highest_position(i.roles, positions)
    if mine is None:
        raise Refused("I couldn't check the role hierarchy right now; try again in a moment.")
    for role_id in sorted(touched, key=lambda r: -positions.get(r, -1)):
        if role_id in positions and positions[role_id] >= mine:
            raise Refused(
                f"This would let the bot give or take {embeds.mention_role(role_id)}, a reward role at or above "
                "your highest role: only someone above it can change that."
            )


def _touched_rewards(i: Interaction, cfg: dict[str, Any]) -> set[str]:
    """The configured reward roles whose holders a reward change may alter (beyond the role a reward-add adds,
    which is checked on its own): every reward for a mode change or for turning remove-on-loss on (each may then
    be taken away), the reward removed and, in replace mode, the lower ones it lets come back; in replace mode
    the lower rewards a reward-add would take away from members reaching its level."""
    rewards = [(int(r["level"]), str(r["roleId"])) for r in cfg["roleRewards"]]
    sub, replace = i.path[-1], cfg["rewardsMode"] == "replace"
    if sub == "reward-mode":
        return {role for _, role in rewards} if i.options.get("mode") != cfg["rewardsMode"] else set()
    if sub == "remove-on-loss":
        return {role for _, role in rewards} if i.options.get("enabled") and not cfg["removeRewardOnXpLoss"] else set()
    level = int(i.options["level"])
    if sub == "reward-remove":
        return {role for lv, role in rewards if lv == level or (replace and lv < level)}
    return {role for lv, role in rewards if replace and lv < level}  # reward-add


def _position(role: dict[str, Any]) -> int | None:
    position = role.get("position")
    return position if isinstance(position, int) and not isinstance(position, bool) else None


Snapshot = tuple[str | None, dict[str, dict[str, Any]]]
# The last interaction's snapshot: a reward-add checks its role and the rewards it reaches with one read of
# Discord, inside the 3-second window.
_last_snapshot: dict[tuple[str, str], Snapshot | None] = {}


def _guild_snapshot_for(i: Interaction, guild_id: str) -> Snapshot | None:
    key = (i.id, guild_id)
    try:
        return _last_snapshot[key]  # None too: Discord couldn't be asked a moment ago
    except KeyError:
        pass
    snapshot = _guild_snapshot(guild_id)
    _last_snapshot.clear()
    _last_snapshot[key] = snapshot
    return snapshot


def _guild_snapshot(guild_id: str) -> Snapshot | None:
    """(owner id, roles by id) from Discord, or None when it can't be asked now (no bot token, an error):
    the caller then decides from the interaction alone and refuses what it cannot verify."""
    from .rest import bot_client

    try:
        rest = bot_client(interactive=True)
        guild = rest.get_guild(guild_id) if rest is not None else None
    except Exception:  # Discord or the token's parameter store: refuse what can't be checked, never fail
        logger.warning("could not read the guild's roles", extra={"guildId": guild_id}, exc_info=True)
        return None
    if not isinstance(guild, dict):
        return None
    listed = {str(r["id"]): r for r in guild.get("roles") or [] if isinstance(r, dict) and r.get("id")}
    return (str(guild["owner_id"]) if guild.get("owner_id") else None), listed


def _config_multiplier(i: Interaction) -> dict[str, Any]:
    from ..service import config

    guild_id, value = guild_of(i), float(i.options["value"])
    role, user = i.options.get("role"), i.options.get("user")
    if role and user:
        raise Refused("Give a role or a user, not both.")
    scope, target = ("role", str(role)) if role else ("user", str(user)) if user else ("server", None)
    label = (
        embeds.mention_role(target) if scope == "role" and target else embeds.mention(target) if target else "server"
    )
    roles, users = ([target] if scope == "role" and target else []), ([target] if scope == "user" and target else [])
    if value == 0:
        config.delete_multipliers(guild_id, scope == "server", roles, users)
        return embeds.done(f"✅ Removed the {label} multiplier.", ephemeral=True)
    config.put_multipliers(
        guild_id, value if scope == "server" else None, dict.fromkeys(roles, value), dict.fromkeys(users, value)
    )
    return embeds.done(f"✅ {label} multiplier set to ×{value}.", ephemeral=True)


# ---------------------------------------------------------------- context commands


def _give_xp(i: Interaction) -> dict[str, Any]:
    """Reward the author of a helpful message, once per message whoever clicks."""
    from .. import metrics
    from ..clock import now_ms
    from ..service import members
    from ..store import markers

    guild_id = guild_of(i)
    message_id = str(i.target_id)
    message = ((i.resolved.get("messages") or {}).get(message_id)) or {}
    author = message.get("author") or {}
    if not is_snowflake(author.get("id")):
        raise Refused("I can't see that message's author.")
    if author.get("bot"):
        raise Refused("Bots don't earn XP.")
    if message.get("webhook_id"):  # its author is the webhook (an id and a name), not a member
        raise Refused("Messages sent by webhooks don't earn XP.")
    if author["id"] == i.user_id:
        raise Refused("You can't reward your own message.")
    if not is_snowflake(message_id):
        raise Refused("I can't see what this command was used on.")
    if now_ms() - snowflake_ms(message_id) >= markers.ONCE_TTL_SECONDS * 1000:
        # the once-per-message mark lasts that long: an older message could be rewarded again once it expired
        raise Refused(f"That message is too old to reward (over {markers.ONCE_TTL_SECONDS // 86_400} days).")
    amount = int(_config(guild_id)["giveXpAmount"])
    if not markers.claim_once(guild_id, "givexp", message_id, by=i.user_id, userId=author["id"]):
        return embeds.done("That message has already been rewarded.", ephemeral=True)
    try:
        reason = f"helpful message {message_id} (by {i.user_id})"
        members.add_xp(guild_id, str(author["id"]), amount, reason, "discord", earned=True)  # earned: pays credits
    except Exception:
        markers.release_once(guild_id, "givexp", message_id)  # nothing half-done: the next click may try again
        raise
    metrics.count(metrics.XP_AWARDS)
    return embeds.done(f"🎁 {embeds.mention(author['id'])} earned **{amount:,}** XP for a helpful message.")


def _xp_api_key(i: Interaction) -> dict[str, Any]:
    """A key for this server's dashboards: read scopes (xpshop.scopes.DASHBOARD_SCOPES) on this guild only,
    named after who made it. The secret is shown once, privately; the admin lists and revokes keys."""
    from ..scopes import DASHBOARD_SCOPES
    from ..service import access_keys

    guild_id = str(i.guild_id)
    username = "".join(ch for ch in str(i.user.get("username") or "") if ch.isprintable())[:32] or "a manager"
    issued = access_keys.issue(
        f"/xp api-key by {username} ({i.user_id})",
        [s.value for s in DASHBOARD_SCOPES],
        [guild_id],
        created_by=f"discord:{i.user_id}",
        quota=access_keys.manager_quota(guild_id, str(i.user_id)),
    )
    return embeds.done(
        f"🔑 A read-only API key for this server (`{'`, `'.join(issued['scopes'])}`, "
        f"{issued['rateLimitPerMinute']:,} requests a minute). It is shown only now, so keep it somewhere safe; "
        f"send it as `Authorization: Bearer <key>`. Key id `{issued['id']}` (the admin can revoke it).\n"
        f"`{issued['key']}`",
        ephemeral=True,
    )


HANDLERS: dict[tuple[str, ...], Callable[[Interaction], dict[str, Any]]] = {
    ("rank",): _rank,
    ("leaderboard",): _leaderboard,
    ("xp", "give"): _xp_change,
    ("xp", "remove"): _xp_change,
    ("xp", "set"): _xp_change,
    ("xp", "recalc"): _xp_recalc,
    ("xp", "api-key"): _xp_api_key,
    ("xp", "config", "show"): _config_show,
    ("xp", "config", "reward-add"): _config_reward,
    ("xp", "config", "reward-remove"): _config_reward,
    **{("xp", "config", sub): _config_set for sub in _CONFIG_EDITS},
    ("xp", "config", "multiplier"): _config_multiplier,
    ("xp", "config", "credits-per-level"): _credits_per_level_retired,
}
CONTEXT: dict[tuple[int, str], Callable[[Interaction], dict[str, Any]]] = {
    (USER, VIEW_RANK): _view_rank,
    (MESSAGE, GIVE_XP): _give_xp,
}
