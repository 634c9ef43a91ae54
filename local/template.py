"""Read the SAM template: the table, the functions and their HttpApi routes, resolved for local use."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from local import DEFAULT_TABLE_NAME, REPO_ROOT

TEMPLATE_PATH = REPO_ROOT / "template.yaml"
FUNCTION_TYPE = "AWS::Serverless::Function"
HTTP_API_TYPE = "AWS::Serverless::HttpApi"
TABLE_TYPES = ("AWS::DynamoDB::Table", "AWS::Serverless::SimpleTable")
DEFAULT_TIMEOUT_S = 10  # when neither Globals nor the function set Timeout
DEFAULT_ROUTE = "$default"  # an HttpApi event without Path/Method catches what no route matches

# Pseudo parameters a local run can answer.
PSEUDO_PARAMETERS: dict[str, str] = {
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "xpshop-local",
    "AWS::StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/xpshop-local/local",
}

# CreateTable accepts only these of the CloudFormation table properties (PITR, TTL, SSE, ... are separate).
_CREATE_TABLE_KEYS = (
    "AttributeDefinitions",
    "KeySchema",
    "BillingMode",
    "ProvisionedThroughput",
    "TableClass",
)
_INDEX_KEYS = ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput")


# ---------------------------------------------------------------- YAML with CloudFormation short tags


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns CloudFormation short tags into their long form, e.g. ``{"Ref": x}``."""


_SHORT_TAGS = (
    "Ref",
    "Condition",
    "Sub",
    "GetAtt",
    "Select",
    "Split",
    "If",
    "Join",
    "Equals",
    "Not",
    "And",
    "Or",
    "FindInMap",
    "ImportValue",
    "Base64",
    "Cidr",
    "GetAZs",
)


def _long_name(tag: str) -> str:
    return tag if tag in ("Ref", "Condition") else f"Fn::{tag}"


def _tag_constructor(tag: str) -> Callable[[yaml.SafeLoader, yaml.Node], dict[str, Any]]:
    key = _long_name(tag)

    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if tag == "GetAtt":  # !GetAtt Res.Attr is short for [Res, Attr]
                value = str(value).split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        elif isinstance(node, yaml.MappingNode):
            value = loader.construct_mapping(node, deep=True)
        else:
            problem = f"unexpected node for !{tag}"
            raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark)
        return {key: value}

    return construct


for _tag in _SHORT_TAGS:
    CfnLoader.add_constructor(f"!{_tag}", _tag_constructor(_tag))


def load_template(path: Path | str = TEMPLATE_PATH) -> dict[str, Any]:
    with Path(path).open(encoding="utf-8") as handle:
        data = yaml.load(handle, Loader=CfnLoader)  # CfnLoader is a SafeLoader
    if not isinstance(data, dict):
        raise TypeError(f"{path} is not a CloudFormation template (not a mapping)")
    return data


# ---------------------------------------------------------------- intrinsics


def resolve_context(template: dict[str, Any], overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Values for ``Ref``: parameter defaults, pseudo parameters, the table's local name; overrides win."""
    context: dict[str, Any] = dict(PSEUDO_PARAMETERS)
    for name, spec in (template.get("Parameters") or {}).items():
        if "Default" in spec:
            context[name] = _parameter_value(spec, spec["Default"])
    for logical_id, resource in (template.get("Resources") or {}).items():
        if resource.get("Type") in TABLE_TYPES:
            context[logical_id] = DEFAULT_TABLE_NAME
    for name, value in (overrides or {}).items():
        spec = (template.get("Parameters") or {}).get(name)
        context[name] = _parameter_value(spec, value) if spec else value
    return context


def _parameter_value(spec: dict[str, Any], value: Any) -> Any:
    # A list-typed parameter given as "a,b" is a list when referenced.
    if str(spec.get("Type", "")).startswith(("CommaDelimitedList", "List<")) and isinstance(value, str):
        return [part.strip() for part in value.split(",")]
    return value


_SUB_VAR = re.compile(r"\$\{([^}]+)\}")


class _UnresolvedError(Exception):
    """An intrinsic that has no local value."""


def resolve(value: Any, context: dict[str, Any]) -> Any:
    """Resolve intrinsics in ``value`` against ``context`` (see resolve_context); unknowns become ""."""
    try:
        return _resolve(value, context)
    except _UnresolvedError:
        return ""


def _resolve(value: Any, context: dict[str, Any]) -> Any:
    if isinstance(value, list):
        return [resolve(item, context) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, arg),) = value.items()
        if key in _INTRINSICS:
            return _INTRINSICS[key](arg, context)
        if key.startswith("Fn::") or key == "Condition":
            raise _UnresolvedError(key)
    return {key: resolve(item, context) for key, item in value.items()}


def _ref(name: Any, context: dict[str, Any]) -> Any:
    if name not in context:
        raise _UnresolvedError(name)
    return context[name]


def _join(arg: Any, context: dict[str, Any]) -> str:
    delimiter, items = arg
    return str(delimiter).join(_scalar(item) for item in _strict_list(items, context))


