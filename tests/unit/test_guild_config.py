"""Config defaults, merge order (guild > global > system) and validation that lists every problem."""

import pytest

from xpshop.api.xp.requests import validate_patch
from xpshop.errors import ApiError, ErrorCode
from xpshop.guild_config import SYSTEM_DEFAULTS, apply_patch, merge

ROLE = "456789012345678901"


def test_system_defaults():
    cfg = merge()
    assert cfg["cooldownSeconds"] == 60
    assert cfg["xpRate"] == 1.0
    assert cfg["rewardsMode"] == "stack"
    assert cfg["removeRewardOnXpLoss"] is False
    assert cfg["leaderboard"] == {"public": False, "indexable": False}
    assert cfg["labels"] == {"xpDisplayName": "XP"}
    assert cfg == SYSTEM_DEFAULTS


def test_guild_beats_global_beats_system():
    cfg = merge({"cooldownSeconds": 45, "xpRate": 1.2}, {"xpRate": 2.0})
    assert cfg["cooldownSeconds"] == 45
    assert cfg["xpRate"] == 2.0
    assert cfg["rewardsMode"] == "stack"


def test_dict_fields_merge_one_level():
    cfg = merge({"labels": {"xpDisplayName": "Points"}}, {"leaderboard": {"public": True}})
    assert cfg["labels"] == {"xpDisplayName": "Points"}
    assert cfg["leaderboard"] == {"public": True, "indexable": False}


def test_leaderboard_indexable_is_set_beside_public():
    patch = validate_patch({"leaderboard": {"indexable": True}})
    assert patch == {"leaderboard": {"indexable": True}}
    overrides = apply_patch({"leaderboard": {"public": True}}, patch)
    assert merge(overrides)["leaderboard"] == {"public": True, "indexable": True}
    reset = apply_patch(overrides, validate_patch({"leaderboard": {"indexable": None}}))
    assert merge(reset)["leaderboard"] == {"public": True, "indexable": False}


def test_unknown_stored_fields_are_not_served():
    assert "retired" not in merge({"retired": 1})


def test_valid_patch_is_normalised():
    patch = validate_patch(
        {
            "cooldownSeconds": 45,
            "noXpChannelIds": [ROLE, int(ROLE)],
            "roleRewards": [{"level": 5, "roleId": ROLE}, {"level": 2, "roleId": int(ROLE)}],
        }
    )
    assert patch["noXpChannelIds"] == [ROLE]
    assert [r["level"] for r in patch["roleRewards"]] == [2, 5]
    assert all(r["roleId"] == ROLE for r in patch["roleRewards"])


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"cooldownSeconds": -1}, "cooldownSeconds"),
        ({"xpRate": 0}, "xpRate"),
        ({"xpRate": "fast"}, "xpRate"),
        ({"noXpRoleIds": ["abc"]}, "noXpRoleIds"),
        ({"noXpChannelIds": "123"}, "noXpChannelIds"),
        ({"roleRewards": [{"level": 0, "roleId": ROLE}]}, "roleRewards"),
        ({"roleRewards": [{"level": 1, "roleId": ROLE}, {"level": 1, "roleId": ROLE}]}, "roleRewards"),
        ({"rewardsMode": "sometimes"}, "rewardsMode"),
        ({"removeRewardOnXpLoss": "maybe"}, "removeRewardOnXpLoss"),
        ({"leaderboard": {"public": "yes please"}}, "leaderboard"),
        ({"leaderboard": {"indexable": 1}}, "leaderboard.indexable"),
        ({"leaderboard": {"indexable": "true"}}, "leaderboard.indexable"),
        ({"multipliers": {"server": 0}}, "multipliers"),
        ({"multipliers": {"role": {"nope": 2}}}, "multipliers"),
        ({"theme": {"embedColor": "red"}}, "theme"),
        ({"theme": {"backgroundUrl": "ftp://x"}}, "theme"),
        ({"labels": {"xpDisplayName": ""}}, "labels"),
        ({"labels": {"xpDisplayName": "   "}}, "labels.xpDisplayName"),
        ({"levelUpAnnouncement": {"message": ""}}, "levelUpAnnouncement.message"),
        # Discord refuses a message that is only whitespace: every level-up would then go unannounced
        ({"levelUpAnnouncement": {"message": "   "}}, "levelUpAnnouncement.message"),
        ({"levelUpAnnouncement": {"message": "\n\t\u3000"}}, "levelUpAnnouncement.message"),
        ({"levelUpAnnouncement": {"message": "x" * 1001}}, "levelUpAnnouncement.message"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_each_rule_rejects_with_the_field_named(patch, field):
    with pytest.raises(ApiError) as err:
        validate_patch(patch)
    assert err.value.code is ErrorCode.INVALID_CONFIG
    assert field in err.value.message


def test_pattern_problems_are_told_in_words():
    with pytest.raises(ApiError) as err:
        validate_patch({"levelUpAnnouncement": {"message": "  "}})
    assert err.value.message == (
        "Invalid configuration: levelUpAnnouncement.message: must be 1-1000 characters once trimmed"
    )


def test_templates_with_surrounding_space_are_kept_as_given():
    patch = validate_patch({"levelUpAnnouncement": {"message": " GG {user}\n"}, "labels": {"xpDisplayName": "XP"}})
    assert patch["levelUpAnnouncement"]["message"] == " GG {user}\n"


def test_every_problem_is_listed():
    with pytest.raises(ApiError) as err:
        validate_patch({"cooldownSeconds": -1, "xpRate": 0, "bogus": True})
    message = err.value.message
    assert "cooldownSeconds" in message
    assert "xpRate" in message
    assert "bogus" in message


def test_body_must_be_an_object():
    with pytest.raises(ApiError) as err:
        validate_patch([1, 2])
    assert err.value.code is ErrorCode.INVALID_REQUEST


def test_apply_patch_replaces_merges_and_resets():
    current = {"xpRate": 2.0, "leaderboard": {"public": True}, "labels": {"xpDisplayName": "Pts"}}
    after = apply_patch(current, {"xpRate": None, "labels": {"xpDisplayName": "Stars"}, "cooldownSeconds": 10})
    assert after == {"leaderboard": {"public": True}, "labels": {"xpDisplayName": "Stars"}, "cooldownSeconds": 10}
    assert current["xpRate"] == 2.0  # the input is not mutated


@pytest.mark.parametrize(
    ("reset_on", "leave", "ban"),
    [("none", False, False), ("leave", True, False), ("ban", False, True), ("leaveOrBan", True, True)],
)
def test_which_member_events_reset_under_each_reset_on(reset_on, leave, ban):
    from xpshop.guild_config import RESET_ON, merge, resets_on

    assert reset_on in RESET_ON
    cfg = merge({}, {"resetOn": reset_on})
    assert (resets_on(cfg, "leave"), resets_on(cfg, "ban")) == (leave, ban)
    assert merge({}, {})["resetOn"] == "none"
