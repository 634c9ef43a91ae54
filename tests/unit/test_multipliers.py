from xpshop.multipliers import effective_multiplier, multiplier_count

R1, R2, U = "111111111111111111", "222222222222222222", "333333333333333333"


def test_defaults_to_one():
    assert effective_multiplier(None, None, None, [], U) == 1.0


def test_server_times_best_role_times_user():
    assert effective_multiplier(2.0, {R1: 1.5, R2: 3.0}, {U: 0.5}, [R1, R2], U) == 3.0


def test_only_roles_the_member_holds_count():
    assert effective_multiplier(1.0, {R1: 1.5, R2: 3.0}, {}, [R1], U) == 1.5


def test_a_held_role_below_one_still_applies():
    assert effective_multiplier(1.0, {R1: 0.5}, {}, [R1], U) == 0.5


def test_rounded_to_three_decimals():
    assert effective_multiplier(1.1111, {R1: 1.1111}, {}, [R1], U) == 1.235


def test_count():
    assert multiplier_count(None, {}, {}) == 0
    assert multiplier_count(2.0, {R1: 1.5}, {U: 2.0}) == 3
