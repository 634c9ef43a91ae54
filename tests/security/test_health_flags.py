"""Issue 12, finding 8: GET /api/xp/health said `discord.configured: false` when deployed.

The flag reads DISCORD_PUBLIC_KEY, which template.yaml set on the interactions function only, not on the
function that answers /api/xp/health. These tests read the template as deployed: the health function must
get every variable the health check reads (from Globals or its own Environment) and the permission its
storage probe uses, so each flag it reports is true exactly when the deployment is configured.
"""

from __future__ import annotations

import ast
import fnmatch
import inspect
import textwrap
from typing import Any

import pytest

from local.template import FunctionSpec, function_environment, functions, load_template

HEALTH = "/api/xp/health"
PUBLIC_KEY = "ab" * 32  # 32 bytes of hex, like the Developer Portal's


def health_function(template: dict[str, Any]) -> FunctionSpec:
    serving = [s for s in functions(template).values() if any(p == HEALTH for _, p in s.routes)]
    assert len(serving) == 1, [s.logical_id for s in serving]
    return serving[0]


def variables_read_by_health() -> set[str]:
    """The environment variables `service.stats.health` reads (os.environ.get / os.getenv / os.environ[...])."""
    from xpshop.service import stats

    tree = ast.parse(textwrap.dedent(inspect.getsource(stats.health)))
    names: set[str] = set()
    for node in ast.walk(tree):
        key: ast.expr | None = None
        if isinstance(node, ast.Call) and node.args:
            func = ast.unparse(node.func)
            if func in ("os.environ.get", "os.getenv", "environ.get", "getenv"):
                key = node.args[0]
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) in ("os.environ", "environ"):
            key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            names.add(key.value)
    return names


def test_the_health_function_gets_every_variable_health_reads():
    template = load_template()
    spec = health_function(template)
    read = variables_read_by_health()
    assert "DISCORD_PUBLIC_KEY" in read  # the parser found what it is meant to find
    missing = sorted((read | {"TABLE_NAME"}) - set(spec.environment))  # TABLE_NAME: the storage probe
    assert missing == [], f"{spec.logical_id} does not get {missing} (Globals or its own Environment)"
    assert spec.environment["DISCORD_PUBLIC_KEY"] == {"Ref": "DiscordPublicKey"}


def test_the_health_function_may_read_the_table():
    """storage.accessible is a GetItem on the table: without the permission it would say false when deployed."""
    from xpshop.store import keys

    template = load_template()
    spec = health_function(template)
    statements = [
        statement
        for policy in template["Resources"][spec.logical_id]["Properties"].get("Policies", [])
        if isinstance(policy, dict)
        for statement in policy.get("Statement", [])
    ]

    def as_list(value):
        return value if isinstance(value, list) else [value]

    def allows_the_probe(s):
        leading = (s.get("Condition") or {}).get("ForAllValues:StringLike", {}).get("dynamodb:LeadingKeys")
        return leading is None or any(fnmatch.fnmatchcase(keys.health_probe()["PK"], p) for p in leading)

    assert any(
        s.get("Effect") == "Allow"
        and "dynamodb:GetItem" in as_list(s.get("Action", []))
        and {"Fn::GetAtt": ["Table", "Arn"]} in as_list(s.get("Resource", []))
        and allows_the_probe(s)
        for s in statements
    )


@pytest.mark.parametrize(("public_key", "configured"), [(PUBLIC_KEY, True), ("", False)])
def test_health_reports_discord_as_deployed(api_moto, monkeypatch, public_key, configured):
    """The health handler with the environment the template gives its function for a DiscordPublicKey."""
    template = load_template()
    deployed = function_environment(template, health_function(template), context={"DiscordPublicKey": public_key})
    for name in variables_read_by_health():
        monkeypatch.delenv(name, raising=False)
        if name in deployed:
            monkeypatch.setenv(name, deployed[name])

    r = api_moto.get(HEALTH, key=None)

    assert r.status == 200
    assert r.data["discord"] == {"configured": configured}
    assert r.data["storage"] == {"accessible": True}


def test_health_with_the_public_key_set_says_configured(api_moto, monkeypatch):
    monkeypatch.setenv("DISCORD_PUBLIC_KEY", PUBLIC_KEY)
    assert api_moto.get(HEALTH, key=None).data["discord"] == {"configured": True}
