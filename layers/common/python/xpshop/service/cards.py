"""Rank cards: who may see a member's card, and what it shows.

A card is public when the guild's `leaderboard.public` is true and the member has not hidden themselves;
otherwise only a signed URL shows it (`xpshop.web.card_urls`). Reads: the guild's config (cached 30 s per
container) and the member with its rank (one GetItem + the rank counters, as `/rank`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from ..store.members import Profile
from ..web.card_data import Card, accent_of
from . import curves, members
from .curves import config_for


@dataclass(frozen=True, slots=True)
class MemberCard:
    card: Card
    profile: Profile
    public: bool  # the guild's board is public and the member is not hidden


def board_public(config: dict[str, Any]) -> bool:
    return (config.get("leaderboard") or {}).get("public") is True


def guild_board_public(guild_id: str) -> bool:
    """Whether the guild's board is public now. Only a public config is taken from the container's cache: a
    private (or unknown) guild's is read again, so opening a board opens its cards at once, as it does the
    board (service/board.open_board), instead of after curves.CACHE_SECONDS of 404s for its preview image."""
    hit = curves.cached(guild_id)
    if hit is not None and board_public(hit[0]):
        return True
    return board_public(curves.reload(guild_id)[0])


def is_public(config: dict[str, Any], profile: Profile) -> bool:
    """Whether anyone may see the member's card without a signed URL."""
    return board_public(config) and not profile.hidden


def version(card: Card, profile: Profile) -> str:
    """A short digest of what the card shows: Discord caches an embed's image by its URL, so a plain URL
    carries it (`?v=`) and a changed card gets a new URL. The card function ignores it."""
    return hashlib.sha256(repr((card, profile.avatar)).encode()).hexdigest()[:12]


def card_of(guild_id: str, user_id: str) -> MemberCard:
    """The member's card data (raises NotFound for a member without XP record)."""
    detail, position, profile = members.rank_card_with_profile(guild_id, user_id)
    config = config_for(guild_id)
    return MemberCard(
        card=card_from(detail, position, profile, config),
        profile=profile,
        public=is_public(config, profile),
    )


def card_from(detail: dict[str, Any], position: dict[str, Any], profile: Profile, config: dict[str, Any]) -> Card:
    """The API's member detail and rank (`members.rank_card`) as a card."""
    progress = detail["progress"]
    return Card(
        name=profile.display_name or profile.username or "Member",
        username=profile.username,
        level=int(detail["user"]["level"]),
        rank=int(position["rank"]),
        in_level=int(progress["inLevel"]),
        needed=int(progress["inLevel"]) + int(progress["toNext"]),
        accent=accent_of(config),
        xp_label=str((config.get("labels") or {}).get("xpDisplayName") or "XP"),
    )
