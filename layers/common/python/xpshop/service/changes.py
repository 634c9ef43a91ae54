"""The audit trail and the guild counters of XP changes made through the API, /xp and member events, from
the table's stream (the rank index function's other work, beside the rank counters).

Such a change is one write to the member that also stores a note (`lastChange`: write id, time, source,
reason; store/members.py). Its stream record carries that note in the new image and the XP and level
before and after in the two images: everything the audit record and the counter deltas need. A record is
a noted change when its new image's note has the write id of that very write (the item's `wid` changed
with it): later writes that keep the old note (a message, a privacy choice) are not audited again.

A member forgotten (its item deleted) a moment after a change may have that change's record written after
the forget removed the others: the item's REMOVE record, which follows, strips the member's records up to
the last noted change the item held down to tombstones (key and a short TTL: a redelivery still finds them).

Exactly once: the audit record is keyed by the write id and written only if absent, in the same
transaction as the counter deltas (store/audit.py), so a batch delivered again, or retried after failing
midway, adds nothing twice; records of one member split over two shards are still each applied once, in
whatever order they come, as the deltas add up in any order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..store import audit, keys
from ..store.audit import Noted
from ..store.members import LAST_CHANGE, Change
from ..store.table import plain
from . import bands


def noted(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> tuple[str, Noted] | None:
    """(guild id, the change) when this record is a noted change of a member, else None."""
    if not new or not str(new.get("SK", "")).startswith(keys.MEMBER_PREFIX):
        return None
    new, old = plain(dict(new)), plain(dict(old)) if old else None
    note, wid = new.get(LAST_CHANGE), new.get("wid")
    if not isinstance(note, dict) or wid is None or note.get("wid") != wid:
        return None
    if old and old.get("wid") == wid:
        return None  # a later write that kept the item's write id (and so its note): not a change of XP
    change = Change(
        created=old is None,
        old_xp=int(old.get("xp", 0)) if old else 0,
        new_xp=int(new.get("xp", 0)),
        old_level=int(old.get("level", 0)) if old else 0,
        new_level=int(new.get("level", 0)),
    )
    guild_id = str(new.get("guildId") or keys.guild_id_from_pk(str(new["PK"])))
    user_id = str(new.get("userId") or keys.user_id_from_member_sk(str(new["SK"])))
    return guild_id, Noted(user_id, change, note)


def apply_records(records: Iterable[tuple[str, Mapping[str, Any] | None, Mapping[str, Any] | None]]) -> int:
    """(sequence number, old image, new image) in stream order -> the audit records and counter deltas of
    the noted changes among them, each written once (one transaction per guild for up to 99 changes).
    Returns how many were written now (those an earlier delivery wrote are not counted)."""
    by_guild: dict[str, list[Noted]] = {}
    forgotten: list[tuple[str, str, int]] = []
    for _, old, new in records:
        found = noted(old, new)
        if found is not None:
            by_guild.setdefault(found[0], []).append(found[1])
        elif gone := _forgotten(old, new):
            forgotten.append(gone)
    written = 0
    for guild_id, changes in by_guild.items():
        written += audit.record_changes(guild_id, changes)
        if any(n.change.created for n in changes):  # members added through the API: a grown guild is marked
            bands.counted_by_stream(guild_id, changes[0].user_id)
    for guild_id, user_id, at_ms in forgotten:  # after the records: one written just after a forget goes too
        audit.forget_through(guild_id, user_id, at_ms)
    return written


def _forgotten(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> tuple[str, str, int] | None:
    """(guild, user, time of its last noted change) for a member item deleted (forgotten) that had one."""
    if new or not old or not str(old.get("SK", "")).startswith(keys.MEMBER_PREFIX):
        return None
    note = plain(old.get(LAST_CHANGE))
    if not isinstance(note, dict) or note.get("at") is None:
        return None
    guild_id = str(old.get("guildId") or keys.guild_id_from_pk(str(old["PK"])))
    user_id = str(old.get("userId") or keys.user_id_from_member_sk(str(old["SK"])))
    return guild_id, user_id, int(note["at"])
