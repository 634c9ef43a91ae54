"""Role rewards: which reward roles a member should hold at a level, the add/remove plan, and the announcement.

Rules (product spec): `stack` gives every reward role up to the level, `replace` only the highest one reached;
a role listed at several levels counts at the highest; a level loss removes roles only with
`removeRewardOnXpLoss`; roles that are not rewards are never touched; a wanted role already held is not re-added.
"""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from xpshop.rewards import RolePlan, plan, render_announcement, role_levels, wanted_roles

MODES = ("stack", "replace")

# Five rewards at distinct levels (as guild config requires), one role per level.
REWARDS = [
    {"level": 5, "roleId": "r5"},
    {"level": 10, "roleId": "r10"},
    {"level": 20, "roleId": "r20"},
    {"level": 30, "roleId": "r30"},
    {"level": 50, "roleId": "r50"},
]
REWARD_ROLES = {"r5", "r10", "r20", "r30", "r50"}


def apply(held: set[str], p: RolePlan) -> set[str]:
    return (held | p.add) - p.remove


# --- role_levels ---------------------------------------------------------------------------------------------


def test_role_levels_maps_each_role_to_its_level():
    assert role_levels(REWARDS) == {"r5": 5, "r10": 10, "r20": 20, "r30": 30, "r50": 50}


def test_role_levels_empty():
    assert role_levels([]) == {}


@pytest.mark.parametrize(
    "rewards",
    [
        [{"level": 5, "roleId": "a"}, {"level": 10, "roleId": "a"}],
        [{"level": 10, "roleId": "a"}, {"level": 5, "roleId": "a"}],
        [{"level": 5, "roleId": "a"}, {"level": 10, "roleId": "a"}, {"level": 7, "roleId": "a"}],
    ],
)
def test_duplicate_role_keeps_the_highest_level_whatever_the_order(rewards):
    assert role_levels(rewards) == {"a": 10}


def test_role_levels_normalises_types():
    assert role_levels([{"level": "7", "roleId": 123456789012345678}]) == {"123456789012345678": 7}


def test_role_levels_accepts_any_iterable():
    assert role_levels(r for r in REWARDS[:2]) == {"r5": 5, "r10": 10}


@given(
    st.lists(
        st.fixed_dictionaries({"level": st.integers(1, 10_000), "roleId": st.sampled_from(["a", "b", "c", "d"])}),
        max_size=20,
    )
)
def test_role_levels_is_the_maximum_level_per_role(rewards):
    levels = role_levels(rewards)
    assert set(levels) == {r["roleId"] for r in rewards}
    for role, lv in levels.items():
        assert lv == max(r["level"] for r in rewards if r["roleId"] == role)


# --- wanted_roles --------------------------------------------------------------------------------------------

LEVELS = role_levels(REWARDS)


@pytest.mark.parametrize(
    ("level", "stack", "replace"),
    [
        (0, set(), set()),
        (4, set(), set()),
        (5, {"r5"}, {"r5"}),  # the threshold itself is reached
        (9, {"r5"}, {"r5"}),
        (10, {"r5", "r10"}, {"r10"}),
        (29, {"r5", "r10", "r20"}, {"r20"}),
        (30, {"r5", "r10", "r20", "r30"}, {"r30"}),
        (1000, REWARD_ROLES, {"r50"}),
    ],
)
def test_wanted_roles_by_mode(level, stack, replace):
    assert wanted_roles(LEVELS, "stack", level) == stack
    assert wanted_roles(LEVELS, "replace", level) == replace


@pytest.mark.parametrize("mode", MODES)
def test_no_rewards_no_roles(mode):
    assert wanted_roles({}, mode, 100) == set()


def test_duplicate_role_is_only_wanted_from_its_highest_level():
    levels = role_levels([{"level": 5, "roleId": "a"}, {"level": 10, "roleId": "a"}, {"level": 7, "roleId": "b"}])
    assert wanted_roles(levels, "stack", 5) == set()
    assert wanted_roles(levels, "stack", 8) == {"b"}
    assert wanted_roles(levels, "stack", 10) == {"a", "b"}
    assert wanted_roles(levels, "replace", 8) == {"b"}
    assert wanted_roles(levels, "replace", 10) == {"a"}


reward_lists = st.lists(
    st.fixed_dictionaries({"level": st.integers(1, 60), "roleId": st.sampled_from([f"r{i}" for i in range(8)])}),
    max_size=10,
    unique_by=lambda r: r["level"],  # guild config allows one reward per level
)


@given(reward_lists, st.integers(0, 70))
def test_stack_is_every_reward_up_to_the_level(rewards, level):
    levels = role_levels(rewards)
    assert wanted_roles(levels, "stack", level) == {role for role, lv in levels.items() if lv <= level}


