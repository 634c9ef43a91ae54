"""local.server: API Gateway HTTP API behaviour (routing, payload 2.0 events, responses, CORS),
and local.lambdas: loading and calling handlers in-process."""

from __future__ import annotations

import base64
import http.client
import json
import logging
import re
import sys
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from local import REPO_ROOT, lambdas
from local.server import (
    HttpRequest,
    LocalApi,
    LocalHttpServer,
    MalformedResponseError,
    RouteMatch,
    build_event,
    make_server,
    match_route,
    query_parameters,
    translate_result,
)
from local.template import DEFAULT_ROUTE, FunctionSpec, RouteSpec, http_routes, load_template

ROUTES = [
    RouteSpec("ANY", "/{proxy+}", "NotFound"),
    RouteSpec("ANY", "/api/{proxy+}", "ApiProxy"),
    RouteSpec("ANY", "/api/xp/config/{guildId}", "ConfigGuild"),
    RouteSpec("ANY", "/api/xp/config/global", "ConfigGlobal"),
    RouteSpec("ANY", "/api/xp/config/{guildId}/rewards", "ConfigRewards"),
    RouteSpec("ANY", "/api/xp/users/{guildId}/{userId}", "UsersMember"),
    RouteSpec("ANY", "/api/xp/users/{guildId}/{userId}/recalc", "UsersRecalc"),
    RouteSpec("ANY", "/a/{x}/c", "VarMiddle"),
    RouteSpec("ANY", "/a/b/{y}", "VarLast"),
    RouteSpec("ANY", "/a/{x}/{y}", "VarBoth"),
    RouteSpec("ANY", "/api/docs", "DocsAny"),
    RouteSpec("GET", "/api/docs", "DocsGet"),
    RouteSpec("GET", "/api/docs/openapi.json", "OpenApi"),
]


def matched(method: str, path: str, routes: list[RouteSpec] = ROUTES) -> tuple[str, dict[str, str]] | None:
    match = match_route(routes, method, path)
    return None if match is None else (match.route.logical_id, match.path_parameters)


# ---------------------------------------------------------------- route precedence


def test_static_path_beats_variable() -> None:
    assert matched("GET", "/api/xp/config/global") == ("ConfigGlobal", {})
    assert matched("GET", "/api/xp/config/42") == ("ConfigGuild", {"guildId": "42"})


def test_variable_path_beats_greedy_proxy() -> None:
    assert matched("POST", "/api/xp/users/1/2") == ("UsersMember", {"guildId": "1", "userId": "2"})
    assert matched("POST", "/api/xp/users/1/2/recalc") == ("UsersRecalc", {"guildId": "1", "userId": "2"})
    assert matched("GET", "/api/xp/config/7/rewards") == ("ConfigRewards", {"guildId": "7"})


def test_more_and_earlier_static_segments_win() -> None:
    assert matched("GET", "/a/b/c") == ("VarLast", {"y": "c"})  # static "b" is left of static "c"
    assert matched("GET", "/a/x/c") == ("VarMiddle", {"x": "x"})
    assert matched("GET", "/a/x/z") == ("VarBoth", {"x": "x", "y": "z"})


def test_longer_proxy_prefix_wins() -> None:
    assert matched("GET", "/api/unknown/thing") == ("ApiProxy", {"proxy": "unknown/thing"})
    assert matched("GET", "/elsewhere") == ("NotFound", {"proxy": "elsewhere"})


def test_method_beats_any_for_the_same_path() -> None:
    assert matched("GET", "/api/docs") == ("DocsGet", {})
    assert matched("DELETE", "/api/docs") == ("DocsAny", {})


def test_other_method_falls_through_to_the_proxy() -> None:
    assert matched("POST", "/api/docs/openapi.json") == ("ApiProxy", {"proxy": "docs/openapi.json"})


def test_greedy_and_variables_need_a_value() -> None:
    routes = [RouteSpec("ANY", "/{proxy+}", "Proxy"), RouteSpec("ANY", "/users/{id}", "User")]
    assert matched("GET", "/", routes) is None
    assert matched("GET", "/users/", routes) == ("Proxy", {"proxy": "users/"})
    assert matched("GET", "/", [*routes, RouteSpec("ANY", DEFAULT_ROUTE, "Default")]) == ("Default", {})


