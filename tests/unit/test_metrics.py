"""The EMF counts an operator graphs (issue 16): each is printed by the path that does the counted thing, once,
with the namespace and dimensions the dashboard asks for, and a failing metric never fails the work."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from local import REPO_ROOT
from local.lambdas import FakeLambdaContext, load_handler
from local.template import functions, load_template
from tests.support import shop
from tests.support.sqs import consume, message
from tests.support.storage import new_guild_id, new_user_id
from xpshop import metrics
from xpshop.clock import now_ms

MINUTE_MS = 60_000


@pytest.fixture(autouse=True)
def metrics_printed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)  # make dev turns them off
    monkeypatch.delenv("POWERTOOLS_DEV", raising=False)  # pretty-printed EMF spans lines
    monkeypatch.setenv("XPSHOP_STAGE", "test")
    yield


def emitted(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """The EMF documents printed since the last call (log lines are JSON too, without `_aws`)."""
    found = []
    for line in capsys.readouterr().out.splitlines():
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if isinstance(doc, dict) and "_aws" in doc:
            found.append(doc)
    return found


def total(docs: list[dict[str, Any]], name: str) -> int:
    values = [doc[name] for doc in docs if name in doc]
    return sum(sum(v) if isinstance(v, list) else v for v in values)


def handler(logical_id: str) -> tuple[Any, FakeLambdaContext]:
    spec = functions(load_template())[logical_id]
    return load_handler(REPO_ROOT, spec), FakeLambdaContext.for_function(spec)


# ---------------------------------------------------------------- the helper


def test_a_count_is_one_emf_document_in_the_dashboards_namespace_and_dimensions(capsys):
    capsys.readouterr()
    metrics.count(metrics.IMPORTS, 3)
    [doc] = emitted(capsys)
    assert total([doc], metrics.IMPORTS) == 3
    [definition] = doc["_aws"]["CloudWatchMetrics"]
    assert definition["Namespace"] == "xpshop"
    assert definition["Metrics"] == [{"Name": "Imports", "Unit": "Count"}]
    assert sorted(definition["Dimensions"][0]) == ["service", "stage"]
    assert (doc["service"], doc["stage"]) == ("xpshop", "test")


def test_the_stage_outside_lambda_is_local(capsys, monkeypatch):
    monkeypatch.delenv("XPSHOP_STAGE")
    capsys.readouterr()
    metrics.count(metrics.LEVEL_UPS)
    assert emitted(capsys)[0]["stage"] == "local"


def test_a_failing_metric_never_fails_its_caller(monkeypatch, caplog):
    def broken(**_: Any) -> Any:
        raise RuntimeError("CloudWatch is not here")

    monkeypatch.setattr(metrics, "single_metric", broken)
    metrics.count(metrics.PURCHASES)  # no exception


def test_every_name_is_distinct():
    assert len(set(metrics.ALL)) == len(metrics.ALL)
    for name in ("XpAwards", "LevelUps", "Purchases", "CouponRedeems", "Imports", "SignatureFailures"):
        assert name in metrics.ALL


# ---------------------------------------------------------------- where each is counted


def test_message_awards_are_counted_once_per_batch(moto_table, capsys):
    guild, alice, bob = new_guild_id(), new_user_id(), new_user_id()
    t = now_ms() - MINUTE_MS
    batch = [
        message(guild, alice, 900_000_000_000_000_001, t),
        message(guild, bob, 900_000_000_000_000_002, t),
        message(guild, alice, 900_000_000_000_000_003, t + 1000),  # in cooldown: counted, no XP
        message(guild, alice, 900_000_000_000_000_001, t),  # a redelivery: not counted at all
    ]
    capsys.readouterr()
    assert consume(batch) == {"batchItemFailures": []}
    docs = emitted(capsys)
    assert total(docs, metrics.XP_AWARDS) == 2
    assert len([d for d in docs if metrics.XP_AWARDS in d]) == 1  # one line for the batch


def test_a_batch_without_awards_prints_nothing(moto_table, capsys):
    guild, user = new_guild_id(), new_user_id()
    capsys.readouterr()
    consume([message(guild, user, 900_000_000_000_000_010, now_ms(), bot=True)])
    assert total(emitted(capsys), metrics.XP_AWARDS) == 0


def _level_event(old_level: int, new_level: int, source: str) -> dict[str, Any]:
    event = json.loads((REPO_ROOT / "events" / "effects_level_up.json").read_text())
    images = event["Records"][0]["dynamodb"]
    images["OldImage"]["level"] = {"N": str(old_level)}
    images["NewImage"]["level"] = {"N": str(new_level)}
    images["NewImage"]["levelSource"] = {"S": source}
    return event


@pytest.mark.parametrize(
    ("old", "new", "source", "counted"),
    [
        (0, 1, "earned", 1),
        (2, 5, "granted", 1),  # one member going up, however many levels
        (3, 4, "recalc", 0),  # a curve change moves thousands at once: not a level-up
        (5, 4, "granted", 0),  # down
    ],
)
def test_level_ups_are_counted_by_the_effects_function(moto_table, capsys, old, new, source, counted):
    effects, context = handler("EffectsFunction")
    capsys.readouterr()
    assert effects(_level_event(old, new, source), context) == {"batchItemFailures": []}
    assert total(emitted(capsys), metrics.LEVEL_UPS) == counted


def test_a_purchase_is_counted_and_a_refused_one_is_not(api_moto, capsys):
    buyer = shop.funded_user(api_moto, new_user_id(), 15)
    category = shop.category(api_moto)
    cheap, dear = shop.cosmetic(api_moto, category, cost=10), shop.cosmetic(api_moto, category, cost=100)
    capsys.readouterr()
    assert api_moto.post("/api/v1/cosmetics/buy", {"id": buyer, "cosmeticid": cheap["id"]}).status == 200
    assert api_moto.post("/api/v1/cosmetics/buy", {"id": buyer, "cosmeticid": dear["id"]}).status == 409
    assert api_moto.post("/api/v1/cosmetics/buy", {"id": buyer, "cosmeticid": cheap["id"]}).status == 409
    assert total(emitted(capsys), metrics.PURCHASES) == 1


def test_a_redeem_is_counted_once(api_moto, capsys):
    member = shop.funded_user(api_moto, new_user_id(), 0)
    code = shop.unique("WELCOME")
    created = api_moto.post("/api/v1/coupons/create", {"code": code, "credit_grant": 50, "uses": 10})
    assert created.status == 201, created.body
    capsys.readouterr()
    assert api_moto.post("/api/v1/coupons/redeem", {"id": member, "code": code.lower()}).status == 200
    assert api_moto.post("/api/v1/coupons/redeem", {"id": member, "code": code}).status == 409
    assert total(emitted(capsys), metrics.COUPON_REDEEMS) == 1


def test_a_bad_signature_is_counted(capsys):
    interactions, context = handler("DiscordInteractionsFunction")
    capsys.readouterr()
    event = {"headers": {"x-signature-ed25519": "00" * 64, "x-signature-timestamp": "1"}, "body": '{"type": 1}'}
    assert interactions(event, context)["statusCode"] == 401
    assert interactions({"headers": {}, "body": ""}, context)["statusCode"] == 401
    assert total(emitted(capsys), metrics.SIGNATURE_FAILURES) == 2


def test_imported_members_are_counted_and_a_dry_run_is_not(api_moto, capsys):
    guild = new_guild_id()
    assert api_moto.put(f"/api/xp/guilds/{guild}", {}).status in (200, 201)
    rows = [{"id": new_user_id(), "xp": 100 * n} for n in range(1, 4)]
    capsys.readouterr()
    assert api_moto.post(f"/api/xp/import/{guild}?dryRun=true", rows).status == 200
    assert total(emitted(capsys), metrics.IMPORTS) == 0
    assert api_moto.post(f"/api/xp/import/{guild}", rows).status == 200
    assert total(emitted(capsys), metrics.IMPORTS) == 3
    assert api_moto.post(f"/api/xp/import/{guild}", rows).status == 200  # the same XP again: nothing written
    assert total(emitted(capsys), metrics.IMPORTS) == 0
