"""The cost model's arithmetic (bench/cost.py): counts in, dollars out. The measurement itself is a bench."""

from __future__ import annotations

from collections import Counter

import pytest

from bench import cost
from bench.cost import Prices, Usage

PRICES = Prices()


def test_lambda_duration_is_billed_per_started_millisecond():
    assert cost.billed_ms(10.0) == 10
    assert cost.billed_ms(10.01) == 11
    assert cost.billed_ms(0.2) == 1
    assert cost.billed_ms(0) == 1
    # 512 MB for 10.2 ms -> 11 ms billed -> 0.5 GB x 0.011 s
    assert cost.gb_seconds(512, 10.2) == pytest.approx(0.0055)


def test_lambda_dollars_use_the_architecture_and_memory():
    request, arm = cost.lambda_dollars(1024, "arm64", 1000, PRICES)
    assert request == pytest.approx(0.20 / 1_000_000)
    assert arm == pytest.approx(0.0000133334)  # 1 GB-s
    _, x86 = cost.lambda_dollars(1024, "x86_64", 1000, PRICES)
    assert x86 == pytest.approx(0.0000166667)
    _, half = cost.lambda_dollars(512, "arm64", 1000, PRICES)
    assert half == pytest.approx(arm / 2)


def test_sqs_requests_are_billed_per_64_kb_chunk():
    assert cost.sqs_billed_requests(0) == 1
    assert cost.sqs_billed_requests(3_300) == 1  # a batch of 10 small messages
    assert cost.sqs_billed_requests(64 * 1024) == 1
    assert cost.sqs_billed_requests(64 * 1024 + 1) == 2
    assert cost.sqs_billed_requests(256 * 1024) == 4


def test_http_api_requests_are_metered_per_512_kb():
    assert cost.http_api_billed_requests(40_000) == 1
    assert cost.http_api_billed_requests(512 * 1024 + 1) == 2


def test_transactions_bill_two_units_per_item():
    # DynamoDB Local reported 2.0 for a TransactWriteItems of two small puts: AWS bills 4
    assert cost.request_units("TransactWriteItems", 2.0, 0.0, items=2) == 4.0
    # reported already doubled (an update): kept, not doubled again
    assert cost.request_units("TransactWriteItems", 2.0, 0.0, items=1) == 2.0
    # index writes come on top, as reported
    assert cost.request_units("TransactWriteItems", 4.0, 4.0, items=2) == 8.0
    assert cost.request_units("TransactGetItems", 1.0, 0.0, items=3) == 6.0
    # a plain write is not doubled
    assert cost.request_units("UpdateItem", 1.0, 2.0, items=1) == 3.0


def test_requests_that_report_nothing_bill_the_minimum():
    assert cost.request_units("UpdateItem", None, 0.0, items=1) == 1.0  # a failed condition
    assert cost.request_units("BatchGetItem", 0.5, 0.0, items=4) == 2.0  # missing keys: 0.5 each
    assert cost.request_units("GetItem", 0.5, 0.0, items=1) == 0.5
    assert cost.request_floor("GetItem", 1, consistent=True) == 1.0
    assert cost.request_items("TransactWriteItems", {"TransactItems": [{}, {}, {}]}) == 3
    assert cost.request_items("BatchGetItem", {"RequestItems": {"t": {"Keys": [{}, {}]}}}) == 2


def test_dollars_by_service():
    usage = Usage(
        api_requests=1_000_000,
        lambda_requests=2_000_000,
        gb_s_arm=100_000,
        sqs_fifo=3_000_000,
        wru=4_000_000,
        rru=8_000_000,
        log_bytes=2e9,
    )
    d = cost.dollars(usage, PRICES)
    assert d["API Gateway"] == pytest.approx(1.00)
    assert d["Lambda requests"] == pytest.approx(0.40)
    assert d["Lambda compute"] == pytest.approx(1.33334)
    assert d["SQS"] == pytest.approx(1.50)
    assert d["DynamoDB writes"] == pytest.approx(2.50)
    assert d["DynamoDB reads"] == pytest.approx(1.00)
    assert d["DynamoDB Streams"] == 0.0  # GetRecords by Lambda triggers is free
    assert d["CloudWatch Logs"] == pytest.approx(1.00)


def test_usage_adds_invocations_with_per_invocation_rounding_and_scales():
    usage = Usage()
    for _ in range(1000):
        usage.add_invocation(512, "arm64", 0.4)  # each rounds up to 1 ms
    assert usage.lambda_requests == 1000
    assert usage.gb_s_arm == pytest.approx(1000 * 0.5 * 0.001)
    per_message = (usage + Usage(wru=3000)).scaled(1 / 1000)
    assert per_message.lambda_requests == pytest.approx(1)
    assert per_message.wru == pytest.approx(3)


