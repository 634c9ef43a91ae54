"""SnapStart (issue 18 part 2): the template turns it on by a parameter; the hooks register with the runtime's
snapshot_restore_py only in an environment initialised for a snapshot; before the snapshot the API models are
built; after a (simulated) restore `random` is reseeded, every cached connection and cache is dropped, and the
handlers still work."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from typing import Any

import pytest
import snapshot_restore_py

from local import REPO_ROOT
from local.template import load_template
from tests.support.storage import new_guild_id, new_user_id
from xpshop import snapstart
from xpshop.service import curves
from xpshop.store import table

TEMPLATE = load_template()


def _run(registry: list[Any]) -> None:
    for func, args, kwargs in registry:
        func(*args, **kwargs)


def _registered(registry: list[Any], func: Any) -> int:
    return sum(1 for entry in registry if entry[0] is func)


# ---------------------------------------------------------------- the template


def test_the_parameter_turns_snapstart_on_for_every_function_and_defaults_to_off():
    parameter = TEMPLATE["Parameters"]["SnapStart"]
    assert parameter["Default"] == "None"
    assert parameter["AllowedValues"] == ["None", "PublishedVersions"]
    globals_ = TEMPLATE["Globals"]["Function"]
    assert globals_["SnapStart"] == {"ApplyOn": {"Ref": "SnapStart"}}
    # SnapStart applies to published versions only: every function publishes one behind an alias
    assert globals_["AutoPublishAlias"] == "live"
    for logical_id, resource in TEMPLATE["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            properties = resource["Properties"]
            assert "SnapStart" not in properties and "AutoPublishAlias" not in properties, logical_id


# ---------------------------------------------------------------- registration


def test_nothing_is_registered_outside_a_snapshot_initialisation(monkeypatch):
    monkeypatch.delenv("AWS_LAMBDA_INITIALIZATION_TYPE", raising=False)
    assert snapstart.install() is False
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
    assert snapstart.install() is False
    assert _registered(snapshot_restore_py.get_after_restore(), snapstart.after_restore) == 0


def test_a_snapshot_initialisation_registers_each_hook_once(monkeypatch):
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start")
    before, after = snapshot_restore_py.get_before_snapshot(), snapshot_restore_py.get_after_restore()
    monkeypatch.setattr(snapshot_restore_py, "_before_snapshot_registry", [])
    monkeypatch.setattr(snapshot_restore_py, "_after_restore_registry", [])
    monkeypatch.setattr(snapstart, "_installed", set())
    assert snapstart.install() is True
    assert snapstart.install() is True  # a second import path: still once
    assert _registered(snapshot_restore_py.get_before_snapshot(), snapstart.before_snapshot) == 1
    assert _registered(snapshot_restore_py.get_after_restore(), snapstart.after_restore) == 1
    assert before is not snapshot_restore_py.get_before_snapshot() and after is not None


# ---------------------------------------------------------------- what the hooks do


def test_after_restore_reseeds_random():
    random.seed(1234)
    snapshot_copy = random.random()
    random.seed(1234)  # a second environment restored from the same snapshot holds the same state...
    snapstart.after_restore()
    assert random.random() != snapshot_copy  # ...until the hook reseeds it


def test_after_restore_drops_connections_and_caches(moto_table):
    guild = new_guild_id()
    handle = table.client()
    curves.config_for(guild)
    assert guild in curves._cache
    snapstart.after_restore()
    assert guild not in curves._cache
    assert table.client() is not handle  # a new connection pool


def test_before_snapshot_builds_the_deferred_api_models():
    from xpshop.api.xp import responses

    responses.MemberDetail.__pydantic_complete__ = False  # as it is right after a cold import
    snapstart.before_snapshot()
    assert responses.MemberDetail.__pydantic_complete__


def test_handlers_work_after_a_simulated_restore(api_moto):
    guild, user = new_guild_id(), new_user_id()
    assert api_moto.put(f"/api/xp/guilds/{guild}", {}).status in (200, 201)
    assert api_moto.post(f"/api/xp/users/{guild}/{user}", {"amount": 100}).status == 200
    _run([(snapstart.before_snapshot, (), {})])
    snapstart.after_restore()
    added = api_moto.post(f"/api/xp/users/{guild}/{user}", {"amount": 50})
    assert added.status == 200, added.body
    assert api_moto.get(f"/api/xp/users/{guild}/{user}").data["user"]["xp"] == 150


@pytest.mark.parametrize(
    ("logical_id", "least_resets"),
    [
        ("XpUsersFunction", 3),  # table handles, idempotency's persistence and runner, curves, ...
        ("XpConsumerFunction", 2),
        ("DiscordInteractionsFunction", 0),  # imports the signature check alone until a request needs more
    ],
)
def test_a_fresh_snapshot_initialisation_runs_both_hooks(logical_id, least_resets):
    """In a new process, as Lambda does it: import the handler with AWS_LAMBDA_INITIALIZATION_TYPE=snap-start,
    run the registered before-snapshot hooks, then the after-restore hooks."""
    script = f"""
import snapshot_restore_py
from local import REPO_ROOT
from local.lambdas import load_handler
from local.template import functions, load_template
load_handler(REPO_ROOT, functions(load_template())[{logical_id!r}])
from xpshop import snapstart
before, after = snapshot_restore_py.get_before_snapshot(), snapshot_restore_py.get_after_restore()
assert [e[0] for e in before] == [snapstart.before_snapshot], before
assert [e[0] for e in after] == [snapstart.after_restore], after
built = snapstart.build_api_models()
for func, args, kwargs in before + after:
    func(*args, **kwargs)
print(len(snapstart._restore), built)
"""
    env = {**os.environ, "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start", "TABLE_NAME": "unused"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    resets, _ = (int(n) for n in done.stdout.split())
    assert resets >= least_resets
