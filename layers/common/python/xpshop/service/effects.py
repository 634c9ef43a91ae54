"""Level-up effects: role rewards, the announcement and credits, for every path that changes a level.

Member writes reach this through the table's stream (API add/set/remove, messages, commands, Give XP and
the recalculation alike), so no path can forget to send them and an award stays one write. Each effect is
idempotent: roles are reconciled against the roles the member holds, the announcement is claimed once per
(guild, user, level) and marked sent when Discord answers (a claim cut off before that is posted again, with the
same nonce: at least once, in practice exactly once; `_announce`), and credits are paid once per (user, guild,
level) for ever.

Credits are money (one balance across servers, it buys cosmetics), so only levels the member reached with
XP they earned pay: the writer records where a level came from (`levelSource`, store/members.py) and only
"earned" pays, for the levels its XP crossed, capped per payment (LEVEL_CREDITS_MAX_PAYMENT). XP an admin
gives, sets or removes (API or /xp) and recalculations pay nothing; their levels still move the
high-water mark, so they never pay later either.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from aws_lambda_powertools import Logger

from .. import clock, metrics, rewards, snapstart
from ..auth import shop_guild_ids
from ..discord import role_safety
from ..discord.rest import DiscordError, DiscordRest, RateLimited
from ..levels import Curve
from ..store import keys, markers
from ..store.members import LEVEL_BY_RECALC, LEVEL_EARNED, LEVEL_IMPORTED
from .config import merged_guild
from .shop import credits as shop_credits

logger = Logger(child=True)
# The most one level-up may pay, whatever creditsPerLevel and the levels crossed: a deploy parameter
# (LevelCreditsMaxPayment), so neither a guild config nor a leaked admin key can raise it.
DEFAULT_MAX_LEVEL_PAYMENT = 1000


@dataclass(frozen=True, slots=True)
class LevelChange:
    guild_id: str
    user_id: str
    old_level: int
    new_level: int
    xp: int
    old_xp: int = 0
    # `levelSource` of the write (store/members.py): "earned", "granted", "recalc", "imported"; anything else (the
    # pre-release "xp", a missing one) is treated as granted: it never pays credits.
    source: str | None = None

    @property
    def by_recalc(self) -> bool:
        """The level caught up with a curve change: roles yes, announcement and credits no."""
        return self.source == LEVEL_BY_RECALC

    @property
    def quiet(self) -> bool:
        """Levels that arrive in bulk (a curve change caught up, an import): roles yes, announcements no (an
        import of 100,000 members would post 100,000 of them)."""
        return self.source in (LEVEL_BY_RECALC, LEVEL_IMPORTED)

    @property
    def earned(self) -> bool:
        """The member's own XP moved the level (message, command XP, Give XP): the only kind that pays."""
        return self.source == LEVEL_EARNED


@dataclass
class Outcome:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # roles Discord refused for good (permissions, deleted)
    announced: bool = False
    credits_paid: int = 0
    member_missing: bool = False
    # posted, reposted (over a claim whose attempt was cut off), done (by an earlier record), refused; None: none due
    announcement: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "removed": self.removed,
            "skipped": self.skipped,
            "announced": self.announced,
            "announcement": self.announcement,
            "creditsPaid": self.credits_paid,
            "memberMissing": self.member_missing,
        }


# A record is not started with less than this left of the invocation: one record may wait out rate limits
# (up to the client's max_wait per call, a few calls) and a record cut off by the timeout could lose the
# announcement it had claimed. The records not started are failed and redelivered.
RECORD_TIME_MARGIN_SECONDS = 30.0


# EffectsFunction's Timeout in template.yaml (tests/unit/test_effects_order.py keeps them equal): no attempt
# runs longer than this after it claimed an announcement, so a claim older than that (plus the grace) that is
# not marked sent was cut off and is taken over.
FUNCTION_TIMEOUT_SECONDS = 120
CLAIM_GRACE_SECONDS = 10.0
# A retry that finds a claim held for at most this long waits for it (the grace after a timed-out attempt's
# deadline) rather than fail the record; longer holds (an attempt that crashed early) fail it, to be retried.
CLAIM_WAIT_MAX_SECONDS = 15.0
_sleep: Callable[[float], None] = time.sleep  # tests advance a clock instead


class AnnouncementInFlight(Exception):
    """The record's announcement is claimed by an attempt that may still be running: retried later."""


class Deferred(Exception):
    """A record not applied in this invocation, to be redelivered (see InOrder)."""


