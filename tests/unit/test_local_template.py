"""local.template: reading template.yaml for the local runner (no network, no DynamoDB)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
import yaml
from botocore.stub import Stubber

from local import DEFAULT_TABLE_NAME, REPO_ROOT
from local.template import (
    CfnLoader,
    cors_configuration,
    create_table,
    function_environment,
    functions,
    http_routes,
    load_template,
    local_environment,
    resolve,
    resolve_context,
    table_create_kwargs,
    ttl_attribute,
)

HTTP_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(REPO_ROOT / "template.yaml")


@pytest.fixture(scope="module")
def table_props(template: dict[str, Any]) -> dict[str, Any]:
    return template["Resources"]["Table"]["Properties"]


# ---------------------------------------------------------------- YAML short tags


def test_short_tags_load_as_long_form() -> None:
    text = """
    a: !Ref Table
    b: !Sub "arn:${AWS::Partition}:x"
    c: !GetAtt Table.Arn
    d: !Join [",", [a, b]]
    e: !Select [0, !Split [",", "x,y"]]
    f: !If [IsProd, 1, 2]
    g: !Equals [!Ref Stage, prod]
    h: !Not [!Condition IsProd]
    i: !And [true, !Or [false, true]]
    j: !FindInMap [Map, Key, Value]
    k: !ImportValue other-stack-output
    l: !Base64 hello
    m: !Cidr [10.0.0.0/16, 4, 8]
    n: !GetAZs ""
    """
    data = yaml.load(text, Loader=CfnLoader)  # CfnLoader is a SafeLoader
    assert data["a"] == {"Ref": "Table"}
    assert data["b"] == {"Fn::Sub": "arn:${AWS::Partition}:x"}
    assert data["c"] == {"Fn::GetAtt": ["Table", "Arn"]}
    assert data["d"] == {"Fn::Join": [",", ["a", "b"]]}
    assert data["e"] == {"Fn::Select": [0, {"Fn::Split": [",", "x,y"]}]}
    assert data["f"] == {"Fn::If": ["IsProd", 1, 2]}
    assert data["g"] == {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}
    assert data["h"] == {"Fn::Not": [{"Condition": "IsProd"}]}
    assert data["i"] == {"Fn::And": [True, {"Fn::Or": [False, True]}]}
    assert data["j"] == {"Fn::FindInMap": ["Map", "Key", "Value"]}
    assert data["k"] == {"Fn::ImportValue": "other-stack-output"}
    assert data["l"] == {"Fn::Base64": "hello"}
    assert data["m"] == {"Fn::Cidr": ["10.0.0.0/16", 4, 8]}
    assert data["n"] == {"Fn::GetAZs": ""}


def test_plain_safe_loader_is_untouched() -> None:
    with pytest.raises(yaml.constructor.ConstructorError):
        yaml.safe_load("a: !Ref Table")


def test_template_keeps_intrinsics_unresolved(template: dict[str, Any]) -> None:
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["TABLE_NAME"] == {"Ref": "Table"}


# ---------------------------------------------------------------- the table


def _key_attributes(schema: list[dict[str, str]]) -> set[str]:
    return {key["AttributeName"] for key in schema}


def test_table_kwargs_match_the_template(template: dict[str, Any], table_props: dict[str, Any]) -> None:
    kwargs = table_create_kwargs(template, table_name="t1")
    assert kwargs["TableName"] == "t1"
    assert kwargs["KeySchema"] == table_props["KeySchema"]
    assert {(k["AttributeName"], k["KeyType"]) for k in kwargs["KeySchema"]} == {
        ("PK", "HASH"),
        ("SK", "RANGE"),
    }
    assert kwargs["AttributeDefinitions"] == table_props["AttributeDefinitions"]
    assert kwargs["BillingMode"] == table_props.get("BillingMode", "PAY_PER_REQUEST")
    expected_gsis = {gsi["IndexName"]: gsi for gsi in table_props.get("GlobalSecondaryIndexes", [])}
    assert {gsi["IndexName"] for gsi in kwargs.get("GlobalSecondaryIndexes", [])} == set(expected_gsis)
    for gsi in kwargs.get("GlobalSecondaryIndexes", []):
        assert gsi["KeySchema"] == expected_gsis[gsi["IndexName"]]["KeySchema"]
        assert gsi["Projection"] == expected_gsis[gsi["IndexName"]]["Projection"]


def test_table_kwargs_define_exactly_the_key_attributes(template: dict[str, Any]) -> None:
    # CreateTable rejects attribute definitions that no key schema uses, and keys without one.
    kwargs = table_create_kwargs(template)
    used = _key_attributes(kwargs["KeySchema"])
    for index in kwargs.get("GlobalSecondaryIndexes", []) + kwargs.get("LocalSecondaryIndexes", []):
        used |= _key_attributes(index["KeySchema"])
    assert {a["AttributeName"] for a in kwargs["AttributeDefinitions"]} == used


def test_table_kwargs_drop_what_create_table_does_not_take(template: dict[str, Any]) -> None:
    kwargs = table_create_kwargs(template)
    for key in ("PointInTimeRecoverySpecification", "TimeToLiveSpecification", "SSESpecification"):
        assert key not in kwargs


def test_ttl_attribute(template: dict[str, Any], table_props: dict[str, Any]) -> None:
    spec = table_props.get("TimeToLiveSpecification")
    expected = spec["AttributeName"] if spec and spec.get("Enabled") else None
    assert ttl_attribute(template) == expected


TABLE = "xp-test"  # DynamoDB names have at least 3 characters


def _stubbed_client() -> tuple[Any, Stubber]:
    # A real client with a Stubber validates our parameters against the DynamoDB API model.
    client = boto3.client(
        "dynamodb",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    return client, Stubber(client)


def _active(name: str) -> dict[str, Any]:
    return {"Table": {"TableName": name, "TableStatus": "ACTIVE"}}


def test_create_table_creates_then_enables_ttl(template: dict[str, Any]) -> None:
    client, stub = _stubbed_client()
    stub.add_client_error("describe_table", "ResourceNotFoundException", expected_params={"TableName": TABLE})
    stub.add_response(
        "create_table",
        {"TableDescription": {"TableName": TABLE}},
        expected_params=table_create_kwargs(template, table_name=TABLE),
    )
    stub.add_response("describe_table", _active(TABLE), {"TableName": TABLE})
    attribute = ttl_attribute(template)
    if attribute:
        stub.add_response(
            "describe_time_to_live",
            {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}},
            {"TableName": TABLE},
        )
        stub.add_response(
            "update_time_to_live",
            {},
            {"TableName": TABLE, "TimeToLiveSpecification": {"Enabled": True, "AttributeName": attribute}},
        )
    with stub:
        create_table(client, template, TABLE)
    stub.assert_no_pending_responses()


def test_create_table_is_idempotent(template: dict[str, Any]) -> None:
    client, stub = _stubbed_client()
    stub.add_response("describe_table", _active(TABLE), {"TableName": TABLE})
    stub.add_response("describe_table", _active(TABLE), {"TableName": TABLE})  # the waiter
    if ttl_attribute(template):
        enabled = {"TimeToLiveStatus": "ENABLED", "AttributeName": ttl_attribute(template)}
        stub.add_response("describe_time_to_live", {"TimeToLiveDescription": enabled}, {"TableName": TABLE})
    with stub:  # no create_table / update_time_to_live expected: the Stubber fails on them
        create_table(client, template, TABLE)
    stub.assert_no_pending_responses()


# ---------------------------------------------------------------- functions and routes


def test_every_function_has_routes_and_a_code_directory(template: dict[str, Any]) -> None:
    specs = functions(template)
    assert specs
    handler = template["Globals"]["Function"]["Handler"]
    for logical_id, spec in specs.items():
        assert spec.logical_id == logical_id
        events = template["Resources"][logical_id]["Properties"].get("Events", {}).values()
        if any(e["Type"] == "HttpApi" for e in events):
            assert spec.routes, f"{logical_id} has no HttpApi route"
        else:  # a queue consumer or a scheduled job: no route to serve
            assert not spec.routes
        assert (REPO_ROOT / spec.code_uri).is_dir(), f"{logical_id}: {spec.code_uri} is missing"
        assert spec.handler == template["Resources"][logical_id]["Properties"].get("Handler", handler)
        assert spec.timeout > 0


def test_http_routes_are_unique_and_well_formed(template: dict[str, Any]) -> None:
    routes = http_routes(template)
    keys = [(route.method, route.path) for route in routes]
    assert len(keys) == len(set(keys)), "two functions claim the same route"
    for route in routes:
        assert route.method in HTTP_METHODS
        assert route.path.startswith("/")
        assert route.logical_id in functions(template)


def test_functions_merge_globals_and_their_own_settings() -> None:
    template = {
        "Globals": {
            "Function": {
                "Handler": "app.lambda_handler",
                "Timeout": 10,
                "Environment": {"Variables": {"A": "global", "B": "global"}},
            }
        },
        "Resources": {
            "Fn": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "CodeUri": "functions/fn/",
                    "Timeout": 30,
                    "Environment": {"Variables": {"B": "own"}},
                    "Events": {
                        "Get": {"Type": "HttpApi", "Properties": {"Path": "/x", "Method": "get"}},
                        "Default": {"Type": "HttpApi"},
                        "Queue": {"Type": "SQS", "Properties": {"Queue": "q"}},
                    },
                },
            }
        },
    }
    spec = functions(template)["Fn"]
    assert spec.handler == "app.lambda_handler"
    assert spec.timeout == 30
    assert spec.environment == {"A": "global", "B": "own"}
    assert spec.routes == [("GET", "/x"), ("ANY", "$default")]
    assert function_environment(template, spec, {"A": "override"}) == {"A": "override", "B": "own"}


# ---------------------------------------------------------------- intrinsics and environment


def test_resolve_intrinsics() -> None:
    template = {
        "Parameters": {
            "Stage": {"Type": "String", "Default": "prod"},
            "Days": {"Type": "Number", "Default": 90},
            "Origins": {"Type": "CommaDelimitedList", "Default": "a,b"},
        },
        "Resources": {"Table": {"Type": "AWS::DynamoDB::Table"}},
    }
    context = resolve_context(template, {"Stage": "local"})
    assert resolve({"Ref": "Stage"}, context) == "local"
    assert resolve({"Ref": "Days"}, context) == 90
    assert resolve({"Ref": "Origins"}, context) == ["a", "b"]
    assert resolve({"Ref": "Table"}, context) == DEFAULT_TABLE_NAME
    assert resolve({"Fn::Sub": "x-${Stage}-${AWS::Region}"}, context) == "x-local-us-east-1"
    assert resolve({"Fn::Sub": ["${A}/${Stage}", {"A": {"Ref": "Days"}}]}, context) == "90/local"
    assert resolve({"Fn::Sub": "${!Literal}"}, context) == "${Literal}"
    assert resolve({"Fn::Join": ["-", ["a", {"Ref": "Stage"}]]}, context) == "a-local"
    assert resolve({"Fn::Select": [1, {"Ref": "Origins"}]}, context) == "b"
    assert resolve([{"Ref": "Stage"}, "plain"], context) == ["local", "plain"]


def test_unresolvable_intrinsics_become_empty_strings() -> None:
    context = resolve_context({"Resources": {}})
    assert resolve({"Ref": "Nope"}, context) == ""
    assert resolve({"Fn::GetAtt": ["Table", "Arn"]}, context) == ""
    assert resolve({"Fn::Sub": "${Nope}-x"}, context) == ""
    assert resolve({"Fn::Join": ["-", ["a", {"Ref": "Nope"}]]}, context) == ""
    assert resolve({"Fn::ImportValue": "x"}, context) == ""


def test_local_environment(template: dict[str, Any]) -> None:
    env = local_environment(template, {"XPSHOP_ADMIN_KEY": "k"})
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert set(env) == set(variables) | {"XPSHOP_ADMIN_KEY"}
    assert all(isinstance(value, str) for value in env.values())
    assert env["TABLE_NAME"] == DEFAULT_TABLE_NAME
    assert env["XPSHOP_ADMIN_KEY"] == "k"
    parameters = template["Parameters"]
    for name, value in variables.items():
        if isinstance(value, dict) and value.get("Ref") in parameters:
            assert env[name] == str(parameters[value["Ref"]]["Default"])


def test_local_environment_overrides_win(template: dict[str, Any]) -> None:
    env = local_environment(template, {"TABLE_NAME": "other", "ADMIN_KEY_PARAM": ""})
    assert env["TABLE_NAME"] == "other"
    assert env["ADMIN_KEY_PARAM"] == ""
    stage = local_environment(template, {}, context={"Stage": "local"})
    if "XPSHOP_STAGE" in stage:
        assert stage["XPSHOP_STAGE"] == "local"


def test_cors_configuration(template: dict[str, Any]) -> None:
    cors = cors_configuration(template)
    assert cors is not None
    assert isinstance(cors["AllowOrigins"], list)
    assert all(isinstance(origin, str) and origin for origin in cors["AllowOrigins"])
    assert cors_configuration({"Resources": {}}) is None
    api = {"Type": "AWS::Serverless::HttpApi", "Properties": {"CorsConfiguration": True}}
    enabled = {"Resources": {"Api": api}}
    assert cors_configuration(enabled) == {
        "AllowOrigins": ["*"],
        "AllowMethods": ["*"],
        "AllowHeaders": ["*"],
    }


def test_the_deployed_api_routes_head_wherever_it_routes_get():
    # An HTTP API routes HEAD only to a HEAD or ANY route: every path with a GET route needs one of them, so
    # HEAD reaches the function (which answers it as the GET) deployed as it does locally.
    routes = http_routes(load_template())
    by_path: dict[str, set[str]] = {}
    for route in routes:
        by_path.setdefault(route.path, set()).add(route.method)
    lacking = sorted(p for p, methods in by_path.items() if "GET" in methods and not methods & {"HEAD", "ANY"})
    assert lacking == []