def test_unmatched_path() -> None:
    assert matched("GET", "/x", [RouteSpec("GET", "/y", "Y")]) is None


def test_path_parameters_are_percent_decoded() -> None:
    assert matched("GET", "/api/xp/users/a%2Fb/%C3%A9t%C3%A9") == (
        "UsersMember",
        {"guildId": "a/b", "userId": "été"},
    )
    assert matched("GET", "/x%20y/z") == ("NotFound", {"proxy": "x y/z"})
    assert matched("GET", "/api/xp/config/%67lobal") == ("ConfigGlobal", {})


def test_every_template_route_is_reachable() -> None:
    routes = http_routes(load_template(REPO_ROOT / "template.yaml"))
    for route in routes:
        if route.path == DEFAULT_ROUTE:
            continue
        path = re.sub(r"\{[^}/]+\+\}", "p1/p2", route.path)
        path = re.sub(r"\{[^}/]+\}", "v1", path)
        method = "GET" if route.method == "ANY" else route.method
        match = match_route(routes, method, path)
        assert match is not None
        assert (match.route.method, match.route.path) == (route.method, route.path), path


# ---------------------------------------------------------------- request -> event


def _request(target: str, **kwargs: Any) -> HttpRequest:
    headers = kwargs.pop("headers", [("Host", "127.0.0.1:3000"), ("User-Agent", "pytest")])
    return HttpRequest("GET", target, headers=headers, **kwargs)


def test_event_shape() -> None:
    request = HttpRequest(
        "POST",
        "/api/xp/users/g1/u%201?limit=5&tag=a&tag=b&q=hello%20world&plus=a+b&empty=",
        headers=[
            ("Host", "127.0.0.1:3000"),
            ("User-Agent", "pytest"),
            ("X-Custom", "1"),
            ("x-custom", "2"),
            ("Cookie", "a=1; b=2"),
            ("Content-Type", "application/json"),
        ],
        body=b'{"xp": 5}',
        source_ip="10.1.2.3",
    )
    match = match_route(ROUTES, "POST", "/api/xp/users/g1/u%201")
    assert match is not None
    event = build_event(request, match, request_id="rid", now=1_700_000_000.123)
    assert event["version"] == "2.0"
    assert event["routeKey"] == "ANY /api/xp/users/{guildId}/{userId}"
    assert event["rawPath"] == "/api/xp/users/g1/u%201"
    assert event["rawQueryString"] == "limit=5&tag=a&tag=b&q=hello%20world&plus=a+b&empty="
    assert event["queryStringParameters"] == {
        "limit": "5",
        "tag": "a,b",
        "q": "hello world",
        "plus": "a b",
        "empty": "",
    }
    assert event["pathParameters"] == {"guildId": "g1", "userId": "u 1"}
    assert event["cookies"] == ["a=1", "b=2"]
    headers = event["headers"]
    assert headers["x-custom"] == "1,2"
    assert headers["content-type"] == "application/json"
    assert "cookie" not in headers
    assert all(name == name.lower() for name in headers)
    assert event["body"] == '{"xp": 5}'
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["http"] == {
        "method": "POST",
        "path": "/api/xp/users/g1/u%201",
        "protocol": "HTTP/1.1",
        "sourceIp": "10.1.2.3",
        "userAgent": "pytest",
    }
    assert context["routeKey"] == event["routeKey"]
    assert context["stage"] == "$default"
    assert context["requestId"] == "rid"
    assert context["domainName"] == "127.0.0.1:3000"
    assert context["timeEpoch"] == 1_700_000_000_123
    assert context["time"] == "14/Nov/2023:22:13:20 +0000"
    assert {"accountId", "apiId", "domainPrefix"} <= set(context)
    json.dumps(event)  # the event is plain JSON, as Lambda delivers it


def test_event_omits_what_the_request_lacks() -> None:
    match = RouteMatch(RouteSpec("GET", "/api/docs", "Docs"), {})
    event = build_event(_request("/api/docs"), match)
    assert event["rawQueryString"] == ""
    assert event["routeKey"] == "GET /api/docs"
    for key in ("pathParameters", "queryStringParameters", "cookies", "body"):
        assert key not in event
    assert event["isBase64Encoded"] is False


