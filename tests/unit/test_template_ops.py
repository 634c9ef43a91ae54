"""template.yaml's operations block (issue 16): what must never lose its alarm, and what the scanner skips.

Every dead-letter queue, function and stream consumer has its alarms; every alarm says what missing data
means and notifies the topic; the dashboard shows every alarm and every EMF count; each checkov skip says
why. A resource added without its alarm fails here, not in production.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from local import REPO_ROOT
from local.template import FUNCTION_TYPE, PSEUDO_PARAMETERS, load_template
from xpshop import metrics

TEMPLATE = load_template()
RESOURCES: dict[str, dict[str, Any]] = TEMPLATE["Resources"]
RUNBOOK = REPO_ROOT / "docs" / "RUNBOOK.md"
ALARM = "AWS::CloudWatch::Alarm"
TOPIC = {"Ref": "AlarmTopic"}
STREAM_EVENTS = ("DynamoDB", "Kinesis")


def of_type(kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in RESOURCES.items() if v["Type"] == kind}


ALARMS = {k: v["Properties"] for k, v in of_type(ALARM).items()}
FUNCTIONS = {k: v["Properties"] for k, v in of_type(FUNCTION_TYPE).items()}


def _arn_target(value: Any) -> str | None:
    """`!GetAtt X.Arn` as the loader gives it -> X."""
    if isinstance(value, dict) and "Fn::GetAtt" in value and value["Fn::GetAtt"][1] == "Arn":
        return str(value["Fn::GetAtt"][0])
    return None


def dead_letter_queues() -> set[str]:
    """Queues that receive what failed: a queue's redrive target, a stream mapping's OnFailure destination."""
    found = set()
    for resource in of_type("AWS::SQS::Queue").values():
        target = _arn_target(((resource.get("Properties") or {}).get("RedrivePolicy") or {}).get("deadLetterTargetArn"))
        if target:
            found.add(target)
    for props in FUNCTIONS.values():
        for event in (props.get("Events") or {}).values():
            on_failure = ((event.get("Properties") or {}).get("DestinationConfig") or {}).get("OnFailure") or {}
            target = _arn_target(on_failure.get("Destination"))
            if target:
                found.add(target)
    return found


def stream_consumers() -> dict[str, dict[str, Any]]:
    """Function -> its stream event's properties."""
    return {
        name: event["Properties"]
        for name, props in FUNCTIONS.items()
        for event in (props.get("Events") or {}).values()
        if event.get("Type") in STREAM_EVENTS
    }


def alarms_on(namespace: str, metric: str, dimension: str, value: Any) -> list[dict[str, Any]]:
    """Single-metric alarms on `metric` whose dimension `dimension` is `value`."""
    return [
        a
        for a in ALARMS.values()
        if a.get("Namespace") == namespace
        and a.get("MetricName") == metric
        and {"Name": dimension, "Value": value} in (a.get("Dimensions") or [])
    ]


def math_metrics(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    return [m["MetricStat"]["Metric"] for m in alarm.get("Metrics") or [] if "MetricStat" in m]


def test_the_dead_letter_queues_are_the_ones_we_think():
    named = {k for k in of_type("AWS::SQS::Queue") if k.endswith("DeadLetterQueue")}
    assert dead_letter_queues() == named
    assert len(named) >= 4


@pytest.mark.parametrize("queue", sorted(dead_letter_queues()))
def test_every_dead_letter_queue_alarms_on_one_visible_message(queue):
    name = {"Fn::GetAtt": [queue, "QueueName"]}
    found = alarms_on("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", name)
    assert len(found) == 1, f"{queue}: no alarm on a message in it"
    alarm = found[0]
    assert alarm["Statistic"] == "Maximum"
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) in (
        ("GreaterThanOrEqualToThreshold", 1),
        ("GreaterThanThreshold", 0),
    )
    assert alarm["EvaluationPeriods"] == 1


@pytest.mark.parametrize(
    "queue", sorted(k for k, v in of_type("AWS::SQS::Queue").items() if "RedrivePolicy" in v["Properties"])
)
def test_a_message_that_always_fails_reaches_the_dead_letter_queue_before_it_expires(queue):
    """SQS moves a message to the dead-letter queue on the receive after its last failed one, i.e. after
    maxReceiveCount visibility timeouts; a retention shorter than that deletes it first, and no alarm fires."""
    props = RESOURCES[queue]["Properties"]
    retention = props.get("MessageRetentionPeriod", 345_600)
    assert props["RedrivePolicy"]["maxReceiveCount"] * props["VisibilityTimeout"] < retention


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_every_function_alarms_on_errors_and_throttles(function, metric):
    found = alarms_on("AWS/Lambda", metric, "FunctionName", {"Ref": function})
    assert len(found) == 1, f"{function}: no {metric} alarm"
    assert found[0]["Statistic"] == "Sum"
    assert found[0]["Threshold"] >= 1


