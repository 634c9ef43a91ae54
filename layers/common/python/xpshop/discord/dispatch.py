"""The interaction dispatcher: parse, check permissions and the server, run state-changing commands once
per interaction, defer slow ones, give command XP, and route to the handlers (xp_commands, shop_commands,
privacy_commands). The command definitions it routes by are in definitions.py.

The webhook calls `respond` after the signature check; deferred commands come back through
`finish_deferred` in the worker, which edits the "thinking" answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger

from ..errors import ApiError, Unavailable
from ..ids import is_snowflake, snowflake_ms
from . import (
    definitions,
    embeds,
    file_commands,
    options,
    privacy_commands,
    role_safety,
    shop_commands,
    xp_commands,
)
from .model import (
    APPLICATION_COMMAND,
    APPLICATION_COMMAND_AUTOCOMPLETE,
    AUTOCOMPLETE_RESULT,
    CHANNEL_MESSAGE,
    DEFERRED_CHANNEL_MESSAGE,
    MESSAGE_COMPONENT,
    Interaction,
    Malformed,
    Refused,
    guild_of,
)

logger = Logger(child=True)


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


# How fast XP is earned (xpRate, cooldownSeconds, multipliers): where levels pay credits, how fast they are minted.
_EARNING_RATE_SETTINGS = {("xp", "config", sub) for sub in ("rate", "cooldown", "multiplier")}


def _earning_raised(i: Interaction) -> str | None:
    """What this /xp config change is ("... needs"), when it would make members earn XP (hence credits) where
    the owner switched earning off, or None: removing a no-XP channel or role, turning command XP on.
    Fail-closed: only an explicit "add" or `false` (earning off, which stays with Manage Server) is let
    through; a malformed value is refused later anyway.
    (Reward settings hand out roles, which could carry a multiplier, but they need Manage Roles and a role the
    invoker could give by hand: no more earning than they can already grant in Discord.)"""
    if i.route in (("xp", "config", "no-xp-channel"), ("xp", "config", "no-xp-role")):
        if i.options.get("action") != "add":
            return f"letting a no-XP {i.route[-1].removeprefix('no-xp-')} earn XP again needs"
    elif i.route == ("xp", "config", "command-xp") and i.options.get("enabled") is not False:
        return "turning command XP on needs"
    return None


def _require_admin_where_levels_pay(i: Interaction, what: str) -> None:
    """`what`: the setting and its verb, e.g. "the XP rate, cooldown and multipliers need"."""
    from ..service import config

    if i.permissions & role_safety.ADMINISTRATOR or not config.pays_level_credits(guild_of(i)):
        return
    raise Refused(f"Levels in this server pay shop credits, so {what} the **Administrator** permission.")


# ---------------------------------------------------------------- entry points


def respond(raw: dict[str, Any], *, base_url: str | None = None) -> dict[str, Any]:
    """The webhook's answer to a verified interaction (a PING is answered before this is imported).
    `base_url`: where this deployment answers (`xpshop.web.urls.base_url` of the request), for card links."""
    if raw.get("type") not in (APPLICATION_COMMAND, MESSAGE_COMPONENT):
        return _not_a_command(raw)
    try:
        i = Interaction.parse(raw, base_url=base_url)
    except Malformed as exc:
        # checked before anything is written: not even the guild is registered from a payload like this
        logger.warning("malformed interaction", extra={"field": exc.what})
        return {"type": CHANNEL_MESSAGE, "data": embeds.error(str(exc))}
    return _component(i) if raw.get("type") == MESSAGE_COMPONENT else _command(i)


def _command(i: Interaction) -> dict[str, Any]:
    """A slash or context command: register its server, refuse, run or defer it, and give command XP."""
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
            message_queue.defer_interaction(i.raw)
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


def _not_a_command(raw: dict[str, Any]) -> dict[str, Any]:
    """Autocomplete must be answered with choices (a message is refused by Discord): no command declares
    autocomplete, so there are none. Modal submits and anything else: a private "not supported"."""
    if raw.get("type") == APPLICATION_COMMAND_AUTOCOMPLETE:
        return {"type": AUTOCOMPLETE_RESULT, "data": {"choices": []}}
    return {"type": CHANNEL_MESSAGE, "data": embeds.error("This kind of interaction is not supported.")}


def _component(i: Interaction) -> dict[str, Any]:
    """A click on a button of one of our messages (today: /privacy delete's confirm and cancel). Refusals
    answer privately and leave the message as it was; no command XP for a click."""
    if not privacy_commands.owns(i.custom_id):
        logger.warning("unknown component", extra={"customId": i.custom_id[:100]})
        return {"type": CHANNEL_MESSAGE, "data": embeds.error("This button is not supported any more.")}
    try:
        guild_of(i)
        return privacy_commands.on_button(i)
    except Refused as exc:
        return {"type": CHANNEL_MESSAGE, "data": embeds.error(str(exc))}
    except ApiError as exc:
        return {"type": CHANNEL_MESSAGE, "data": embeds.error(exc.message)}


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
    files = payload.get(embeds.FILES) or None
    message = {k: v for k, v in payload.items() if k not in ("flags", embeds.FILES)}
    rest.edit_original_response(i.application_id, i.token, message, files=files)
    return payload


def _deferred_outcome(i: Interaction, last_attempt: bool) -> dict[str, Any]:
    import json

    from ..store import markers

    if not i.guild_id or i.route in _READ_ONLY:
        # nothing to run once (a read, e.g. an export: its file is made again rather than kept)
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
    ("xp", "export"),
    ("privacy", "export"),
    ("privacy", "delete"),  # only asks: the button does it (forgetting is idempotent)
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
    # the server first: in a DM there are no permission bits, so "needs Manage Server" would mislead
    if i.route[0] in _GUILD_COMMANDS or i.kind != definitions.CHAT_INPUT:
        guild_of(i)
    if i.route[0] in _MANAGER_COMMANDS or (i.kind, i.name) in _MANAGER_CONTEXT:
        _require_manager(i)
    if i.kind == definitions.CHAT_INPUT and i.route in _ROLE_REWARD_SETTINGS:
        _require_role_manager(i)
    if i.kind == definitions.CHAT_INPUT and i.route in _EARNING_RATE_SETTINGS:
        _require_admin_where_levels_pay(i, "the XP rate, cooldown and multipliers need")
    elif i.kind == definitions.CHAT_INPUT and (raised := _earning_raised(i)):
        _require_admin_where_levels_pay(i, raised)
    if i.kind == definitions.CHAT_INPUT:
        # after the permission check: a member without it learns nothing about the command's options
        wrong = options.problem(i.route, i.options)
        if wrong:
            raise Refused(wrong)
    elif not is_snowflake(i.target_id):  # a user or message command: what it was used on
        raise Refused("I can't see what this command was used on.")


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
            channel_id=i.xp_channel_id or "0",  # a thread counts in its parent channel
            role_ids=i.roles,
            at_ms=snowflake_ms(i.id),
            display=display.from_interaction(i.raw.get("member") or {}),
        )
    except Exception:
        logger.exception("command XP failed", extra={"guildId": i.guild_id, "userId": i.user_id})


# ---------------------------------------------------------------- routing

_HANDLERS: dict[tuple[str, ...], Callable[[Interaction], dict[str, Any]]] = {
    **xp_commands.HANDLERS,
    **shop_commands.HANDLERS,
    **privacy_commands.HANDLERS,
    **file_commands.HANDLERS,
}
_CONTEXT: dict[tuple[int, str], Callable[[Interaction], dict[str, Any]]] = {**xp_commands.CONTEXT}
_MANAGER_COMMANDS = {"xp"}
_MANAGER_CONTEXT = {(definitions.MESSAGE, definitions.GIVE_XP)}
_GUILD_COMMANDS = {"rank", "leaderboard", "xp", "privacy", *(route[0] for route in shop_commands.HANDLERS)}
