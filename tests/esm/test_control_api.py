"""The mapping control plane's answers and refusals (``core.control``), compared with what AWS answered when
LocalStack's integration tests were recorded against it (the vendored conformance snapshots): create defaults,
states, state reasons, LastProcessingResult, and every validation error's code, message and HTTP status."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest
from conformance_data import snapshots_dir

from emulator.esm.core import control
from emulator.esm.core.control import MappingRequestError

KINESIS_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/clicks"
SQS_ARN = "arn:aws:sqs:us-east-1:123456789012:orders"
DDB_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-12-03T10:00:00.000"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:enrich"


@cache
def _snapshot(source: str) -> dict[str, Any]:
    path = snapshots_dir() / f"test_lambda_integration_{source}.snapshot.json"
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def recorded(source: str, test: str, key: str) -> dict[str, Any]:
    """One recorded answer (without its HTTP metadata) of the AWS-recorded test ``test``."""
    matches = [v for k, v in _snapshot(source).items() if k.split("::")[-1] == test]
    assert len(matches) == 1, f"{test} is recorded once in the {source} snapshot"
    answer = dict(matches[0]["recorded-content"][key])
    answer.pop("ResponseMetadata", None)
    return answer


def created(request: dict[str, Any], kind: str) -> dict[str, Any]:
    """What a store answers to CreateEventSourceMapping: AWS's defaults, the request, the created state."""
    config = dict(control.DEFAULTS[kind]) | request
    config["State"] = control.created_state(config)
    return control.answer(config, last_processing_result=None)


