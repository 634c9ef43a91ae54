"""Cold imports (issue 18 part 1): each function's module loads only what its own routes need before a request
arrives. Checked by what a fresh interpreter holds after importing a function's handler as Lambda would (one
process per function), not by timing it: boto3 and botocore's client machinery wait for the first DynamoDB
call, Powertools' idempotency for the first request with an Idempotency-Key, other functions' models stay
out, no API model is built at import, and no import walks the Unicode database. The times themselves are
`python -m bench.imports`' (docs/PERFORMANCE.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from local import REPO_ROOT
from local.template import functions, load_template
from xpshop.api import fields

FUNCTIONS = sorted(functions(load_template()))

# Loaded on first use, by no function at import.
NEVER_AT_IMPORT = (
    "boto3",  # xpshop.store.table / store.conditions / message_queue: the first DynamoDB or SQS call
    "botocore.client",
    "botocore.session",
    "aws_lambda_powertools.utilities.idempotency",  # http.idempotency: the first request with a key
    "urllib.request",  # minecraft, discord.rest, web.avatars: the first outbound call
)
# Models only the functions serving them may load.
ONLY_FOR = {
    "xpshop.api.keys": {"ApiKeysFunction"},
    # /api/xp request bodies: one module per function
    "xpshop.api.xp.requests.members": {"XpUsersFunction"},
    "xpshop.api.xp.requests.config": {"XpConfigFunction"},
    # one module of /api/xp responses per function (the package itself defines no model)
    "xpshop.api.xp.responses.members": {"XpUsersFunction"},
    "xpshop.api.xp.responses.config": {"XpConfigFunction"},
    "xpshop.api.xp.responses.leaderboard": {"XpLeaderboardFunction"},
    "xpshop.api.xp.responses.stats": {"XpStatsFunction"},
    "xpshop.api.xp.responses.ingest": {"XpIngestFunction"},
    "xpshop.api.xp.responses.recalc": {"RecalcFunction"},
    # one module of /api/v1 request models per function, with the field types they share
    "xpshop.api.shop.requests.common": {name for name in FUNCTIONS if name.startswith("Shop")},
    "xpshop.api.shop.requests.amounts": {"ShopCosmeticsFunction", "ShopCreditsFunction", "ShopCouponsFunction"},
    "xpshop.api.shop.requests.users": {"ShopUsersFunction"},
    "xpshop.api.shop.requests.cosmetics": {"ShopCosmeticsFunction"},
    "xpshop.api.shop.requests.categories": {"ShopCategoriesFunction"},
    "xpshop.api.shop.requests.credits": {"ShopCreditsFunction"},
    "xpshop.api.shop.requests.coupons": {"ShopCouponsFunction"},
    "xpshop.api.shop.requests.creator_codes": {"ShopCreatorCodesFunction"},
    "xpshop.api.shop.responses.users": {"ShopUsersFunction"},
    "xpshop.api.shop.responses.cosmetics": {"ShopCosmeticsFunction"},
    "xpshop.api.shop.responses.categories": {"ShopCategoriesFunction"},
    "xpshop.api.shop.responses.credits": {"ShopCreditsFunction"},
    "xpshop.api.shop.responses.coupons": {"ShopCouponsFunction"},
    "xpshop.api.shop.responses.creator_codes": {"ShopCreatorCodesFunction"},
    "xpshop.api.shop.responses.common": {"ShopCosmeticsFunction", "ShopCouponsFunction", "ShopCreatorCodesFunction"},
}

# What every request of an HTTP function passes through once it is routed, left to its first request (all
# of it reads DynamoDB): the gate's keys, scopes, rate limits and guild check, and the storage behind them.
FIRST_REQUEST = (
    "xpshop.http.access",
    "xpshop.auth",
    "xpshop.service.access_keys",
    "xpshop.service.rate_limits",
    "xpshop.service.guilds",
    "xpshop.store",
    "botocore.exceptions",
    # not hashlib: the keys' digests and the Idempotency-Key's fingerprint load it on first use, but pydantic
    # 2.14's own `pydantic.types` imports `secrets` (and hashlib with it) in every function anyway
)
HTTP_FUNCTIONS = (
    "ApiKeysFunction",
    "RecalcFunction",
    *(name for name in FUNCTIONS if name.startswith("Shop")),
    "XpConfigFunction",
    "XpIngestFunction",
    "XpLeaderboardFunction",
    "XpStatsFunction",
    "XpTransferFunction",
    "XpUsersFunction",
)

# Imported by the writes that use them (service.members), not by functions that only read members; the
# import routes' service by those routes (XpTransferFunction's export route does without it).
NOT_FOR = {
    "XpLeaderboardFunction": ("xpshop.store.audit", "xpshop.store.stats", "xpshop.api.xp.member_events"),
    "XpUsersFunction": ("xpshop.store.audit", "xpshop.store.stats", "xpshop.api.xp.member_events"),
    "XpTransferFunction": ("xpshop.service.imports", "xpshop.store.imports"),
    # an import job applies rows: the config patch's model (and pydantic) only for a file's role rewards
    "XpImportJobsFunction": ("pydantic", "xpshop.api.xp.requests"),
}

_SCRIPT = """
import json, sys, unicodedata
calls = [0]
_category = unicodedata.category
def counting(ch):
    calls[0] += 1
    return _category(ch)