@given(reward_lists, st.integers(0, 70))
def test_replace_is_the_single_highest_reward_reached(rewards, level):
    levels = role_levels(rewards)
    want = wanted_roles(levels, "replace", level)
    reached = {role: lv for role, lv in levels.items() if lv <= level}
    if not reached:
        assert want == set()
    else:
        assert len(want) == 1
        (role,) = want
        assert reached[role] == max(reached.values())
    assert want <= wanted_roles(levels, "stack", level)


@given(reward_lists, st.integers(0, 70), st.integers(0, 70))
def test_stack_only_grows_with_the_level(rewards, a, b):
    levels = role_levels(rewards)
    lo, hi = sorted((a, b))
    assert wanted_roles(levels, "stack", lo) <= wanted_roles(levels, "stack", hi)


# --- plan: examples ------------------------------------------------------------------------------------------


def test_role_plan_truthiness():
    assert not RolePlan()
    assert RolePlan(add={"a"})
    assert RolePlan(remove={"a"})


def test_stack_level_up_adds_every_missing_reward():
    p = plan(REWARDS, mode="stack", remove_on_loss=False, old_level=0, new_level=25, held=set())
    assert p == RolePlan(add={"r5", "r10", "r20"}, remove=set())


def test_stack_level_up_skips_roles_already_held():
    p = plan(REWARDS, mode="stack", remove_on_loss=False, old_level=19, new_level=20, held={"r5", "r10"})
    assert p == RolePlan(add={"r20"}, remove=set())


def test_level_up_with_everything_held_is_a_no_op():
    p = plan(REWARDS, mode="stack", remove_on_loss=False, old_level=20, new_level=21, held={"r5", "r10", "r20"})
    assert not p
    p = plan(REWARDS, mode="replace", remove_on_loss=False, old_level=20, new_level=21, held={"r20"})
    assert not p


def test_level_up_without_reaching_a_reward_is_a_no_op():
    assert not plan(REWARDS, mode="stack", remove_on_loss=True, old_level=1, new_level=4, held={"x"})


def test_replace_level_up_swaps_the_lower_reward_for_the_higher():
    p = plan(REWARDS, mode="replace", remove_on_loss=False, old_level=9, new_level=10, held={"r5", "member"})
    assert p == RolePlan(add={"r10"}, remove={"r5"})


def test_replace_level_up_removes_every_lower_reward_held():
    p = plan(REWARDS, mode="replace", remove_on_loss=False, old_level=29, new_level=30, held={"r5", "r10", "r20"})
    assert p == RolePlan(add={"r30"}, remove={"r5", "r10", "r20"})


def test_replace_keeps_the_highest_reward_when_already_held():
    p = plan(REWARDS, mode="replace", remove_on_loss=False, old_level=12, new_level=15, held={"r5", "r10"})
    assert p == RolePlan(add=set(), remove={"r5"})


@pytest.mark.parametrize("mode", MODES)
def test_level_loss_without_remove_on_loss_changes_nothing(mode):
    p = plan(REWARDS, mode=mode, remove_on_loss=False, old_level=35, new_level=3, held={"r5", "r10", "r20", "r30"})
    assert p == RolePlan()
    assert not p


def test_stack_level_loss_with_remove_on_loss_removes_rewards_above_the_level():
    held = {"r5", "r10", "r20", "r30", "member"}
    p = plan(REWARDS, mode="stack", remove_on_loss=True, old_level=35, new_level=12, held=held)
    assert p == RolePlan(add=set(), remove={"r20", "r30"})


def test_replace_level_loss_with_remove_on_loss_restores_the_highest_reward_still_reached():
    p = plan(REWARDS, mode="replace", remove_on_loss=True, old_level=35, new_level=12, held={"r30", "member"})
    assert p == RolePlan(add={"r10"}, remove={"r30"})


@pytest.mark.parametrize("mode", MODES)
def test_level_loss_below_every_reward_removes_them_all(mode):
    p = plan(REWARDS, mode=mode, remove_on_loss=True, old_level=12, new_level=0, held={"r5", "r10", "member"})
    assert p == RolePlan(add=set(), remove={"r5", "r10"})


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("remove_on_loss", [True, False])
def test_non_reward_roles_are_never_touched(mode, remove_on_loss):
    held = {"member", "moderator", "booster"}
    for old, new in [(0, 50), (50, 0), (10, 30), (30, 10)]:
        p = plan(REWARDS, mode=mode, remove_on_loss=remove_on_loss, old_level=old, new_level=new, held=held)
        assert not (p.add | p.remove) & held


def test_no_rewards_configured_is_a_no_op():
    assert not plan([], mode="replace", remove_on_loss=True, old_level=50, new_level=0, held={"a", "b"})


