"""Application command interactions: parse, check permissions, route to the XP services, answer.

The webhook calls `respond` after the signature check; deferred commands come back through `run` in the
worker, which edits the "thinking" answer. Every rule lives in the services (the same ones the HTTP API
uses), so `/rank` and `GET /api/xp/users/...` can never disagree.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from ..errors import ApiError, NotFound, Unavailable
from ..ids import snowflake_ms
from . import definitions, embeds, privacy, role_safety, shop_commands
from .model import (
    APPLICATION_COMMAND,
    CHANNEL_MESSAGE,
    DEFERRED_CHANNEL_MESSAGE,
    LEADERBOARD_PAGE_SIZE,
    Interaction,
    Refused,
)

if TYPE_CHECKING:
    from ..store.members import Profile

logger = Logger(child=True)
# A deferred command's work budget: the worker times out at 60 s (template.yaml) and must still edit the
# answer; a guild recalculation that does not fit is marked and finished by the scheduled job.
DEFERRED_BUDGET_SECONDS = 40.0


def _guild(i: Interaction) -> str:
    if not i.guild_id:
        raise Refused("This command only works in a server.")
    return str(i.guild_id)


def _require_manager(i: Interaction) -> None:
    if not i.permissions & (role_safety.MANAGE_GUILD | role_safety.ADMINISTRATOR):
        raise Refused("You need the **Manage Server** permission for this command.")


# The bot hands reward roles out with its own permissions: configuring them is role management.
_ROLE_REWARD_SETTINGS = {
    ("xp", "config", sub) for sub in ("reward-add", "reward-remove", "reward-mode", "remove-on-loss")
}


def _require_role_manager(i: Interaction) -> None:
    if not role_safety.can_configure_rewards(i.permissions):
        raise Refused("Role rewards need the **Manage Roles** permission: the bot hands these roles out for you.")


# ---------------------------------------------------------------- entry points


def respond(raw: dict[str, Any], *, base_url: str | None = None) -> dict[str, Any]:
    """The webhook's answer to a verified interaction (a PING is answered before this is imported).
    `base_url`: where this deployment answers (`xpshop.web.urls.base_url` of the request), for card links."""
    if raw.get("type") != APPLICATION_COMMAND:
        return {"type": CHANNEL_MESSAGE, "data": embeds.error("This kind of interaction is not supported.")}
    i = Interaction.parse(raw, base_url=base_url)
    if i.guild_id:
        _register_guild(i.guild_id)
    if _is_deferred(i):
        try:
            _check(i)  # permissions and context first: refuse at once rather than "thinking" then refusing
        except Refused as exc:
            return {"type": CHANNEL_MESSAGE, "data": embeds.error(str(exc))}
        except ApiError as exc:
            return {"type": CHANNEL_MESSAGE, "data": embeds.error(exc.message)}
        from .. import message_queue

        try:
            message_queue.defer_interaction(raw)
        except ApiError:
            logger.exception("could not defer an interaction", extra={"command": i.route})
            return {"type": CHANNEL_MESSAGE, "data": embeds.error("I'm busy right now; try again in a moment.")}
        answer: dict[str, Any] = {"type": DEFERRED_CHANNEL_MESSAGE, "data": {"flags": embeds.EPHEMERAL}}
    else:
        data, accepted = _run(i)
        answer = {"type": CHANNEL_MESSAGE, "data": data}
        if not accepted:  # refused (permissions, no server, bad input): no XP for it
            return answer
    _command_xp(i)
    return answer


def unexpected_failure() -> dict[str, Any]:
    return {"type": CHANNEL_MESSAGE, "data": embeds.error("Something went wrong on our side; please try again.")}


def run(i: Interaction) -> dict[str, Any]:
    """Run a command and return the message to show (errors become private messages, never exceptions)."""
    return _run(i)[0]


def _run(i: Interaction, *, raise_unavailable: bool = False) -> tuple[dict[str, Any], bool]:
    """The message to show, and whether the command was carried out (False: refused or failed).
    `raise_unavailable`: storage busy propagates (the worker retries it) instead of becoming a message."""
    handler = _HANDLERS.get(i.route) if i.kind == definitions.CHAT_INPUT else _CONTEXT.get((i.kind, i.name))
    if handler is None:
        logger.warning("unknown command", extra={"command": i.route, "kind": i.kind})
        return embeds.error("Unknown command: the bot's commands may need re-registering."), False
    try:
        _check(i)
        if _changes_state(i) and i.guild_id and not _first_delivery(i):
            return embeds.done("This command was already handled.", ephemeral=True), False
        return handler(i), True
    except Refused as exc:
        return embeds.error(str(exc)), False
    except ApiError as exc:
        if raise_unavailable and isinstance(exc, Unavailable):
            raise
        return embeds.error(exc.message), False


def finish_deferred(raw: dict[str, Any], rest: Any, *, last_attempt: bool = True) -> dict[str, Any]:
    """The worker's half of a deferred command: run it once and edit the "thinking" message with the result.

    The queue may deliver twice and the edit may fail after the command ran: the result is kept under the
    interaction id, so a redelivery only repeats the edit, never the command (a purchase is not made twice).
    A transient failure (storage busy, throttled, a lost connection) raises so the queue tries again, unless
    this is the `last_attempt`; any other failure, or a transient one on the last attempt, answers the member
    with a short error at once (kept like a result, so it is not run again): the "thinking" message never
    waits for a token that expires.
    """
    i = Interaction.parse(raw)
    try:
        payload = _deferred_outcome(i, last_attempt)
    except Exception:
        if not last_attempt:
            raise
        # Even the bookkeeping failed on the last delivery: the outcome is unknown, but the member is told.
        logger.exception("deferred command failed on its last delivery", extra={"command": i.route})
        payload = _STILL_RUNNING
    rest.edit_original_response(i.application_id, i.token, {k: v for k, v in payload.items() if k != "flags"})
    return payload


def _deferred_outcome(i: Interaction, last_attempt: bool) -> dict[str, Any]:
    import json

    from ..store import markers

    if not i.guild_id:
        return _run_deferred(i, last_attempt)
    kept = markers.get_once(i.guild_id, "deferred", i.id)
    if kept is None and markers.claim_once(i.guild_id, "deferred", i.id):
        try:
            payload = _run_deferred(i, last_attempt)
        except Exception:
            markers.release_once(i.guild_id, "deferred", i.id)  # transient: the next delivery runs it
            raise
        markers.keep_result(i.guild_id, "deferred", i.id, json.dumps(payload))
        return payload
    # ran before (a redelivery), or another delivery is running it right now
    kept = kept or markers.get_once(i.guild_id, "deferred", i.id)
    return json.loads(kept["payload"]) if kept and kept.get("payload") else _STILL_RUNNING


def _run_deferred(i: Interaction, last_attempt: bool) -> dict[str, Any]:
    """The command's message; raises only a transient failure that a later delivery may not meet."""
    from ..store.table import is_transient

    try:
        return _run(i, raise_unavailable=True)[0]
    except Exception as exc:
        transient = is_transient(exc)
        if transient and not last_attempt:
            logger.warning("deferred command failed; the queue retries it", extra={"command": i.route}, exc_info=True)
            raise
        logger.exception("deferred command failed", extra={"command": i.route, "transient": transient})
        return _FAILED