class InOrder:
    """Applies a stream batch's records in order, and none after one has failed.

    Lambda retries a stream batch from its first failed record on, so the records behind a failure come
    again anyway; applying them now would only apply them before it: a member's "level 3" posted before
    "level 2", a replace-mode role given and taken back. The same holds for records not started because the
    invocation is about to time out. The first record of an invocation always runs (whatever the time
    left): an invocation that started none would come back the same, and the batch would never move."""

    def __init__(self, time_left: Callable[[], float], margin: float = RECORD_TIME_MARGIN_SECONDS) -> None:
        self._time_left = time_left
        self._margin = margin
        self._held: str | None = None
        self._started = 0

    def run(self, apply_record: Callable[[], Any]) -> Any:
        if self._held is None and self._started and self._time_left() < self._margin:
            self._held = "too close to the function's timeout"
        if self._held is not None:
            raise Deferred(f"not applied: {self._held}; redelivered")
        self._started += 1
        try:
            return apply_record()
        except Exception:
            self._held = "an earlier record of this batch failed"
            raise


def level_change_from_images(old: dict[str, Any], new: dict[str, Any]) -> LevelChange | None:
    """The level change a stream record of a member item carries, or None (no level move, not a member,
    or a deletion). The stored level is the one the writer derived with the guild's curve."""
    if not new or not str(new.get("SK", "")).startswith(keys.MEMBER_PREFIX):
        return None
    old_level, new_level = int(old.get("level", 0) or 0), int(new.get("level", 0) or 0)
    if old_level == new_level:
        return None
    return LevelChange(
        guild_id=str(new["guildId"]),
        user_id=str(new["userId"]),
        old_level=old_level,
        new_level=new_level,
        xp=int(new.get("xp", 0)),
        old_xp=int(old.get("xp", 0) or 0),
        source=str(new["levelSource"]) if new.get("levelSource") is not None else None,
    )


def apply(
    change: LevelChange,
    rest_for: Callable[[], DiscordRest | None],
    time_left: Callable[[], float] | None = None,
) -> Outcome:
    """Apply the effects of one level change. Raises on a transient failure (rate limit beyond what the
    client waits, 5xx, network) so the stream retries the record; what already happened is not repeated.
    `rest_for` gives the Discord client (None: no bot token), asked only when an effect needs Discord, so a
    guild with credits but no roles does not depend on the token's parameter store. `time_left`: seconds left
    in the invocation (None: not in Lambda, the function's timeout is assumed)."""
    cfg = merged_guild(change.guild_id)  # read fresh: level changes are rare, a reward added a moment ago counts
    outcome = Outcome()
    announces = change.new_level > change.old_level and not change.quiet
    needs_discord = bool(cfg["roleRewards"]) or (announces and (cfg.get("levelUpAnnouncement") or {}).get("channelId"))
    if change.new_level > change.old_level:
        # First, and without Discord: credits are money, and a Discord outage that outlasts the stream's
        # retries (the record goes to the dead-letter queue) must not take them. Paid once per level, so the
        # retry of a record that fails on Discord below pays nothing more.
        _pay_credits(change, cfg, outcome)
    rest = rest_for() if needs_discord else None
    if rest is not None:
        _reconcile_roles(change, cfg, rest, outcome)
        if announces:  # not for a curve change or an import: they would post thousands at once
            _announce(change, cfg, rest, outcome, time_left)
    logger.info("level effects", extra={**asdict(change), **outcome.as_dict()})
    if announces:  # after the effects: a record that failed and is retried counts once, when it is applied
        metrics.count(metrics.LEVEL_UPS)
    return outcome


def _reconcile_roles(change: LevelChange, cfg: dict[str, Any], rest: DiscordRest, outcome: Outcome) -> None:
    if not cfg["roleRewards"]:
        return
    try:
        member = rest.get_member(change.guild_id, change.user_id)
    except RateLimited:
        raise
    except DiscordError as exc:
        if not exc.permanent:
            raise
        # The bot can't read the guild's members (403: removed from the server or lost its access; 401: a
        # revoked token): no retry can fix it, and failing the record would hold the announcement back
        # until the record is dead-lettered. The admin sees it in the logs.
        logger.warning(
            "reward roles not reconciled: the member can't be read",
            extra={"guildId": change.guild_id, "status": exc.status, "code": exc.code},
        )
        return
    if member is None:  # left the server: nothing to give or take
        outcome.member_missing = True
        return
    todo = rewards.plan(
        cfg["roleRewards"],
        mode=cfg["rewardsMode"],
        remove_on_loss=bool(cfg["removeRewardOnXpLoss"]),
        old_level=change.old_level,
        new_level=change.new_level,
        held=[str(r) for r in member.get("roles") or []],
    )
    if not todo:
        return
    unsafe = _unsafe_roles(change.guild_id, todo.add | todo.remove, rest)
    for role, why in sorted(unsafe.items()):
        # Gained a moderation permission (or became managed) since it was configured: the bot won't hand
        # it out or take it away on anyone's level.
        logger.warning("reward role skipped: unsafe", extra={"guildId": change.guild_id, "roleId": role, "reason": why})
        metrics.count(metrics.REWARD_ROLE_SKIPPED_UNSAFE)
        outcome.skipped.append(role)
    reason = f"xpshop: level {change.new_level}"
    for role in sorted(todo.add - unsafe.keys()):
        if _role_call(rest.add_member_role, change, role, reason, outcome):
            outcome.added.append(role)
    for role in sorted(todo.remove - unsafe.keys()):
        if _role_call(rest.remove_member_role, change, role, reason, outcome):
            outcome.removed.append(role)


