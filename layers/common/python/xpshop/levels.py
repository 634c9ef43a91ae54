"""Level curve math. Pure functions; the level is always derived from total XP.

XP needed to go from level L-1 to L is a*L^2 + b*L + c (default 5, 50, 100: 0->1 = 155, 1->2 = 220).
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_XP = 10**15 - 1  # keeps the leaderboard score inside DynamoDB's 38-digit numbers


@dataclass(frozen=True, slots=True)
class Curve:
    a: int = 5
    b: int = 50
    c: int = 100
    # The guild's leaderboard band layout (store.keys: False for its single band, True for the fine bands of
    # a guild past keys.FINE_BANDS_FROM members). Not the curve's math: it travels with the curve because
    # every writer of a level and every reader of a page has the guild's curve at hand (service.curves),
    # so knowing it costs no request. Not compared: two curves with the same a, b, c level alike.
    banded: bool = field(default=False, compare=False)

    def xp_for_level(self, level: int) -> int:
        """XP needed to go from level-1 to level."""
        if level <= 0:
            return 0
        return self.a * level * level + self.b * level + self.c

    def total_xp_for_level(self, level: int) -> int:
        """Cumulative XP at the start of `level` (closed form of the sum of xp_for_level(1..level))."""
        if level <= 0:
            return 0
        n = level
        return self.a * n * (n + 1) * (2 * n + 1) // 6 + self.b * n * (n + 1) // 2 + self.c * n

    def progress(self, total_xp: int) -> Progress:
        """Level, XP into that level, and XP still needed for the next one."""
        xp = max(0, int(total_xp))
        lo, hi = 0, 1
        while self.total_xp_for_level(hi) <= xp:  # exponential search keeps it O(log level)
            lo, hi = hi, hi * 2
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self.total_xp_for_level(mid) <= xp:
                lo = mid
            else:
                hi = mid
        start = self.total_xp_for_level(lo)
        return Progress(level=lo, in_level=xp - start, to_next=self.total_xp_for_level(lo + 1) - xp)

    def level(self, total_xp: int) -> int:
        return self.progress(total_xp).level

    @classmethod
    def from_config(cls, curve: dict[str, int] | None) -> Curve:
        """The curve of a merged guild configuration (`curve: {a, b, c}`)."""
        values = curve or {}
        return cls(a=int(values.get("a", 5)), b=int(values.get("b", 50)), c=int(values.get("c", 100)))


def ratio(numerator: int, denominator: int) -> float:
    """numerator / denominator with 2 decimals, halves rounded up, from the exact integers: Python's round on
    the float quotient rounds an exact half to the even digit (5/8 -> 0.62) and loses digits past 2^53."""
    if denominator <= 0:
        return 0.0
    sign = -1 if numerator < 0 else 1
    hundredths = (abs(numerator) * 200 + denominator) // (2 * denominator)
    return sign * hundredths / 100


@dataclass(frozen=True, slots=True)
class Progress:
    level: int
    in_level: int
    to_next: int

    @property
    def percentage(self) -> float:
        """Share of the current level already earned, 0-99.99 with 2 decimals: rounding never shows 100 % of
        a level not yet reached (2,418,068 of 2,418,188 XP is 99.99, not 100.0)."""
        span = self.in_level + self.to_next
        return min(ratio(self.in_level * 100, span), 99.99) if span else 0.0

    def as_dict(self) -> dict[str, int]:
        return {"level": self.level, "inLevel": self.in_level, "toNext": self.to_next}


DEFAULT_CURVE = Curve()