def test_plan_with_duplicate_role_uses_its_highest_level():
    rewards = [{"level": 5, "roleId": "a"}, {"level": 10, "roleId": "a"}]
    assert not plan(rewards, mode="stack", remove_on_loss=False, old_level=4, new_level=5, held=set())
    assert plan(rewards, mode="stack", remove_on_loss=False, old_level=9, new_level=10, held=set()).add == {"a"}
    # Dropping to 7 is below the role's (highest) level 10: with remove_on_loss it goes.
    loss = plan(rewards, mode="stack", remove_on_loss=True, old_level=10, new_level=7, held={"a"})
    assert loss == RolePlan(add=set(), remove={"a"})


def test_plan_accepts_iterables():
    p = plan(iter(REWARDS), mode="stack", remove_on_loss=False, old_level=0, new_level=10, held=iter(["r5", "member"]))
    assert p == RolePlan(add={"r10"}, remove=set())


# --- plan: properties ----------------------------------------------------------------------------------------

NON_REWARD = [f"n{i}" for i in range(5)]


@st.composite
def scenarios(draw, *, direction: str):
    """Rewards, two levels going `up`, `down` or `any`, and held roles (some reward roles, some not)."""
    rewards = draw(reward_lists)
    a, b = draw(st.integers(0, 70)), draw(st.integers(0, 70))
    if direction == "up":
        assume(a != b)
        old, new = min(a, b), max(a, b)
    elif direction == "down":
        assume(a != b)
        old, new = max(a, b), min(a, b)
    else:
        old, new = a, b
    reward_roles = sorted(role_levels(rewards))
    held = draw(st.sets(st.sampled_from(reward_roles))) if reward_roles else set()
    held |= draw(st.sets(st.sampled_from(NON_REWARD)))
    return rewards, old, new, held


@given(scenarios(direction="any"), st.sampled_from(MODES), st.booleans())
def test_plan_is_consistent_and_never_touches_non_reward_roles(scenario, mode, remove_on_loss):
    rewards, old, new, held = scenario
    p = plan(rewards, mode=mode, remove_on_loss=remove_on_loss, old_level=old, new_level=new, held=held)
    reward_roles = set(role_levels(rewards))
    assert p.add | p.remove <= reward_roles
    assert not p.add & held  # no-op grants are skipped
    assert p.remove <= held  # only held roles are removed
    assert not p.add & p.remove
    after = apply(held, p)
    assert after - reward_roles == held - reward_roles


@given(scenarios(direction="down"), st.sampled_from(MODES))
def test_level_loss_without_remove_on_loss_is_empty(scenario, mode):
    rewards, old, new, held = scenario
    p = plan(rewards, mode=mode, remove_on_loss=False, old_level=old, new_level=new, held=held)
    assert p == RolePlan()


@given(scenarios(direction="up"), st.sampled_from(MODES), st.booleans())
def test_level_up_never_depends_on_remove_on_loss(scenario, mode, remove_on_loss):
    rewards, old, new, held = scenario
    kwargs = {"mode": mode, "old_level": old, "new_level": new, "held": held}
    assert plan(rewards, remove_on_loss=remove_on_loss, **kwargs) == plan(rewards, remove_on_loss=False, **kwargs)


@given(scenarios(direction="up"), st.booleans())
def test_stack_level_up_gives_at_least_every_wanted_role_and_removes_nothing(scenario, remove_on_loss):
    rewards, old, new, held = scenario
    p = plan(rewards, mode="stack", remove_on_loss=remove_on_loss, old_level=old, new_level=new, held=held)
    want = wanted_roles(role_levels(rewards), "stack", new)
    after = apply(held, p)
    assert after >= want
    assert p.remove == set()
    assert p.add == want - held


@given(scenarios(direction="up"), st.booleans())
def test_replace_level_up_gives_exactly_the_wanted_role_plus_non_rewards(scenario, remove_on_loss):
    """Held reward roles are those a member can have reached (at or below the new level); see the out-of-band test below
    for a reward role above the new level held out of band."""
    rewards, old, new, held = scenario
    levels = role_levels(rewards)
    held = {role for role in held if levels.get(role, 0) <= new}
    p = plan(rewards, mode="replace", remove_on_loss=remove_on_loss, old_level=old, new_level=new, held=held)
    want = wanted_roles(levels, "replace", new)
    assert apply(held, p) == want | (held - set(levels))


@given(scenarios(direction="down"), st.sampled_from(MODES))
def test_level_loss_with_remove_on_loss_gives_exactly_the_wanted_roles_plus_non_rewards(scenario, mode):
    rewards, old, new, held = scenario
    levels = role_levels(rewards)
    p = plan(rewards, mode=mode, remove_on_loss=True, old_level=old, new_level=new, held=held)
    assert apply(held, p) == wanted_roles(levels, mode, new) | (held - set(levels))