_FAILED = embeds.error(
    "Something went wrong on our side and this command was not carried out. Please try again in a moment."
)


# A delivery found the command started but without a result (a worker stopped mid-way): its outcome is
# unknown, so the member is pointed at what shows it rather than invited to run it (and pay) again.
_STILL_RUNNING = embeds.error(
    "This command may not have finished. Check /credits and /locker (or /rank) before running it again."
)


_READ_ONLY = {
    ("rank",),
    ("leaderboard",),
    ("shop",),
    ("locker",),
    ("credits",),
    ("xp", "config", "show"),
    ("privacy", "status"),
}


def _changes_state(i: Interaction) -> bool:
    """Commands that change something run once per interaction id: a signed request replayed within its
    5 minutes (or delivered twice) must not give XP twice. Deferred commands are guarded in the worker,
    Give XP once per message."""
    return i.kind == definitions.CHAT_INPUT and i.route not in _READ_ONLY and not _is_deferred(i)


def _first_delivery(i: Interaction) -> bool:
    from ..store import markers

    return markers.claim_once(str(i.guild_id), "interaction", i.id, ttl_seconds=3600)


def _is_deferred(i: Interaction) -> bool:
    return i.kind == definitions.CHAT_INPUT and (i.route in definitions.DEFERRED or i.route[:2] in definitions.DEFERRED)


