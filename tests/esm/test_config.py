"""A mapping as Get/ListEventSourceMappings answer it, parsed into the values the pollers run with
(``MappingConfig.from_api``): AWS's defaults where the answer leaves a key out, the states that poll, and the
names reports show."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from emulator.esm.core.config import MappingConfig

KINESIS_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/clicks"
SQS_ARN = "arn:aws:sqs:us-east-1:123456789012:orders"
DDB_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-12-03T10:00:00.000"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:enrich"


def parse(arn: str = KINESIS_ARN, **extra: Any) -> MappingConfig:
    return MappingConfig.from_api({"UUID": "u-1", "FunctionArn": FUNCTION_ARN, "EventSourceArn": arn} | extra)


def test_a_bare_stream_mapping_takes_awss_defaults() -> None:
    assert parse() == MappingConfig(
        uuid="u-1", function_arn=FUNCTION_ARN, event_source_arn=KINESIS_ARN, kind="kinesis", enabled=True,
        batch_size=100, window_s=0.0, starting_position=None, starting_position_timestamp=None,
        max_retry_attempts=-1, max_record_age_s=-1, bisect_on_error=False, report_batch_item_failures=False,
        on_failure_arn=None, filter_criteria=None, parallelization_factor=1, tumbling_window_s=0,
        max_concurrency=None,
    )
    assert parse(DDB_ARN).batch_size == 100
    assert parse(DDB_ARN).kind == "dynamodb"


def test_a_bare_queue_mapping_takes_batch_size_10() -> None:
    config = parse(SQS_ARN)
    assert (config.kind, config.batch_size, config.window_s) == ("sqs", 10, 0.0)


def test_every_answered_value_is_kept() -> None:
    config = parse(
        KINESIS_ARN, State="Enabled", BatchSize=7, MaximumBatchingWindowInSeconds=2, StartingPosition="AT_TIMESTAMP",
        StartingPositionTimestamp=1_700_000_000.5, MaximumRetryAttempts="3", MaximumRecordAgeInSeconds=60,
        BisectBatchOnFunctionError=True, FunctionResponseTypes=["ReportBatchItemFailures"],
        DestinationConfig={"OnFailure": {"Destination": SQS_ARN}},
        FilterCriteria={"Filters": [{"Pattern": '{"data": {"a": [1]}}'}]},
        ParallelizationFactor=4, TumblingWindowInSeconds=30, ScalingConfig={"MaximumConcurrency": 5},
    )
    assert config == MappingConfig(
        uuid="u-1", function_arn=FUNCTION_ARN, event_source_arn=KINESIS_ARN, kind="kinesis", enabled=True,
        batch_size=7, window_s=2.0, starting_position="AT_TIMESTAMP", starting_position_timestamp=1_700_000_000.5,
        max_retry_attempts=3, max_record_age_s=60, bisect_on_error=True, report_batch_item_failures=True,
        on_failure_arn=SQS_ARN, filter_criteria={"Filters": [{"Pattern": '{"data": {"a": [1]}}'}]},
        parallelization_factor=4, tumbling_window_s=30, max_concurrency=5,
    )
    assert isinstance(config.window_s, float)
    assert isinstance(config.max_retry_attempts, int)


def test_zero_retries_zero_age_and_a_zero_window_are_values_not_defaults() -> None:
    # MaximumRetryAttempts 0 means "never retry" on AWS, not the default (-1: retry until the record expires).
    config = parse(MaximumRetryAttempts=0, MaximumRecordAgeInSeconds=0, ParallelizationFactor=0,
                   TumblingWindowInSeconds=0)
    assert (config.max_retry_attempts, config.max_record_age_s) == (0, 0)
    assert config.parallelization_factor == 0
    assert config.tumbling_window_s == 0


def test_a_starting_timestamp_answered_as_a_datetime_becomes_epoch_seconds() -> None:
    when = datetime(2026, 12, 3, 10, 0, 5, 500000, tzinfo=UTC)
    config = parse(StartingPosition="AT_TIMESTAMP", StartingPositionTimestamp=when)
    assert config.starting_position_timestamp == when.timestamp()
    assert parse(StartingPositionTimestamp=0).starting_position_timestamp == 0.0


@pytest.mark.parametrize(
    ("state", "enabled"),
    [("Enabled", True), ("Creating", True), ("Enabling", True), ("Updating", True), ("Disabled", False),
     ("Disabling", False)],
)
def test_a_mapping_polls_unless_disabled_or_disabling(state: str, enabled: bool) -> None:
    assert parse(State=state).enabled is enabled


@pytest.mark.parametrize("destination", [None, {}, {"OnFailure": None}, {"OnFailure": {}},
                                         {"OnFailure": {"Destination": ""}}])
def test_no_on_failure_destination(destination: Any) -> None:
    assert parse(DestinationConfig=destination).on_failure_arn is None


def test_only_report_batch_item_failures_turns_partial_batch_responses_on() -> None:
    assert parse(FunctionResponseTypes=None).report_batch_item_failures is False
    assert parse(FunctionResponseTypes=[]).report_batch_item_failures is False
    assert parse(FunctionResponseTypes=["ReportBatchItemFailures"]).report_batch_item_failures is True


def test_empty_filter_criteria_filter_nothing() -> None:
    assert parse(FilterCriteria={}).filter_criteria is None


def test_no_scaling_config_sets_no_concurrency_limit() -> None:
    assert parse(ScalingConfig=None).max_concurrency is None
    assert parse(ScalingConfig={}).max_concurrency is None


@pytest.mark.parametrize("arn", ["orders", "arn:aws:sqs:us-east-1:orders"])
def test_a_source_that_is_not_an_arn_is_refused(arn: str) -> None:
    with pytest.raises(ValueError, match=f"unsupported event source {arn}"):
        parse(arn)


def test_a_queue_arn_with_five_colons_is_accepted() -> None:
    assert parse("arn:aws:sqs:us-east-1:123456789012:orders").source_name == "orders"


def test_source_names_and_labels_are_what_a_pipeline_file_names() -> None:
    assert parse(KINESIS_ARN).source_name == "clicks"
    assert parse(KINESIS_ARN).label == "stream/clicks -> enrich"
    assert parse(SQS_ARN).label == "queue/orders -> enrich"
    # The stream label of a DynamoDB stream is a time with colons; the table names the mapping.
    assert parse(DDB_ARN).source_name == "orders"
    assert parse(DDB_ARN).label == "table/orders -> enrich"


def test_a_qualified_function_is_labelled_by_its_name() -> None:
    config = MappingConfig.from_api(
        {"UUID": "u", "FunctionArn": FUNCTION_ARN + ":live", "EventSourceArn": SQS_ARN}
    )
    assert config.label == "queue/orders -> enrich"
