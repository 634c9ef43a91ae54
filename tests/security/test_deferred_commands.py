"""Deferred commands that fail in the worker (issue 12, finding 6): the member is answered, never left
"thinking" until the interaction token expires; transient failures are retried by the queue first, and a
command is never run twice."""

from __future__ import annotations

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from botocore.exceptions import ClientError

from tests.support import discord as d
from tests.support.sqs import receive_all, run_worker
from tests.support.storage import new_user_id

RECALC = ("xp", "recalc")
MAX_RECEIVES = 3  # InteractionsQueue's maxReceiveCount


def _throttled() -> ClientError:
    return ClientError(
        {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}, "UpdateItem"
    )


@pytest.fixture
def recalc_fails(monkeypatch):
    """Make `/xp recalc` fail in the worker with what `failures` yields (then run for real); counts runs."""
    from xpshop.discord import dispatch

    real = dispatch._HANDLERS[RECALC]
    state = {"failures": [], "runs": 0}

    def flaky(i):
        state["runs"] += 1
        if state["failures"]:
            raise state["failures"].pop(0)
        return real(i)

    monkeypatch.setitem(dispatch._HANDLERS, RECALC, flaky)
    return state


def _defer(discord_app, guild: str) -> dict:
    payload = d.command(guild, new_user_id(), "xp", "recalc", permissions=d.MANAGE_GUILD)
    _, answer = d.call(discord_app.signer, payload)
    assert answer["type"] == 5
    return payload


def _edits(discord_app, payload) -> list[str]:
    found = discord_app.fake.webhook_messages.get((d.APP_ID, payload["token"]), [])
    return [m["embeds"][0]["description"] for m in found]


def test_a_command_that_fails_for_good_answers_at_once_and_is_not_retried(
    api, guild, discord_app, interactions_queue, recalc_fails
):
    payload = _defer(discord_app, guild)
    queued = receive_all(interactions_queue)
    recalc_fails["failures"].append(RuntimeError("a bug"))
    assert run_worker(queued) == {"batchItemFailures": []}  # acknowledged: no redelivery, no DLQ
    assert "was not carried out" in _edits(discord_app, payload)[-1]
    # SQS delivered it again anyway: the kept answer is repeated, the command is not run again
    assert run_worker(queued, receive_count=2) == {"batchItemFailures": []}
    assert recalc_fails["runs"] == 1 and len(_edits(discord_app, payload)) == 2


def test_a_transient_failure_is_retried_then_succeeds(api, guild, discord_app, interactions_queue, recalc_fails):
    payload = _defer(discord_app, guild)
    queued = receive_all(interactions_queue)
    recalc_fails["failures"].append(_throttled())
    with pytest.raises(BatchProcessingError):  # every record failed: Lambda hands the batch back to SQS
        run_worker(queued)
    assert _edits(discord_app, payload) == []  # still "thinking": the retry will answer
    assert run_worker(queued, receive_count=2) == {"batchItemFailures": []}
    assert "Recalculation done" in _edits(discord_app, payload)[-1]
    assert recalc_fails["runs"] == 2


def test_storage_busy_is_retried_not_shown(api, guild, discord_app, interactions_queue, recalc_fails):
    from xpshop.errors import Unavailable

    payload = _defer(discord_app, guild)
    queued = receive_all(interactions_queue)
    recalc_fails["failures"].append(Unavailable())
    with pytest.raises(BatchProcessingError):
        run_worker(queued)
    assert _edits(discord_app, payload) == []
    assert run_worker(queued, receive_count=2) == {"batchItemFailures": []}
    assert "Recalculation done" in _edits(discord_app, payload)[-1]


def test_a_transient_failure_on_the_last_delivery_answers_with_an_error(
    api, guild, discord_app, interactions_queue, recalc_fails
):
    payload = _defer(discord_app, guild)
    queued = receive_all(interactions_queue)
    recalc_fails["failures"].append(_throttled())
    assert run_worker(queued, receive_count=MAX_RECEIVES) == {"batchItemFailures": []}
    assert "was not carried out" in _edits(discord_app, payload)[-1]


def test_the_worker_knows_the_queues_receive_limit():
    from local.template import load_template

    queue = load_template()["Resources"]["InteractionsQueue"]["Properties"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] == MAX_RECEIVES
    from functions.discord_worker import app as worker

    assert worker.MAX_RECEIVES == MAX_RECEIVES