def test_binary_bodies_are_base64() -> None:
    match = RouteMatch(RouteSpec("ANY", "/{proxy+}", "P"), {"proxy": "x"})
    raw = build_event(_request("/x", body=b"\x00\xff\xfe"), match)
    assert raw["isBase64Encoded"] is True
    assert base64.b64decode(raw["body"]) == b"\x00\xff\xfe"
    png = _request("/x", body=b"PNGtext", headers=[("Content-Type", "image/png")])
    assert build_event(png, match)["isBase64Encoded"] is True
    text = build_event(_request("/x", body="héllo".encode()), match)
    assert (text["body"], text["isBase64Encoded"]) == ("héllo", False)


def test_query_parameters_join_repeats() -> None:
    assert query_parameters("a=1&a=2&b=%2F&c") == {"a": "1,2", "b": "/", "c": ""}
    assert query_parameters("") == {}


# ---------------------------------------------------------------- result -> response


def test_translate_full_result() -> None:
    response = translate_result(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "application/json", "X-Count": 3},
            "multiValueHeaders": {"X-Multi": ["a", "b"]},
            "cookies": ["s=1; HttpOnly", "t=2"],
            "body": '{"ok":true}',
        }
    )
    assert response.status == 201
    assert response.body == b'{"ok":true}'
    assert ("Content-Type", "application/json") in response.headers
    assert ("X-Count", "3") in response.headers
    assert [v for k, v in response.headers if k == "X-Multi"] == ["a", "b"]
    assert [v for k, v in response.headers if k == "set-cookie"] == ["s=1; HttpOnly", "t=2"]


def test_translate_base64_body() -> None:
    payload = bytes(range(256))
    response = translate_result(
        {"statusCode": 200, "body": base64.b64encode(payload).decode(), "isBase64Encoded": True}
    )
    assert response.body == payload


def test_translate_result_without_status_code_is_200_json() -> None:
    response = translate_result({"hello": "world"})
    assert (response.status, json.loads(response.body)) == (200, {"hello": "world"})
    assert response.header("content-type") == "application/json"
    assert translate_result([1, 2]).body == b"[1, 2]"
    assert translate_result("plain").body == b"plain"
    assert translate_result({"statusCode": 204}).body == b""


@pytest.mark.parametrize(
    "result",
    [
        {"statusCode": "abc"},
        {"statusCode": 99},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 200, "body": "%%%", "isBase64Encoded": True},
    ],
)
def test_translate_malformed_results(result: dict[str, Any]) -> None:
    with pytest.raises(MalformedResponseError):
        translate_result(result)


# ---------------------------------------------------------------- LocalApi (no sockets)

CORS = {
    "AllowOrigins": ["*"],
    "AllowMethods": ["GET", "POST"],
    "AllowHeaders": ["Content-Type", "X-API-Key"],
    "MaxAge": 600,
}


def echo(logical_id: str, event: dict[str, Any]) -> dict[str, Any]:
    if event["rawPath"] == "/boom":
        raise RuntimeError("boom")
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json", "Access-Control-Allow-Origin": "https://evil"},
        "body": json.dumps({"fn": logical_id, "event": event}),
    }


def test_api_not_found_is_api_gateways_own() -> None:
    api = LocalApi([RouteSpec("GET", "/only", "Only")], echo)
    response = api.handle(_request("/other"))
    assert (response.status, response.body) == (404, b'{"message":"Not Found"}')
    assert response.header("apigw-requestid")


def test_api_handler_exception_is_500(caplog: pytest.LogCaptureFixture) -> None:
    api = LocalApi(ROUTES, echo)
    with caplog.at_level(logging.ERROR, logger="local.server"):
        response = api.handle(_request("/boom"))
    assert (response.status, response.body) == (500, b'{"message":"Internal Server Error"}')
    assert "RuntimeError: boom" in caplog.text


