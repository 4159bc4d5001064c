"""Bills of small runs, checked against sums done by hand from the bundled us-east-1 prices.

Prices used (emulator/cost/prices.json, us-east-1; each entry names its AWS pricing page):
Kinesis $0.015 per shard-hour and $0.014 per million PUT payload units, on-demand $0.04 per stream-hour,
$0.08 per GB in, $0.04 per GB out (https://aws.amazon.com/kinesis/data-streams/pricing/); Lambda $0.20 per
million requests, $0.0000166667 per GB-s x86_64 and $0.0000133334 arm64 (https://aws.amazon.com/lambda/pricing/);
S3 $0.005 per 1,000 PUT, $0.0004 per 1,000 GET, $0.023 per GB-month (https://aws.amazon.com/s3/pricing/); SQS
$0.40 / $0.50 (FIFO) per million 64 KB requests (https://aws.amazon.com/sqs/pricing/); SNS $0.50 per million
publishes (https://aws.amazon.com/sns/pricing/); Step Functions $0.025 per 1,000 transitions, express $1.00
per million requests and $0.00001667 per GB-s (https://aws.amazon.com/step-functions/pricing/); DynamoDB
$0.625 per million WRU and $0.125 per million RRU (https://aws.amazon.com/dynamodb/pricing/on-demand/).
"""

from __future__ import annotations

import pytest
from deep_json import DEEP

from emulator.cost.bill import compute_bill
from emulator.cost.prices import load_prices
from emulator.cost.usage import (
    ApiUsage,
    FunctionUsage,
    MappingUsage,
    StateMachineUsage,
    StreamUsage,
    Usage,
    billed_ms,
    kib_rounded,
    payload_units,
)

PRICES = load_prices("us-east-1")


def usd(bill, service: str, item: str) -> float:
    return sum(line.usd for line in bill.lines if line.service == service and line.item == item)


def test_units_are_rounded_as_aws_bills_them() -> None:
    assert [payload_units(n) for n in (1, 5 * 1024, 25 * 1024, 25 * 1024 + 1, 45 * 1024, 1000 * 1024)] == [
        1, 1, 1, 2, 2, 40]
    assert [kib_rounded(n) for n in (1, 1024, 1025, 4608)] == [1, 1, 2, 5]  # a 4.5 KB record counts as 5 KB
    assert [billed_ms(d) for d in (0.2, 12.0, 12.0001, 99.5)] == [1, 12, 13, 100]


def test_kinesis_to_lambda_run_by_hand() -> None:
    # GIVEN 1,000 records of 30 KB (2 payload units each) at 100/s on 2 shards, and 10 invocations of a
    # 512 MB function billed 1,000 ms in all
    usage = Usage(
        events=1000, rate_per_s=100.0,
        streams=(StreamUsage("clicks", 2, "provisioned", 1000, 2000, 30_000, 1),),
        functions=(FunctionUsage("enrich", 512, "x86_64", 10, 1000),),
        mappings=(MappingUsage("m-1", "stream/clicks", "enrich", 10),),
    )

    bill = compute_bill(usage, PRICES)

    hours = 1000 / 100 / 3600  # 10 s of traffic
    assert usd(bill, "kinesis", "shard_hour") == pytest.approx(2 * hours * 0.015)
    assert usd(bill, "kinesis", "put_payload_units_million") == pytest.approx(2000 / 1e6 * 0.014)
    assert usd(bill, "lambda", "requests_million") == pytest.approx(10 / 1e6 * 0.20)
    assert usd(bill, "lambda", "gb_second_x86_64") == pytest.approx(1.0 * 0.5 * 0.0000166667)
    variable = 0.000028 + 0.000002 + 0.5 * 0.0000166667
    assert bill.run_usd == pytest.approx(variable + 2 * hours * 0.015)
    # per million: per-event lines scaled, plus $0.03 of shard-hours spread over the 360,000 events of an hour
    assert bill.per_million_usd == pytest.approx(variable / 1000 * 1e6 + 0.03 / 360_000 * 1e6)
    assert bill.per_month_usd == pytest.approx(variable / 1000 * 100 * 3600 * 730 + 0.03 * 730)
    assert bill.by_mapping == {"m-1": pytest.approx(0.000002 + 0.5 * 0.0000166667)}
    assert bill.by_service()["kinesis"] == pytest.approx(0.000028 + 2 * hours * 0.015)
    line = next(line for line in bill.lines if line.item == "put_payload_units_million")
    assert "2,000 PUT payload units" in line.units and line.source.startswith("https://aws.amazon.com/kinesis/")


def test_arm64_and_on_demand_stream() -> None:
    usage = Usage(
        events=100, rate_per_s=50.0,
        streams=(StreamUsage("s", 4, "on_demand", 100, 100, 2048, 2),),
        functions=(FunctionUsage("f", 1024, "arm64", 4, 2000),),
    )

    bill = compute_bill(usage, PRICES)

    hours = 2 / 3600
    assert usd(bill, "kinesis", "on_demand_stream_hour") == pytest.approx(hours * 0.04)
    assert usd(bill, "kinesis", "shard_hour") == 0
    assert usd(bill, "kinesis", "on_demand_gb_in") == pytest.approx(2 / 1024 * 0.08)  # 2,048 KB = 2 MiB
    assert usd(bill, "kinesis", "on_demand_gb_out") == pytest.approx(2 * 2 / 1024 * 0.04)  # read by 2 mappings
    assert usd(bill, "lambda", "gb_second_arm64") == pytest.approx(2.0 * 1.0 * 0.0000133334)


