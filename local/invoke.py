"""Invoke one function of template.yaml in-process: the no-Docker ``sam local invoke``.

    python -m local.invoke XpStatsFunction events/health.json
    python -m local.invoke XpStatsFunction - < event.json      # event from stdin

Uses AWS_ENDPOINT_URL_DYNAMODB when set (e.g. a running ``python -m local.dev``); otherwise starts
an in-memory DynamoDB Local with the table for the duration of the call. The handler result is
printed as JSON on stdout; everything the handler logs goes to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import sys
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from local import DEFAULT_TABLE_NAME, REPO_ROOT, lambdas
from local.ddb import DynamoDBLocal, DynamoDBLocalError
from local.dev import card_signing_key, configure_environment, ensure_table, local_overrides
from local.template import FunctionSpec, function_environment, functions, load_template

EXIT_UNKNOWN_FUNCTION = 2


def read_event(source: str | None) -> Any:
    """The event from a file, or stdin for "-"; no source is an empty event, as with sam."""
    if source is None:
        return {}
    text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    return json.loads(text) if text.strip() else {}


def restamp_ingest_sample(event: Any) -> Any:
    """Ingestion takes only recent messages and member events (7 days), so a stored sample's times are set to
    now, as the Discord samples are signed again (`make discord-events`). Other events are returned unchanged."""
    path = str(event.get("rawPath", "")) if isinstance(event, dict) else ""
    field = {"/ingest/messages": ("messages", "timestamp"), "/ingest/members": ("events", "at")}.get(
        path[path.rfind("/ingest/") :] if "/ingest/" in path else ""
    )
    if field is None:
        return event
    items, time_field = field
    try:
        body = json.loads(event.get("body") or "")
        for item in body[items]:
            item[time_field] = int(time.time() * 1000)
    except (ValueError, KeyError, TypeError):
        return event  # not the sample's shape: sent as it is, and ingestion says what is wrong
    print(f"local.invoke: {items} times set to now (ingestion refuses older than 7 days)", file=sys.stderr)
    return {**event, "body": json.dumps(body)}


def restamp_card_sample(event: Any, key: str) -> Any:
    """A stored sample of a signed card URL carries a placeholder signature: signed again with this run's key
    (valid for a day from now). Other events are returned unchanged."""
    if not isinstance(event, dict) or not str(event.get("rawPath", "")).startswith("/cards/"):
        return event
    query = event.get("queryStringParameters") or {}
    card = (event.get("pathParameters") or {}).get("card", "")
    if "sig" not in query or not card.endswith(".png"):
        return event
    layer = str(REPO_ROOT / lambdas.DEFAULT_LAYER_DIR)  # as load_handler will: the layer is /opt/python
    if layer not in sys.path:
        sys.path.append(layer)
    from xpshop.web.card_urls import signed_query

    guild_id = event["pathParameters"]["guildId"]
    fresh = signed_query(guild_id, card.removesuffix(".png"), key=key) or ""
    params = dict(pair.split("=", 1) for pair in fresh.split("&"))
    print("local.invoke: card URL signed again with this run's key", file=sys.stderr)
    return {**event, "rawQueryString": fresh, "queryStringParameters": {**query, **params}}


@contextlib.contextmanager
def dynamodb_endpoint(template: dict[str, Any], table_name: str) -> Iterator[str]:
    """AWS_ENDPOINT_URL_DYNAMODB if set, else a throwaway in-memory DynamoDB Local with the table."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")
    if endpoint:
        yield endpoint
        return
    print("local.invoke: starting an in-memory DynamoDB Local for this call", file=sys.stderr)
    with DynamoDBLocal(repo_root=REPO_ROOT) as ddb:
        ensure_table(ddb, template, table_name)
        yield ddb.endpoint


def invoke_function(
    template: dict[str, Any],
    spec: FunctionSpec,
    event: Any,
    *,
    table_name: str,
    admin_key: str,
    endpoint: str,
) -> Any:
    """Set the environment like local.dev (plus the function's own variables) and call the handler."""
    configure_environment(endpoint, table_name, admin_key, template=template)
    overrides = local_overrides(endpoint, table_name, admin_key)
    os.environ.update(function_environment(template, spec, overrides))
    # Handler logs (Powertools writes to stdout) must not mix with the result on stdout.
    with contextlib.redirect_stdout(sys.stderr):
        return lambdas.invoke(REPO_ROOT, spec, event)


def _error_payload(error: BaseException) -> dict[str, Any]:
    # The shape the Lambda runtime reports for an unhandled exception.
    return {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "stackTrace": traceback.format_tb(error.__traceback__),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.invoke", description=__doc__.splitlines()[0])
    parser.add_argument("logical_id", help="the function's logical id in template.yaml")
    parser.add_argument("event", nargs="?", help="event JSON file ('-' for stdin; none for {})")
    args = parser.parse_args(argv)

    template = load_template(REPO_ROOT / "template.yaml")
    specs = functions(template)
    spec = specs.get(args.logical_id)
    if spec is None:
        names = "\n  ".join(sorted(specs))
        print(f"unknown function {args.logical_id!r}; the template has:\n  {names}", file=sys.stderr)
        return EXIT_UNKNOWN_FUNCTION
    try:
        event = restamp_ingest_sample(read_event(args.event))
    except (OSError, ValueError) as error:
        print(f"cannot read the event {args.event}: {error}", file=sys.stderr)
        return 1

    table_name = os.environ.get("TABLE_NAME") or DEFAULT_TABLE_NAME
    admin_key = os.environ.get("XPSHOP_ADMIN_KEY") or secrets.token_urlsafe(24)
    event = restamp_card_sample(event, card_signing_key(admin_key))
    try:
        with dynamodb_endpoint(template, table_name) as endpoint:
            result = invoke_function(
                template, spec, event, table_name=table_name, admin_key=admin_key, endpoint=endpoint
            )
    except DynamoDBLocalError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # the handler's own failure, reported like the Lambda runtime does
        traceback.print_exc(file=sys.stderr)
        print(json.dumps(_error_payload(error)))
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
