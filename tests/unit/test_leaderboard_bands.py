"""The band rule of the leaderboard index (store/keys.py) and the capacity model that chose it (bench/capacity.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from xpshop.levels import DEFAULT_CURVE, Curve
from xpshop.store import keys


def test_bands_start_at_their_levels_and_never_go_down():
    assert keys.BAND_LEVELS[0] == 0
    assert list(keys.BAND_LEVELS) == sorted(set(keys.BAND_LEVELS))
    for band, level in enumerate(keys.BAND_LEVELS):
        assert keys.band(level, True) == band
        assert keys.band(level - 1, True) == max(band - 1, 0)
        assert keys.band(level, False) == 0  # a guild on its single band
    assert keys.band(10**15, True) == keys.BANDS - 1
    assert keys.band(10**15, False) == 0
    assert keys.band(-3, True) == 0
    assert (keys.bands(True), keys.bands(False)) == (keys.BANDS, 1)


@given(
    xp=st.lists(st.integers(0, 10**15 - 1), min_size=2, max_size=30),
    curve=st.sampled_from([DEFAULT_CURVE, Curve(0, 0, 10), Curve(50, 500, 1000)]),
)
def test_ordering_by_band_then_score_is_ordering_by_xp(xp, curve):
    """For one curve the level (so the band) only grows with XP: reading bands from the highest, each in
    score order, lists members in leaderboard order."""
    members = [(x, str(10**17 + n)) for n, x in enumerate(xp)]
    by_xp = sorted(members, key=lambda m: (-m[0], int(m[1])))
    by_band = sorted(members, key=lambda m: (-keys.band(curve.level(m[0]), True), -keys.score(*m)))
    assert by_band == by_xp


def test_board_names_the_guild_and_band():
    assert keys.board("123", 7) == "GUILD#123#BAND#07"
    assert keys.board_of("123", keys.BAND_LEVELS[3], True) == "GUILD#123#BAND#03"
    assert keys.board_of("123", keys.BAND_LEVELS[3], False) == "GUILD#123#BAND#00"
    assert keys.band_of_board(keys.board("123", 7)) == 7
    assert keys.band_of_board("GUILD#123") is None
    assert keys.band_of_board(f"GUILD#1#BAND#{keys.BANDS}") is None


def test_the_capacity_model_keeps_every_index_band_under_a_partition():
    from bench import capacity

    rows = capacity.model()
    bands = [r for r in rows if r.key.endswith("(index)")]
    assert len(bands) >= 10
    assert max(r.wcu for r in bands) < capacity.PARTITION_WCU
    assert capacity.before() == 2 * capacity.AWARDS_PER_SECOND  # one key before the bands
    # awards are conserved: the bands' writes are 2 WCU per award (crossings into another band: 1 + 1)
    assert abs(sum(r.wcu for r in bands) - 2 * capacity.AWARDS_PER_SECOND) < 1
    counters = [r for r in rows if "RANK" in r.key or "STATS" in r.key]
    assert max(r.wcu for r in counters) < capacity.PARTITION_WCU
    for life in (1_500.0, 3_000.0, 8_000.0):  # the range the section claims
        assert max(r.wcu for r in capacity.model(life=life) if r.key.endswith("(index)")) < capacity.PARTITION_WCU
    assert any(line.startswith("| GUILD#<g>#BAND#") for line in capacity.section())


def test_a_guild_below_the_threshold_keeps_its_single_band_under_half_a_partition():
    """Every guild starts on one band: the largest one not switched yet (FINE_BANDS_FROM - 1 members, all
    chatting at the cap) must leave that key room for its growth until the switch; the modelled 5,000
    awards/s guild is far past the threshold (its table is the fine bands')."""
    from bench import capacity

    members, wcu = capacity.below_threshold()
    assert members == keys.FINE_BANDS_FROM - 1
    assert wcu == 2 * members / capacity.COOLDOWN_SECONDS
    assert wcu <= capacity.PARTITION_WCU / 2
    assert capacity.active_members() > keys.FINE_BANDS_FROM
    text = "\n".join(capacity.section())
    assert f"`FINE_BANDS_FROM` = {keys.FINE_BANDS_FROM:,} members" in text and f"**{wcu:,.0f} WCU/s**" in text
