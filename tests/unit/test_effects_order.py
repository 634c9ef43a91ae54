"""effects.InOrder: a stream batch's records are applied in order, none after a failure or near the timeout."""

from __future__ import annotations

import pytest

from xpshop.service.effects import RECORD_TIME_MARGIN_SECONDS, Deferred, InOrder


def test_records_after_a_failure_are_deferred_not_applied():
    applied: list[int] = []
    in_order = InOrder(lambda: 100.0)
    assert in_order.run(lambda: applied.append(1) or "ok") == "ok"
    with pytest.raises(RuntimeError):
        in_order.run(lambda: (_ for _ in ()).throw(RuntimeError("Discord 503")))
    with pytest.raises(Deferred):
        in_order.run(lambda: applied.append(3))
    assert applied == [1]


def test_no_record_is_started_close_to_the_timeout():
    left = [RECORD_TIME_MARGIN_SECONDS + 1]
    applied: list[int] = []
    in_order = InOrder(lambda: left[0])
    in_order.run(lambda: applied.append(1))
    left[0] = RECORD_TIME_MARGIN_SECONDS - 1
    with pytest.raises(Deferred):
        in_order.run(lambda: applied.append(2))
    left[0] = 100.0  # and none after it either: the batch is retried from the first record not applied
    with pytest.raises(Deferred):
        in_order.run(lambda: applied.append(3))
    assert applied == [1]


def test_the_first_record_of_an_invocation_runs_whatever_the_time_left():
    """An invocation with less than the margin from its start (a short timeout, a local invoke) still moves
    the batch by one record; else it would be redelivered unchanged forever."""
    applied: list[int] = []
    in_order = InOrder(lambda: 5.0)
    in_order.run(lambda: applied.append(1))
    with pytest.raises(Deferred):
        in_order.run(lambda: applied.append(2))
    assert applied == [1]


def test_the_claim_hold_follows_the_functions_timeout():
    """A claim holds while its attempt can still run: the invocation's time left, never more than the function's
    Timeout in template.yaml, plus the grace for the hosts' clocks."""
    from local.template import functions, load_template
    from xpshop.service import effects

    assert functions(load_template())["EffectsFunction"].timeout == effects.FUNCTION_TIMEOUT_SECONDS
    grace = effects.CLAIM_GRACE_SECONDS
    assert effects.claim_hold_seconds(lambda: 42.5) == 42.5 + grace
    assert effects.claim_hold_seconds(lambda: 900.0) == effects.FUNCTION_TIMEOUT_SECONDS + grace
    assert effects.claim_hold_seconds(None) == effects.FUNCTION_TIMEOUT_SECONDS + grace
