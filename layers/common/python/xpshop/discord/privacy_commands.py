"""/privacy: a member hides themselves from public views (web leaderboard, public API, public rank card) or
shows themselves again, sees what is kept about them, or has it removed (`/privacy delete`, confirmed with a
button). Always about the invoker, always private."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .. import display
from ..clock import now_ms
from ..ids import is_snowflake, snowflake_ms
from . import embeds
from .model import ACTION_ROW, BUTTON, DANGER, SECONDARY, UPDATE_MESSAGE, Interaction, Refused

if TYPE_CHECKING:  # the store (boto3) is imported only when a command runs
    from ..store.members import Profile

_HIDDEN = (
    '🙈 You are now hidden: the public leaderboard and the public API show you as "Hidden member", without '
    "your name, avatar or id, and your rank card is not public. Your XP counts as before and everyone's rank "
    "stays true. Inside this server, /rank and /leaderboard still show you to its members. "
    "`/privacy show` undoes this."
)
_SHOWN = (
    "👀 You are shown: the public leaderboard may show your display name, avatar and rank card. "
    "`/privacy hide` hides them."
)


def privacy(i: Interaction) -> dict[str, Any]:
    from ..service import members

    guild_id, action = str(i.guild_id), (i.path[0] if i.path else "status")
    if action in ("hide", "show"):
        members.set_privacy(guild_id, i.user_id, action == "hide")
        return embeds.done(_HIDDEN if action == "hide" else _SHOWN, ephemeral=True)
    if action == "delete":
        return confirm_delete(i, guild_id)
    return embeds.done(status_text(members.profile_of(guild_id, i.user_id), _board_public(guild_id)), ephemeral=True)


def _board_public(guild_id: str) -> bool:
    from ..service import curves

    return bool(curves.config_for(guild_id)["leaderboard"].get("public"))


def status_text(profile: Profile | None, board_public: bool) -> str:
    """The /privacy status answer. Names are escaped: they are the member's own, but still never Markdown."""
    hidden = bool(profile and profile.hidden)
    lines = [
        "**Public views:** "
        + ('hidden (shown as "Hidden member")' if hidden else "shown (display name, avatar, rank card)"),
        "**This server's leaderboard:** " + ("public" if board_public else "not public (only its admins see it)"),
    ]
    if profile is None:
        lines.append("**Kept about you here:** nothing yet (you have no XP record in this server).")
    else:
        name = display.escape_markdown(profile.display_name) if profile.display_name else "none"
        username = display.escape_markdown(profile.username) if profile.username else "none"
        lines += [
            "**Kept about you here:** XP, level, message counts and times, "
            f"display name {name}, username {username}, avatar {'yes' if profile.avatar else 'none'}.",
        ]
    lines.append("`/privacy hide` or `/privacy show` changes it.")
    return "\n".join(lines)


# ---------------------------------------------------------------- /privacy delete

# The buttons' custom_id: what was asked, where, by whom, and when (the id of the /privacy delete interaction,
# a snowflake, so its time), checked against the click: only the member who asked, in that server, within
# CONFIRM_SECONDS. "privacy-delete:<guild>:<user>:<asked>" is at most 77 characters (Discord allows 100).
CONFIRM, CANCEL = "privacy-delete", "privacy-cancel"
CONFIRM_SECONDS = 15 * 60
CLOCK_SKEW_MS = 60_000  # Discord's clock (the question's id) vs ours

_ASK = (
    "🗑️ **Remove your XP data in this server?**\n"
    "This removes your XP, level, message counts, the name and avatar kept for the leaderboard, your privacy "
    "choice and the history of XP changes, for this server only. It cannot be undone: if you chat here again "
    "you start from 0.\nYour shop profile, credits and cosmetics are not XP data and are kept."
)
_FORGOTTEN = "✅ Done: your XP data in this server was removed ({summary}). If you chat here again you start from 0."
_NOTHING = "✅ Done: nothing was kept about you in this server."
_CANCELLED = "Nothing was removed."


def confirm_delete(i: Interaction, guild_id: str) -> dict[str, Any]:
    """The question, privately, with a confirm and a cancel button bound to this member, server and moment."""
    ref = f"{guild_id}:{i.user_id}:{i.id}"
    answer = embeds.done(_ASK, ephemeral=True)
    answer["components"] = [
        {
            "type": ACTION_ROW,
            "components": [
                {"type": BUTTON, "style": DANGER, "label": "Remove my XP data", "custom_id": f"{CONFIRM}:{ref}"},
                {"type": BUTTON, "style": SECONDARY, "label": "Cancel", "custom_id": f"{CANCEL}:{ref}"},
            ],
        }
    ]
    return answer


def owns(custom_id: str) -> bool:
    return custom_id.split(":", 1)[0] in (CONFIRM, CANCEL)


def on_button(i: Interaction) -> dict[str, Any]:
    """A click on one of the /privacy delete buttons: the whole answer (UPDATE_MESSAGE: the question is
    replaced and its buttons removed). Refused unless it is the member who asked, in that server, in time."""
    action, guild_id, user_id, asked = _parse(i.custom_id)
    if i.guild_id != guild_id or i.user_id != user_id:
        raise Refused("Only the member who asked can answer this.")
    age_ms = now_ms() - snowflake_ms(asked)
    # an id from after the click (beyond clock skew) was never a question asked here: it would never expire
    if not -CLOCK_SKEW_MS <= age_ms <= CONFIRM_SECONDS * 1000:
        return _update(embeds.error("This question has expired: use `/privacy delete` again."))
    if action == CANCEL:
        return _update(embeds.done(_CANCELLED, ephemeral=True))
    from ..service import members

    removed = members.forget(guild_id, user_id)["removed"]
    if not any(removed.values()):
        return _update(embeds.done(_NOTHING, ephemeral=True))
    summary = ", ".join(f"{n} {label}" for label, n in _labels(removed) if n)
    return _update(embeds.done(_FORGOTTEN.format(summary=summary), ephemeral=True))


def _parse(custom_id: str) -> tuple[str, str, str, str]:
    parts = custom_id.split(":")
    if len(parts) != 4 or parts[0] not in (CONFIRM, CANCEL) or not all(is_snowflake(p) for p in parts[1:]):
        raise Refused("This button is not valid any more: use `/privacy delete` again.")
    return parts[0], parts[1], parts[2], parts[3]


def _labels(removed: dict[str, int]) -> list[tuple[str, int]]:
    return [
        ("XP record" if removed["member"] == 1 else "XP records", removed["member"]),
        ("history entries", removed["auditRecords"]),
        ("leaderboard entry", removed["rankedEntries"]),
        ("level-up marks", removed["levelAnnouncements"]),
    ]


def _update(message: dict[str, Any]) -> dict[str, Any]:
    return {"type": UPDATE_MESSAGE, "data": {**message, "components": []}}


HANDLERS: dict[tuple[str, ...], Callable[[Interaction], dict[str, Any]]] = {
    ("privacy", sub): privacy for sub in ("status", "hide", "show", "delete")
}
