"""Every function in template.yaml imports and answers its sample events with only what Lambda will have:
its own CodeUri, the layer's content and the runtime's boto3 (python -S: no site-packages at all)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from local import REPO_ROOT
from local.discord_events import SAMPLE_PUBLIC_KEY, signed_event
from local.invoke import restamp_card_sample, restamp_ingest_sample
from local.layer import build_layer
from local.template import functions, load_template
from tests.conftest import ADMIN_KEY, CARD_SIGNING_KEY

RUNNER = """
import json, sys
code_uri, layer, runtime, events = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
sys.path[:0] = [code_uri, layer, runtime]
import app

class Context:
    function_name = "fn"; memory_limit_in_mb = 512; aws_request_id = "req"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:fn"
    def get_remaining_time_in_millis(self): return 10000

out = []
for path in events:
    result = app.lambda_handler(json.load(open(path)), Context())
    if "statusCode" in result:
        out.append({"event": path, "status": result["statusCode"], "body": result["body"][:300]})
    else:  # a queue consumer: a partial batch response with no failures is a success
        out.append({"event": path, "status": 200 if result == {"batchItemFailures": []} else 500, "body": str(result)})
print(json.dumps(out))
"""

# Sample events per function, run in this order (the guild is registered first).
EVENTS: dict[str, list[str]] = {
    "XpConfigFunction": [
        "guilds_register",
        "guilds_list",
        "xp_config_get",
        "xp_config_put",
        "xp_config_global_get",
        "xp_rewards_add",
        "xp_rewards_list",
        "xp_rewards_remove",
        "xp_multipliers_put",
        "xp_multipliers_get",
        "xp_multipliers_delete",
    ],
    "XpUsersFunction": [
        "xp_users_add",
        "xp_users_get",
        "xp_users_set",
        "xp_users_remove",
        "xp_users_recalc",
        "xp_users_list",
        "xp_users_privacy",
        "xp_users_forget",
    ],
    "XpLeaderboardFunction": ["xp_leaderboard_page", "xp_leaderboard_rank"],
    "XpTransferFunction": ["xp_import_mee6", "xp_import_csv_dry_run", "xp_import_job_get", "xp_export_csv"],
    "XpImportJobsFunction": ["xp_import_jobs_chunk"],
    "XpStatsFunction": ["xp_stats_get", "xp_health"],
    "ApiDocsFunction": ["api_docs_openapi"],
    "ApiKeysFunction": ["api_keys_create", "api_keys_list"],  # api_keys_revoke names a key no run made (404)
    "RecalcFunction": ["recalc_guild"],
    "XpConsumerFunction": ["xp_consumer_messages", "xp_consumer_member_events"],
    "XpIngestFunction": ["xp_ingest_messages", "xp_ingest_members"],
    "ShopCreditsFunction": ["shop_credits_modify", "shop_credits_set"],
    "ShopUsersFunction": [
        "shop_users_link",
        "shop_users_info",
        "shop_users_transactions",
        "shop_users_list",
        "shop_keys_issue",
    ],
    "ShopCategoriesFunction": ["shop_categories_create", "shop_categories_list"],
    "ShopCosmeticsFunction": ["shop_cosmetics_list", "shop_cosmetics_shop", "shop_cosmetics_unequip"],
    "ShopCreatorCodesFunction": [
        "shop_creatorcodes_create",
        "shop_creatorcodes_set",
        "shop_creatorcodes_list",
        "shop_creatorcodes_supporting",
    ],
    "ShopCouponsFunction": ["shop_coupons_create", "shop_coupons_list", "shop_coupons_redeem"],
    "DiscordInteractionsFunction": [
        "discord_ping",
        "discord_rank",
        "discord_xp_give",
        "discord_privacy_hide",
        "discord_privacy_delete",
    ],
    "DiscordWorkerFunction": ["discord_worker_deferred"],
    "EffectsFunction": ["effects_level_up"],
    "RankIndexFunction": ["rank_index_member_changes"],
    "WebLeaderboardFunction": ["web_leaderboard_page"],  # public since xp_config_put
    # after XpUsersFunction: its samples created the member; the sample's signature is made again, now
    "RankCardsFunction": ["rank_card_get"],
}
# Shop samples use fixed names ("WELCOME", "fbr"): another test may have taken them first (409 is an answer).
ANSWERS = {200, 201, 202, 409}


def test_every_template_function_has_sample_events():
    assert set(EVENTS) == set(functions(load_template()))
    for names in EVENTS.values():
        for name in names:
            assert (REPO_ROOT / "events" / f"{name}.json").is_file(), name


@pytest.fixture(scope="module")
def built_layer() -> tuple[Path, Path]:
    """The layer as Lambda will have it, built once for the module (a copy of every dependency, compiled)."""
    return build_layer()


@pytest.mark.parametrize("logical_id", list(EVENTS))
def test_function_answers_with_only_codeuri_and_layer(
    logical_id, built_layer, dynamodb_local, messages_queue, discord_app, tmp_path: Path
):
    layer, runtime = built_layer
    spec = functions(load_template())[logical_id]
    events = [str(REPO_ROOT / "events" / f"{name}.json") for name in EVENTS[logical_id]]
    for path in events:  # the samples carry a placeholder key; this run's admin key replaces it
        event = json.loads(Path(path).read_text())
        if "x-signature-ed25519" in event.get("headers", {}):  # signed samples: signed again, now
            event = signed_event(json.loads(event["body"]))
        event = restamp_ingest_sample(event)  # ingestion takes recent messages only: stamped now
        event = restamp_card_sample(event, CARD_SIGNING_KEY)  # signed card URLs expire
        event.get("headers", {}).pop("authorization", None)
        event.setdefault("headers", {})["x-api-key"] = ADMIN_KEY
        (tmp_path / Path(path).name).write_text(json.dumps(event))
    env = {
        "PATH": os.environ["PATH"],
        "TABLE_NAME": os.environ["TABLE_NAME"],
        "XPSHOP_ADMIN_KEY": ADMIN_KEY,
        "XPSHOP_CARD_SIGNING_KEY": CARD_SIGNING_KEY,
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_local,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "xpshop",
        "AWS_LAMBDA_FUNCTION_NAME": logical_id,
        "XPSHOP_RELAY_KEY": ADMIN_KEY,
        "MESSAGES_QUEUE_URL": messages_queue,
        "AWS_ENDPOINT_URL_SQS": os.environ["AWS_ENDPOINT_URL_SQS"],
        "DISCORD_PUBLIC_KEY": SAMPLE_PUBLIC_KEY,
        "DISCORD_API_BASE_URL": discord_app.fake.base_url,  # the worker edits its answer there
    }
    proc = subprocess.run(
        [
            sys.executable,
            "-S",
            "-c",
            RUNNER,
            str(REPO_ROOT / spec.code_uri),
            str(layer),
            str(runtime),
            *[str(tmp_path / Path(p).name) for p in events],
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    for result in results:
        assert result["status"] in ANSWERS, result


def test_the_deployed_layer_ships_arm64_wheels_and_bytecode(tmp_path: Path) -> None:
    """What `sam build` runs for the layer (BuildMethod: makefile): Lambda's /opt is read-only, so bytecode
    the layer does not ship is compiled again on every cold start (docs/PERFORMANCE.md measures it)."""
    import importlib.util

    layer_src = REPO_ROOT / "layers" / "common" / "python"
    spec = load_template()["Resources"]["CommonLayer"]
    assert spec["Metadata"]["BuildMethod"] == "makefile"
    subprocess.run(
        ["make", "-s", "build-CommonLayer", f"ARTIFACTS_DIR={tmp_path}", f"PYTHON={sys.executable}"],
        cwd=layer_src,
        check=True,
        timeout=600,
    )
    opt = tmp_path / "python"
    assert (opt / "xpshop" / "store" / "rank_counters.py").is_file()
    sources = [p for p in opt.rglob("*.py")]
    assert len(sources) > 500
    missing = [p for p in sources if not Path(importlib.util.cache_from_source(str(p))).is_file()]
    assert not missing, missing[:5]
    pyc = Path(importlib.util.cache_from_source(str(opt / "xpshop" / "levels.py"))).read_bytes()
    assert sys.version_info[:2] == (3, 13)  # the runtime's version, so its magic number is the one below
    assert pyc[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(pyc[4:8], "little") == 0b01  # hash-based, source never checked: mtimes irrelevant
    assert b"/opt/python/xpshop/levels.py" in pyc  # the path it will have on Lambda, not the build's
    native = {p.name: int.from_bytes(p.read_bytes()[18:20], "little") for p in opt.rglob("*.so")}
    assert native and all(machine == 183 for machine in native.values()), native  # ELF e_machine: AArch64