def test_duration_model_stretches_cpu_below_a_full_vcpu_and_adds_waits():
    model = cost.DurationModel(ddb_ms=5, sqs_ms=10, overhead_ms=1, full_vcpu_mb=1769, cpu_speed=1.0)
    assert model.duration_ms(1769, 10, 0, 0) == pytest.approx(11)
    assert model.duration_ms(3538, 10, 0, 0) == pytest.approx(11)  # no faster above one vCPU (one thread)
    assert model.duration_ms(512, 10, 2, 1) == pytest.approx(10 * 1769 / 512 + 10 + 10 + 1)


def test_batch_sizes_average_the_mean_and_add_up():
    sizes = cost.batch_sizes(1000, 1.39)
    assert sum(sizes) == 1000
    assert sum(sizes) / len(sizes) == pytest.approx(1.39, abs=0.01)
    assert set(sizes) == {1, 2}
    assert cost.batch_sizes(250, 100) == [100, 100, 50]


def test_the_section_goes_at_the_end_and_is_replaced_in_place():
    doc = "# Performance\n\n## Notes\n\n- a note\n"
    first = cost.place(doc, [cost.HEADING, "", "one"])
    assert first.endswith("## Cost to run\n\none\n")
    assert first.startswith(doc.rstrip("\n"))
    second = cost.place(first + "\n## Later\n\nkept\n", [cost.HEADING, "", "two"])
    assert "one" not in second and "two" in second and second.endswith("## Later\n\nkept\n")
    # make bench regenerates the page: the section is carried over, at the end
    fresh = "# Performance\n\n## Notes\n\n- new\n"
    kept = cost.keep_section(first, fresh)
    assert kept.startswith(fresh.rstrip("\n")) and kept.endswith("## Cost to run\n\none\n")
    assert cost.keep_section(doc, fresh) == fresh


def test_fixed_costs_count_the_templates_alarms():
    template = {
        "Resources": {
            "A": {"Type": "AWS::CloudWatch::Alarm"},
            "B": {"Type": "AWS::CloudWatch::Alarm"},
            "Q": {"Type": "AWS::SQS::Queue", "Properties": {"FifoQueue": True}},
            "F": {
                "Type": "AWS::Serverless::Function",
                "Properties": {"Events": {"M": {"Type": "SQS", "Properties": {"Queue": {"Fn::GetAtt": ["Q", "Arn"]}}}}},
            },
        }
    }
    fixed = {f.what.split(" (")[0]: f.dollars for f in cost.fixed_monthly(template, 10_000, PRICES)}
    assert fixed["CloudWatch alarms"] == pytest.approx(0.20)
    # 5 pollers x 3 receives a minute for 30 days, at the FIFO price
    assert fixed["SQS idle long polls"] == pytest.approx(5 * 3 * 60 * 24 * 30 * 0.50 / 1_000_000)


def test_always_free_tiers_are_capped():
    usage = Usage(lambda_requests=2_000_000, gb_s_arm=100_000, sqs_fifo=500_000, log_bytes=10e9)
    fixed = [cost.Fixed("CloudWatch alarms (56)", 5.60, ""), cost.Fixed("SQS idle long polls (3)", 0.25, "")]
    # Lambda: 1M requests ($0.20) + all 100,000 GB-s; SQS: 0.5M + 0.5M idle = 1M, all free; 10 alarms; 5 GB logs
    expected = 0.20 + 100_000 * 0.0000133334 + (0.25 + 0.25) + 1.00 + 2.50
    assert cost.always_free(usage, fixed, PRICES) == pytest.approx(expected)


def test_level_ups_count_the_records_whose_level_changed():
    def record(old, new):
        images = {}
        if old is not None:
            images["OldImage"] = {"level": {"N": str(old)}}
        if new is not None:
            images["NewImage"] = {"level": {"N": str(new)}}
        return {"dynamodb": images}

    event = {"Records": [record(3, 4), record(4, 4), record(None, 1), record(7, 6)]}
    assert cost.level_ups(event) == 2


def _share_run(name: str, wru: float, xp_share: float) -> cost.MessageRun:
    scenario = cost.Scenario(name, 50.0, 100, 10, 0)
    return cost.MessageRun(scenario, 100, Usage(wru=wru), [], Counter(), 50.0, 1.0, xp_share)


def test_the_share_model_is_the_line_through_its_two_measured_ends():
    """2 WRU a message earning nothing ($1.25/M), 8 WRU one earning XP ($5/M): $1 is met at no share."""
    none, every = _share_run("none", 2.0, 0.0), _share_run("every", 8.0, 1.0)
    busy = _share_run("busy guild", 3.0, 0.25)
    report = cost.Report(10, [busy], [], [], "stamp", (none, every))
    text = "\n".join(cost.share_model(report))
    assert "cost(*s*) = $1.25 + *s* x $3.75" in text
    assert "| 20% | $2.00 |" in text
    assert "not met at any share" in text
    assert "busy guild: 25% of its messages earned XP; the line gives $2.19, measured $1.88" in text


