"""The normaliser and the comparison: raw observations become the snapshot's tokens, tokens compare as
variables, and a difference names its path."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import snapshots
from normalize import Normalizer, compare, path_matches
from snapshots import recorded

ACCOUNT = "123456789012"
FUNCTION = "lambda_func-1a2b3c4d"
STREAM = "test-kinesis-5e6f7a8b"
QUEUE = "test-queue-9c0d1e2f"
ESM_UUID = "0dfd6a93-5a4a-4ef7-b53a-7bd7eb8d2a05"


def raw_on_failure_observation(invoke_count: int = 2) -> dict:
    """What boto3 hands us in test_kinesis_event_source_mapping_with_on_failure_destination_config, unnormalised."""
    stream_arn = f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/{STREAM}"
    function_arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{FUNCTION}"
    body = {
        "requestContext": {
            "requestId": "5f0e7c3a-2b1d-4c8e-9a6f-1e2d3c4b5a69",
            "functionArn": function_arn,
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": invoke_count,
        },
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": "2026-01-02T03:04:05.678Z",
        "KinesisBatchInfo": {
            "shardId": "shardId-000000000000",
            "startSequenceNumber": "1",
            "endSequenceNumber": "1",
            "approximateArrivalOfFirstRecord": "2026-01-02T03:04:01.000Z",
            "approximateArrivalOfLastRecord": "2026-01-02T03:04:01.000Z",
            "batchSize": 1,
            "streamArn": stream_arn,
        },
    }
    headers = {"ResponseMetadata": {"RequestId": "x", "HTTPHeaders": {"server": "moto"}, "RetryAttempts": 0}}
    return {
        "create_event_source_mapping_response": {
            "UUID": ESM_UUID,
            "StartingPosition": "TRIM_HORIZON",
            "BatchSize": 1,
            "MaximumBatchingWindowInSeconds": 1,
            "ParallelizationFactor": 1,
            "EventSourceArn": stream_arn,
            "FunctionArn": function_arn,
            "LastModified": datetime(2026, 1, 2, tzinfo=UTC),
            "LastProcessingResult": "No records processed",
            "State": "Creating",
            "StateTransitionReason": "User action",
            "DestinationConfig": {"OnFailure": {"Destination": f"arn:aws:sqs:us-east-1:{ACCOUNT}:{QUEUE}"}},
            "MaximumRecordAgeInSeconds": -1,
            "BisectBatchOnFunctionError": False,
            "MaximumRetryAttempts": 1,
            "TumblingWindowInSeconds": 0,
            "FunctionResponseTypes": [],
            "EventSourceMappingArn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:event-source-mapping:{ESM_UUID}",
            "ResponseMetadata": {**headers["ResponseMetadata"], "HTTPStatusCode": 202},
        },
        "sqs_payload": {
            "Messages": [
                {
                    "MessageId": "ea4314de-6122-445e-8d1c-ea0f41f1dad4",
                    "ReceiptHandle": "wkvzbcbjtcgmhliasgnppqjdkeawotaooihvhqmjjquoud",
                    "MD5OfBody": "6349aa6591e34d043fb39baa85a9fb6f",
                    "Body": json.dumps(body),
                }
            ],
            "ResponseMetadata": {**headers["ResponseMetadata"], "HTTPStatusCode": 200},
        },
    }


NAME = "test_kinesis_event_source_mapping_with_on_failure_destination_config"


def test_a_raw_observation_normalises_to_the_aws_snapshot() -> None:
    assert compare(recorded(NAME), Normalizer()(raw_on_failure_observation())) is None


def test_a_different_value_is_reported_with_its_path() -> None:
    difference = compare(recorded(NAME), Normalizer()(raw_on_failure_observation(invoke_count=3)))
    assert difference is not None
    assert difference.path == "$.sqs_payload.Messages[0].Body.requestContext.approximateInvokeCount"
    assert (difference.expected, difference.actual) == (2, 3)


def test_missing_and_extra_keys_are_reported() -> None:
    observed = Normalizer()(raw_on_failure_observation())
    del observed["sqs_payload"]["Messages"][0]["Body"]["responseContext"]
    difference = compare(recorded(NAME), observed)
    assert difference is not None and difference.path == "$.sqs_payload.Messages[0].Body.responseContext"
    assert "missing" in difference.reason
    observed = Normalizer()(raw_on_failure_observation())
    observed["create_event_source_mapping_response"]["Extra"] = 1
    difference = compare(recorded(NAME), observed)
    assert difference is not None and difference.path == "$.create_event_source_mapping_response.Extra"


def test_tokens_are_variables_numbered_independently() -> None:
    assert compare({"a": "<uuid:1>", "b": "x-<uuid:2>"}, {"a": "<uuid:2>", "b": "x-<uuid:1>"}) is None
    same_for_two = compare({"a": "<uuid:1>", "b": "<uuid:2>"}, {"a": "<uuid:1>", "b": "<uuid:1>"})
    assert same_for_two is not None and same_for_two.path == "$.b"
    two_for_same = compare({"a": "<uuid:1>", "b": "<uuid:1>"}, {"a": "<uuid:1>", "b": "<uuid:2>"})
    assert two_for_same is not None and two_for_same.path == "$.b"
    wrong_kind = compare({"a": "<start-sequence-number:1>"}, {"a": "<sequence-number:1>"})
    assert wrong_kind is not None and "kind" in wrong_kind.reason


def test_types_are_compared_strictly() -> None:
    assert compare({"a": True}, {"a": 1}) is not None
    assert compare({"a": 1}, {"a": 1.0}) is not None
    assert compare({"a": None}, {"a": None}) is None


def test_list_order_matters_and_key_order_does_not() -> None:
    assert compare([1, 2], [2, 1]) is not None
    assert compare({"a": 1, "b": 2}, {"b": 2, "a": 1}) is None


def test_sequence_numbers_prefer_the_record_token_and_stay_in_their_keys() -> None:
    norm = Normalizer()
    out = norm(
        {
            "record": {"sequenceNumber": "7", "eventID": "shardId-000000000000:7"},
            "info": {"startSequenceNumber": "7", "endSequenceNumber": "8"},
            "SignatureVersion": "7",
        }
    )
    assert out["record"] == {
        "sequenceNumber": "<sequence-number:1>",
        "eventID": "shardId-000000000000:<sequence-number:1>",
    }
    assert out["info"] == {
        "startSequenceNumber": "<sequence-number:1>",
        "endSequenceNumber": "<start-sequence-number:1>",
    }
    assert out["SignatureVersion"] == "7"


def test_json_strings_are_parsed_one_level_deep() -> None:
    out = Normalizer()({"Body": json.dumps({"inner": json.dumps({"x": 1})}), "list": "[1, 2]"})
    assert out == {"Body": {"inner": '{"x": 1}'}, "list": "[1, 2]"}


def test_account_region_partition_resources_and_timestamps() -> None:
    norm = Normalizer()
    out = norm(
        {
            "FunctionArn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{FUNCTION}",
            "message": f'function (" {FUNCTION} ") exists',
            "timestamp": "2026-01-02T03:04:05.678Z",
            "micro": "2026-01-02T03:04:05.678901Z",
            "approximateArrivalTimestamp": 1795664247.626,
        }
    )
    assert out["FunctionArn"] == "arn:<partition>:lambda:<region>:111111111111:function:<resource:1>"
    assert out["message"] == 'function (" <resource:1> ") exists'
    assert out["timestamp"] == "<timestamp:2022-07-13T13:48:01.000Z>"
    assert out["micro"] == "2026-01-02T03:04:05.678901Z"  # another format is not normalised, so it shows
    assert out["approximateArrivalTimestamp"] == "<approximate-arrival-timestamp>"


def test_sns_envelope_urls() -> None:
    out = Normalizer()(
        {
            "TopicArn": f"arn:aws:sns:us-east-1:{ACCOUNT}:test-topic-1",
            "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-06b8bb.pem",
            "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn="
            f"arn:aws:sns:us-east-1:{ACCOUNT}:test-topic-1:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",
        }
    )
    assert out["SigningCertURL"] == "<cert-domain>/SimpleNotificationService-<signing-cert-file:1>"
    assert out["UnsubscribeURL"] == (
        "<unsubscribe-domain>/?Action=Unsubscribe&SubscriptionArn="
        "arn:<partition>:sns:<region>:111111111111:<resource:1>:<resource:2>"
    )


@pytest.mark.parametrize(
    ("pattern", "path", "hit"),
    [
        ("$..Records..eventID", ["kinesis_records", "Records", 3, "eventID"], True),
        ("$..Records..eventID", ["eventID"], False),
        ("$..KinesisBatchInfo.shardId", ["sqs_payload", "Messages", 0, "Body", "KinesisBatchInfo", "shardId"], True),
        ("$..KinesisBatchInfo.shardId", ["KinesisBatchInfo", "x", "shardId"], False),
        ("$..Records", ["kinesis_records", "Records"], True),
        ("$..Records", ["kinesis_records", "Records", 0, "kinesis"], False),
    ],
)
def test_skip_paths(pattern: str, path: list, hit: bool) -> None:
    assert path_matches(pattern, path) is hit


def test_skipped_paths_are_left_out_on_both_sides() -> None:
    expected = {"Records": [{"eventID": "a", "x": 1}]}
    assert compare(expected, {"Records": [{"eventID": "b", "x": 1}]}, skip=["$..Records..eventID"]) is None
    assert compare(expected, {"Records": [{"x": 1}]}, skip=["$..Records..eventID"]) is None
    assert compare(expected, {"Records": [{"x": 2}]}, skip=["$..Records..eventID"]) is not None


def test_unknown_snapshot_names_say_what_is_close() -> None:
    with pytest.raises(KeyError, match="test_kinesis_empty_provided"):
        recorded("test_kinesis_empty_provide")


def test_missing_snapshot_data_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import conformance_data

    monkeypatch.setattr(conformance_data, "REPO", tmp_path / "repo")
    with pytest.raises(FileNotFoundError, match="AWS conformance snapshots not found"):
        snapshots.snapshot_dir()