def identity(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The keys of a recorded mapping that the store makes, not the control plane."""
    keys = ("EventSourceArn", "EventSourceMappingArn", "FunctionArn", "LastModified", "UUID")
    return {k: snapshot[k] for k in keys if k in snapshot}


# -- create answers -------------------------------------------------------------------------------------


def test_a_kinesis_create_answers_aws_defaults_creating_user_action_and_no_records_processed() -> None:
    aws = recorded("kinesis", "test_create_kinesis_event_source_mapping", "create_event_source_mapping_response")
    ours = created(identity(aws) | {"StartingPosition": "LATEST"}, "kinesis")
    assert ours == aws
    assert list(ours) == sorted(aws)  # Get/List answer keys sorted, as the recorded JSON shows them


def test_a_dynamodb_create_answers_the_kinesis_defaults() -> None:
    aws = recorded("dynamodbstreams", "test_dynamodb_event_source_mapping", "create_event_source_mapping_response")
    request = ("StartingPosition", "BatchSize", "MaximumBatchingWindowInSeconds", "MaximumRetryAttempts")
    ours = created(identity(aws) | {k: aws[k] for k in request}, "dynamodb")
    assert ours == aws


def test_an_sqs_create_answers_batch_10_window_0_creating_user_initiated_and_no_processing_result() -> None:
    aws = recorded("sqs", "test_event_source_mapping_default_batch_size", "create-event-source-mapping")
    ours = created(identity(aws), "sqs")
    assert ours == aws
    assert "LastProcessingResult" not in ours


def test_an_sqs_mapping_created_disabled_answers_disabled() -> None:
    aws = recorded("sqs", "test_fifo_message_group_parallelism", "create_esm_disabled")
    ours = created(identity(aws) | {"State": "Disabled"}, "sqs")
    assert ours["State"] == aws["State"] == "Disabled"
    assert ours["StateTransitionReason"] == aws["StateTransitionReason"]


def test_a_stream_mapping_created_disabled_still_answers_creating() -> None:
    config = {"EventSourceArn": KINESIS_ARN, "State": "Disabled"}
    assert control.created_state(config) == "Creating"
    assert control.created_state({"State": "Disabled"}) == "Creating"  # no ARN: not a queue


def test_update_states_follow_the_enabled_flag_of_the_request() -> None:
    assert control.updated_state({"BatchSize": 5}) == "Updating"
    assert control.updated_state({"Enabled": None}) == "Updating"
    assert control.updated_state({"Enabled": True}) == "Enabling"
    assert control.updated_state({"Enabled": False}) == "Disabling"


def test_recorded_update_answers_match_the_states_pipemu_answers() -> None:
    ddb = recorded("dynamodbstreams", "test_disabled_dynamodb_event_source_mapping",
                   "update_event_source_mapping_result")
    assert ddb["State"] == control.updated_state({"Enabled": False})
    sqs = recorded("sqs", "test_sqs_event_source_mapping_update", "updated_esm")
    assert sqs["State"] == control.updated_state({"FunctionName": "v2"})


# -- get / list answers ---------------------------------------------------------------------------------


def test_a_stream_answer_shows_the_last_processing_result_it_is_given() -> None:
    config = {"EventSourceArn": KINESIS_ARN, "State": "Enabled"}
    assert control.answer(config, last_processing_result="OK")["LastProcessingResult"] == "OK"
    assert control.answer(config, last_processing_result=None)["LastProcessingResult"] == "No records processed"
    ddb = {"EventSourceArn": DDB_ARN, "State": "Enabled"}
    assert control.answer(ddb, last_processing_result="OK") == {
        "EventSourceArn": DDB_ARN, "LastProcessingResult": "OK", "State": "Enabled",
        "StateTransitionReason": "User action",
    }


def test_a_queue_answer_has_no_last_processing_result_even_when_one_is_known() -> None:
    answer = control.answer({"EventSourceArn": SQS_ARN}, last_processing_result="OK")
    assert answer == {"EventSourceArn": SQS_ARN, "StateTransitionReason": "USER_INITIATED"}


def test_an_answer_keeps_a_state_reason_the_store_set_and_does_not_change_the_stored_config() -> None:
    config = {"EventSourceArn": KINESIS_ARN, "StateTransitionReason": "Disabled by Lambda"}
    answer = control.answer(config, last_processing_result=None)
    assert answer["StateTransitionReason"] == "Disabled by Lambda"
    assert config == {"EventSourceArn": KINESIS_ARN, "StateTransitionReason": "Disabled by Lambda"}


def test_another_service_answers_user_initiated_and_no_processing_result() -> None:
    answer = control.answer({"EventSourceArn": "arn:aws:kafka:us-east-1:123456789012:cluster/c/1"},
                            last_processing_result="OK")
    assert answer["StateTransitionReason"] == "USER_INITIATED"
    assert "LastProcessingResult" not in answer


def test_answer_keys_are_sorted() -> None:
    answer = control.answer({"UUID": "u", "EventSourceArn": KINESIS_ARN, "BatchSize": 1}, last_processing_result="")
    assert list(answer) == ["BatchSize", "EventSourceArn", "LastProcessingResult", "StateTransitionReason", "UUID"]


# -- validation ------------------------------------------------------------------------------------------


def recorded_error(source: str, test: str, key: str) -> tuple[str, str, int]:
    matches = [v for k, v in _snapshot(source).items() if k.split("::")[-1] == test]
    content = matches[0]["recorded-content"][key]
    return content["Error"]["Code"], content["Error"]["Message"], content["ResponseMetadata"]["HTTPStatusCode"]


def as_recorded(error: MappingRequestError) -> tuple[str, str, int]:
    return error.code, error.message, error.status


def test_a_duplicate_kinesis_mapping_is_refused_as_aws_words_it() -> None:
    code, message, status = recorded_error("kinesis", "test_duplicate_event_source_mappings", "error")
    arn = "arn:<partition>:kinesis:<region>:111111111111:stream/<resource:1>"
    assert as_recorded(control.conflict(arn, "<resource:2>", "<uuid:1>")) == (code, message, status)


def test_a_duplicate_dynamodb_mapping_is_refused_as_aws_words_it() -> None:
    code, message, status = recorded_error("dynamodbstreams", "test_duplicate_event_source_mappings", "error")
    arn = "arn:<partition>:dynamodb:<region>:111111111111:table/<resource:1>/stream/<resource:2>"
    assert as_recorded(control.conflict(arn, "<resource:3>", "<uuid:2>")) == (code, message, status)


def test_a_duplicate_sqs_mapping_is_refused_as_aws_words_it() -> None:
    code, message, status = recorded_error("sqs", "test_duplicate_event_source_mappings", "error")
    arn = "arn:<partition>:sqs:<region>:111111111111:<resource:1>"
    assert as_recorded(control.conflict(arn, "<resource:2>", "<uuid:1>")) == (code, message, status)


@pytest.mark.parametrize(
    ("source", "test", "arn"),
    [
        ("kinesis", "test_esm_with_not_existing_kinesis_stream",
         "arn:<partition>:kinesis:<region>:111111111111:stream/test-foobar-81ded7e8"),
        ("dynamodbstreams", "test_esm_with_not_existing_dynamodb_stream",
         "arn:<partition>:dynamodb:<region>:111111111111:table/test-table-4a53f4e8/stream/2025-02-22T03:03:25.490"),
        ("sqs", "test_esm_with_not_existing_sqs_queue", SQS_ARN),
    ],
)
def test_a_missing_source_is_refused_as_aws_words_it(source: str, test: str, arn: str) -> None:
    expected = recorded_error(source, test, "error")
    assert as_recorded(control.source_missing(arn)) == expected
    with pytest.raises(MappingRequestError) as refused:
        control.check_create(arn, {}, source_exists=False)
    assert as_recorded(refused.value) == expected


def test_a_missing_source_is_refused_before_its_batch_window() -> None:
    with pytest.raises(MappingRequestError) as refused:
        control.check_create(SQS_ARN, {"BatchSize": 11}, source_exists=False)
    assert "does not exist" in refused.value.message


def test_an_unsupported_source_is_refused_naming_it() -> None:
    arn = "arn:aws:kafka:us-east-1:123456789012:cluster/c/1"
    with pytest.raises(MappingRequestError) as refused:
        control.check_create(arn, {}, source_exists=True)
    assert as_recorded(refused.value) == (
        "InvalidParameterValueException", f"Unsupported event source: {arn!r}", 400
    )
    with pytest.raises(MappingRequestError, match="Unsupported event source: 'not-an-arn'"):
        control.check_create("not-an-arn", {}, source_exists=True)


@pytest.mark.parametrize("key", ["invalid-create-event-source-mapping", "invalid-update-event-source-mapping"])
def test_an_sqs_batch_over_10_without_a_window_is_refused_as_aws_words_it(key: str) -> None:
    expected = recorded_error("sqs", "test_event_source_mapping_default_batch_size", key)
    with pytest.raises(MappingRequestError) as refused:
        control.check_batch_window(SQS_ARN, 11, None)
    assert as_recorded(refused.value) == expected
    with pytest.raises(MappingRequestError):
        control.check_create(SQS_ARN, {"BatchSize": "11", "MaximumBatchingWindowInSeconds": 0}, source_exists=True)


def test_an_sqs_batch_of_10_or_with_a_window_or_a_stream_batch_over_10_is_accepted() -> None:
    control.check_batch_window(SQS_ARN, 10, None)
    control.check_batch_window(SQS_ARN, 11, 1)
    control.check_batch_window(SQS_ARN, None, None)
    control.check_batch_window(KINESIS_ARN, 1000, None)
    control.check_create(SQS_ARN, {"BatchSize": 10000, "MaximumBatchingWindowInSeconds": 10}, source_exists=True)
    control.check_create(KINESIS_ARN, {"BatchSize": 10000}, source_exists=True)
    control.check_create(DDB_ARN, {}, source_exists=True)


@pytest.mark.parametrize("pattern", [None, "simple string", '{"eventSource": "aws:sqs"}', '{"eventSource": []}'])
def test_a_filter_pattern_aws_refuses_is_refused_with_its_message(pattern: Any) -> None:
    expected = recorded_error("sqs", "test_sqs_invalid_event_filter[None]", "create_event_source_mapping_exception")
    with pytest.raises(MappingRequestError) as refused:
        control.check_filters({"Filters": [{"Pattern": pattern}]})
    assert (refused.value.code, refused.value.status) == expected[::2]
    assert refused.value.message.startswith(expected[1])


def test_valid_or_no_filters_are_accepted() -> None:
    control.check_filters(None)
    control.check_filters({"Filters": []})
    control.check_filters({"Filters": [{"Pattern": '{"body": {"kind": ["order"]}}'}]})


def test_a_refusal_reads_as_its_code_and_message() -> None:
    error = MappingRequestError("ResourceConflictException", "exists", 409)
    assert str(error) == "ResourceConflictException: exists"
    assert MappingRequestError("C", "m").status == 400


# -- source kinds and defaults ---------------------------------------------------------------------------


def test_the_source_kind_is_the_arns_service() -> None:
    assert control.source_kind(KINESIS_ARN) == "kinesis"
    assert control.source_kind(SQS_ARN) == "sqs"  # exactly five colons
    assert control.source_kind(DDB_ARN) == "dynamodb"
    assert control.source_kind("arn:aws:sqs:us-east-1:queue") == ""  # four colons: not an ARN
    assert control.source_kind("orders") == ""


def test_default_batch_sizes_are_awss() -> None:
    # https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html#lambda-CreateEventSourceMapping-request-BatchSize
    assert control.default_batch_size("kinesis") == 100
    assert control.default_batch_size("dynamodb") == 100
    assert control.default_batch_size("sqs") == 10
    assert control.default_batch_size("kafka") == 10


def test_updatable_keys_are_those_update_event_source_mapping_takes() -> None:
    # UpdateEventSourceMapping's request parameters that a store keeps as they are (FunctionName and Enabled are
    # the store's own business; StartingPosition cannot change after create).
    assert {
        "BatchSize", "BisectBatchOnFunctionError", "DestinationConfig", "FilterCriteria", "FunctionResponseTypes",
        "MaximumBatchingWindowInSeconds", "MaximumRecordAgeInSeconds", "MaximumRetryAttempts",
        "ParallelizationFactor", "ScalingConfig", "TumblingWindowInSeconds",
    } == control.UPDATABLE
    assert {"kinesis", "dynamodb"} == control.STREAM_KINDS