def _select(arg: Any, context: dict[str, Any]) -> Any:
    index, items = arg
    return _strict_list(items, context)[int(_resolve(index, context))]


def _split(arg: Any, context: dict[str, Any]) -> list[str]:
    delimiter, text = arg
    return str(_resolve(text, context)).split(str(delimiter))


def _strict_list(value: Any, context: dict[str, Any]) -> list[Any]:
    # Inside Join/Select one unknown item makes the whole intrinsic unknown.
    if isinstance(value, list):
        return [_resolve(item, context) for item in value]
    items = _resolve(value, context)  # e.g. a Ref to a list parameter
    if not isinstance(items, list):
        raise _UnresolvedError(value)
    return items


def _sub(arg: Any, context: dict[str, Any]) -> str:
    text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
    scope = {**context, **{name: _resolve(item, context) for name, item in variables.items()}}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("!"):  # ${!Literal} is the escape for a literal ${Literal}
            return "${" + name[1:] + "}"
        if name not in scope:
            raise _UnresolvedError(name)
        return _scalar(scope[name])

    return _SUB_VAR.sub(replace, str(text))


_INTRINSICS: dict[str, Callable[[Any, dict[str, Any]], Any]] = {
    "Ref": _ref,
    "Fn::Sub": _sub,
    "Fn::Join": _join,
    "Fn::Select": _select,
    "Fn::Split": _split,
}


def _scalar(value: Any) -> str:
    """A resolved value as an environment string (CloudFormation stringifies them the same way)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_scalar(item) for item in value)
    if value is None:
        return ""
    return str(value)


# ---------------------------------------------------------------- the table


def _table_properties(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    resource = (template.get("Resources") or {}).get(logical_id)
    if not resource or resource.get("Type") not in TABLE_TYPES:
        raise KeyError(f"no DynamoDB table {logical_id!r} in the template")
    return dict(resource.get("Properties") or {})


def table_create_kwargs(
    template: dict[str, Any], logical_id: str = "Table", table_name: str = DEFAULT_TABLE_NAME
) -> dict[str, Any]:
    """Keyword arguments for boto3 ``create_table`` that build the template's table."""
    props = _table_properties(template, logical_id)
    kwargs: dict[str, Any] = {"TableName": table_name}
    kwargs.update({key: props[key] for key in _CREATE_TABLE_KEYS if key in props})
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if props.get(key):
            kwargs[key] = [{k: index[k] for k in _INDEX_KEYS if k in index} for index in props[key]]
    if "BillingMode" not in kwargs:
        kwargs["BillingMode"] = "PROVISIONED" if "ProvisionedThroughput" in kwargs else "PAY_PER_REQUEST"
    stream = props.get("StreamSpecification")
    if stream and stream.get("StreamViewType"):
        kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    return kwargs


def ttl_attribute(template: dict[str, Any], logical_id: str = "Table") -> str | None:
    """The TTL attribute name when the template enables TTL on the table."""
    spec = _table_properties(template, logical_id).get("TimeToLiveSpecification") or {}
    enabled = spec.get("Enabled")
    if enabled is True or str(enabled).lower() == "true":
        return str(spec["AttributeName"])
    return None


def create_table(client: Any, template: dict[str, Any], table_name: str, logical_id: str = "Table") -> None:
    """Create the template's table unless it exists, wait until ACTIVE, enable TTL. Idempotent."""
    from botocore.exceptions import ClientError

    try:
        client.describe_table(TableName=table_name)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
        try:
            client.create_table(**table_create_kwargs(template, logical_id, table_name))
        except ClientError as create_error:  # someone else created it meanwhile
            if create_error.response.get("Error", {}).get("Code") != "ResourceInUseException":
                raise
    waiter = client.get_waiter("table_exists")
    waiter.wait(TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    attribute = ttl_attribute(template, logical_id)
    if attribute:
        _enable_ttl(client, table_name, attribute)


def _enable_ttl(client: Any, table_name: str, attribute: str) -> None:
    current = client.describe_time_to_live(TableName=table_name).get("TimeToLiveDescription", {})
    if current.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
        return
    client.update_time_to_live(
        TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute}
    )


# ---------------------------------------------------------------- functions and routes


@dataclass(frozen=True)
class RouteSpec:
    """One HttpApi route: ``method`` is upper case or ANY; ``path`` may hold {var} and {proxy+}."""

    method: str
    path: str
    logical_id: str

    @property
    def route_key(self) -> str:
        return DEFAULT_ROUTE if self.path == DEFAULT_ROUTE else f"{self.method} {self.path}"


@dataclass
class FunctionSpec:
    """What the local runner needs of one AWS::Serverless::Function."""

    logical_id: str
    code_uri: str
    handler: str
    environment: dict[str, Any]  # Globals merged with the function's own, intrinsics unresolved
    routes: list[tuple[str, str]] = field(default_factory=list)  # (method, path) of HttpApi events
    timeout: int = DEFAULT_TIMEOUT_S
    memory_size: int = 128
    layers: list[str] = field(default_factory=list)  # ContentUri of the layers defined in the template