# Guild roles change rarely; a short cache spares a REST call per level-up in a busy guild, and a role that
# gains a dangerous permission is refused within this many seconds.
ROLES_CACHE_SECONDS = 30.0
_roles_cache: dict[str, tuple[float, dict[str, dict[str, Any]]]] = {}


def _unsafe_roles(guild_id: str, wanted: set[str], rest: DiscordRest) -> dict[str, str]:
    """role id -> why it may not be handed out now (role_safety), for the roles about to change. A role
    Discord doesn't list is left to the role call (which reports a deleted role). Roles that can't be read
    for good (the bot lost access) are all skipped; a transient failure raises so the record is retried."""
    now = time.monotonic()
    cached = _roles_cache.get(guild_id)
    if cached is None or cached[0] < now:
        try:
            listed = {str(r["id"]): r for r in rest.get_guild_roles(guild_id) if isinstance(r, dict) and "id" in r}
        except RateLimited:
            raise
        except DiscordError as exc:
            if not exc.permanent:
                raise
            return dict.fromkeys(wanted, f"the guild's roles can't be read (Discord {exc.status})")
        cached = _roles_cache[guild_id] = (now + ROLES_CACHE_SECONDS, listed)
    roles = cached[1]
    unsafe = {}
    for role in wanted:
        why = role_safety.unsafe_reason(roles[role], guild_id) if role in roles else None
        if why:
            unsafe[role] = why
    return unsafe


def _role_call(call: Any, change: LevelChange, role: str, reason: str, outcome: Outcome) -> bool:
    try:
        call(change.guild_id, change.user_id, role, reason=reason)
    except RateLimited:
        raise
    except DiscordError as exc:
        if not exc.permanent:
            raise
        # Missing permission or a deleted role: retrying cannot fix it; the admin sees it in the logs.
        logger.warning(
            "role reward refused by Discord",
            extra={"guildId": change.guild_id, "roleId": role, "status": exc.status, "code": exc.code},
        )
        outcome.skipped.append(role)
        return False
    return True


def announcement_nonce(guild_id: str, user_id: str, level: int) -> str:
    """The Create Message nonce of a level-up announcement: the same for every attempt at it, 25 characters
    (Discord's limit). With `enforce_nonce`, Discord answers a second post of it within a few minutes with the
    message the first one created instead of creating another."""
    return hashlib.sha256(f"{guild_id}:{user_id}:{level}".encode()).hexdigest()[:25]


def _announce(
    change: LevelChange,
    cfg: dict[str, Any],
    rest: DiscordRest,
    outcome: Outcome,
    time_left: Callable[[], float] | None,
) -> None:
    """Post the announcement at least once and, in practice, exactly once: claimed first (one conditional put),
    marked sent when Discord answers (one conditional update). A claim whose attempt was cut off (a crash, the
    function's timeout) before that is taken over once that attempt cannot still be running, and posted
    again with the same nonce, so Discord drops the second post if the first had reached it after all."""
    settings = cfg.get("levelUpAnnouncement") or {}
    channel = settings.get("channelId")
    if not channel:
        return
    guild, user, level = change.guild_id, change.user_id, change.new_level
    claim = markers.claim_level_effect(guild, user, level, hold_seconds=claim_hold_seconds(time_left))
    if not claim.granted and claim.state == markers.EFFECT_CLAIMED and _may_wait(claim.held_for, time_left):
        # The retry of an attempt stopped at its timeout comes within the grace of its hold: waiting it out
        # here spares the record a failure (the stream's retries are counted).
        _sleep(claim.held_for + 0.1)
        claim = markers.claim_level_effect(guild, user, level, hold_seconds=claim_hold_seconds(time_left))
    if not claim.granted:
        if claim.state == markers.EFFECT_CLAIMED:
            # Claimed by an attempt that has not finished: cut off before its deadline (a crash) or, rarely,
            # still running. Skipping would lose it; the record is retried until the claim's hold has
            # passed, then the retry takes it over.
            raise AnnouncementInFlight(f"level {level} announcement held until {clock.iso(claim.hold_until)}")
        outcome.announcement = "done"  # sent or refused by an earlier record or attempt: once per level
        return
    if claim.took_over:
        logger.warning(
            "announcement claimed by an attempt that did not finish: posting it again (same nonce)",
            extra={"guildId": guild, "level": level},
        )
    nonce = announcement_nonce(guild, user, level)
    try:
        text = rewards.render_announcement(str(settings["message"]), user, level, change.xp)
        payload = {"content": text, "allowed_mentions": {"users": [user]}, "nonce": nonce, "enforce_nonce": True}
        message = rest.create_message(channel, payload)
    except Exception as exc:
        if not (isinstance(exc, DiscordError) and exc.permanent):
            # Not posted, or not known to be (a lost answer): the retry claims it again at once and posts
            # with the same nonce.
            markers.release_level_effect(guild, user, level)
            raise
        # e.g. the channel is gone or the bot can't post there: retrying cannot fix it
        logger.warning("announcement refused by Discord", extra={"channelId": channel, "status": exc.status})
        _finish(change, markers.EFFECT_REFUSED)
        outcome.announcement = "refused"
        return
    message_id = message.get("id") if isinstance(message, dict) else None
    _finish(change, markers.EFFECT_SENT, str(message_id) if message_id else None)
    outcome.announced = True
    outcome.announcement = "reposted" if claim.took_over else "posted"