def test_stream_consumers_are_known():
    assert {"RankIndexFunction", "EffectsFunction"} <= set(stream_consumers())


# One guild's batch of 1,000 records: up to ten plans of 100 members, ~2.7 s each at 512 MB at the most
# (PERFORMANCE.md, "Rank index throughput"), and its audit transactions.
RANK_INDEX_BATCH_MS = 30_000


def test_the_rank_index_takes_over_a_dead_holders_plan_within_one_invocation():
    """A holder that died silently leaves its plan pending for up to its lease + slack: the retry waits that
    out and still has the reserve for that plan and the time for its own batch, instead of giving up (a
    failed batch, retried) or being killed by its timeout."""
    from xpshop.store import rank_counters as plans

    timeout_ms = FUNCTIONS["RankIndexFunction"]["Timeout"] * 1000
    assert timeout_ms >= plans.LEASE_MS + plans.SLACK_MS + plans.RESERVE_MS + RANK_INDEX_BATCH_MS


@pytest.mark.parametrize("function", sorted(stream_consumers()))
def test_every_stream_consumer_alarms_on_iterator_age(function):
    found = alarms_on("AWS/Lambda", "IteratorAge", "FunctionName", {"Ref": function})
    assert len(found) == 1, f"{function}: no IteratorAge alarm"
    alarm = found[0]
    assert alarm["Statistic"] == "Maximum"
    max_age_s = stream_consumers()[function].get("MaximumRecordAgeInSeconds")
    if max_age_s is not None and max_age_s != -1:  # records older than that are dropped: warn well before
        assert alarm["Threshold"] * alarm["EvaluationPeriods"] <= max_age_s * 1000 / 2


def test_the_xp_queue_alarms_on_its_oldest_message():
    queue = next(
        _arn_target(e["Properties"]["Queue"])
        for e in FUNCTIONS["XpConsumerFunction"]["Events"].values()
        if e["Type"] == "SQS"
    )
    found = alarms_on("AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", {"Fn::GetAtt": [queue, "QueueName"]})
    assert len(found) == 1
    retention = RESOURCES[str(queue)]["Properties"].get("MessageRetentionPeriod", 345_600)  # SQS: 4 days
    visibility = RESOURCES[str(queue)]["Properties"]["VisibilityTimeout"]
    # above one redelivery (a transient failure), far below what SQS would delete
    assert visibility < found[0]["Threshold"] < retention / 10


def test_the_http_api_alarms_on_its_5xx_rate():
    rate = [a for a in ALARMS.values() if any(m["MetricName"] == "5xx" for m in math_metrics(a))]
    assert len(rate) == 1
    used = {m["MetricName"]: m for m in math_metrics(rate[0])}
    assert set(used) == {"5xx", "Count"}
    for metric in used.values():
        assert metric["Namespace"] == "AWS/ApiGateway"
        assert metric["Dimensions"] == [{"Name": "ApiId", "Value": {"Ref": "Api"}}]
    returned = [m for m in rate[0]["Metrics"] if m.get("ReturnData", True)]
    assert len(returned) == 1 and "Expression" in returned[0]  # a share, not a count


def test_dynamodb_throttles_cover_the_table_and_every_index():
    table = RESOURCES["Table"]["Properties"]
    indexes = {i["IndexName"] for i in table.get("GlobalSecondaryIndexes", [])}
    throttle = [a for a in ALARMS.values() if any(m["Namespace"] == "AWS/DynamoDB" for m in math_metrics(a))]
    assert len(throttle) == 1
    seen = set()
    for metric in math_metrics(throttle[0]):
        dims = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
        assert dims["TableName"] == {"Ref": "Table"}
        seen.add((metric["MetricName"], dims.get("GlobalSecondaryIndexName")))
    want = {(m, i) for m in ("ReadThrottleEvents", "WriteThrottleEvents") for i in (None, *indexes)}
    assert seen == want
    expression = next(m["Expression"] for m in throttle[0]["Metrics"] if "Expression" in m)
    assert all(m["Id"] in expression for m in throttle[0]["Metrics"] if "MetricStat" in m)


def _runbook_anchors() -> set[str]:
    """GitHub's heading anchors of docs/RUNBOOK.md."""
    anchors = set()
    for line in RUNBOOK.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"\s", "-", re.sub(r"[^\w\s-]", "", title)))
    return anchors


@pytest.mark.parametrize("alarm", sorted(ALARMS))
def test_every_alarm_chooses_missing_data_notifies_the_topic_and_links_the_runbook(alarm):
    props = ALARMS[alarm]
    assert props.get("TreatMissingData") in ("notBreaching", "breaching", "ignore", "missing")
    assert props["AlarmActions"] == [TOPIC]
    assert props["OKActions"] == [TOPIC]
    links = re.findall(r"docs/RUNBOOK\.md#([\w-]+)", props["AlarmDescription"])
    assert links, "the description points at the runbook section"
    assert set(links) <= _runbook_anchors()
    assert props["AlarmName"]["Fn::Sub"].startswith("${AWS::StackName}-")  # which stack, in the notice's subject