def test_the_share_model_says_up_to_which_share_one_dollar_is_met():
    none, every = _share_run("none", 0.8, 0.0), _share_run("every", 4.0, 1.0)  # $0.50 and $2.50 a million
    text = "\n".join(cost.share_model(cost.Report(10, [], [], [], "stamp", (none, every))))
    assert "met while at most 25% of messages earn XP" in text


def test_the_quiet_guild_follows_the_relays_default_window():
    """Priced at relay.forwarder.DEFAULT_MAX_DELAY (not a number of its own), the former 1 s measured beside it;
    the busy guild with the member window off (the relay's default), then on at each measured window."""
    from relay.forwarder import DEFAULT_MAX_DELAY

    busy, held60, held120, former, quiet = cost.message_scenarios(10_000)
    assert (busy.relay_batch, busy.relay_window_s, busy.member_window_s) == (100, None, 0.0)
    assert busy.warmup_s >= 60  # past the default cooldown: steady traffic, not every author due an award
    assert [(s.member_window_s, s.first_author, s.authors) for s in (held60, held120)] == [
        (60, 0, 2000),
        (120, 0, 2000),
    ]
    assert held120.warmup_s >= busy.warmup_s + 120 and held120.messages(600) >= 2 * 120 * cost.BUSY_RATE
    assert quiet.relay_window_s == DEFAULT_MAX_DELAY
    assert quiet.relay_batch == pytest.approx(1 + cost.QUIET_RATE * DEFAULT_MAX_DELAY)
    assert (former.relay_window_s, former.relay_batch) == (1.0, pytest.approx(1 + cost.QUIET_RATE))
    assert former.first_author >= quiet.first_author + quiet.authors  # members of their own
    assert [s.relay_window_s for s in cost.message_scenarios(10_000, window_s=1.0)] == [None, None, None, 1.0]


def _at(seconds: float, user: int, n: int) -> dict:
    return {"messageId": str(n), "guildId": "1", "userId": str(user), "timestamp": int(seconds * 1000)}


def test_relay_requests_fill_up_or_wait_the_delay_like_the_relay():
    busy = [_at(i * 0.02, i % 7, i) for i in range(250)]  # 50 a second: full requests long before 5 s
    assert [len(r) for r in cost.relay_requests(busy, max_delay=5.0)] == [100, 100, 50]
    quiet = [_at(t, 1, i) for i, t in enumerate((0, 1, 4.9, 6, 20, 20.5))]
    assert [[m["messageId"] for m in r] for r in cost.relay_requests(quiet, max_delay=5.0)] == [
        ["0", "1", "2"],  # the oldest waited 5 s
        ["3"],
        ["4", "5"],
    ]
    assert [len(r) for r in cost.relay_requests(quiet, max_delay=0.0)] == [1, 1, 1, 1, 1, 1]


def test_relay_requests_with_a_member_window_carry_each_members_messages_together():
    messages = [_at(i * 0.5, i % 3, i) for i in range(60)]  # 3 members over 30 s
    requests = cost.relay_requests(messages, max_delay=5.0, member_window=60.0)
    assert sorted(m["messageId"] for r in requests for m in r) == sorted(m["messageId"] for m in messages)
    assert len(requests) == 1  # released together at 60 s, 61 s...: one request
    users = [m["userId"] for m in requests[0]]
    assert users[0] == "0"  # the group opened first goes first
    for user in ("0", "1", "2"):  # each member's group whole and in order
        at = [i for i, u in enumerate(users) if u == user]
        assert at == list(range(at[0], at[0] + 20))
    assert cost.relay_requests(messages, max_delay=5.0, member_window=10.0)[0][0]["messageId"] == "0"


def _quiet_run(name: str, window: float, api_requests: float) -> cost.MessageRun:
    scenario = cost.windowed(name, 0.4, window, 10, 0)
    run = cost.MessageRun(scenario, 100, Usage(api_requests=api_requests), [], Counter(), 1.0, 0.0)
    run.per_request = scenario.relay_batch
    return run


def test_the_text_names_the_window_priced_and_the_former_one():
    busy = _share_run("busy guild", 3.0, 0.25)
    former, quiet = _quiet_run("quiet, 1 s", 1.0, 1 / 1.4), _quiet_run("quiet", 5.0, 1 / 3.0)
    report = cost.Report(10, [busy, former, quiet], [], [], "stamp")
    note = cost._window_note(report)
    assert "`RELAY_MAX_DELAY` 5 s (3.00 messages a request); at 1 s (1.40 messages a request) it measured" in note
    text = "\n".join(cost.levers(report))
    assert "Per-request charges at 3.00 messages a request (quiet guild, the relay's 5 s window)" in text
    assert "; at 1 s (1.40 a request): API Gateway $0.71" in text
    assert cost._window_note(cost.Report(10, [busy], [], [], "stamp")) == ""  # no window: full batches