@given(scenarios(direction="any"), st.sampled_from(MODES), st.booleans())
def test_applying_a_plan_twice_is_a_no_op_the_second_time(scenario, mode, remove_on_loss):
    rewards, old, new, held = scenario
    kwargs = {"mode": mode, "remove_on_loss": remove_on_loss, "old_level": old, "new_level": new}
    after = apply(held, plan(rewards, held=held, **kwargs))
    assert not plan(rewards, held=after, **kwargs)


# A reward role above the level that the member holds out of band (granted by hand) is left alone on a level-up:
# only a level loss with removeRewardOnXpLoss takes roles above the level away.
def test_replace_level_up_leaves_a_higher_reward_held_out_of_band():
    held = {"r5", "r50", "member"}
    p = plan(REWARDS, mode="replace", remove_on_loss=False, old_level=9, new_level=10, held=held)
    assert apply(held, p) == {"r10", "r50", "member"}


# --- render_announcement -------------------------------------------------------------------------------------


def test_announcement_fills_every_placeholder():
    out = render_announcement("GG {user}, you reached level {level} with {xp} XP!", "123456789012345678", 12, 5675)
    assert out == "GG <@123456789012345678>, you reached level 12 with 5,675 XP!"


@pytest.mark.parametrize(
    ("level", "xp", "expected"),
    [
        (0, 0, "0/0"),
        (999, 999, "999/999"),
        (1000, 1_234_567, "1,000/1,234,567"),
        (10_000, 10**9, "10,000/1,000,000,000"),
    ],
)
def test_announcement_uses_thousands_separators(level, xp, expected):
    assert render_announcement("{level}/{xp}", "1", level, xp) == expected


def test_announcement_replaces_every_occurrence():
    assert render_announcement("{user}{user} {level}{level} {xp}{xp}", "7", 1, 2) == "<@7><@7> 11 22"


@pytest.mark.parametrize(
    "template",
    [
        "{user.__class__}",
        "{user.__class__.__init__.__globals__}",
        "{0}",
        "{}",
        "{level:>10}",
        "{xp!r}",
        "{level.real}",
        "{user[0]}",
        "%s %(user)s",
        "{USER} {Level}",
    ],
)
def test_format_specs_stay_literal(template):
    assert render_announcement(template, "42", 1000, 2000) == template


def test_doubled_braces_are_not_format_escapes():
    assert render_announcement("{{user}}", "42", 1, 1) == "{<@42>}"


def test_announcement_truncates_to_2000_characters():
    assert render_announcement("x" * 2000, "1", 1, 1) == "x" * 2000
    assert render_announcement("x" * 2001, "1", 1, 1) == "x" * 2000
    # Truncation applies after the placeholders expand.
    out = render_announcement("{xp}" * 500, "1", 1, 1_000_000)
    assert len(out) == 2000
    assert out == ("1,000,000" * 500)[:2000]


def test_empty_template():
    assert render_announcement("", "1", 1, 1) == ""


snowflakes = st.integers(10**16, 10**19).map(str)


@given(st.text(max_size=3000), snowflakes, st.integers(0, 10**6), st.integers(0, 10**12))
def test_announcement_without_placeholders_is_the_template_truncated(template, user_id, level, xp):
    assume(all(p not in template for p in ("{user}", "{level}", "{xp}")))
    assert render_announcement(template, user_id, level, xp) == template[:2000]


@given(
    st.lists(
        st.sampled_from(["{user}", "{level}", "{xp}", "{0}", "{user.__class__}", "{", "}", "a", " "]), max_size=600
    ),
    snowflakes,
    st.integers(0, 10**6),
    st.integers(0, 10**12),
)
def test_announcement_is_a_plain_substitution(parts, user_id, level, xp):
    expected_parts = {"{user}": f"<@{user_id}>", "{level}": f"{level:,}", "{xp}": f"{xp:,}"}
    template = "".join(parts)
    # No two fragments join into a placeholder, so substituting fragment by fragment is the reference.
    expected = "".join(expected_parts.get(p, p) for p in parts)[:2000]
    out = render_announcement(template, user_id, level, xp)
    assert out == expected
    assert len(out) <= 2000


def test_announcement_cut_at_discords_limit_never_leaves_half_a_mention():
    """1,000 characters of template can render past Discord's 2,000 ({user} is 6 characters, its mention up to
    23): the cut must not leave a broken `<@1234` showing as text."""
    user = "123456789012345678"
    for pad in range(0, 30):
        out = render_announcement("x" * pad + "{user}" * 166, user, 1, 1)
        assert len(out) <= 2000
        assert out.endswith(f"<@{user}>"), pad