def _finish(change: LevelChange, state: str, message_id: str | None = None) -> None:
    """Mark the claim sent or refused. A failure here is logged, not raised: the message is out (or refused for
    good), and failing the record would only hold the stream until the claim's hold passed and post again."""
    try:
        markers.finish_level_effect(change.guild_id, change.user_id, change.new_level, state, message_id)
    except Exception as exc:  # whatever the store's failure: the outcome stays what Discord answered
        logger.warning(
            "announcement claim not marked",
            extra={"guildId": change.guild_id, "level": change.new_level, "state": state, "error": repr(exc)},
        )


def _may_wait(seconds: float, time_left: Callable[[], float] | None) -> bool:
    """Whether a claim's hold is short enough to wait out in this invocation, leaving the record its margin."""
    if seconds > CLAIM_WAIT_MAX_SECONDS:
        return False
    return time_left is None or time_left() - seconds >= RECORD_TIME_MARGIN_SECONDS


def claim_hold_seconds(time_left: Callable[[], float] | None) -> float:
    """How long a claim made now may belong to a running attempt: the invocation's time left (Lambda stops it
    at its deadline), at most the function's timeout, plus CLAIM_GRACE_SECONDS for the clocks of the hosts
    that claim and retry."""
    left = FUNCTION_TIMEOUT_SECONDS if time_left is None else min(max(0.0, time_left()), FUNCTION_TIMEOUT_SECONDS)
    return left + CLAIM_GRACE_SECONDS


def max_level_payment() -> int:
    """LEVEL_CREDITS_MAX_PAYMENT (template parameter LevelCreditsMaxPayment); the safe default when unset or
    not a number >= 0."""
    raw = os.environ.get("LEVEL_CREDITS_MAX_PAYMENT", "").strip()
    try:
        value = int(raw) if raw else DEFAULT_MAX_LEVEL_PAYMENT
    except ValueError:
        value = -1
    if value < 0:
        logger.warning("LEVEL_CREDITS_MAX_PAYMENT is not a number >= 0; using the default", extra={"value": raw})
        return DEFAULT_MAX_LEVEL_PAYMENT
    return value


def earned_levels(change: LevelChange, cfg: dict[str, Any]) -> int:
    """How many levels the write's own XP crossed, on one curve (the guild's current one): a level gained
    because the curve became easier is not earned, even when a message is what wrote it."""
    if not change.earned:
        return 0
    curve = Curve.from_config(cfg["curve"])
    return max(0, curve.level(change.xp) - curve.level(change.old_xp))


def _pay_credits(change: LevelChange, cfg: dict[str, Any], outcome: Outcome) -> None:
    per_level = int(cfg.get("creditsPerLevel") or 0)
    if change.guild_id not in shop_guild_ids():
        if per_level > 0:
            logger.warning(
                "creditsPerLevel ignored: the guild is not one of SHOP_GUILD_IDS", extra={"guildId": change.guild_id}
            )
        return
    # Every level gain in a shop guild is accounted for (the mark moves), paid or not: a level granted, or
    # reached while credits were off, must not pay when it is reached again later.
    outcome.credits_paid = shop_credits.pay_level_credits(
        change.user_id,
        change.guild_id,
        change.old_level,
        change.new_level,
        per_level=per_level,
        earned_levels=earned_levels(change, cfg),
        max_payment=max_level_payment(),
    )


snapstart.on_restore(_roles_cache.clear)  # cached with monotonic deadlines