unicodedata.category = counting
from local import REPO_ROOT
from local.lambdas import load_handler
from local.template import functions, load_template
spec = functions(load_template())[sys.argv[1]]
before = set(sys.modules)
load_handler(REPO_ROOT, spec)
loaded = sorted(name for name in sys.modules if name not in before)
built = []
if "pydantic" in sys.modules:
    from pydantic import BaseModel
    for name, module in list(sys.modules.items()):
        if not name.startswith("xpshop.api") or module is None:
            continue
        for value in vars(module).values():
            if (
                isinstance(value, type) and issubclass(value, BaseModel) and value.__module__ == name
                and value.__pydantic_complete__
                and not value.__pydantic_generic_metadata__["parameters"]  # the envelope: built per parameter
            ):
                built.append(f"{name}.{value.__name__}")
import gc
collector = {
    "enabled": gc.isenabled(), "frozen": gc.get_freeze_count() > 0, "paused_at_import": "xpshop.coldstart" in loaded
}
later_loaded = []  # what the function named with `coldstart.later`, once loaded (as a snapshot's init does)
if "xpshop.coldstart" in sys.modules:
    later_loaded = [name for name in sys.modules["xpshop.coldstart"].load_later() if name in sys.modules]
print(json.dumps({
    "loaded": loaded, "built": built, "category_calls": calls[0], "gc": collector, "later": later_loaded
}))
"""


def _imported(logical_id: str) -> dict[str, Any]:
    env = {**os.environ, "POWERTOOLS_TRACE_DISABLED": "true", "TABLE_NAME": "unused"}
    env.pop("AWS_LAMBDA_INITIALIZATION_TYPE", None)
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, logical_id],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def imported() -> dict[str, dict[str, Any]]:
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(FUNCTIONS, pool.map(_imported, FUNCTIONS), strict=True))


def test_every_function_is_checked(imported):
    assert len(imported) >= 20


def test_no_function_imports_boto3_idempotency_or_urllib_before_it_needs_them(imported):
    found = {name: [m for m in NEVER_AT_IMPORT if m in state["loaded"]] for name, state in imported.items()}
    assert {name: modules for name, modules in found.items() if modules} == {}


def test_each_function_loads_only_its_own_models(imported):
    strays = {
        name: [module for module, allowed in ONLY_FOR.items() if module in state["loaded"] and name not in allowed]
        for name, state in imported.items()
    }
    assert {name: modules for name, modules in strays.items() if modules} == {}
    # and the functions that serve them do load them (the lists above are not stale)
    for module, allowed in ONLY_FOR.items():
        for name in allowed:
            assert module in imported[name]["loaded"], (name, module)


def test_modules_left_to_the_routes_that_use_them_are_not_loaded(imported):
    assert {name: [m for m in modules if m in imported[name]["loaded"]] for name, modules in NOT_FOR.items()} == {
        name: [] for name in NOT_FOR
    }


def test_http_functions_leave_the_gate_checks_and_their_services_to_the_first_request(imported):
    """The gate's checks and each function's services (`coldstart.later`) load on the first request: not at
    import, by no route-registering module either (else `later` would save nothing)."""
    assert {name: [m for m in FIRST_REQUEST if m in imported[name]["loaded"]] for name in HTTP_FUNCTIONS} == {
        name: [] for name in HTTP_FUNCTIONS
    }
    assert {name: [m for m in state["later"] if m in state["loaded"]] for name, state in imported.items()} == {
        name: [] for name in imported
    }
    for name in HTTP_FUNCTIONS:  # and they are named with `later` (a snapshot and the bench load them)
        assert {"xpshop.http.access", "xpshop.auth", "xpshop.service.guilds"} <= set(imported[name]["later"]), name
        assert any(m.startswith("xpshop.service.") and m != "xpshop.service.guilds" for m in imported[name]["later"])


def test_a_module_named_with_later_is_imported_on_first_use_only():
    from xpshop import coldstart

    module = coldstart.later("tests.support.never_imported_before")  # not a module: nothing imports it yet
    assert "never_imported_before" in repr(module)
    with pytest.raises(ModuleNotFoundError):
        module.anything  # noqa: B018 - first use: the import
    coldstart._later.remove("tests.support.never_imported_before")
    json_module = coldstart.later("json")
    assert json_module.dumps is json.dumps
    assert "json" in coldstart.load_later()


def test_no_api_model_is_built_at_import(imported):
    """Models are declared `defer_build=True` (built on first use, or before a SnapStart snapshot): one built
    eagerly costs its schema and loads pydantic's plugin machinery on every cold start."""
    assert {name: state["built"] for name, state in imported.items() if state["built"]} == {}


