"""The public web leaderboard's data: whether a guild's board may be shown, and one page of it.

Privacy is decided here, not in the template: a hidden member's row carries no user id, name or avatar,
so no view built from it can leak them; their place is still counted, so everyone else's rank stays true.

Requests: the guild's registry record and both config layers in one BatchGetItem (skipped while this
container has them from the last curves.CACHE_SECONDS), then the page: the A rank counters (the total) and
one index Query for the first pages (DIRECT_READ_MAX), or the rank counters (A, B, C, and T below 1,000 XP)
and one index Query deeper down, then one BatchGetItem of the page's display data. That is a guild on its
single leaderboard band (store.keys.FINE_BANDS_FROM); on the fine bands a page pays one index Query per band
it runs into, and the top pages the B counters when the top million of XP spans bands (service.ranks).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from .. import ids, snapstart
from ..levels import Curve, Progress
from ..store import config as config_store
from ..store import members
from ..store.members import Member
from . import curves, ranks

PAGE_SIZE = 100
# Pages starting within this many members of the top are read straight from the index, reading past the
# members before them (~1.5 RCU per 100 index entries, in the same Query) rather than locating the start
# through the rank counters (2-3 more requests). The first pages are the ones people open.
DIRECT_READ_MAX = 200
# Pages people can reach (100 members each: a guild of 100 million); anything above is refused unread.
MAX_PAGE = 1_000_000
# Guild names change rarely (the registry keeps the first one seen): a container keeps them this long.
NAME_CACHE_SECONDS = 300.0
_names: dict[str, tuple[float, str | None]] = {}


@dataclass(frozen=True, slots=True)
class Board:
    """A guild whose board is public, with what every page of it needs."""

    guild_id: str
    name: str | None
    config: dict[str, Any]
    curve: Curve
    levels_settled: bool = True  # False while a recalculation is pending (curves.levels_settled)

    @property
    def indexable(self) -> bool:
        return self.config["leaderboard"].get("indexable") is True

    @property
    def accent(self) -> str | None:
        """`theme.embedColor` as stored (callers validate it before using it in CSS)."""
        value = (self.config.get("theme") or {}).get("embedColor")
        return value if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class Row:
    """One ranked member as the public sees them. For a hidden member user_id, name, username and avatar
    are None: the row cannot leak what it does not hold."""

    rank: int
    hidden: bool
    user_id: str | None
    display_name: str | None
    username: str | None
    avatar: str | None  # Discord avatar hash (unvalidated text: check before building a URL)
    xp: int
    progress: Progress


@dataclass(frozen=True, slots=True)
class Page:
    number: int  # 1-based
    rows: list[Row]
    total: int  # members ranked in the guild

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def open_board(guild_id: str) -> Board | None:
    """The guild's board when its leaderboard is public. None for a malformed id, an unknown guild and a
    private one alike: callers cannot tell them apart, so nothing about a private guild leaks."""
    if not ids.is_snowflake(guild_id):
        return None
    hit = curves.cached(guild_id)
    named = _names.get(guild_id)
    now = time.monotonic()
    # Only a public board is served from the container's cache: a private one costs the same read as an
    # unknown guild every time, so not even the response time tells them apart.
    if hit is None or named is None or named[0] <= now or hit[0]["leaderboard"].get("public") is not True:
        global_overrides, guild_overrides, fine, guild, pending = config_store.read_layers_and_guild(guild_id)
        if guild is None:
            return None  # nothing is kept for an unknown id: each costs this one read
        hit = curves.remember(guild_id, global_overrides, guild_overrides, fine, recalc_pending=pending)
        named = _names[guild_id] = (now + NAME_CACHE_SECONDS, guild.name)
    config, curve = hit
    if config["leaderboard"].get("public") is not True:
        return None
    return Board(guild_id, named[1], config, curve, curves.levels_settled(guild_id))


def page(board: Board, number: int) -> Page | None:
    """Page `number` (1-based) of PAGE_SIZE members, or None past the last page (page 1 always exists, empty
    for a guild nobody has earned XP in yet)."""
    if not 1 <= number <= MAX_PAGE:
        return None
    offset = (number - 1) * PAGE_SIZE
    if offset <= DIRECT_READ_MAX:
        found = ranks.top(board.guild_id, PAGE_SIZE, board.curve, skip=offset, settled=board.levels_settled)
    else:
        found = ranks.page(board.guild_id, offset, PAGE_SIZE, board.curve, settled=board.levels_settled)
    if number > 1 and not found.items:
        return None
    listed = [Member.from_item(item) for item in found.items]
    profiles = members.profiles(board.guild_id, [m.user_id for m in listed])
    rows = [_row(offset + i + 1, m, profiles.get(m.user_id), board.curve) for i, m in enumerate(listed)]
    return Page(number, rows, max(found.total, offset + len(rows)))


def _row(rank: int, member: Member, profile: members.Profile | None, curve: Curve) -> Row:
    progress = curve.progress(member.xp)
    if profile is not None and profile.hidden:
        return Row(rank, True, None, None, None, None, member.xp, progress)
    profile = profile or members.Profile()
    return Row(rank, False, member.user_id, profile.display_name, profile.username, profile.avatar, member.xp, progress)


def forget() -> None:
    """Drop cached guild names (tests)."""
    _names.clear()


snapstart.on_restore(_names.clear)  # cached with monotonic deadlines