def _check(i: Interaction) -> None:
    if i.route[0] in _MANAGER_COMMANDS or (i.kind, i.name) in _MANAGER_CONTEXT:
        _require_manager(i)
    if i.kind == definitions.CHAT_INPUT and i.route in _ROLE_REWARD_SETTINGS:
        _require_role_manager(i)
    if i.route[0] in _GUILD_COMMANDS or i.kind != definitions.CHAT_INPUT:
        _guild(i)


def _register_guild(guild_id: str) -> None:
    """Any interaction from a guild registers it (the XP API answers GUILD_NOT_FOUND for unknown guilds)."""
    from ..store import guilds

    try:
        if not guilds.exists(guild_id):
            guilds.register(guild_id, None, "discord")
    except Exception:  # never fail a command over the registry; the next interaction tries again
        logger.exception("guild registration failed", extra={"guildId": guild_id})


# /privacy records nothing but the choice itself: asking what is kept must not create a record or store names.
_NO_COMMAND_XP = {"privacy"}


def _command_xp(i: Interaction) -> None:
    """A command used in a guild earns XP like a message (same cooldown and no-XP rules), once per
    interaction id, unless the guild switched it off. The invoker's display data (the interaction's
    `member`) is written by that same write. It never fails the command."""
    if not i.guild_id or i.user.get("bot") or i.route[0] in _NO_COMMAND_XP:
        return
    from .. import display
    from ..service import messages

    try:
        messages.count_command(
            i.guild_id,
            i.user_id,
            i.id,
            channel_id=i.channel_id or "0",
            role_ids=i.roles,
            at_ms=snowflake_ms(i.id),
            display=display.from_interaction(i.raw.get("member") or {}),
        )
    except Exception:
        logger.exception("command XP failed", extra={"guildId": i.guild_id, "userId": i.user_id})


# ---------------------------------------------------------------- XP commands


def _config(guild_id: str) -> dict[str, Any]:
    """The guild's config for display (colour, XP label): the cached copy the awards use (<= 30 s old)."""
    from ..service import curves

    return curves.config_for(guild_id)


def _rank_of(i: Interaction, user_id: str) -> dict[str, Any]:
    from ..service import members

    guild_id = _guild(i)
    user = i.resolved_user(user_id) if user_id != i.user_id else i.user
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

    guild_id = _guild(i)
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

    guild_id, target, action = _guild(i), str(i.options["user"]), i.path[0]
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
    guild_id = _guild(i)
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

    cfg = config.edit_guild(_guild(i), change)
    return embeds.done(f"✅ {summary}", cfg, ephemeral=True)


