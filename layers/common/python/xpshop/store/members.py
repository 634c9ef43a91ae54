"""Member XP items: every change is one conditional UpdateItem; no read precedes a write.

Each member item stores `xp`, the derived `level`, and the curve position `inLevel`/`toNext`.
An award that stays inside the current level is a single UpdateItem guarded by `toNext > amount`.
When it would cross a level the guard fails and DynamoDB hands back the current item
(ReturnValuesOnConditionCheckFailure), so the exact values are written with a second
UpdateItem guarded by `xp = <what we saw>`. Every path is one guarded write; concurrent writers retry.

An XP change made through the API, /xp or a member event carries a `Note` (who, why) that the same write
stores as `lastChange`, marked with the write's id: the stream then hands it, with the old and new images,
to the rank index function, which writes the audit record and the counter shard once (service/changes.py).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from .. import retry
from ..clock import now_ms as _now_ms
from ..display import ATTRIBUTES as DISPLAY_ATTRIBUTES
from ..display import Display
from ..errors import ErrorCode, InvalidInput, NotFound, Unavailable
from ..levels import MAX_XP, Curve
from . import keys, tx
from .markers import ONCE_TTL_SECONDS
from .table import batch_get, failed_item, is_condition_failure, plain, table, write_id

MAX_ATTEMPTS = 12


# Display data and the privacy choice kept on the member item (optional; see README "Privacy"). The names
# are untrusted text as Discord gave them, length-capped when written, never interpreted.
PROFILE_ATTRIBUTES = ("displayName", "username", "avatar", "hidden")


@dataclass(frozen=True, slots=True)
class Profile:
    """How a member is shown: display name, username, avatar hash (Discord CDN), hidden from public views."""

    display_name: str | None = None
    username: str | None = None
    avatar: str | None = None
    hidden: bool = False

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Profile:
        def text(name: str) -> str | None:
            value = item.get(name)
            return value if isinstance(value, str) and value else None

        return cls(text("displayName"), text("username"), text("avatar"), item.get("hidden") is True)


@dataclass(frozen=True, slots=True)
class Member:
    user_id: str
    xp: int
    level: int
    messages: int
    xp_messages: int
    last_awarded_at: int | None
    profile: Profile = Profile()

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Member:
        item = plain(item)
        return cls(
            user_id=str(item.get("userId") or keys.user_id_from_member_sk(item["SK"])),
            xp=int(item.get("xp", 0)),
            level=int(item.get("level", 0)),
            messages=int(item.get("messages", 0)),
            xp_messages=int(item.get("xpMessages", 0)),
            last_awarded_at=item.get("lastAwardedAt"),
            profile=Profile.from_item(item),
        )


def profiles(guild_id: str, user_ids: list[str]) -> dict[str, Profile]:
    """Display data of these members (the Leaderboard index does not project it): one BatchGetItem per 100
    members. Members without an item are left out."""
    if not user_ids:
        return {}
    wanted = [keys.member(guild_id, u) for u in dict.fromkeys(user_ids)]
    found = batch_get(
        wanted,
        consistent=False,
        projection="SK, " + ", ".join(f"#{a}" for a in PROFILE_ATTRIBUTES),
        names={f"#{a}": a for a in PROFILE_ATTRIBUTES},
    )
    return {keys.user_id_from_member_sk(str(i["SK"])): Profile.from_item(plain(i)) for i in found}


def hidden_among(guild_id: str, user_ids: list[str]) -> set[str]:
    """Those of these members who chose to be hidden (the Leaderboard index does not project the flag): one
    BatchGetItem per 100 members, only the key and the flag read."""
    if not user_ids:
        return set()
    found = batch_get(
        [keys.member(guild_id, u) for u in dict.fromkeys(user_ids)],
        consistent=False,
        projection="SK, #hidden",
        names={"#hidden": "hidden"},  # HIDDEN is one of DynamoDB's reserved words
    )
    return {keys.user_id_from_member_sk(str(i["SK"])) for i in found if i.get("hidden") is True}


@dataclass(frozen=True, slots=True)
class Change:
    """The outcome of one write to a member."""

    created: bool
    old_xp: int
    new_xp: int
    old_level: int
    new_level: int


def get(guild_id: str, user_id: str) -> Member | None:
    resp = table().get_item(Key=keys.member(guild_id, user_id), ConsistentRead=True)
    item = resp.get("Item")
    return Member.from_item(item) if item else None


def stored(guild_id: str, user_id: str) -> dict[str, Any] | None:
    """Every attribute kept on a member's item (its keys and index attributes left out), or None without one:
    what a member's own data export shows."""
    item = table().get_item(Key=keys.member(guild_id, user_id), ConsistentRead=True).get("Item")
    return keys.strip(plain(item)) if item else None


def first_seen_ms(guild_id: str, user_id: str) -> int | None:
    """When xpshop first wrote this member (`createdAt`, epoch ms), or None for a member it never saw.

    Every write that can create a member sets `createdAt` with if_not_exists in that same write, and member
    items are never deleted, so it is the first time the member was seen in the guild (a message, a command,
    an admin's XP change), whatever they did in Discord since (leaving and rejoining resets `joined_at`)."""
    item = (
        table()
        .get_item(Key=keys.member(guild_id, user_id), ConsistentRead=True, ProjectionExpression="createdAt")
        .get("Item")
    )
    return int(item["createdAt"]) if item and item.get("createdAt") is not None else None


# Who last set the stored level, written by every write that can move it (`levelSource`); the level-up
# effects read it from the stream image. "earned": XP the member earned (a message, command XP, Give XP):
# the only source whose level-ups pay credits. "granted": XP an admin added, set or removed (API, /xp).
# "recalc": a curve change caught up (roles reconciled, no announcement, no credits). Items written before
# this distinction carry "xp" (any XP change), which the effects treat like "granted". "imported": XP
# brought from another bot or guild (store/imports.py): roles reconciled, no announcement, no credits.
LEVEL_EARNED, LEVEL_GRANTED, LEVEL_BY_RECALC, LEVEL_IMPORTED = "earned", "granted", "recalc", "imported"
LEVEL_SOURCES = (LEVEL_EARNED, LEVEL_GRANTED, LEVEL_BY_RECALC, LEVEL_IMPORTED)


