"""Hold each member's messages together for a while before they are queued (`RELAY_MEMBER_WINDOW`).

Why: the backend counts a member's messages of one request (and consecutive records of one delivery) with one
write on the member, whatever their number and however many cooldowns they span (cooldowns go by each
message's own timestamp). A busy guild's requests fill up in about two seconds, so most of a member's
messages are written one request at a time, and every award is its own write (the member and its index
entry: 3 write units). Held together for longer than the cooldown, one write carries several awards, and the
requests, queue records, invocations and log lines shrink with it. XP does not change; it shows up to the
window later (the level-up announcement too). docs/PERFORMANCE.md, "Cost to run", measures it.

`MemberHold` is plain data with explicit clocks (no asyncio), so the forwarder and the cost bench run the same
rules: a member's group opens with their first held message and is released whole when that message has
waited `window` seconds, when the group holds `max_group` messages, or, oldest group first, when all groups
together hold `max_held` (memory stays bounded whatever the rate). `release` lets one member's group go at once
(before their leave or ban), `drain` everything (stop).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

Event = dict[str, Any]
MAX_WINDOW = 900.0  # seconds: far inside the backend's 7 days; longer only delays XP for no further saving


def member_key(event: Mapping[str, Any]) -> tuple[str, str]:
    return str(event.get("guildId")), str(event.get("userId"))


class MemberHold:
    """Groups of held messages per (guild, member), oldest group first."""

    def __init__(self, window: float, *, max_group: int = 100, max_held: int = 10_000) -> None:
        if not 0 < window <= MAX_WINDOW:
            raise ValueError(f"the member window must be above 0 and at most {MAX_WINDOW:g} seconds")
        if max_group < 1 or max_held < 1:
            raise ValueError("max_group and max_held must be >= 1")
        self.window = window
        self.max_group = max_group
        self.max_held = max_held
        # key -> (time the group's first message was held, its messages in arrival order); insertion order is
        # opening order, so the first group is always the next one due
        self._groups: OrderedDict[tuple[str, str], tuple[float, list[Event]]] = OrderedDict()
        self._held = 0

    def __len__(self) -> int:
        return self._held

    def add(self, event: Event, now: float) -> list[Event]:
        """Hold `event`; return what must go now instead of waiting (a full group, or the oldest groups when the
        hold is full), in order."""
        key = member_key(event)
        group = self._groups.get(key)
        if group is None:
            group = (now, [])
            self._groups[key] = group
        group[1].append(event)
        self._held += 1
        released: list[Event] = []
        if len(group[1]) >= self.max_group:
            released += self._release(key)
        while self._held > self.max_held and self._groups:
            released += self._release(next(iter(self._groups)))
        return released

    def next_due(self) -> float | None:
        """When the oldest group is due (monotonic time, as given to `add`), None when nothing is held."""
        if not self._groups:
            return None
        opened, _ = next(iter(self._groups.values()))
        return opened + self.window

    def due(self, now: float) -> list[Event]:
        """Release every group whose first message has waited the window, oldest first, each group whole."""
        released: list[Event] = []
        while self._groups:
            key, (opened, _) = next(iter(self._groups.items()))
            if opened + self.window > now:
                break
            released += self._release(key)
        return released

    def release(self, key: tuple[str, str]) -> list[Event]:
        """Release one member's group now (empty when nothing of theirs is held)."""
        return self._release(key) if key in self._groups else []

    def drain(self) -> list[Event]:
        """Release everything held, oldest group first."""
        released: list[Event] = []
        while self._groups:
            released += self._release(next(iter(self._groups)))
        return released

    def _release(self, key: tuple[str, str]) -> list[Event]:
        _, events = self._groups.pop(key)
        self._held -= len(events)
        return events