def test_requests_state_machines_and_tables_by_hand() -> None:
    api = (
        ApiUsage("sqs", "SendMessageBatch", 10, 12, 300, 10, 300_000),  # two batches over 64 KB: 12 chunks
        ApiUsage("sqs", "ReceiveMessage", 20, 20, 20, 20, 2_000),
        ApiUsage("sqs", "GetQueueUrl", 3, 3, 3, 3, 30),  # not a billed message request
        ApiUsage("s3", "PUT", 100, 100, 1000, 100, 1_000_000),
        ApiUsage("s3", "GET", 50, 50, 0, 50, 0),
        ApiUsage("s3", "DELETE", 7, 7, 0, 7, 0),
        ApiUsage("sns", "Publish", 5, 5, 5, 5, 500),
        ApiUsage("dynamodb", "PutItem", 20, 20, 30, 20, 30_000),
        ApiUsage("dynamodb", "GetItem", 40, 40, 40, 40, 4_000),
    )
    machines = (StateMachineUsage("rollup", "STANDARD", 2, 7, 20), StateMachineUsage("fast", "EXPRESS", 4, 9, 10))
    usage = Usage(events=10, rate_per_s=10.0, api=api, state_machines=machines)

    bill = compute_bill(usage, PRICES)

    assert usd(bill, "sqs", "standard_requests_million") == pytest.approx(32 / 1e6 * 0.40)
    assert usd(bill, "s3", "put_requests_thousand") == pytest.approx(100 / 1000 * 0.005)
    assert usd(bill, "s3", "get_requests_thousand") == pytest.approx(50 / 1000 * 0.0004)
    assert usd(bill, "s3", "storage_gb_month") == pytest.approx(1_000_000 / 1024**3 * 0.023)
    assert usd(bill, "sns", "publish_million") == pytest.approx(5 / 1e6 * 0.50)
    assert usd(bill, "dynamodb", "write_request_units_million") == pytest.approx(30 / 1e6 * 0.625)
    assert usd(bill, "dynamodb", "read_request_units_million") == pytest.approx(40 / 1e6 * 0.125)
    assert usd(bill, "stepfunctions", "standard_transitions_thousand") == pytest.approx(7 / 1000 * 0.025)
    assert usd(bill, "stepfunctions", "express_requests_million") == pytest.approx(4 / 1e6 * 1.00)
    assert usd(bill, "stepfunctions", "express_gb_second") == pytest.approx(10 * 0.1 * 64 / 1024 * 0.00001667)
    fifo = compute_bill(Usage(events=10, rate_per_s=10.0, api=api, fifo_queues_only=True), PRICES)
    assert usd(fifo, "sqs", "fifo_requests_million") == pytest.approx(32 / 1e6 * 0.50)


def test_region_and_overrides_change_the_prices(tmp_path) -> None:
    eu = load_prices("eu-west-1")
    assert eu.usd("kinesis", "shard_hour") != PRICES.usd("kinesis", "shard_hour")
    custom = tmp_path / "prices.json"
    custom.write_text('{"version": "mine", "regions": {"us-east-1": {"lambda": {"requests_million": {"usd": 1}}}}}')
    table = load_prices("us-east-1", file=custom, overrides={"kinesis.shard_hour": 0.5})
    assert table.usd("lambda", "requests_million") == 1 and table.usd("kinesis", "shard_hour") == 0.5
    assert table.price("kinesis", "shard_hour").checked == "override: [tool.pipemu.prices]"
    assert table.usd("s3", "get_requests_thousand") == PRICES.usd("s3", "get_requests_thousand")
    assert table.version == "mine"


def test_every_bundled_price_names_its_aws_page_and_how_it_was_checked() -> None:
    for region in ("us-east-1", "eu-west-1"):
        for service, items in load_prices(region).prices.items():
            for item, price in items.items():
                assert price.source.startswith("https://aws.amazon.com/"), (region, service, item)
                assert price.checked == "unconfirmed" or price.checked.startswith("secondary: https://"), item


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"region": "mars-1"}, "no prices for region mars-1"),
    ({"overrides": {"lambda": 1.0}}, "should be service.item"),
    ({"overrides": {"lambda.requests_million": -1}}, "must be a number >= 0"),
])
def test_bad_prices_are_config_errors(kwargs, message) -> None:
    from emulator.errors import ConfigError

    with pytest.raises(ConfigError, match=message) as info:
        load_prices(**kwargs)
    assert info.value.exit_code == 2


@pytest.mark.parametrize(("text", "message"), [
    ("{not json", "prices file is not JSON: "),
    ('{"regions": ' + DEEP + "}", "prices file "),  # past 3.11's parser depth; 3.13 reads it
    ('{"version": 1}', "prices file has no 'regions' object"),
])
def test_an_unreadable_prices_file_is_a_config_error_naming_it(tmp_path, text, message) -> None:
    from emulator.errors import ConfigError

    custom = tmp_path / "mine.json"
    custom.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_prices("us-east-1", file=custom)
    assert info.value.exit_code == 2 and info.value.file == str(custom)


def test_settings_choose_the_region_file_and_single_prices(tmp_path) -> None:
    from emulator.settings import load_settings

    (tmp_path / "mine.json").write_text('{"regions": {"eu-west-1": {"sns": {"publish_million": 0.7}}}}')
    (tmp_path / "pyproject.toml").write_text(
        '[tool.pipemu]\ncost_region = "eu-west-1"\nprices_file = "mine.json"\n\n'
        '[tool.pipemu.prices]\n"lambda.requests_million" = 0.3\n'
    )

    settings = load_settings(cwd=tmp_path, environ={})
    table = load_prices(settings.cost_region, file=settings.prices_file, overrides=settings.prices)

    assert settings.prices_file == tmp_path / "mine.json"
    assert table.region == "eu-west-1" and table.usd("sns", "publish_million") == 0.7
    assert table.usd("lambda", "requests_million") == 0.3
