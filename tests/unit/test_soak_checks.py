"""The soak's invariant checks (bench/soak.py) on small crafted data: each one passes on consistent data and
reports the inconsistency it exists for."""

from __future__ import annotations

from collections import Counter
from copy import deepcopy
from itertools import pairwise
from typing import Any

import pytest

from bench import soak
from xpshop.levels import DEFAULT_CURVE

G = "700000000000000001"


def consistent() -> soak.GuildSnapshot:
    """Four members (two tied at 300 XP), their stats, ranks and board as a correct API answers them."""
    members = [
        {"id": "800000000000000004", "xp": 300, "messages": 2},
        {"id": "800000000000000002", "xp": 300, "messages": 0},
        {"id": "800000000000000003", "xp": 5675, "messages": 5},
        {"id": "800000000000000001", "xp": 0, "messages": 1},
    ]
    order = ["800000000000000003", "800000000000000002", "800000000000000004", "800000000000000001"]
    by_id = {m["id"]: m for m in members}
    levels = {m["id"]: DEFAULT_CURVE.level(m["xp"]) for m in members}
    return soak.GuildSnapshot(
        guild=G,
        curve={"a": 5, "b": 50, "c": 100},
        members=members,
        listed=[{"userId": u, "xp": by_id[u]["xp"], "level": levels[u]} for u in order],
        stats={
            "users": {"total": 4},
            "xp": {"total": 6275},
            "messages": {"total": 8},
            "levels": {"distribution": {"10": 1, "1": 2, "0": 1, "7": 0}},
        },
        ranks={u: i + 1 for i, u in enumerate(order)},
        board=[{"userId": u, "xp": by_id[u]["xp"], "rank": i + 1} for i, u in enumerate(order)],
        accepted=8,
    )


def failed(checks: list[soak.Check]) -> list[str]:
    return [c.name.removeprefix(f"{G}: ") for c in checks if not c.ok]


def test_a_consistent_guild_passes_every_check():
    checks = soak.check_guild(consistent())
    assert failed(checks) == []
    assert len(checks) == 7


def test_the_brute_force_order_is_xp_descending_then_user_id_ascending_as_a_number():
    members = [{"id": "99", "xp": 5}, {"id": "100", "xp": 5}, {"id": "7", "xp": 6}]
    assert soak.leaderboard_order(members) == ["7", "99", "100"]


def _broken(change: Any) -> list[str]:
    snapshot = consistent()
    change(snapshot)
    return failed(soak.check_guild(snapshot))


def test_stats_xp_total_that_is_not_the_sum_of_members_is_reported():
    assert _broken(lambda s: s.stats["xp"].update(total=6274)) == ["stats XP total = sum of member XP"]


def test_a_member_the_stats_do_not_count_is_reported():
    assert _broken(lambda s: s.stats["users"].update(total=3)) == ["stats member count = members"]


def test_relayed_messages_not_all_counted_are_reported():
    assert _broken(lambda s: setattr(s, "accepted", 9)) == ["relayed messages all counted (queue drained)"]
    assert _broken(lambda s: s.stats["messages"].update(total=7)) == ["relayed messages all counted (queue drained)"]


def test_a_level_that_does_not_match_the_curve_is_reported():
    def wrong_level(s: soak.GuildSnapshot) -> None:
        s.listed[0]["level"] = 9  # 5675 XP is level 10 on the default curve

    assert _broken(wrong_level) == ["every member's level matches the curve"]
    checks = soak.check_guild(_with(wrong_level))
    assert "800000000000000003" in next(c.detail for c in checks if not c.ok)


def test_the_guilds_own_curve_decides_the_level():
    # the same data under a steeper curve: 300 XP is level 0 when level 1 needs 1,000
    assert "every member's level matches the curve" in _broken(lambda s: s.curve.update(c=1000 - 5 - 50))


def test_a_member_missing_from_the_list_is_reported():
    assert _broken(lambda s: s.listed.pop()) == ["every member's level matches the curve"]


def test_stored_levels_that_differ_from_the_curve_are_reported_by_the_distribution():
    def stale(s: soak.GuildSnapshot) -> None:
        s.stats["levels"]["distribution"] = {"9": 1, "1": 2, "0": 1}  # the 5675 XP member stored at level 9

    assert _broken(stale) == ["stats level distribution = levels of the members' XP"]


