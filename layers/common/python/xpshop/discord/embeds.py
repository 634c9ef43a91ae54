"""Message payloads the bot answers with: rank cards, leaderboard pages, confirmations and errors."""

from __future__ import annotations

from typing import Any

from ..display import escape_markdown

EPHEMERAL = 1 << 6  # message flag: only the invoking user sees it
DEFAULT_COLOR = 0x5865F2  # Discord blurple, unless the guild's theme sets embedColor
ERROR_COLOR = 0xED4245
NO_MENTIONS: dict[str, list[str]] = {"parse": []}  # show mentions, never ping from a command answer
BAR_WIDTH = 14


def color_of(cfg: dict[str, Any] | None) -> int:
    hex_color = ((cfg or {}).get("theme") or {}).get("embedColor")
    return int(hex_color[1:], 16) if hex_color else DEFAULT_COLOR


def xp_label(cfg: dict[str, Any] | None) -> str:
    return str(((cfg or {}).get("labels") or {}).get("xpDisplayName") or "XP")


def progress_bar(percentage: float, width: int = BAR_WIDTH) -> str:
    filled = max(0, min(width, round(percentage / 100 * width)))
    return "▰" * filled + "▱" * (width - filled)


def mention(user_id: str) -> str:
    return f"<@{user_id}>"


def mention_role(role_id: str) -> str:
    return f"<@&{role_id}>"


def message(
    content: str | None = None, *, embeds: list[dict[str, Any]] | None = None, ephemeral: bool = False
) -> dict[str, Any]:
    payload: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
    if content is not None:
        payload["content"] = content
    if embeds is not None:
        payload["embeds"] = embeds
    if ephemeral:
        payload["flags"] = EPHEMERAL
    return payload


# Files to attach to a message (rest.File), kept beside its payload under this key: the worker sends them as a
# multipart upload (dispatch.finish_deferred); they are never part of the JSON message.
FILES = "_files"


def with_files(payload: dict[str, Any], files: list[Any]) -> dict[str, Any]:
    return {**payload, FILES: list(files)}


def error(text: str) -> dict[str, Any]:
    return message(embeds=[{"description": f"⚠️ {text}", "color": ERROR_COLOR}], ephemeral=True)


def done(text: str, cfg: dict[str, Any] | None = None, *, ephemeral: bool = False) -> dict[str, Any]:
    return message(embeds=[{"description": text, "color": color_of(cfg)}], ephemeral=ephemeral)


def rank_card(
    user: dict[str, Any],
    detail: dict[str, Any],
    rank: dict[str, Any],
    cfg: dict[str, Any],
    *,
    image_url: str | None = None,
) -> dict[str, Any]:
    """`detail` is the API's member detail (user, progress, percentage); `rank` the API's {rank, total};
    `image_url` the rank card image (GET /cards/...), shown under the fields."""
    label = xp_label(cfg)
    member, progress = detail["user"], detail["progress"]
    in_level, to_next = progress["inLevel"], progress["toNext"]
    embed: dict[str, Any] = {
        "author": {"name": display_name(user), **({"icon_url": avatar_url(user)} if avatar_url(user) else {})},
        "color": color_of(cfg),
        "fields": [
            {"name": "Rank", "value": f"#{rank['rank']:,} of {rank['total']:,}", "inline": True},
            {"name": "Level", "value": f"{member['level']:,}", "inline": True},
            {"name": label, "value": f"{member['xp']:,}", "inline": True},
            {
                "name": f"Progress to level {member['level'] + 1}",
                "value": f"{progress_bar(detail['percentage'])} {detail['percentage']:.1f}%\n"
                f"{in_level:,} / {in_level + to_next:,} {label} ({to_next:,} to go)",
            },
            {"name": "Messages", "value": f"{member['messages']:,} ({member['xpMessages']:,} rewarded)"},
        ],
    }
    if image_url:
        # Embed images have no alt text in Discord: the description says what the card shows, in words a
        # screen reader reads (the fields above carry the same numbers).
        name = escape_markdown(display_name(user))  # the description is Markdown; the author name is not
        embed["description"] = (
            f"Rank card: {name}, rank {rank['rank']:,} of {rank['total']:,}, level {member['level']:,},"
            f" {in_level:,} of {in_level + to_next:,} {label} to level {member['level'] + 1:,}."
        )
        embed["image"] = {"url": image_url}
    return message(embeds=[embed])


def leaderboard_page(
    entries: list[dict[str, Any]], *, page: int, total: int, per_page: int, cfg: dict[str, Any]
) -> dict[str, Any]:
    label = xp_label(cfg)
    pages = max(1, -(-total // per_page))
    if not entries:
        lines = ["Nobody has earned any XP yet." if page == 1 else f"Page {page} is empty (there are {pages})."]
    else:
        medals = {1: "🥇", 2: "🥈", 3: "🥉"}
        lines = [
            f"{medals.get(e['rank']) or '`#' + str(e['rank']) + '`'} {mention(e['userId'])} · "
            f"level {e['level']:,} · {e['xp']:,} {label}"
            for e in entries
        ]
    embed = {
        "title": "Leaderboard",
        "description": "\n".join(lines),
        "color": color_of(cfg),
        "footer": {"text": f"Page {page} of {pages} · {total:,} members"},
    }
    return message(embeds=[embed])


def display_name(user: dict[str, Any]) -> str:
    """The server nickname (`nick`, see Interaction.shown_user), else the global display name, else the username:
    the order the card and the web board use (xpshop.display.from_interaction)."""
    return str(user.get("nick") or user.get("global_name") or user.get("username") or user.get("id") or "member")


def avatar_url(user: dict[str, Any]) -> str | None:
    if user.get("avatar") and user.get("id"):
        return f"https://cdn.discordapp.com/avatars/{user['id']}/{user['avatar']}.png"
    return None