def test_api_cors_preflight() -> None:
    api = LocalApi(ROUTES, echo, CORS)
    headers = [("Origin", "http://app.test"), ("Access-Control-Request-Method", "POST")]
    response = api.handle(HttpRequest("OPTIONS", "/api/xp/health", headers=headers))
    assert response.status == 204
    assert response.header("access-control-allow-origin") == "*"
    assert response.header("access-control-allow-methods") == "GET,POST"
    assert response.header("access-control-allow-headers") == "Content-Type,X-API-Key"
    assert response.header("access-control-max-age") == "600"


def test_api_cors_headers_replace_the_handlers() -> None:
    api = LocalApi(ROUTES, echo, {**CORS, "AllowOrigins": ["http://app.test"]})
    allowed = api.handle(_request("/x", headers=[("Origin", "http://app.test")]))
    origins = [v for k, v in allowed.headers if k.lower() == "access-control-allow-origin"]
    assert origins == ["http://app.test"]  # the handler's own value is gone
    other = api.handle(_request("/x", headers=[("Origin", "http://other.test")]))
    assert other.header("access-control-allow-origin") is None


def test_api_passes_the_event_to_the_matched_function() -> None:
    response = LocalApi(ROUTES, echo).handle(_request("/api/xp/config/9?x=1"))
    payload = json.loads(response.body)
    assert payload["fn"] == "ConfigGuild"
    assert payload["event"]["pathParameters"] == {"guildId": "9"}
    assert payload["event"]["queryStringParameters"] == {"x": "1"}


# ---------------------------------------------------------------- a real HTTP round trip


def stub_handler(logical_id: str, event: dict[str, Any]) -> dict[str, Any]:
    if event["rawPath"].endswith("/binary"):
        return {"statusCode": 200, "body": base64.b64encode(b"\x89PNG\x00").decode(), "isBase64Encoded": True}
    return {
        "statusCode": 201,
        "headers": {"content-type": "application/json"},
        "cookies": ["s=1"],
        "body": json.dumps(
            {
                "fn": logical_id,
                "method": event["requestContext"]["http"]["method"],
                "params": event.get("pathParameters"),
                "query": event.get("queryStringParameters"),
                "body": event.get("body"),
                "header": event["headers"].get("x-test"),
            }
        ),
    }


@pytest.fixture
def server() -> Iterator[LocalHttpServer]:
    routes = [RouteSpec("ANY", "/items/{id}", "Items"), RouteSpec("GET", "/items/{id}/binary", "Binary")]
    srv = make_server(REPO_ROOT, {}, "127.0.0.1", 0, api=LocalApi(routes, stub_handler, CORS), quiet=True)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=5)


def _connect(server: LocalHttpServer) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=5)


def test_round_trip(server: LocalHttpServer) -> None:
    conn = _connect(server)
    headers = {"X-Test": "yes", "Origin": "http://o"}
    conn.request("POST", "/items/a%20b?x=1&x=2", body=b'{"n": 1}', headers=headers)
    response = conn.getresponse()
    payload = json.loads(response.read())
    assert response.status == 201
    assert response.getheader("set-cookie") == "s=1"
    assert response.getheader("access-control-allow-origin") == "*"
    assert payload == {
        "fn": "Items",
        "method": "POST",
        "params": {"id": "a b"},
        "query": {"x": "1,2"},
        "body": '{"n": 1}',
        "header": "yes",
    }
    # Same keep-alive connection: a chunked request body, then a binary response.
    conn.request("PUT", "/items/1", body=iter([b'{"a"', b": 2}"]), encode_chunked=True)
    chunked = conn.getresponse()
    assert json.loads(chunked.read())["body"] == '{"a": 2}'
    conn.request("GET", "/items/1/binary")
    binary = conn.getresponse()
    assert (binary.status, binary.read()) == (200, b"\x89PNG\x00")
    conn.close()


def test_round_trip_not_found_head_and_preflight(server: LocalHttpServer) -> None:
    conn = _connect(server)
    conn.request("GET", "/nothing/here")
    missing = conn.getresponse()
    assert (missing.status, missing.read()) == (404, b'{"message":"Not Found"}')
    conn.request("HEAD", "/items/1")
    head = conn.getresponse()
    assert (head.status, head.read()) == (201, b"")
    assert int(head.getheader("content-length") or 0) > 0
    preflight_headers = {"Origin": "http://o", "Access-Control-Request-Method": "PUT"}
    conn.request("OPTIONS", "/items/1", headers=preflight_headers)
    preflight = conn.getresponse()
    assert (preflight.status, preflight.read()) == (204, b"")
    assert preflight.getheader("access-control-allow-methods") == "GET,POST"
    conn.close()