def test_no_import_walks_the_unicode_database(imported):
    """The invisible characters' class is a constant (`fields._INVISIBLE`): computing it asks
    `unicodedata.category` of all 1.1M code points (~200 ms)."""
    assert {name: state["category_calls"] for name, state in imported.items() if state["category_calls"] > 1000} == {}


def test_the_collector_runs_again_after_each_function_init(imported):
    """`xpshop.coldstart` pauses the garbage collector while a handler module imports and resumes it, with init's
    objects frozen, at the module's end: no function leaves it off (the heavy ones pause it, the two light ones
    do not need to)."""
    assert {name: state["gc"] for name, state in imported.items() if not state["gc"]["enabled"]} == {}
    paused = {name for name, state in imported.items() if state["gc"]["paused_at_import"]}
    assert paused == set(FUNCTIONS) - {"ApiDocsFunction", "DiscordInteractionsFunction"}
    assert all(imported[name]["gc"]["frozen"] for name in paused)


def test_coldstart_resumes_only_a_collector_it_paused():
    """A second handler in the same process (tests, local.dev) finds the collector running and leaves it so; a
    collector someone else turned off stays off."""
    import gc

    from xpshop import coldstart  # its first import in a process pauses the collector

    coldstart.done()  # what the first handler's module does at its end
    assert gc.isenabled()
    coldstart.done()  # a second handler's: the collector keeps running
    assert gc.isenabled()
    gc.disable()
    try:
        coldstart.pause()
        coldstart.done()
        assert not gc.isenabled()
    finally:
        gc.enable()
    coldstart.pause()
    assert not gc.isenabled()
    coldstart.done()
    assert gc.isenabled()


@pytest.mark.parametrize(("package", "models"), [("xpshop.api.xp.responses", 40), ("xpshop.api.shop.responses", 36)])
def test_every_response_model_is_an_attribute_of_its_package(package, models):
    """`responses.GuildStats` still works (contract tests, scripts): the package imports the model's module
    on first use, and every model of the modules is named in its map."""
    import importlib
    import pkgutil

    from pydantic import BaseModel

    responses = importlib.import_module(package)
    found = {}
    for info in pkgutil.iter_modules(responses.__path__):
        module = importlib.import_module(f"{responses.__name__}.{info.name}")
        for name, value in vars(module).items():
            if isinstance(value, type) and issubclass(value, BaseModel) and value.__module__ == module.__name__:
                found[name] = value
    assert len(found) == models
    assert {name: getattr(responses, name) for name in found} == found
    assert set(responses._MODULE) == set(found)
    with pytest.raises(AttributeError):
        responses.NoSuchModel  # noqa: B018


def test_the_invisible_characters_constant_is_the_unicode_databases():
    """The constant equals what the running Python's Unicode database says (the runtime's, 3.13: Unicode 15.1);
    a Python with another Unicode version fails here until the constant is regenerated."""
    computed = fields.invisible_ranges()
    assert computed == fields._INVISIBLE
    assert "[^" + computed + "]" == fields.VISIBLE_CHAR