def test_the_alarm_email_is_optional():
    subscription = RESOURCES["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["TopicArn"] == TOPIC
    assert TEMPLATE["Parameters"]["AlarmEmail"]["Default"] == ""


# ---------------------------------------------------------------- the dashboard


def _dashboard() -> tuple[str, dict[str, Any]]:
    body = RESOURCES["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    assert isinstance(body, str)
    return body, json.loads(re.sub(r"\$\{[^}]+\}", "x", body))  # valid JSON once CloudFormation substituted it


def test_the_dashboard_is_json_and_names_only_what_exists():
    body, parsed = _dashboard()
    assert parsed["widgets"]
    known = set(RESOURCES) | set(TEMPLATE["Parameters"]) | set(PSEUDO_PARAMETERS)
    for name in re.findall(r"\$\{([^}.]+)", body):
        assert name in known, name


def test_the_dashboard_shows_every_alarm():
    body, parsed = _dashboard()
    listed = re.findall(r"\$\{(\w+)\.Arn\}", body)
    assert sorted(listed) == sorted(ALARMS)
    alarm_widgets = [w for w in parsed["widgets"] if w["type"] == "alarm"]
    assert sum(len(w["properties"]["alarms"]) for w in alarm_widgets) == len(ALARMS)
    assert all(len(w["properties"]["alarms"]) <= 100 for w in alarm_widgets)  # CloudWatch's limit per widget


def test_the_dashboard_graphs_every_functions_errors_and_throttles():
    _, parsed = _dashboard()
    body = RESOURCES["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    for metric in ("Errors", "Throttles"):
        [widget] = [w for w in parsed["widgets"] if w["properties"].get("metrics", [[None, None]])[0][1] == metric]
        assert len(widget["properties"]["metrics"]) == len(FUNCTIONS)
    for function in FUNCTIONS:
        assert body.count(f'"${{{function}}}"') >= 2, function


def test_the_dashboard_graphs_every_emf_count_where_the_functions_emit_it():
    body, _ = _dashboard()
    env = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    namespace, service = env["POWERTOOLS_METRICS_NAMESPACE"], env["POWERTOOLS_SERVICE_NAME"]
    assert env["XPSHOP_STAGE"] == {"Ref": "Stage"}  # the `stage` dimension metrics.count adds
    for name in metrics.ALL:
        row = f'["{namespace}", "{name}", "service", "{service}", "{metrics.STAGE_DIMENSION}", "${{Stage}}"]'
        assert row in body, name


# ---------------------------------------------------------------- logs and the scanner's skips


def test_every_function_logs_to_the_group_with_a_retention():
    assert TEMPLATE["Globals"]["Function"]["LoggingConfig"] == {"LogGroup": {"Ref": "FunctionLogs"}}
    for name, props in FUNCTIONS.items():
        assert "LoggingConfig" not in props, name
    for group in of_type("AWS::Logs::LogGroup").values():
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert RESOURCES["Api"]["Properties"]["AccessLogSettings"]["DestinationArn"] == {
        "Fn::GetAtt": ["ApiAccessLogs", "Arn"]
    }


def test_the_access_log_holds_no_ids_or_addresses():
    fmt = json.loads(RESOURCES["Api"]["Properties"]["AccessLogSettings"]["Format"])
    assert "$context.routeKey" in fmt.values()  # the route's template, not the path with its ids
    assert not {v for v in fmt.values() if re.search(r"sourceIp|userAgent|\.path\b|rawPath", v)}


def _skips() -> list[tuple[str, dict[str, Any]]]:
    return [
        (name, skip)
        for name, resource in RESOURCES.items()
        for skip in ((resource.get("Metadata") or {}).get("checkov") or {}).get("skip") or []
    ]


def test_every_checkov_skip_says_why():
    assert _skips()
    for name, skip in _skips():
        assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), (name, skip)
        assert len(skip.get("comment", "")) >= 30, (name, skip)


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_functions_skip_only_the_checks_that_do_not_apply_to_functions(function):
    """`make scan` fails a function that neither passes nor skips a check; these four are the ones docs/RUNBOOK.md
    explains for every function (a new function states them too, with its own reasons)."""
    skipped = {skip["id"] for name, skip in _skips() if name == function}
    assert skipped <= {"CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117", "CKV_AWS_173"}


def test_the_runbook_is_linked():
    for doc in (REPO_ROOT / "README.md", REPO_ROOT / "docs" / "ARCHITECTURE.md"):
        assert "RUNBOOK.md" in Path(doc).read_text(encoding="utf-8"), doc