def _globals(template: dict[str, Any]) -> dict[str, Any]:
    return dict((template.get("Globals") or {}).get("Function") or {})


def _env_vars(props: dict[str, Any]) -> dict[str, Any]:
    return dict(((props.get("Environment") or {}).get("Variables")) or {})


def _http_routes_of(props: dict[str, Any]) -> list[tuple[str, str]]:
    routes = []
    for event in (props.get("Events") or {}).values():
        if event.get("Type") != "HttpApi":
            continue
        event_props = event.get("Properties") or {}
        path, method = event_props.get("Path"), event_props.get("Method")
        if path is None and method is None:
            routes.append(("ANY", DEFAULT_ROUTE))
        else:
            routes.append((_method(method or "ANY"), str(path)))
    return routes


def _method(method: str) -> str:
    method = str(method).upper()
    return "ANY" if method in ("*", "X-AMAZON-APIGATEWAY-ANY-METHOD") else method


def _layer_dirs(template: dict[str, Any], layers: list[Any]) -> list[str]:
    """ContentUri of each layer that is a LayerVersion of this template (ARNs of others are skipped)."""
    resources = template.get("Resources") or {}
    dirs = []
    for layer in layers:
        ref = layer.get("Ref") if isinstance(layer, dict) else None
        resource = resources.get(ref) if ref else None
        if resource and resource.get("Type") == "AWS::Serverless::LayerVersion":
            content_uri = (resource.get("Properties") or {}).get("ContentUri")
            if isinstance(content_uri, str):
                dirs.append(content_uri)
    return dirs


def functions(template: dict[str, Any]) -> dict[str, FunctionSpec]:
    """Every AWS::Serverless::Function of the template, by logical id, with Globals applied."""
    glob = _globals(template)
    specs: dict[str, FunctionSpec] = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        if resource.get("Type") != FUNCTION_TYPE:
            continue
        props = resource.get("Properties") or {}
        merged = {**glob, **props}
        specs[logical_id] = FunctionSpec(
            logical_id=logical_id,
            code_uri=str(merged.get("CodeUri", "")),
            handler=str(merged.get("Handler", "")),
            environment={**_env_vars(glob), **_env_vars(props)},
            routes=_http_routes_of(props),
            timeout=int(merged.get("Timeout", DEFAULT_TIMEOUT_S)),
            memory_size=int(merged.get("MemorySize", 128)),
            layers=_layer_dirs(template, list(merged.get("Layers") or [])),
        )
    return specs


def http_routes(template: dict[str, Any]) -> list[RouteSpec]:
    """All HttpApi routes of the template, in template order."""
    return [
        RouteSpec(method, path, spec.logical_id)
        for spec in functions(template).values()
        for method, path in spec.routes
    ]


def _env_strings(variables: dict[str, Any], context: dict[str, Any]) -> dict[str, str]:
    return {name: _scalar(resolve(value, context)) for name, value in variables.items()}


def local_environment(
    template: dict[str, Any], overrides: dict[str, str] | None = None, context: dict[str, Any] | None = None
) -> dict[str, str]:
    """The Globals environment resolved for a local run; ``overrides`` (env names) win.

    ``context`` overrides parameter values and refs, e.g. ``{"Stage": "local"}``.
    """
    env = _env_strings(_env_vars(_globals(template)), resolve_context(template, context))
    env.update(overrides or {})
    return env


def function_environment(
    template: dict[str, Any],
    spec: FunctionSpec,
    overrides: dict[str, str] | None = None,
    context: dict[str, Any] | None = None,
) -> dict[str, str]:
    """Like local_environment, for one function (Globals merged with its own variables)."""
    env = _env_strings(spec.environment, resolve_context(template, context))
    env.update(overrides or {})
    return env


def cors_configuration(template: dict[str, Any]) -> dict[str, Any] | None:
    """The HttpApi CorsConfiguration with intrinsics resolved (``True`` means allow every origin)."""
    context = resolve_context(template)
    global_cors = ((template.get("Globals") or {}).get("HttpApi") or {}).get("CorsConfiguration")
    for resource in (template.get("Resources") or {}).values():
        if resource.get("Type") == HTTP_API_TYPE:
            cors = (resource.get("Properties") or {}).get("CorsConfiguration", global_cors)
            return _normalise_cors(resolve(cors, context))
    return _normalise_cors(resolve(global_cors, context))


def _normalise_cors(cors: Any) -> dict[str, Any] | None:
    if cors is True:
        return {"AllowOrigins": ["*"], "AllowMethods": ["*"], "AllowHeaders": ["*"]}
    if not isinstance(cors, dict):
        return None
    normalised = dict(cors)
    for key in ("AllowOrigins", "AllowMethods", "AllowHeaders", "ExposeHeaders"):
        value = normalised.get(key)
        if isinstance(value, str):
            normalised[key] = [part.strip() for part in value.split(",") if part.strip()]
    return normalised
