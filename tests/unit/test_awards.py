"""Message award rules (pure)."""

import random

from xpshop.awards import message_award
from xpshop.guild_config import merge

U, C, R = "222222222222222222", "333333333333333333", "444444444444444444"


def test_default_award_is_15_to_25_with_a_minute_cooldown():
    rng = random.Random(1)
    awards = {message_award(merge(), U, C, [], rng).xp for _ in range(500)}
    assert awards == set(range(15, 26))
    assert message_award(merge(), U, C, []).cooldown_ms == 60_000


def test_no_xp_channel_and_role():
    cfg = merge({"noXpChannelIds": [C], "noXpRoleIds": [R]})
    assert message_award(cfg, U, C, []).xp is None
    assert message_award(cfg, U, "555555555555555555", ["666666666666666666", R]).xp is None
    assert message_award(cfg, U, "555555555555555555", ["666666666666666666"]).xp is not None


def test_rate_and_multipliers():
    cfg = merge({"xpRate": 2.0, "multipliers": {"server": 1.5, "role": {R: 3.0}, "user": {U: 0.5}}})
    rng = random.Random(7)
    base = random.Random(7).randint(15, 25)
    assert message_award(cfg, U, C, [R], rng).xp == int(base * 2.0 * 2.25)


G = "111111111111111111"  # the guild, and so its @everyone role


def test_everyone_is_a_role_every_member_holds():
    """Discord's member.roles and the relay leave @everyone out; a rule set on it still means everyone."""
    muted = merge({"noXpRoleIds": [G]})
    assert message_award(muted, U, C, [], guild_id=G).xp is None
    assert message_award(muted, U, C, [R], guild_id=G).xp is None
    doubled = merge({"multipliers": {"role": {G: 2.0, R: 3.0}}})
    base = random.Random(3).randint(15, 25)
    assert message_award(doubled, U, C, [], random.Random(3), guild_id=G).xp == base * 2
    assert message_award(doubled, U, C, [R], random.Random(3), guild_id=G).xp == base * 3  # the best role
    assert message_award(merge({"noXpRoleIds": [G]}), U, C, [], guild_id="999999999999999999").xp is not None


class _Fixed(random.Random):
    """An rng whose base award is `value`."""

    def __init__(self, value: int) -> None:
        super().__init__()
        self.value = value

    def randint(self, a: int, b: int) -> int:
        return self.value


def test_awards_are_the_exact_decimal_product_rounded_down():
    """25 XP x a 1.16 server multiplier is 29, and 15 x an xpRate of 8.2 is 123: the float products
    (28.999999999999996, 122.99999999999999) were floored to 28 and 122."""
    assert message_award(merge({"multipliers": {"server": 1.16}}), U, C, [], _Fixed(25)).xp == 29
    assert message_award(merge({"xpRate": 8.2}), U, C, [], _Fixed(15)).xp == 123
    assert message_award(merge({"xpRate": 4.5, "multipliers": {"role": {R: 0.7}}}), U, C, [R], _Fixed(20)).xp == 63
    assert message_award(merge({"xpRate": 1.5}), U, C, [], _Fixed(15)).xp == 22  # 22.5 still rounds down


def test_every_rate_and_multiplier_of_two_decimals_awards_the_exact_floor():
    from fractions import Fraction

    for base in (15, 20, 25):
        for hundredths in range(1, 1001):
            rate = hundredths / 100
            cfg = merge({"xpRate": rate, "multipliers": {"user": {U: 0.7}}})
            expected = int(Fraction(base) * Fraction(str(rate)) * Fraction("0.7"))
            assert message_award(cfg, U, C, [], _Fixed(base)).xp == expected, (base, rate)
