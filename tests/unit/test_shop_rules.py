"""Pure shop rules: payout, coupon eligibility, URLs, ids."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xpshop import ids
from xpshop.errors import ErrorCode
from xpshop.minecraft import offline_uuid
from xpshop.shop import CouponState, coupon_refusal, creator_payout, creator_percent, joined_within


def test_payout_matches_the_seed_example():
    assert creator_payout(50, 5) == 2
    assert creator_payout(19, 5) == 0
    assert creator_payout(100, 0) == 0


@given(cost=st.integers(0, 10**9), percent=st.integers(0, 100))
def test_payout_never_exceeds_the_share(cost, percent):
    payout = creator_payout(cost, percent)
    assert 0 <= payout <= cost * percent / 100 < payout + 1


def test_creator_percent_from_environment(monkeypatch):
    monkeypatch.delenv("CREATOR_PAYOUT_PERCENT", raising=False)
    assert creator_percent() == 5
    monkeypatch.setenv("CREATOR_PAYOUT_PERCENT", "12")
    assert creator_percent() == 12
    monkeypatch.setenv("CREATOR_PAYOUT_PERCENT", "900")
    assert creator_percent() == 100


@pytest.mark.parametrize(
    ("raw", "cost", "payout"),
    [
        ("2.5", 100, 2),  # the template's CreatorPayoutPercent is a Number: 2.5 is a valid value, not 5
        ("2.5", 1000, 25),
        ("0.5", 199, 0),
        ("12.75", 10**12, 127_500_000_000),  # exact at the balance cap (no float rounding)
        ("5.0", 50, 2),
        ("nan", 50, 2),  # not a percentage: the default
        ("inf", 50, 2),
    ],
)
def test_creator_percent_may_be_a_decimal(monkeypatch, raw, cost, payout):
    from xpshop.shop import purchase_payout

    monkeypatch.setenv("CREATOR_PAYOUT_PERCENT", raw)
    assert purchase_payout(cost, "1", "2") == payout


@pytest.mark.parametrize(
    ("state", "through_api", "code"),
    [
        (CouponState(False, None, 0, None, None), True, ErrorCode.COUPON_INACTIVE),
        (CouponState(True, None, 0, 100, None), True, ErrorCode.COUPON_EXPIRED),
        (CouponState(True, 5, 5, None, None), True, ErrorCode.COUPON_EXHAUSTED),
        (CouponState(True, None, 0, None, 7), True, ErrorCode.COUPON_DAY_LIMIT),
        (CouponState(True, None, 0, None, 7), False, ErrorCode.COUPON_DAY_LIMIT),  # Discord, join date unknown
        (CouponState(True, 5, 4, 10**10, None), True, None),
    ],
)
def test_coupon_refusal(state, through_api, code):
    refusal = coupon_refusal(state, now_s=1000, through_api=through_api)
    assert (refusal[0] if refusal else None) == code


def test_day_limit_against_join_date():
    assert joined_within(joined_at_s=0, day_limit=7, now_s=7 * 86_400)
    assert not joined_within(joined_at_s=0, day_limit=7, now_s=7 * 86_400 + 1)


def test_minecraft_uuid_forms():
    assert ids.minecraft_uuid("069a79f4-44e9-4726-a5be-fca90e38aaf5") == "069a79f444e94726a5befca90e38aaf5"
    assert ids.minecraft_uuid("069A79F444E94726A5BEFCA90E38AAF5") == "069a79f444e94726a5befca90e38aaf5"
    assert ids.minecraft_uuid("069a79f4-44e9") is None
    assert ids.minecraft_uuid(123) is None
    # one strict form: dashes only at 8-4-4-4-12, nothing around it (as a Discord ID is read)
    for loose in (
        " 069a79f444e94726a5befca90e38aaf5",
        "069a79f444e94726a5befca90e38aaf5\n",
        "069a79f444e94726a5befca90e38aaf5----",
    ):
        assert ids.minecraft_uuid(loose) is None, loose


def test_offline_uuid_is_what_minecraft_computes():
    assert offline_uuid("Notch") == "b50ad385829d3141a2167e7d7539ba7f"


def test_short_ids():
    made = {ids.short_id() for _ in range(1000)}
    assert len(made) == 1000
    assert all(len(i) == 8 and i.isalnum() for i in made)


@pytest.mark.parametrize(
    ("joined_days_ago", "allowed"), [(0, True), (6.9, True), (7, True), (7.01, False), (30, False)]
)
def test_day_limit_through_discord(joined_days_ago, allowed):
    from xpshop.shop import days_in_server

    now = 10**9
    joined = int(now - joined_days_ago * 86_400)
    refusal = coupon_refusal(CouponState(True, None, 0, None, 7), now_s=now, through_api=False, joined_at_s=joined)
    assert (refusal is None) == allowed
    assert (days_in_server(joined, now) <= 7) == allowed  # the transaction's guard agrees with the rule


def test_purchase_payout_goes_to_someone_else_s_code_only(monkeypatch):
    from xpshop.shop import for_sale, purchase_payout

    monkeypatch.delenv("CREATOR_PAYOUT_PERCENT", raising=False)
    assert purchase_payout(50, "1", "2") == 2
    assert purchase_payout(50, "1", None) == 0  # supports nobody (or the code is gone)
    assert purchase_payout(50, "1", "1") == 0  # the code became the buyer's own
    assert (for_sale(1), for_sale(0)) == (True, False)


@pytest.mark.parametrize(
    ("mark", "new", "earned", "per_level", "cap", "expected"),
    [
        (1, 3, 5, 10, 1000, (2, 20)),  # two levels above the mark, both earned
        (1, 3, 1, 10, 1000, (1, 10)),  # one of them earned
        (3, 20, 10, 10, 25, (10, 25)),  # capped
    ],
)
def test_level_payment(mark, new, earned, per_level, cap, expected):
    from xpshop.shop import level_payment

    assert level_payment(mark, new, earned, per_level, cap) == expected


def test_shop_entities_round_trip():
    from xpshop.store.catalog import Category, Cosmetic
    from xpshop.store.coupons import Coupon
    from xpshop.store.creators import CreatorCode, CreatorUse

    entities = [
        Category("abcd1234", "Hats"),
        Cosmetic(
            "abcd1234", "Top Hat", "hat", "d", "cat12345", 30, "https://x/s.png", "https://x/t.png", "https://x/m.cfg"
        ),
        Cosmetic("abcd1235", "Cloak", "cloak", "d", "cat12345", 0, "https://x/s.png", "https://x/t.png", owner_count=2),
        Coupon("abcd1234", "WELCOME", uses=5, used=1, credit_grant=50),
        Coupon("abcd1235", "OFF", active=False, expires=10**9, day_limit=3, cosmetic_grant="abcd1234"),
        CreatorCode("abcd1234", "Star", "800000000000000001"),
    ]
    for entity in entities:
        assert type(entity).from_item(entity.to_item()) == entity
    use = CreatorUse(2, 50, "800000000000000001", "abcd1234", 10**9)
    assert CreatorUse.from_item(use.to_item()) == use


def test_a_new_cosmetic_stores_no_owner_count_and_no_absent_model():
    from xpshop.store.catalog import Cosmetic

    item = Cosmetic("abcd1235", "Cloak", "cloak", "d", "cat12345", 0, "https://x/s.png", "https://x/t.png").to_item()
    assert "ownerCount" not in item and "modelSourceUrl" not in item and item["version"] == 1


def test_retry_attempts_pause_only_between_tries(monkeypatch):
    from xpshop import retry

    pauses: list[float] = []
    monkeypatch.setattr(retry.time, "sleep", pauses.append)
    assert list(retry.attempts()) == list(range(retry.ATTEMPTS))
    assert len(pauses) == retry.ATTEMPTS - 1
    assert all(0 <= p <= retry.CAP_SECONDS for p in pauses)


@pytest.mark.parametrize(
    "written",
    [
        "069a79f444e94726a5befca90e38aaf5",
        "069A79F4-44E9-4726-A5BE-FCA90E38AAF5",
        " 069a79f444e94726a5befca90e38aaf5",
        "069a79f4-44e9-4726-a5be-fca90e38aaf5 ",
        "069a79f444e94726a5befca90e38aaf5----",
        "069a79f444e-94726a5b-efca90e-38aaf5-",
        "123456789012345678",
        " 123456789012345678",
    ],
)
def test_account_schema_states_the_validator(written):
    """The OpenAPI document's account id patterns accept exactly what the API reads."""
    import re

    from pydantic import TypeAdapter, ValidationError

    from xpshop.api.shop.requests.common import ACCOUNT_SCHEMA, AccountId

    by_schema = any(re.search(alt["pattern"], written) for alt in ACCOUNT_SCHEMA["anyOf"])
    try:
        TypeAdapter(AccountId).validate_python(written)
        read = True
    except ValidationError:
        read = False
    assert by_schema == read, written
