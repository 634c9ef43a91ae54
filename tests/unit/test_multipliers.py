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


def test_rounded_half_up_on_the_exact_decimal_product():
    # 1.5 x 1.001 is 1.5015 exactly; the float product 1.5014999999999998 rounded to 1.501
    assert effective_multiplier(1.5, {R1: 1.001}, {}, [R1], U) == 1.502
    assert effective_multiplier(1.05, {}, {U: 1.05}, [], U) == 1.103  # 1.1025
    assert effective_multiplier(0.1, {R1: 0.2}, {U: 0.3}, [R1], U) == 0.006  # 0.006 exactly, not 0.006000000000000001
