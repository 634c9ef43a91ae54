"""Tracing (issue 18 part 1): the X-Ray SDK is imported only when the deployment turns tracing on; the template's
`Tracing` parameter (off by default) drives both the functions' X-Ray mode and POWERTOOLS_TRACE_DISABLED."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from local import REPO_ROOT
from local.template import load_template
from xpshop import tracing

TEMPLATE = load_template()


def handler(event, context):
    return {"echo": event}


@pytest.mark.parametrize("value", [None, "", "true", "TRUE", "1", "yes"])
def test_a_handler_is_left_alone_unless_tracing_is_on(monkeypatch, value):
    if value is None:
        monkeypatch.delenv(tracing.TRACE_DISABLED_ENV, raising=False)
    else:
        monkeypatch.setenv(tracing.TRACE_DISABLED_ENV, value)
    assert tracing.enabled() is False
    assert tracing.capture_lambda_handler(handler) is handler


def test_a_traced_handler_is_wrapped_and_still_answers(monkeypatch):
    monkeypatch.setenv(tracing.TRACE_DISABLED_ENV, "false")
    assert tracing.enabled() is True
    traced = tracing.capture_lambda_handler(handler)
    assert traced is not handler
    assert traced({"a": 1}, None) == {"echo": {"a": 1}}


def test_the_template_parameter_drives_the_mode_and_the_variable():
    assert TEMPLATE["Parameters"]["Tracing"]["Default"] == "off"
    assert TEMPLATE["Conditions"]["Traced"] == {"Fn::Equals": [{"Ref": "Tracing"}, "on"]}
    function = TEMPLATE["Globals"]["Function"]
    assert function["Tracing"] == {"Fn::If": ["Traced", "Active", "PassThrough"]}
    variables = function["Environment"]["Variables"]
    assert variables[tracing.TRACE_DISABLED_ENV] == {"Fn::If": ["Traced", "false", "true"]}
    for logical_id, resource in TEMPLATE["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            assert "Tracing" not in resource["Properties"], logical_id


def test_no_function_imports_the_xray_sdk_when_tracing_is_off():
    """Every function's handler module, imported as Lambda would with the template's default."""
    script = """
import json, sys
from local import REPO_ROOT
from local.lambdas import load_handler
from local.template import functions, load_template
found = {}
for logical_id, spec in functions(load_template()).items():
    load_handler(REPO_ROOT, spec)
    found[logical_id] = any(name.startswith("aws_xray_sdk") for name in sys.modules)
print(json.dumps(found))
"""
    env = {**os.environ, tracing.TRACE_DISABLED_ENV: "true", "TABLE_NAME": "unused"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(found) >= 20
    assert [name for name, imported in found.items() if imported] == []