def test_a_rank_that_disagrees_with_the_recount_is_reported():
    def swapped(s: soak.GuildSnapshot) -> None:  # the tie broken the wrong way
        s.ranks["800000000000000004"], s.ranks["800000000000000002"] = 2, 3

    assert _broken(swapped) == ["sampled ranks = brute-force recount"]
    assert _broken(lambda s: s.ranks.clear()) == ["sampled ranks = brute-force recount"]  # nothing sampled


def test_a_board_page_out_of_order_or_short_is_reported():
    def swapped(s: soak.GuildSnapshot) -> None:
        s.board[1]["userId"], s.board[2]["userId"] = s.board[2]["userId"], s.board[1]["userId"]

    assert _broken(swapped) == ["leaderboard pages = brute-force order"]
    assert _broken(lambda s: s.board.pop()) == ["leaderboard pages = brute-force order"]
    checks = soak.check_guild(_with(lambda s: s.board.pop()))
    assert "(3 vs 4 entries)" in next(c.detail for c in checks if not c.ok)


def _with(change: Any) -> soak.GuildSnapshot:
    snapshot = consistent()
    change(snapshot)
    return snapshot


def test_statuses_a_5xx_a_connection_error_and_an_unexpected_4xx_are_reported():
    fine = {"read_user": Counter({200: 5, 404: 1}), "buy": Counter({200: 3, 409: 2})}
    assert [c.ok for c in soak.check_statuses(fine)] == [True, True]
    five = soak.check_statuses({**fine, "relay": Counter({202: 4, 503: 1})})
    assert [c.ok for c in five] == [False, True] and "503" in five[0].detail
    reset = soak.check_statuses({**fine, "award_add": Counter({0: 1})})
    assert [c.ok for c in reset] == [False, True]
    odd = soak.check_statuses({**fine, "award_add": Counter({200: 1, 400: 2})})
    assert [c.ok for c in odd] == [True, False] and "'award_add': {400: 2}" in odd[1].detail


LEDGER = [
    {"type": "credits_set", "amount": 400, "cost": 0},
    {"type": "purchase", "cost": 150, "amount": None},
    {"type": "redeem", "amount": 25, "cost": 0},
    {"type": "credits_modify", "amount": 60, "cost": 0},
    {"type": "creator_payout", "amount": 7, "cost": 0},
    {"type": "revoke", "amount": None, "cost": 0},
    {"type": "grant", "amount": None, "cost": 0},
    {"type": "level_reward", "amount": 10, "cost": 0},
]


def test_the_ledger_replays_to_the_balance():
    assert soak.replay_ledger(LEDGER) == 400 - 150 + 25 + 60 + 7 + 10
    assert soak.replay_ledger([*LEDGER, {"type": "credits_set", "amount": 5, "cost": 0}]) == 5


def test_a_set_that_says_what_it_replaced_adds_up_in_any_order():
    """A set committed ahead of a change stamped earlier is listed after it: 0, +1 (applied after the set),
    set 100 (replaced 0) -> the balance is 101."""
    raced = [
        {"type": "credits_set", "amount": 0, "previous": 0, "cost": 0},
        {"type": "credits_modify", "amount": 1, "cost": 0},
        {"type": "credits_set", "amount": 100, "previous": 0, "cost": 0},
    ]
    assert soak.replay_ledger(raced) == 101


def test_credits_that_differ_from_the_ledger_are_reported():
    assert soak.check_ledgers({"900000000000000001": (352, LEDGER)}).ok
    bad = soak.check_ledgers({"900000000000000001": (352, LEDGER), "900000000000000002": (402, LEDGER[:1])})
    assert not bad.ok and "900000000000000002" in bad.detail and "(402, 400)" in bad.detail


def coupon(used: int, uses: int | None = 3) -> dict[str, Any]:
    return {"code": "X", "used": used, "uses": uses}


def test_coupons_within_their_uses_and_counted_pass():
    found = {"A": coupon(3), "B": coupon(1), "C": coupon(0)}
    assert soak.check_coupons(found, Counter({"A": 3, "B": 1}), ["A", "B", "C"]).ok