@dataclass(frozen=True, slots=True)
class Note:
    """Why an XP change was made, and through what (`source`: "api", "discord", "relay"): stored by the write
    itself as `lastChange` (with its write id and time), so the stream carries what the audit record needs
    beyond the old and new images. A write without a note is neither audited nor counted from the stream."""

    source: str
    reason: str | None = None


LAST_CHANGE = "lastChange"
# When the member last earned XP by their own activity, one attribute per way of earning it: a leave or ban
# stamped before any of them is stale (the member came back and earned since): see reset_once. An update
# expression cannot take a maximum, and the ways of earning arrive out of order with each other (a relayed
# message is held by the relay's batching window; Give XP and commands land at once), so each writes only
# its own attribute, whose times only grow on their own:
# - `earnedAt`: Give XP, the click's time (the server's clock). Items from before the split carry here the
#   time of any earned XP (a message, a command): a bound kept until a Give XP moves it forward.
# - `messageEarnedAt`: a rewarded relayed message's own time. A member's messages are counted in id order
#   (`lastMessageId`), and their times follow their ids.
# - `commandEarnedAt`: a rewarded command's interaction time, counted in interaction id order likewise.
EARNED_AT = "earnedAt"
MESSAGE_EARNED_AT = "messageEarnedAt"
COMMAND_EARNED_AT = "commandEarnedAt"
EARNED_TIMES = (EARNED_AT, MESSAGE_EARNED_AT, COMMAND_EARNED_AT)
# The `at` of the last leave or ban that reset the member: a leave or ban stamped no later is covered by it.
RESET_AT = "resetAt"


def last_change(note: Note, wid: str, at_ms: int) -> dict[str, Any]:
    """The `lastChange` map a noted write stores (the audit record is built from it and the images)."""
    value: dict[str, Any] = {"wid": wid, "at": at_ms, "source": note.source}
    if note.reason:
        value["reason"] = note.reason
    return value


def _exact_values(guild_id: str, user_id: str, xp: int, curve: Curve, source: str) -> dict[str, Any]:
    p = curve.progress(xp)
    return {
        ":src": source,
        ":xp": xp,
        ":level": p.level,
        ":in": p.in_level,
        ":to": p.to_next,
        ":score": keys.score(xp, user_id),
        ":board": keys.board_of(guild_id, p.level, curve.banded),
        ":now": _now_ms(),
        ":uid": user_id,
        ":gid": guild_id,
        ":zero": 0,
    }


_SET_LEVELLED = (
    "SET xp = :xp, #level = :level, inLevel = :in, toNext = :to, score = :score, board = :board, updatedAt = :now, "
    "userId = :uid, guildId = :gid, createdAt = if_not_exists(createdAt, :now), levelSource = :src"
)
# An API change: message counts untouched (created at 0).
_SET_EXACT = (
    f"{_SET_LEVELLED}, messages = if_not_exists(messages, :zero), xpMessages = if_not_exists(xpMessages, :zero)"
)
# A rewarded message: counted, and its award time, earned time (#earned: see _earned_attr) and id recorded, in
# the same write.
_SET_EXACT_MESSAGE = (
    f"{_SET_LEVELLED}, messages = if_not_exists(messages, :zero) + :one, "
    "xpMessages = if_not_exists(xpMessages, :zero) + :one, lastAwardedAt = :at, #lastId = :mid, #earned = :at"
)


def _write_exact(
    guild_id: str,
    user_id: str,
    seen: dict[str, Any] | None,
    new_xp: int,
    curve: Curve,
    *,
    source: str,
    note: Note | None = None,
    level_seen: bool = False,
    earned_at: int | None = None,
) -> None:
    """Write xp and its level, provided the member is still as we saw it (absent, or at `seen.xp`; with
    `level_seen`, also at the level seen: a relevel racing another relevel, whose change is already counted).
    `earned_at`: XP the member earned at that time (recorded as `earnedAt`)."""
    values = _exact_values(guild_id, user_id, new_xp, curve, source)
    expression = _SET_EXACT
    if earned_at is not None:
        expression += f", {EARNED_AT} = :eat"
        values[":eat"] = earned_at
    if seen is None:
        condition = "attribute_not_exists(PK)"
    else:
        condition = "xp = :seen"
        values[":seen"] = seen["xp"]
        if level_seen:
            if seen.get("level") is None:
                condition += " AND attribute_not_exists(#level)"
            else:
                condition += " AND #level = :seenLevel"
                values[":seenLevel"] = seen["level"]
    _update(
        Key=keys.member(guild_id, user_id),
        UpdateExpression=expression,
        ConditionExpression=condition,
        ExpressionAttributeNames={"#level": "level"},
        ExpressionAttributeValues=values,
        note=note,
    )


def _change(seen: dict[str, Any] | None, new_xp: int, curve: Curve) -> Change:
    old_xp = int(seen["xp"]) if seen else 0
    old_level = int(seen["level"]) if seen else 0
    return Change(
        created=seen is None, old_xp=old_xp, new_xp=new_xp, old_level=old_level, new_level=curve.level(new_xp)
    )


def _check_cap(new_xp: int) -> int:
    if new_xp > MAX_XP:
        raise InvalidInput(ErrorCode.INVALID_AMOUNT, f"amount would take xp above the maximum of {MAX_XP}")
    return new_xp


# Every XP write is marked with a fresh write id and the values it replaced. When botocore sends the same
# request again because its answer was lost (a 500 or a dropped connection after DynamoDB applied it), the
# retry's condition fails on that id and the change that landed is recovered from the item instead of
# being applied twice. (Only a write by someone else to the same member in the instant between the two
# would hide the id; see "Retries" in docs/ARCHITECTURE.md.)
_MARK = "wid = :wid, prevXp = if_not_exists(xp, :none), prevLevel = if_not_exists(#level, :zero)"
_NOT_MINE = "(attribute_not_exists(wid) OR wid <> :wid)"


class _Landed(Exception):
    """This write had already been applied (by an earlier send of the same request): its change."""

    def __init__(self, change: Change) -> None:
        super().__init__("write already applied")
        self.change = change


def _grouped(condition: str) -> str:
    """`condition` in parentheses, unless it is one parenthesised group already (DynamoDB refuses ((x)))."""
    depth = 0
    for i, char in enumerate(condition):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            return condition if i == len(condition) - 1 and condition[0] == "(" else f"({condition})"
    return f"({condition})"


