"""/privacy: a member hides themselves from public views (web leaderboard, public API, public rank card) or
shows themselves again, and sees what is kept about them. Always about the invoker, always private."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .. import display
from . import embeds
from .model import Interaction

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


HANDLERS: dict[tuple[str, ...], Callable[[Interaction], dict[str, Any]]] = {
    ("privacy", sub): privacy for sub in ("status", "hide", "show")
}
