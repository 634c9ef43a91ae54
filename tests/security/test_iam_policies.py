"""IAM: each function's role grants only the actions it uses, on the table (and where its keys share fixed
prefixes, only those partitions: dynamodb:LeadingKeys), checked against iam_policies.json beside this file
(issue 12, finding 10). What the tests see each handler call is checked against the same list at the end
of every test session (tests/support/iam_usage.py), so the list can't silently fall behind the code."""

from __future__ import annotations

from typing import Any

import pytest

from local.template import load_template
from tests.security.iam_policies import expected, gate_of, violations

SAM_SQS_SEND = "SQSSendMessagePolicy"
GATE_SID = "ApiGate"


def _functions() -> dict[str, dict[str, Any]]:
    resources = load_template()["Resources"]
    return {k: v["Properties"] for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function"}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _resource_text(resource: Any) -> str:
    """!GetAtt Table.Arn / !Sub "${Table.Arn}/index/*" as the loader gives them, as text."""
    return str(resource)


def granted(properties: dict[str, Any]) -> dict[str, Any]:
    """What the function's Policies grant: table actions (+ LeadingKeys), index actions, everything else."""
    table: set[str] = set()
    index: set[str] = set()
    other: set[str] = set()
    leading: list[str] | None = None
    gate: dict[str, Any] | None = None
    for policy in properties.get("Policies", []):
        if isinstance(policy, dict) and SAM_SQS_SEND in policy:
            other.add("sqs:SendMessage")
            continue
        for statement in policy.get("Statement", []):
            assert statement["Effect"] == "Allow"
            if statement.get("Sid") == GATE_SID:  # API keys and rate-limit windows, a statement of its own
                keys = statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
                gate = {"actions": sorted(_as_list(statement["Action"])), "leadingKeys": sorted(keys)}
                continue
            actions = set(_as_list(statement["Action"]))
            resources = [_resource_text(r) for r in _as_list(statement["Resource"])]
            dynamo = {a for a in actions if a.startswith("dynamodb:")}
            other |= actions - dynamo
            if not dynamo:
                continue
            assert actions == dynamo, "a DynamoDB statement grants DynamoDB actions only"
            on_index = [r for r in resources if "/index/" in r]
            assert len(on_index) in (0, len(resources)), "table and index grants are separate statements"
            if on_index:
                assert "Condition" not in statement
                index |= dynamo
                continue
            table |= dynamo
            condition = statement.get("Condition")
            if condition is not None:
                assert list(condition) == ["ForAllValues:StringLike"], condition
                assert leading is None, "one LeadingKeys statement per function"
                leading = sorted(condition["ForAllValues:StringLike"]["dynamodb:LeadingKeys"])
    return {
        "actions": sorted(table),
        "indexActions": sorted(index),
        "other": sorted(other),
        "leadingKeys": leading,
        "gate": gate,
    }


def test_every_function_is_listed():
    assert sorted(_functions()) == sorted(expected())


@pytest.mark.parametrize("function", sorted(expected()))
def test_the_template_grants_exactly_the_listed_actions(function):
    want = expected()[function]
    got = granted(_functions()[function])
    assert got == {
        "actions": sorted(want["actions"]),
        "indexActions": sorted(want.get("indexActions", [])),
        "other": sorted(want.get("other", [])),
        "leadingKeys": sorted(want["leadingKeys"]) if want.get("leadingKeys") else None,
        "gate": gate_of(want),
    }
    assert want.get("why"), "say why the function needs what it has"


@pytest.mark.parametrize("function", sorted(expected()))
def test_no_function_may_scan_or_batch_write(function):
    got = granted(_functions()[function])
    assert not {"dynamodb:Scan", "dynamodb:BatchWriteItem", "dynamodb:*"} & {*got["actions"], *got["indexActions"]}
    assert got["indexActions"] in ([], ["dynamodb:Query"])


def test_functions_with_a_fixed_key_space_are_held_to_it():
    """Where a function's partitions share fixed prefixes, its policy says so (the ones that span the shop's
    whole key space are listed without, deliberately: see "why")."""
    with_prefixes = {f for f, g in expected().items() if g.get("leadingKeys")}
    assert {
        "RankIndexFunction",
        "XpConsumerFunction",
        "XpLeaderboardFunction",
        "XpStatsFunction",
        "XpUsersFunction",
        "XpConfigFunction",
        "RecalcFunction",
        "EffectsFunction",
    } <= with_prefixes


def test_the_checker_catches_an_action_or_partition_outside_the_grant():
    """The session-end check (tests/conftest.py) is only worth something if it can fail."""
    assert violations({"RankIndexFunction": {"dynamodb:Scan": {"GUILD#1"}}})
    assert violations({"RankIndexFunction": {"dynamodb:UpdateItem": {"USER#1"}}})
    assert violations({"XpIngestFunction": {"dynamodb:GetItem": {"GUILD#1"}}})
    assert violations({"XpConsumerFunction": {"dynamodb:Query": {"index:GSI1:GUILDS"}}})
    assert violations({"NoSuchFunction": {"dynamodb:GetItem": {"GUILD#1"}}})
    assert not violations({"RankIndexFunction": {"dynamodb:UpdateItem": {"GUILD#1#RANK#v2#M"}}})
    # the gate's own statement: keys and rate windows only, its actions only
    assert not violations({"XpUsersFunction": {"dynamodb:GetItem": {"KEY#0123456789abcdef"}}})
    assert not violations({"WebLeaderboardFunction": {"dynamodb:UpdateItem": {"RATE#ip:127.0.0.1#60"}}})
    assert violations({"WebLeaderboardFunction": {"dynamodb:UpdateItem": {"GUILD#1"}}})
    assert violations({"WebLeaderboardFunction": {"dynamodb:GetItem": {"KEY#0123456789abcdef"}}})