def _update(*, note: Note | None = None, **kwargs: Any) -> dict[str, Any]:
    """One member UpdateItem (its expression starts with SET), marked as above, and with `note` stored as
    `lastChange` under the same write id. Raises _Landed when the write turns out to have been applied by
    an earlier send of the same request."""
    wid = write_id()
    mark, extra = _MARK, {}
    if note is not None:
        mark += f", {LAST_CHANGE} = :lc"
        extra[":lc"] = last_change(note, wid, _now_ms())
    kwargs["UpdateExpression"] = kwargs["UpdateExpression"].replace("SET ", f"SET {mark}, ", 1)
    kwargs["ExpressionAttributeNames"] = {**kwargs.get("ExpressionAttributeNames", {}), "#level": "level"}
    kwargs["ExpressionAttributeValues"] = {
        **kwargs["ExpressionAttributeValues"],
        **extra,
        ":wid": wid,
        ":none": -1,
        ":zero": 0,
    }
    condition = kwargs.get("ConditionExpression")
    kwargs["ConditionExpression"] = f"{_grouped(condition)} AND {_NOT_MINE}" if condition else _NOT_MINE
    kwargs["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    try:
        resp: dict[str, Any] = table().update_item(Key=kwargs.pop("Key"), **kwargs)
        return resp
    except ClientError as exc:
        if is_condition_failure(exc):
            item = plain(failed_item(exc)) or {}
            if item.get("wid") == wid:
                before = int(item.get("prevXp", -1))
                change = Change(
                    before < 0, max(before, 0), int(item["xp"]), int(item.get("prevLevel", 0)), int(item["level"])
                )
                raise _Landed(change) from exc
        raise


def _attempts() -> Iterator[int]:
    # Only exact writes collide (a level crossing racing another writer). More tries than retry.ATTEMPTS, with
    # shorter pauses: an award must win against a busy member's messages, and 12 tries stay well under 2 s.
    return retry.attempts(MAX_ATTEMPTS, base=0.005, cap=0.1)


def _delta(
    guild_id: str,
    user_id: str,
    amount: int,
    removing: bool,
    curve: Curve,
    *,
    source: str,
    note: Note | None,
    earned_at: int | None = None,
) -> Change:
    """Add (or remove) XP. Within a level this is one atomic UpdateItem that never conflicts; crossing a
    level, the exact values are written conditionally on the XP we were handed back."""
    sign = -1 if removing else 1
    for _ in _attempts():
        seen = _try_in_level(guild_id, user_id, amount, removing, note, earned_at=earned_at)
        if isinstance(seen, Change):
            return seen
        if seen is None and removing:
            raise NotFound(ErrorCode.USER_NOT_FOUND, f"User {user_id} has no XP record in guild {guild_id}")
        if seen is not None and _fits_in_level(seen, amount, removing):
            continue  # someone moved the member since; the atomic path applies again
        old_xp = int(seen["xp"]) if seen else 0
        new_xp = max(0, old_xp + sign * amount) if removing else _check_cap(old_xp + amount)
        try:
            _write_exact(guild_id, user_id, seen, new_xp, curve, source=source, note=note, earned_at=earned_at)
            return _change(seen, new_xp, curve)
        except _Landed as landed:
            return landed.change
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            continue  # refused: read again after a jittered pause
    raise Unavailable("The member is being updated concurrently; retry shortly")


def _fits_in_level(seen: dict[str, Any], amount: int, removing: bool) -> bool:
    if removing:
        return int(seen.get("inLevel", -1)) >= amount
    return int(seen.get("toNext", 0)) > amount and int(seen["xp"]) <= MAX_XP - amount


def _try_in_level(
    guild_id: str, user_id: str, amount: int, removing: bool, note: Note | None = None, *, earned_at: int | None = None
) -> Change | dict[str, Any] | None:
    """The atomic in-level update. Returns the change, or (when the guard fails) the current item/None."""
    if removing:
        expression = (
            "SET xp = xp - :a, inLevel = inLevel - :a, toNext = toNext + :a, score = score - :s, updatedAt = :now"
        )
        condition = "attribute_exists(PK) AND inLevel >= :a"
        values: dict[str, Any] = {}
    else:
        expression = (
            "SET xp = xp + :a, inLevel = inLevel + :a, toNext = toNext - :a, score = score + :s, updatedAt = :now"
        )
        condition = "toNext > :a AND xp <= :cap"
        values = {":cap": MAX_XP - amount}
        if earned_at is not None:
            expression += f", {EARNED_AT} = :eat"
            values[":eat"] = earned_at
    try:
        resp = _update(
            Key=keys.member(guild_id, user_id),
            UpdateExpression=expression,
            ConditionExpression=condition,
            ExpressionAttributeValues={":a": amount, ":s": amount * keys.SCORE_XP_UNIT, ":now": _now_ms(), **values},
            ReturnValues="ALL_OLD",
            note=note,
        )
    except _Landed as landed:
        return landed.change
    except ClientError as exc:
        if not is_condition_failure(exc):
            raise
        return plain(failed_item(exc))
    old = plain(resp["Attributes"])
    new_xp = int(old["xp"]) + (-amount if removing else amount)
    return Change(False, int(old["xp"]), new_xp, int(old["level"]), int(old["level"]))


def add(
    guild_id: str,
    user_id: str,
    amount: int,
    curve: Curve,
    *,
    source: str = LEVEL_GRANTED,
    note: Note | None = None,
    earned_at: int | None = None,
) -> Change:
    """Add XP (creates the member when absent). `source`: LEVEL_EARNED only for XP the member earned, with
    `earned_at` its time (Give XP: recorded as `earnedAt`). `note`: audit the change (and count it) from the stream."""
    return _delta(guild_id, user_id, amount, False, curve, source=source, note=note, earned_at=earned_at)


def remove(guild_id: str, user_id: str, amount: int, curve: Curve, *, note: Note | None = None) -> Change:
    """Remove XP, clamped at 0. A member without a record is USER_NOT_FOUND."""
    return _delta(guild_id, user_id, amount, True, curve, source=LEVEL_GRANTED, note=note)


def set_xp(guild_id: str, user_id: str, xp: int, curve: Curve, *, note: Note | None = None) -> Change:
    """Set XP to an exact value (creates the member when absent): one UpdateItem, guarded only by its write id."""
    try:
        resp = _update(
            Key=keys.member(guild_id, user_id),
            UpdateExpression=_SET_EXACT,
            ExpressionAttributeNames={"#level": "level"},
            ExpressionAttributeValues=_exact_values(guild_id, user_id, xp, curve, LEVEL_GRANTED),
            ReturnValues="ALL_OLD",
            note=note,
        )
    except _Landed as landed:
        return landed.change
    old = plain(resp.get("Attributes")) or None
    return _change(old, xp, curve)


def relevel(guild_id: str, user_id: str, curve: Curve) -> Change:
    """Recompute the stored level from total XP (repairs a stale cache after a curve change)."""
    for _ in _attempts():
        item = table().get_item(Key=keys.member(guild_id, user_id), ConsistentRead=True).get("Item")
        if not item:
            raise NotFound(ErrorCode.USER_NOT_FOUND, f"User {user_id} has no XP record in guild {guild_id}")
        seen = plain(item)
        xp = int(seen["xp"])
        p = curve.progress(xp)
        stored = (seen.get("level"), seen.get("inLevel"), seen.get("toNext"), seen.get("board"))
        if (p.level, p.in_level, p.to_next, keys.board_of(guild_id, p.level, curve.banded)) == stored:
            return _change(seen, xp, curve)
        try:
            # guarded by xp (an award wins) and level (another relevel won: its level change is counted)
            _write_exact(guild_id, user_id, seen, xp, curve, source=LEVEL_BY_RECALC, level_seen=True)
            return _change(seen, xp, curve)
        except _Landed as landed:
            return landed.change
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            continue  # refused: read again after a jittered pause
    raise Unavailable("The member is being updated concurrently; retry shortly")


def relevel_seen(guild_id: str, seen: dict[str, Any], curve: Curve) -> Change:
    """Bring an already-read member (a page of the recalculation) in line with `curve`: no write when it
    already is; otherwise one write guarded by the XP that was read, re-read and retried if an award won."""
    xp = int(seen["xp"])
    p = curve.progress(xp)
    user_id = str(seen.get("userId") or keys.user_id_from_member_sk(seen["SK"]))
    current = (seen.get("level"), seen.get("inLevel"), seen.get("toNext"), seen.get("score"), seen.get("board"))
    board = keys.board_of(guild_id, p.level, curve.banded)
    if current == (p.level, p.in_level, p.to_next, keys.score(xp, user_id), board):
        return _change(seen, xp, curve)
    try:
        # Guarded by the level read too: two passes over the guild at once (the schedule and a request) would
        # otherwise both report the same level change, and the recalculation would count it twice in the stats.
        _write_exact(guild_id, user_id, seen, xp, curve, source=LEVEL_BY_RECALC, level_seen=True)
        return _change(seen, xp, curve)
    except ClientError as exc:
        if not is_condition_failure(exc):
            raise
    return relevel(guild_id, user_id, curve)


def _with_display(
    expression: str, names: dict[str, str], values: dict[str, Any], display: Display | None
) -> tuple[str, dict[str, str], dict[str, Any]]:
    """`expression` (a SET clause) also writing the display data that came with the message: a SET per value
    given, a REMOVE per value given as None; attributes not given are left as stored. Same write: no request
    of its own."""
    sets: list[str] = []
    removes: list[str] = []
    names, values = dict(names), dict(values)
    for n, attr in enumerate(DISPLAY_ATTRIBUTES):
        if not display or attr not in display:
            continue
        names[f"#d{n}"] = attr
        value = display[attr]
        if value is None:
            removes.append(f"#d{n}")
        else:
            sets.append(f"#d{n} = :d{n}")
            values[f":d{n}"] = value
    if sets:
        expression += ", " + ", ".join(sets)
    if removes:
        expression += " REMOVE " + ", ".join(removes)
    return expression, names, values


@dataclass(frozen=True, slots=True)
class MessageCount:
    """The outcome of one message: `counted` False for a message already counted (a redelivery)."""

    counted: bool
    awarded: int
    change: Change | None
    xp_message: bool = False  # the award path applied (outside cooldown and no-XP rules)


def _create_defaults(guild_id: str, user_id: str, curve: Curve) -> tuple[str, dict[str, Any]]:
    """SET clauses that give a member created by this write the fields of a member at 0 XP."""
    return (
        "userId = :uid, guildId = :gid, xp = if_not_exists(xp, :zero), #level = if_not_exists(#level, :zero), "
        "inLevel = if_not_exists(inLevel, :zero), toNext = if_not_exists(toNext, :first), "
        "score = if_not_exists(score, :s0), board = if_not_exists(board, :b0), "
        "xpMessages = if_not_exists(xpMessages, :zero), createdAt = if_not_exists(createdAt, :now), updatedAt = :now",
        {
            ":uid": user_id,
            ":gid": guild_id,
            ":zero": 0,
            ":first": curve.xp_for_level(1),
            ":s0": keys.score(0, user_id),
            ":b0": keys.board(guild_id, 0),
            ":now": _now_ms(),
        },
    )


# Messages are deduplicated by `lastMessageId`, commands (interactions) by `lastInteractionId`: both are
# snowflakes, but relayed messages reach us later than interactions, so one watermark would drop them.
_NEW_MESSAGE = "(attribute_not_exists(#lastId) OR #lastId < :mid)"
MESSAGE_ID_ATTR = "lastMessageId"
INTERACTION_ID_ATTR = "lastInteractionId"


def _earned_attr(id_attr: str) -> str:
    """Where a rewarded message or command records its time: its own attribute per watermark, so that it only
    grows (each is counted in id order) and a late message never moves a command's or Give XP's time back."""
    return COMMAND_EARNED_AT if id_attr == INTERACTION_ID_ATTR else MESSAGE_EARNED_AT


def _count_only(
    guild_id: str,
    user_id: str,
    message_id: int,
    curve: Curve,
    in_cooldown_since: int | None,
    *,
    id_attr: str,
    display: Display | None = None,
) -> dict[str, Any] | Change:
    """Count the message without XP (no-XP rule, or still in cooldown). Returns the change, or the item seen
    when the guard failed."""
    defaults, values = _create_defaults(guild_id, user_id, curve)
    values.update({":one": 1, ":mid": message_id})
    condition = _NEW_MESSAGE
    if in_cooldown_since is not None:  # only while the cooldown still runs; otherwise the award path decides
        condition += " AND lastAwardedAt > :edge"
        values[":edge"] = in_cooldown_since
    expression, names, values = _with_display(
        f"SET messages = if_not_exists(messages, :zero) + :one, #lastId = :mid, {defaults}",
        {"#level": "level", "#lastId": id_attr},
        values,
        display,
    )
    try:
        resp = _update(
            Key=keys.member(guild_id, user_id),
            UpdateExpression=expression,
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_OLD",
        )
    except _Landed as landed:
        return landed.change
    except ClientError as exc:
        if not is_condition_failure(exc):
            raise
        return plain(failed_item(exc)) or {}
    old = plain(resp.get("Attributes")) or None
    if old is None:
        return Change(True, 0, 0, 0, 0)
    return Change(False, int(old["xp"]), int(old["xp"]), int(old["level"]), int(old["level"]))


def count_message(
    guild_id: str,
    user_id: str,
    message_id: str,
    *,
    at_ms: int,
    xp: int | None,
    cooldown_ms: int,
    curve: Curve,
    id_attr: str = MESSAGE_ID_ATTR,
    display: Display | None = None,
) -> MessageCount:
    """Count a message once (by message id: Discord ids grow with time, and a member's messages arrive in
    order on a FIFO queue group) and award `xp` unless in cooldown. Each attempt is one guarded UpdateItem;
    an award inside the current level is the only write. `display`: the member's display data that came
    with the message, written by that same UpdateItem (see xpshop.display)."""
    try:
        return _count_message(
            guild_id,
            user_id,
            message_id,
            at_ms=at_ms,
            xp=xp,
            cooldown_ms=cooldown_ms,
            curve=curve,
            id_attr=id_attr,
            display=display,
        )
    except _Landed as landed:  # an award that an earlier send of the same request applied
        change = landed.change
        return MessageCount(True, change.new_xp - change.old_xp, change, xp_message=True)


def _count_message(
    guild_id: str,
    user_id: str,
    message_id: str,
    *,
    at_ms: int,
    xp: int | None,
    cooldown_ms: int,
    curve: Curve,
    id_attr: str = MESSAGE_ID_ATTR,
    display: Display | None = None,
) -> MessageCount:
    mid = int(message_id)
    edge = at_ms - cooldown_ms
    for _ in _attempts():
        if xp is None:
            outcome = _count_only(guild_id, user_id, mid, curve, None, id_attr=id_attr, display=display)
            if isinstance(outcome, Change):
                return MessageCount(True, 0, outcome)
            return MessageCount(False, 0, None)  # the guard only checks the message id: already counted
        expression, names, values = _with_display(
            "SET xp = xp + :a, inLevel = inLevel + :a, toNext = toNext - :a, score = score + :s, "
            "messages = messages + :one, xpMessages = xpMessages + :one, lastAwardedAt = :at, "
            "#lastId = :mid, updatedAt = :at, #earned = :at",
            {"#lastId": id_attr, "#earned": _earned_attr(id_attr)},
            {
                ":a": xp,
                ":s": xp * keys.SCORE_XP_UNIT,
                ":one": 1,
                ":at": at_ms,
                ":mid": mid,
                ":edge": edge,
                ":cap": MAX_XP - xp,
            },
            display,
        )
        try:
            resp = _update(
                Key=keys.member(guild_id, user_id),
                UpdateExpression=expression,
                ConditionExpression=f"{_NEW_MESSAGE} AND (attribute_not_exists(lastAwardedAt) OR "
                "lastAwardedAt <= :edge) AND toNext > :a AND xp <= :cap",
                ExpressionAttributeValues=values,
                ExpressionAttributeNames=names,
                ReturnValues="ALL_OLD",
            )
            old = plain(resp["Attributes"])
            change = Change(False, int(old["xp"]), int(old["xp"]) + xp, int(old["level"]), int(old["level"]))
            return MessageCount(True, xp, change, xp_message=True)
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            seen = plain(failed_item(exc))
        if seen and seen.get(id_attr) is not None and int(seen[id_attr]) >= mid:
            return MessageCount(False, 0, None)  # a redelivery
        if seen and seen.get("lastAwardedAt") is not None and int(seen["lastAwardedAt"]) > edge:
            outcome = _count_only(  # in cooldown: count, no XP
                guild_id, user_id, mid, curve, edge, id_attr=id_attr, display=display
            )
            if isinstance(outcome, Change):
                return MessageCount(True, 0, outcome)
            continue  # the member changed in between: decide again
        new_xp = min((int(seen["xp"]) if seen else 0) + xp, MAX_XP)
        values = _exact_values(guild_id, user_id, new_xp, curve, LEVEL_EARNED)  # a message or command: earned
        values.update({":one": 1, ":at": at_ms, ":mid": mid})
        if seen:
            condition = "xp = :seen AND " + _NEW_MESSAGE
            values[":seen"] = seen["xp"]
        else:
            condition = "attribute_not_exists(PK)"
        expression, names, values = _with_display(
            _SET_EXACT_MESSAGE,
            {"#level": "level", "#lastId": id_attr, "#earned": _earned_attr(id_attr)},
            values,
            display,
        )
        try:
            _update(
                Key=keys.member(guild_id, user_id),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
            awarded = new_xp - (int(seen["xp"]) if seen else 0)
            return MessageCount(True, awarded, _change(seen, new_xp, curve), xp_message=True)
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            continue  # refused: read again after a jittered pause
    raise Unavailable("The member is being updated concurrently; retry shortly")


def set_hidden(guild_id: str, user_id: str, hidden: bool, curve: Curve) -> bool:
    """Record the member's privacy choice in one UpdateItem, no read first; True when that write created the
    member. Hiding a member without a record creates it at 0 XP, so the choice holds from their first
    message on; showing one only removes the flag (absent means shown), so it never creates a record."""
    key = keys.member(guild_id, user_id)
    if not hidden:
        try:
            table().update_item(
                Key=key,
                UpdateExpression="REMOVE #hidden",  # HIDDEN is one of DynamoDB's reserved words
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeNames={"#hidden": "hidden"},
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
        return False
    defaults, values = _create_defaults(guild_id, user_id, curve)
    resp = table().update_item(
        Key=key,
        UpdateExpression=f"SET #hidden = :hidden, messages = if_not_exists(messages, :zero), {defaults}",
        ExpressionAttributeNames={"#level": "level", "#hidden": "hidden"},
        ExpressionAttributeValues={**values, ":hidden": True},
        ReturnValues="ALL_OLD",
    )
    return not resp.get("Attributes")


# ---------------------------------------------------------------- reset on leave or ban, forgetting


@dataclass(frozen=True, slots=True)
class Reset:
    """The outcome of a member event: `first` False for an event id seen before (nothing written);
    `change` the XP going to 0 (None: nothing to reset, or not asked to); `stale` True when the member
    earned XP after the event's time, or an earlier reset covered it (nothing reset)."""

    first: bool
    change: Change | None
    stale: bool = False


# A member event is applied only while the member's item agrees that nothing happened after it: no XP
# earned after its time (every one of EARNED_TIMES at or before it; items from before any of them carry only
# `lastAwardedAt`) and no reset by an event stamped at or after it. Part of the reset's own condition, so a
# message landing between the read and the write makes the write fail (and the event is then judged again
# from the item).
_NOT_STALE = " AND ".join(
    [f"(attribute_not_exists({name}) OR {name} <= :evat)" for name in EARNED_TIMES]
    + [
        "("
        + " OR ".join(f"attribute_exists({name})" for name in EARNED_TIMES)
        + " OR attribute_not_exists(lastAwardedAt) OR lastAwardedAt <= :evat)",
        f"(attribute_not_exists({RESET_AT}) OR {RESET_AT} < :evat)",
    ]
)


def _last_earned_at(item: dict[str, Any]) -> int | None:
    """When the member last earned XP, as _NOT_STALE judges it: the latest of EARNED_TIMES, or on an item from
    before them, `lastAwardedAt`; None when never."""
    times = [int(item[name]) for name in EARNED_TIMES if item.get(name) is not None]
    if not times and item.get("lastAwardedAt") is not None:
        times.append(int(item["lastAwardedAt"]))
    return max(times) if times else None


def _is_stale(item: dict[str, Any], at_ms: int) -> bool:
    """What _NOT_STALE refuses, judged on an item read. Every one of those times only grows (each on its own),
    so a stale event stays stale."""
    earned = _last_earned_at(item)
    reset_at = item.get(RESET_AT)
    return (earned is not None and earned > at_ms) or (reset_at is not None and int(reset_at) >= at_ms)


def reset_once(
    guild_id: str,
    user_id: str,
    event_id: str,
    event_type: str,
    curve: Curve,
    *,
    at_ms: int,
    reset: bool,
    note: Note | None = None,
) -> Reset:
    """Record a member event once per event id and, when `reset`, take the member's XP (and level) to 0 in
    the same TransactWriteItems: the event's once-marker (`attribute_not_exists`) and the member, guarded by
    the XP read just before and by the event not being stale (`at_ms`, the event's time, not before the
    member's last earned XP or last reset: _NOT_STALE); a concurrent write makes it read and try again. The
    reset records `at_ms` as `resetAt`. A member without a record, already at 0 XP, or for whom the event is
    stale only gets the marker (a member at 0 XP or without a record still guards it: an award landing
    meanwhile is judged with it). Message counts, display data and privacy are kept: a member who comes back
    starts from 0 XP, not as a stranger. `note`: the reset is audited (and counted) from the stream, as an XP
    change through the API is."""
    member_key = keys.member(guild_id, user_id)
    for _ in _attempts():
        seen, stale = None, False
        if reset:
            item = table().get_item(Key=member_key, ConsistentRead=True).get("Item")
            seen = plain(item) if item else None
            stale = seen is not None and _is_stale(seen, at_ms)
        marker = {
            **keys.once(guild_id, keys.MEMBER_EVENT, event_id),
            "type": event_type,
            "at": _now_ms(),
            "eventAt": at_ms,
            "ttl": _now_ms() // 1000 + ONCE_TTL_SECONDS,
        }
        if stale:
            marker["stale"] = True
        items = [tx.put(marker, "attribute_not_exists(PK)")]
        if reset and not stale and seen is None:
            items.append(tx.check(member_key, "attribute_not_exists(PK)"))
        elif reset and not stale and seen is not None and int(seen.get("xp", 0)) <= 0:
            items.append(tx.check(member_key, f"xp = :seen AND {_NOT_STALE}", values={":seen": 0, ":evat": at_ms}))
        elif reset and not stale and seen is not None:
            values = _exact_values(guild_id, user_id, 0, curve, LEVEL_GRANTED)
            values.update({":seen": seen["xp"], ":evat": at_ms})
            expression = f"{_SET_EXACT}, {RESET_AT} = :evat"
            if note is not None:  # a new write id: the stream tells this change from the last noted one
                wid = write_id()
                expression += f", wid = :wid, {LAST_CHANGE} = :lc"
                values.update({":wid": wid, ":lc": last_change(note, wid, int(values[":now"]))})
            guard = f"xp = :seen AND {_NOT_STALE}"
            items.append(tx.update(member_key, expression, guard, names={"#level": "level"}, values=values))
        try:
            tx.write(items)
        except tx.Cancelled as exc:
            if exc.failed(0):
                return Reset(False, None)  # seen before: a redelivery, or the relay sent it twice
            if exc.failed(1):
                continue  # the member moved since it was read: judge the event again
            raise
        if stale:
            return Reset(True, None, stale=True)
        changed = seen is not None and int(seen.get("xp", 0)) > 0
        return Reset(True, _change(seen, 0, curve) if changed else None)
    raise Unavailable("The member is being updated concurrently; retry shortly")


@dataclass(frozen=True, slots=True)
class Removed:
    """A member item deleted: what it held, for the counters."""

    xp: int
    level: int
    messages: int
    xp_messages: int


def delete(guild_id: str, user_id: str) -> Removed | None:
    """Delete a member's item (XP, counts, display data, privacy choice) in one conditional DeleteItem that
    hands back what it held; None when there was none."""
    # Conditional, so that of two deletes racing only one is handed the item (DynamoDB Local hands it to
    # both without the condition, which would take the member out of the counters twice).
    try:
        resp = table().delete_item(
            Key=keys.member(guild_id, user_id), ConditionExpression="attribute_exists(PK)", ReturnValues="ALL_OLD"
        )
    except ClientError as exc:
        if is_condition_failure(exc):
            return None
        raise
    old = plain(resp.get("Attributes"))
    if not old:
        return None
    return Removed(
        xp=int(old.get("xp", 0)),
        level=int(old.get("level", 0)),
        messages=int(old.get("messages", 0)),
        xp_messages=int(old.get("xpMessages", 0)),
    )


# ---------------------------------------------------------------- a member's messages, one write for a run


@dataclass(frozen=True, slots=True)
class Message:
    """One message of a member to count: its id (a snowflake), its time, the XP it earns when outside the
    cooldown (None: a no-XP channel or role), the cooldown, and the display data that came with it."""

    message_id: int
    at_ms: int
    xp: int | None
    cooldown_ms: int
    display: Display | None = None
    # When it was written (its own timestamp, not after its arrival): recorded as the member's `messageEarnedAt`
    # when it earns, which a late leave or ban is judged stale by. `at_ms` may be later (arrival - 1 h at least).
    written_ms: int | None = None


@dataclass(frozen=True, slots=True)
class _State:
    """What decides how a member's next messages count: as the table handed it back, or as this container
    last wrote it (a guess: every write is guarded, so a wrong one only costs a failed write)."""

    exists: bool
    xp: int = 0
    to_next: int = 0
    last_id: int | None = None
    last_awarded: int | None = None

    @classmethod
    def of(cls, item: dict[str, Any] | None, id_attr: str) -> _State:
        if not item:
            return cls(False)
        last_id, last_awarded = item.get(id_attr), item.get("lastAwardedAt")
        return cls(
            True,
            int(item.get("xp", 0)),
            int(item.get("toNext", 0)),
            int(last_id) if last_id is not None else None,
            int(last_awarded) if last_awarded is not None else None,
        )


@dataclass(slots=True)
class _Plan:
    """How a run of messages counts from a state (or, without one, on the guess that the first message is
    new and out of cooldown), and the guard under which the table agrees with that."""

    awards: list[int | None]  # per message: XP awarded (an award), None (counted without XP), or dups below
    counted: list[bool]
    last_id: int | None = None
    last_awarded: int | None = None
    last_earned: int | None = None  # the latest written time of an award (recorded as messageEarnedAt)
    total: int = 0
    in_cooldown_edge: int | None = None  # the latest cooldown edge of messages found in cooldown before an award
    award_edge: int | None = None  # the cooldown edge of the first award
    capped: bool = False  # an award cut short by MAX_XP (only an exact write can say so)

    @property
    def awarded(self) -> int:
        return sum(1 for a in self.awards if a is not None)


def _plan(state: _State | None, run: list[Message]) -> _Plan:
    """Apply `run` one message at a time, as the single-message path would, from `state` (None: the guess)."""
    plan = _Plan([], [])
    last_id = state.last_id if state else None
    last_awarded = state.last_awarded if state else None
    xp = state.xp if state else 0
    decided = state is not None  # whether last_awarded is known (the guess: the first award is due)
    for m in run:
        if last_id is not None and m.message_id <= last_id:
            plan.counted.append(False)
            plan.awards.append(None)
            continue
        last_id = m.message_id
        plan.counted.append(True)
        if m.xp is None:
            plan.awards.append(None)
            continue
        edge = m.at_ms - m.cooldown_ms
        if decided and last_awarded is not None and last_awarded > edge:
            if plan.award_edge is None:  # before the first award: it depends on the stored award time
                plan.in_cooldown_edge = max(edge, plan.in_cooldown_edge or edge)
            plan.awards.append(None)
            continue
        if plan.award_edge is None:
            plan.award_edge = edge
        decided = True
        amount = min(m.xp, MAX_XP - xp) if state else m.xp  # the guess: the guard keeps it under the cap
        plan.capped = plan.capped or amount != m.xp
        xp += amount
        plan.total += amount
        plan.awards.append(amount)
        last_awarded = m.at_ms
        written = m.written_ms if m.written_ms is not None else m.at_ms
        plan.last_earned = max(written, plan.last_earned or written)
    plan.last_id = last_id
    plan.last_awarded = last_awarded
    return plan


def _run_display(run: list[Message], counted: list[bool]) -> dict[str, str | None]:
    """The display data the counted messages write, one after the other: the latest given value of each."""
    merged: dict[str, str | None] = {}
    for m, c in zip(run, counted, strict=True):
        if c and m.display:
            merged.update(m.display)
    return merged


# #earned: the run's earned time, in its watermark's own attribute (_earned_attr).
_SET_EXACT_RUN = (
    f"{_SET_LEVELLED}, messages = if_not_exists(messages, :zero) + :n, "
    "xpMessages = if_not_exists(xpMessages, :zero) + :k, lastAwardedAt = :at, #lastId = :mid, #earned = :eat"
)
_SET_IN_LEVEL_RUN = (
    "SET xp = xp + :a, inLevel = inLevel + :a, toNext = toNext - :a, score = score + :s, "
    "messages = if_not_exists(messages, :zero) + :n, xpMessages = if_not_exists(xpMessages, :zero) + :k, "
    "lastAwardedAt = :at, #lastId = :mid, updatedAt = :upd, #earned = :eat"
)

# The state this container last wrote per member (guild, user, id attribute): picks the first write's shape.
_KNOWN_MAX = 10_000
_known: OrderedDict[tuple[str, str, str], _State] = OrderedDict()
_known_lock = threading.Lock()


def _recall(key: tuple[str, str, str]) -> _State | None:
    with _known_lock:
        state = _known.get(key)
        if state is not None:
            _known.move_to_end(key)
        return state


def _remember(key: tuple[str, str, str], state: _State | None) -> None:
    with _known_lock:
        if state is None:
            _known.pop(key, None)
            return
        _known[key] = state
        _known.move_to_end(key)
        while len(_known) > _KNOWN_MAX:
            _known.popitem(last=False)


def forget_known() -> None:
    """Drop what this container remembers of members' last writes (tests; nothing depends on it)."""
    with _known_lock:
        _known.clear()


def count_messages(
    guild_id: str, user_id: str, run: list[Message], *, curve: Curve, id_attr: str = MESSAGE_ID_ATTR
) -> list[MessageCount]:
    """Count a member's messages (in their queue order) in ONE guarded UpdateItem, with exactly the outcome of
    `count_message` applied to each in turn: each counted once by id, XP for those outside the cooldown
    (the cooldown judged from the previous award, of this run or stored), the level, the award time, the
    last message id and the display data of the latest message.

    The write's shape comes from what is known of the member: what this container's last write of it left
    (kept in a small cache), else the guess that the first message is new and due an award (the common case
    for a member not seen lately). Its condition holds exactly when the table agrees with what the outcome
    was computed from; when it does not, DynamoDB hands the item back and the run is computed again from it
    (a second write). Nothing depends on the cache being right: several containers, redeliveries and other
    writers only make the guard fail."""
    if not run:
        return []
    key = (guild_id, user_id, id_attr)
    state, verified = _recall(key), False
    pauses = _attempts()
    next(pauses)  # the first try has no pause
    while True:
        plan = _plan(state, run)
        if not any(plan.counted):
            if verified:  # every message was counted before (the table said so): nothing to write
                return [MessageCount(False, 0, None) for _ in run]
            state = None  # the cache says duplicates: only the table can say so (the member may be new again)
            plan = _plan(state, run)
        try:
            old, form = _write_run(guild_id, user_id, run, plan, state=state, curve=curve, id_attr=id_attr)
        except _Landed as landed:  # an earlier send of this same write was applied
            _remember(key, None)
            c = landed.change
            return _outcomes(run, plan, None if c.created else (c.old_xp, c.old_level), curve, exact=True)
        except ClientError as exc:
            _remember(key, None)
            if not is_condition_failure(exc):
                raise
            if verified:  # the member changed between two writes: pause (jittered) and decide again
                try:
                    next(pauses)
                except StopIteration:
                    raise Unavailable("The member is being updated concurrently; retry shortly") from None
            state, verified = _State.of(plain(failed_item(exc)), id_attr), True
            continue
        except Exception:
            _remember(key, None)
            raise
        before = (int(old["xp"]), int(old["level"])) if old else None
        outcomes = _outcomes(run, plan, before, curve, exact=form == "exact")
        _remember(key, _after(old, plan, form, curve))
        return outcomes


def _write_run(
    guild_id: str,
    user_id: str,
    run: list[Message],
    plan: _Plan,
    *,
    state: _State | None,
    curve: Curve,
    id_attr: str,
) -> tuple[dict[str, Any] | None, str]:
    """The run's one UpdateItem under the guard of `plan`; the item as it was before (None: created) and the
    write's form ("count": no award, "in-level": awards inside the level, "exact": exact values written)."""
    first = next(m.message_id for m, c in zip(run, plan.counted, strict=True) if c)
    n = sum(plan.counted)
    conditions: list[str] = []
    values: dict[str, Any] = {":mid": plan.last_id, ":n": n}
    if state is None or state.last_id is None or state.last_id < first:
        conditions.append(_NEW_MESSAGE.replace(":mid", ":from"))  # then the run alone decides what counts
        values[":from"] = first
    elif state.last_id is not None:
        conditions.append("#lastId = :sid")
        values[":sid"] = state.last_id
    if plan.in_cooldown_edge is not None:  # messages found in cooldown before any award of the run
        conditions.append("lastAwardedAt > :cool")
        values[":cool"] = plan.in_cooldown_edge
    if plan.award_edge is not None:
        conditions.append("(attribute_not_exists(lastAwardedAt) OR lastAwardedAt <= :due)")
        values[":due"] = plan.award_edge
    names = {"#level": "level", "#lastId": id_attr}
    if plan.awarded:
        names["#earned"] = _earned_attr(id_attr)
    if not plan.awarded:
        form = "count"
        defaults, more = _create_defaults(guild_id, user_id, curve)
        values.update(more)
        expression = f"SET messages = if_not_exists(messages, :zero) + :n, #lastId = :mid, {defaults}"
    elif state is None or (state.exists and state.to_next > plan.total and not plan.capped):
        form = "in-level"  # the same increments as one award inside the level, summed
        conditions.append("toNext > :a AND xp <= :cap")
        last_counted = max(i for i, c in enumerate(plan.counted) if c)
        values.update(
            {
                ":a": plan.total,
                ":s": plan.total * keys.SCORE_XP_UNIT,
                ":cap": MAX_XP - plan.total,
                ":k": plan.awarded,
                ":at": plan.last_awarded,
                ":eat": plan.last_earned,
                # as the last message's own write would set it: its time for an award, now for a count
                ":upd": run[last_counted].at_ms if plan.awards[last_counted] is not None else _now_ms(),
            }
        )
        expression = _SET_IN_LEVEL_RUN
    else:
        form = "exact"  # a level crossed, the cap reached, or a new member
        values.update(_exact_values(guild_id, user_id, state.xp + plan.total, curve, LEVEL_EARNED))
        values.update({":k": plan.awarded, ":at": plan.last_awarded, ":eat": plan.last_earned})
        expression = _SET_EXACT_RUN
        if state.exists:
            conditions.append("xp = :seen")
            values[":seen"] = state.xp
        else:
            conditions.append("attribute_not_exists(PK)")
            first_counted = plan.counted.index(True)
            if plan.awards[first_counted] is None and curve.level(plan.total) == 0:
                # one at a time, a count would create the member and the awards stay in level 0: no level
                # was set by an award, so none is recorded as earned
                expression = expression.replace(", levelSource = :src", "", 1)
                values.pop(":src")
    expression, names, values = _with_display(expression, names, values, _run_display(run, plan.counted))
    resp = _update(
        Key=keys.member(guild_id, user_id),
        UpdateExpression=expression,
        ConditionExpression=" AND ".join(conditions),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
        ReturnValues="ALL_OLD",
    )
    return plain(resp.get("Attributes")) or None, form


def _outcomes(
    run: list[Message], plan: _Plan, before: tuple[int, int] | None, curve: Curve, *, exact: bool
) -> list[MessageCount]:
    """Each message's outcome as if written alone: the XP and level it took the member from and to."""
    xp, level = before if before else (0, 0)
    created = before is None
    out: list[MessageCount] = []
    for counted, award in zip(plan.counted, plan.awards, strict=True):
        if not counted:
            out.append(MessageCount(False, 0, None))
            continue
        new_xp = xp + (award or 0)
        new_level = curve.level(new_xp) if exact and award is not None else level
        out.append(MessageCount(True, award or 0, Change(created, xp, new_xp, level, new_level), award is not None))
        xp, level, created = new_xp, new_level, False
    return out


def _after(old: dict[str, Any] | None, plan: _Plan, form: str, curve: Curve) -> _State:
    """The member as the run's write left it (what the next run of this container guesses from)."""
    before = _State.of(old, MESSAGE_ID_ATTR)  # its XP, toNext and award time (the last id comes from the plan)
    xp = before.xp + plan.total
    if form == "exact":
        to_next = curve.progress(xp).to_next
    elif old is None:
        to_next = curve.xp_for_level(1)
    else:
        to_next = before.to_next - plan.total
    last_awarded = plan.last_awarded if plan.awarded else before.last_awarded
    return _State(True, xp, to_next, plan.last_id, last_awarded)