def _toggle_id(key: str, action: str, value: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def change(cfg: dict[str, Any]) -> dict[str, Any]:
        current = list(cfg[key])
        if action == "add":
            return {key: [*current, value] if value not in current else current}
        return {key: [x for x in current if x != value]}

    return change


def _config_show(i: Interaction) -> dict[str, Any]:
    from ..service import config

    cfg = config.merged_guild(_guild(i))  # fresh: an admin checks what they just changed
    rewards = ", ".join(f"L{r['level']} {embeds.mention_role(r['roleId'])}" for r in cfg["roleRewards"]) or "none"
    announce = cfg["levelUpAnnouncement"]
    m = cfg["multipliers"]
    lines = [
        f"**Cooldown** {cfg['cooldownSeconds']} s · **rate** ×{cfg['xpRate']}",
        f"**No-XP channels** {', '.join(f'<#{c}>' for c in cfg['noXpChannelIds']) or 'none'}",
        f"**No-XP roles** {', '.join(embeds.mention_role(r) for r in cfg['noXpRoleIds']) or 'none'}",
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


def _config_set(i: Interaction) -> dict[str, Any]:
    edit, summary = _CONFIG_EDITS[i.path[-1]](i.options)
    change = edit if callable(edit) else (lambda _cfg: edit)
    return _edit(i, change, summary)


def _config_reward(i: Interaction) -> dict[str, Any]:
    from ..service import config

    guild_id, level = _guild(i), int(i.options["level"])
    if i.path[-1] == "reward-add":
        role = str(i.options["role"])
        refusal = _reward_role_refusal(i, guild_id, role)
        if refusal:
            raise Refused(refusal)
        config.add_reward(guild_id, level, role)
        return embeds.done(f"✅ Members reaching level {level} get {embeds.mention_role(role)}.", ephemeral=True)
    removed = config.remove_reward(guild_id, level)["removed"]
    return embeds.done(
        f"✅ Removed the level {level} reward ({embeds.mention_role(removed['roleId'])}).", ephemeral=True
    )


def _reward_role_refusal(i: Interaction, guild_id: str, role_id: str) -> str | None:
    """Why the invoker may not make this role a reward (role_safety), from what Discord resolved in the
    interaction and, fresher and complete, the guild's roles and owner from Discord's REST API."""
    roles: dict[str, dict[str, Any]] = {
        str(rid): r for rid, r in (i.resolved.get("roles") or {}).items() if isinstance(r, dict)
    }
    owner_id: str | None = None
    fresh = _guild_snapshot(guild_id)
    if fresh is not None:
        owner_id, listed = fresh
        roles.update(listed)
        if role_id not in listed:  # deleted since the command was typed
            roles.pop(role_id, None)
    positions = {rid: pos for rid, r in roles.items() if (pos := _position(r)) is not None}
    positions[guild_id] = 0  # @everyone, which every member holds
    return role_safety.reward_refusal(
        guild_id=guild_id,
        role=roles.get(role_id),
        invoker_id=i.user_id,
        invoker_roles=i.roles,
        positions=positions,
        owner_id=owner_id,
    )


def _position(role: dict[str, Any]) -> int | None:
    position = role.get("position")
    return position if isinstance(position, int) and not isinstance(position, bool) else None


def _guild_snapshot(guild_id: str) -> tuple[str | None, dict[str, dict[str, Any]]] | None:
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

    guild_id, value = _guild(i), float(i.options["value"])
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
    from ..service import members
    from ..store import markers

    guild_id = _guild(i)
    message_id = str(i.target_id)
    message = ((i.resolved.get("messages") or {}).get(message_id)) or {}
    author = message.get("author") or {}
    if not author.get("id"):
        raise Refused("I can't see that message's author.")
    if author.get("bot"):
        raise Refused("Bots don't earn XP.")
    if author["id"] == i.user_id:
        raise Refused("You can't reward your own message.")
    amount = int(_config(guild_id)["giveXpAmount"])
    if not markers.claim_once(guild_id, "givexp", message_id, by=i.user_id, userId=author["id"]):
        return embeds.done("That message has already been rewarded.", ephemeral=True)
    try:
        reason = f"helpful message {message_id} (by {i.user_id})"
        members.add_xp(guild_id, str(author["id"]), amount, reason, "discord", earned=True)  # earned: pays credits
    except Exception:
        markers.release_once(guild_id, "givexp", message_id)  # nothing half-done: the next click may try again
        raise
    return embeds.done(f"🎁 {embeds.mention(author['id'])} earned **{amount:,}** XP for a helpful message.")


_HANDLERS: dict[tuple[str, ...], Callable[[Interaction], dict[str, Any]]] = {
    ("rank",): _rank,
    ("leaderboard",): _leaderboard,
    ("xp", "give"): _xp_change,
    ("xp", "remove"): _xp_change,
    ("xp", "set"): _xp_change,
    ("xp", "recalc"): _xp_recalc,
    ("xp", "config", "show"): _config_show,
    ("xp", "config", "reward-add"): _config_reward,
    ("xp", "config", "reward-remove"): _config_reward,
    **{("xp", "config", sub): _config_set for sub in _CONFIG_EDITS},
    ("xp", "config", "multiplier"): _config_multiplier,
    ("xp", "config", "credits-per-level"): _credits_per_level_retired,
}
_CONTEXT: dict[tuple[int, str], Callable[[Interaction], dict[str, Any]]] = {
    (definitions.USER, definitions.VIEW_RANK): _view_rank,
    (definitions.MESSAGE, definitions.GIVE_XP): _give_xp,
}
_HANDLERS.update(shop_commands.HANDLERS)
_HANDLERS.update(privacy.HANDLERS)
_MANAGER_COMMANDS = {"xp"}
_MANAGER_CONTEXT = {(definitions.MESSAGE, definitions.GIVE_XP)}
_GUILD_COMMANDS = {"rank", "leaderboard", "xp", "privacy", *(route[0] for route in shop_commands.HANDLERS)}