@pytest.mark.parametrize(
    ("found", "redeemed"),
    [
        ({"A": coupon(4), "B": coupon(1)}, {"A": 4, "B": 1}),  # used beyond its uses
        ({"A": coupon(3), "B": coupon(1)}, {"A": 2, "B": 1}),  # a use nobody was told succeeded
        ({"A": coupon(3), "B": coupon(0)}, {"A": 3, "B": 1}),  # a redeem answered 200 but not counted
        ({"A": coupon(3)}, {"A": 3}),  # a coupon of the run that the listing lost
    ],
)
def test_a_coupon_over_its_uses_or_miscounted_is_reported(found: dict[str, Any], redeemed: dict[str, int]):
    check = soak.check_coupons(deepcopy(found), Counter(redeemed), ["A", "B"])
    assert not check.ok


def test_percentiles_are_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert [soak.percentile(values, p) for p in (50, 95, 99, 100)] == [50.0, 95.0, 99.0, 100.0]
    assert soak.percentile([7.0], 99) == 7.0 and soak.percentile([], 50) == 0.0


@pytest.mark.parametrize(
    "url", ["http://10.0.0.5:3000", "https://127.0.0.1:3000", "http://api.example.com", "http://127.0.0.2:3000"]
)
def test_only_a_local_target_is_accepted(url: str):
    with pytest.raises(soak.SoakError, match="only targets"):
        soak.target_url(url)


def test_local_targets_are_accepted():
    assert soak.target_url("http://localhost:3000/") == "http://localhost:3000"
    assert soak.target_url("http://127.0.0.1:4123") == "http://127.0.0.1:4123"


def test_a_refused_target_exits_2_before_any_request(capsys: pytest.CaptureFixture[str]):
    assert soak.main(["--url", "http://192.0.2.1:3000", "--seconds", "1"]) == 2
    assert "only targets" in capsys.readouterr().err


def test_the_ids_of_a_run_are_distinct_snowflakes_that_carry_the_run():
    plan = soak.make_plan("http://127.0.0.1:1", "k", "r", guilds=3, workers=2)
    ids = plan.guilds + plan.users + plan.shop_users
    assert all(i.isdigit() and 17 <= len(i) <= 20 and plan.run in i for i in ids)
    assert len(set(ids)) == len(ids)


def test_relayed_message_ids_increase_per_worker_and_each_member_is_relayed_by_one_worker():
    """The consumer drops a member's message whose id is below their last one (a redelivery): the soak's
    relayed ids must grow in the order each member's messages are sent, or it would lose them itself."""
    plan = soak.make_plan("http://127.0.0.1:1", "k", "r", guilds=1, workers=3)
    workers = [soak.Traffic(plan, w) for w in range(3)]
    ids = [[int(t.message_id()) for _ in range(3000)] for t in workers]
    assert all(a < b for w in ids for a, b in pairwise(w))
    assert len({i for w in ids for i in w}) == 9000 and max(max(w) for w in ids) < 2**64
    relayed = [{t.relay_user() for _ in range(500)} for t in workers]
    assert not (relayed[0] & relayed[1]) and not (relayed[1] & relayed[2]) and not (relayed[0] & relayed[2])


def test_state_that_cannot_be_read_back_is_a_failed_check_not_a_crash():
    from local.ddb import free_port

    plan = soak.make_plan(f"http://127.0.0.1:{free_port()}", "k", "r", guilds=1, workers=1)  # nothing listens
    checks = soak.check_all(plan, soak.WorkerResult(statuses={"read_user": Counter({200: 1})}), settle_seconds=0)
    assert [(c.name, c.ok) for c in checks] == [
        ("no 5xx or connection error", True),
        ("no unexpected 4xx", True),
        ("the state reads back", False),
    ]
    assert "-> 0" in checks[-1].detail


def test_no_start_fails_when_nothing_answers(capsys: pytest.CaptureFixture[str]):
    from local.ddb import free_port

    assert soak.main(["--url", f"http://127.0.0.1:{free_port()}", "--seconds", "1", "--no-start"]) == 2
    assert "nothing answers" in capsys.readouterr().err