def test_a_snapshot_initialisation_loads_what_first_requests_would():
    """With SnapStart, the before-snapshot hook loads what init left to the first request (the routes' services
    and the gate's checks), boto3 (and makes the table's handles) and Powertools' idempotency, so a restored
    environment does not pay for them on its first request."""
    script = """
import json, sys
import snapshot_restore_py
from local import REPO_ROOT
from local.lambdas import load_handler
from local.template import functions, load_template
load_handler(REPO_ROOT, functions(load_template())["XpUsersFunction"])
FIRST = ("boto3", "aws_lambda_powertools.utilities.idempotency", "xpshop.service.members", "xpshop.http.access")
cold = [name in sys.modules for name in FIRST]
for func, args, kwargs in snapshot_restore_py.get_before_snapshot():
    func(*args, **kwargs)
from xpshop.store import table
warm = [name in sys.modules for name in FIRST]
print(json.dumps({"cold": cold, "warm": warm, "handles": table._resource.cache_info().currsize}))
"""
    env = {
        **os.environ,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start",
        "TABLE_NAME": "unused",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    state = json.loads(done.stdout.strip().splitlines()[-1])
    assert state == {"cold": [False] * 4, "warm": [True] * 4, "handles": 1}


# ---------------------------------------------------------------- the bench's table (bench/imports.py)


def test_the_bench_section_lists_each_function_against_boto3_and_names_those_above_the_target():
    from bench import imports

    rows = [
        imports.Result("XpStatsFunction", 195.0, 150.0, 300.0, 900.0, 120.0, 100.0),
        imports.Result("XpUsersFunction", 240.0, 150.0, 340.0, float("nan"), 125.0, 100.0),
        imports.Result(imports.FLOOR[0], 160.0, 150.0, 260.0, 800.0, 100.0, 100.0),
    ]
    lines = imports.section(rows, stamp="Measured now.")
    assert lines[0] == imports.HEADING
    assert "| XpStatsFunction | 195 | 150 | 1.30 | 1.20 | 300 | 900 |" in lines
    assert "| XpUsersFunction | 240 | 150 | 1.60 | 1.25 | 340 | - |" in lines
    assert lines[-1] == "Above 1.3x by either ratio: XpUsersFunction."


def test_with_instruction_counts_the_section_decides_by_instructions_and_cpu_and_names_wall_clock_only_rows():
    """Counted instructions (`--instructions`) do not move with the machine's load: a row above the target by
    wall clock alone is named apart, as the load's."""
    from bench import imports

    rows = [
        imports.Result("XpStatsFunction", 195.0, 150.0, 300.0, 900.0, 120.0, 100.0, 880e6, 740e6),
        imports.Result("XpUsersFunction", 240.0, 150.0, 340.0, float("nan"), 125.0, 100.0, 1000e6, 740e6),
        imports.Result("XpConfigFunction", 210.0, 150.0, 330.0, 900.0, 110.0, 100.0, 850e6, 740e6),
        imports.Result(imports.FLOOR[0], 160.0, 150.0, 260.0, 800.0, 100.0, 100.0),  # not counted
    ]
    lines = imports.section(rows, stamp="Measured now.")
    assert "`import boto3` alone: 740 M instructions." in lines
    assert "| XpStatsFunction | 195 | 150 | 1.30 | 1.20 | 880 | 1.19 | 300 | 900 |" in lines
    assert "| XpUsersFunction | 240 | 150 | 1.60 | 1.25 | 1000 | 1.35 | 340 | - |" in lines
    assert f"| {imports.FLOOR[0]} | 160 | 150 | 1.07 | 1.00 | - | - | 260 | 800 |" in lines
    assert lines[-1] == (
        "Above 1.3x by instructions or CPU: XpUsersFunction. Above it by wall clock alone (this run's load):"
        " XpConfigFunction."
    )


def test_the_bench_counts_the_same_instructions_for_the_same_import():
    """What makes the instruction ratio load-proof: two fresh processes, one count (needs valgrind, which is a
    bench prerequisite, so skipped without it)."""
    import shutil

    from bench import imports

    if shutil.which("valgrind") is None:
        pytest.skip("valgrind not installed (a bench prerequisite)")
    counts = {imports.import_instructions([], "import json") for _ in range(2)}
    assert len(counts) == 1
    assert next(iter(counts)) > 0


def test_the_bench_replaces_its_section_under_an_older_title_and_nothing_else():
    from bench import imports

    document = "# Performance\n\n## Cold import per function (old title)\n\n| old |\n\n## Rank cards\n\nkept\n"
    updated = imports.replace_section(document, [imports.HEADING, "", "| new |"])
    assert updated == f"# Performance\n\n{imports.HEADING}\n\n| new |\n\n## Rank cards\n\nkept\n"