def test_head_is_routed_only_where_a_route_takes_it_and_keeps_the_gets_length(server: LocalHttpServer) -> None:
    """API Gateway routes HEAD to HEAD (or ANY) routes only; the function answers as for a GET and the
    gateway sends the headers alone, with the length of the body a GET gets (not 0, not the function's own)."""
    conn = _connect(server)
    conn.request("GET", "/items/1", headers={"X-Test": "yes"})
    got = conn.getresponse()
    body = got.read()
    conn.request("HEAD", "/items/1", headers={"X-Test": "yes"})
    head = conn.getresponse()
    assert (head.status, head.read()) == (got.status, b"")
    # the stub echoes the method: its answer to HEAD is one letter longer than to GET
    assert head.getheader("content-length") == str(len(body) + 1) and got.getheader("content-length") == str(len(body))
    assert head.getheader("content-type") == got.getheader("content-type")
    conn.request("HEAD", "/items/1/binary")  # a GET-only route: no HEAD route, API Gateway's 404
    missing = conn.getresponse()
    assert (missing.status, missing.read()) == (404, b"")
    conn.close()
    # in process (the tests' client): no body, the GET's length
    api = LocalApi([RouteSpec("HEAD", "/items/{id}/binary", "Binary")], stub_handler)
    answered = api.handle(HttpRequest(method="HEAD", target="/items/1/binary", headers=[("host", "h")]))
    assert (answered.status, answered.body, answered.header("content-length")) == (200, b"", "5")


# ---------------------------------------------------------------- in-process handlers (a throwaway repo)

FUNCTION_SOURCE = """
import helper

def lambda_handler(event, context):
    return {"who": helper.WHO, "fn": context.function_name, "left": context.get_remaining_time_in_millis()}
"""


def _fake_function(root: Path, name: str) -> FunctionSpec:
    code = root / "functions" / name
    code.mkdir(parents=True)
    (code / "app.py").write_text(FUNCTION_SOURCE)
    (code / "helper.py").write_text(f"WHO = {name!r}\n")  # same module name in every function
    return FunctionSpec(f"Tmp{name}Function", f"functions/{name}/", "app.lambda_handler", {}, timeout=5)


def test_same_file_names_stay_apart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))
    first, second = _fake_function(tmp_path, "one"), _fake_function(tmp_path, "two")
    try:
        assert lambdas.load_handler(tmp_path, first) is lambdas.load_handler(tmp_path, first)  # cached
        one = lambdas.invoke(tmp_path, first, {})
        two = lambdas.invoke(tmp_path, second, {})
    finally:
        lambdas.clear_handler_cache()
    assert (one["who"], one["fn"]) == ("one", "TmponeFunction")
    assert (two["who"], two["fn"]) == ("two", "TmptwoFunction")
    assert 0 < one["left"] <= 5000


def test_missing_handler_is_a_clear_error(tmp_path: Path) -> None:
    spec = FunctionSpec("TmpMissing", "functions/missing/", "app.lambda_handler", {})
    with pytest.raises(lambdas.HandlerNotFoundError, match="TmpMissing"):
        lambdas.load_handler(tmp_path, spec)


def test_fake_context() -> None:
    first = lambdas.FakeLambdaContext("Fn", timeout_s=2, memory_limit_in_mb=256)
    second = lambdas.FakeLambdaContext("Fn")
    assert first.aws_request_id != second.aws_request_id
    assert first.invoked_function_arn.endswith(":function:Fn")
    assert first.memory_limit_in_mb == 256
    assert 1000 < first.get_remaining_time_in_millis() <= 2000
    assert second.get_remaining_time_in_millis() > 2000  # 10 s by default


def test_results_go_through_json_like_the_lambda_runtime() -> None:
    assert lambdas.marshal_result({"a": (1, 2)}) == {"a": [1, 2]}
    with pytest.raises(TypeError, match="MarshalError"):
        lambdas.marshal_result({"xp": Decimal(5)})
