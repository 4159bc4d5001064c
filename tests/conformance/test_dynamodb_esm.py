"""The AWS-recorded DynamoDB Streams ESM cases (test_lambda_integration_dynamodbstreams.snapshot.json, 32 cases)
on the embedded backend, compared after the same normalisation. Every recorded case runs here; what is not
compared is listed in ``ddb_kit.SKIP`` and per test, with the reason.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from ddb_kit import DdbKit, check_ddb
from esm_kit import wait_for
from test_kinesis_esm_failures import FAILURES, SNS_ENVELOPE_DIFFERENCES, SUCCESSES

KEY = "my_partition_key"
ITEM = {KEY: {"S": "hello world"}, "binary_key": {"B": b"foobar"}}


@pytest.fixture
def ddb(pipemu) -> DdbKit:
    return DdbKit(pipemu)


def _stream(ddb: DdbKit, view: str = "NEW_IMAGE", key: str = KEY) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
    """A table whose stream is turned on afterwards, as the recorded tests do: (table, stream ARN, CreateTable's
    answer, UpdateTable's answer)."""
    table, created = ddb.table(key)
    updated = ddb.enable_stream(table, view)
    return table, str(updated["TableDescription"]["LatestStreamArn"]), created, updated


def _creation_times_are_epoch_floats(events: list[Any]) -> None:
    for event in events:
        for record in event["Records"]:
            stamp = record["dynamodb"]["ApproximateCreationDateTime"]
            assert isinstance(stamp, float) and len(str(int(stamp))) == 10, stamp


def test_dynamodb_event_source_mapping(ddb: DdbKit) -> None:
    function = ddb.function("echo")
    table, arn, created_table, _ = _stream(ddb)
    created = ddb.mapping(FunctionName=function, BatchSize=1, StartingPosition="TRIM_HORIZON", EventSourceArn=arn,
                          MaximumBatchingWindowInSeconds=1, MaximumRetryAttempts=1)
    ddb.ddb.put_item(TableName=table, Item=ITEM)
    wait_for("1 invocation", lambda: ddb.invocations(function), lambda i: len(i) >= 1)
    ddb.settle()
    events = ddb.logged(function)
    _creation_times_are_epoch_floats(events)
    check_ddb("test_dynamodb_event_source_mapping", {
        "create-table-result": created_table, "create_event_source_mapping_response": created, "event_logs": events,
    })


def test_disabled_dynamodb_event_source_mapping(ddb: DdbKit) -> None:
    function = ddb.function("echo")
    table, created_table = ddb.table("id", view="NEW_IMAGE")
    arn = created_table["TableDescription"]["LatestStreamArn"]
    created = ddb.mapping(FunctionName=function, EventSourceArn=arn, StartingPosition="TRIM_HORIZON",
                          MaximumBatchingWindowInSeconds=1)
    ddb.ddb.put_item(TableName=table, Item={"id": {"S": "first"}, "data": {"S": "data1"}})
    wait_for("1 invocation", lambda: ddb.invocations(function), lambda i: len(i) >= 1)
    updated = ddb.lam.update_event_source_mapping(UUID=created["UUID"], Enabled=False)
    wait_for("the mapping to be Disabled", lambda: ddb.lam.get_event_source_mapping(UUID=created["UUID"]),
             lambda m: m["State"] == "Disabled")
    ddb.backend.esm.wait_synced()
    ddb.ddb.put_item(TableName=table, Item={"id": {"S": "second"}, "data": {"S": "data2"}})
    ddb.settle()
    assert len(ddb.invocations(function)) == 1
    check_ddb("test_disabled_dynamodb_event_source_mapping", {
        "dynamodb_create_table_result": created_table, "create_event_source_mapping_result": created,
        "update_event_source_mapping_result": updated,
    })


def test_deletion_event_source_mapping_with_dynamodb(ddb: DdbKit) -> None:
    function = ddb.function("echo")
    table, created_table = ddb.table("id", view="NEW_IMAGE")
    arn = created_table["TableDescription"]["LatestStreamArn"]
    created = ddb.mapping(FunctionName=function, EventSourceArn=arn, StartingPosition="TRIM_HORIZON")
    ddb.ddb.delete_table(TableName=table)
    listed = ddb.lam.list_event_source_mappings(EventSourceArn=arn)
    check_ddb("test_deletion_event_source_mapping_with_dynamodb", {
        "create_dynamodb_table_response": created_table, "create_event_source_mapping_result": created,
        "list_event_source_mapping_result": listed,
    })


def _failing_mapping(ddb: DdbKit, destination: str) -> tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]:
    function = ddb.function("echofail")
    table, arn, created_table, updated = _stream(ddb)
    created = ddb.mapping(FunctionName=function, BatchSize=1, StartingPosition="TRIM_HORIZON", EventSourceArn=arn,
                          MaximumBatchingWindowInSeconds=1, MaximumRetryAttempts=1,
                          DestinationConfig={"OnFailure": {"Destination": destination}})
    ddb.ddb.put_item(TableName=table, Item={KEY: {"S": "hello world"}})
    return function, created_table, updated, created


def test_dynamodb_event_source_mapping_with_on_failure_destination_config(ddb: DdbKit, time_scale) -> None:
    time_scale(10)
    url, queue_arn = ddb.queue()
    function, created_table, updated, created = _failing_mapping(ddb, queue_arn)
    messages = ddb.receive(url)
    ddb.settle()
    assert len(ddb.invocations(function)) == 2 and ddb.queue_depth(url) == 1
    check_ddb("test_dynamodb_event_source_mapping_with_on_failure_destination_config", {
        "create_table_response": created_table, "update_table_response": updated,
        "create_event_source_mapping_response": created, "destination_queue_messages": messages,
    })


def test_dynamodb_event_source_mapping_with_sns_on_failure_destination_config(ddb: DdbKit, time_scale) -> None:
    time_scale(10)
    topic, url = ddb.topic_into_queue()
    _, created_table, updated, created = _failing_mapping(ddb, topic)
    [message] = ddb.receive(url)["Messages"]
    ddb.settle()
    check_ddb("test_dynamodb_event_source_mapping_with_sns_on_failure_destination_config", {
        "create_table_response": created_table, "update_table_response": updated,
        "create_event_source_mapping_response": created, "failure_sns_message": json.loads(message["Body"]),
    }, skip=SNS_ENVELOPE_DIFFERENCES)


def test_dynamodb_event_source_mapping_with_s3_on_failure_destination(ddb: DdbKit, time_scale) -> None:
    time_scale(10)
    bucket = ddb.bucket()
    _, created_table, updated, created = _failing_mapping(ddb, f"arn:aws:s3:::{bucket}")
    s3 = ddb.pipemu.client("s3")
    [item] = wait_for("1 object in the bucket", lambda: s3.list_objects_v2(Bucket=bucket).get("Contents", []),
                      lambda c: len(c) >= 1)
    ddb.settle()
    body = json.loads(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
    shard = body["DDBStreamBatchInfo"]["shardId"]
    assert re.fullmatch(rf"aws/lambda/{created['UUID']}/{shard}/\d{{4}}/\d\d/\d\d/.+", item["Key"]), item["Key"]
    check_ddb("test_dynamodb_event_source_mapping_with_s3_on_failure_destination", {
        "create_table_response": created_table, "update_table_response": updated,
        "create_event_source_mapping_response": created, "record_body": body,
    })


@pytest.mark.parametrize("pattern", ["single-string", '[{"eventName": ["INSERT"=123}]'])
def test_dynamodb_invalid_event_filter(ddb: DdbKit, pattern: str) -> None:
    function = ddb.function("echo")
    _, arn, _, _ = _stream(ddb, "NEW_AND_OLD_IMAGES", key="id")
    error = ddb.mapping_error(FunctionName=function, BatchSize=1, StartingPosition="TRIM_HORIZON", EventSourceArn=arn,
                              MaximumBatchingWindowInSeconds=1, MaximumRetryAttempts=1,
                              FilterCriteria={"Filters": [{"Pattern": pattern}]})
    check_ddb(f"test_dynamodb_invalid_event_filter[{pattern}]", {"exception_event_source_creation": error})


def test_duplicate_event_source_mappings(ddb: DdbKit) -> None:
    first, second = ddb.function("echo"), ddb.function("echo")
    _, arn, created_table, _ = _stream(ddb)
    kwargs = {"StartingPosition": "TRIM_HORIZON", "MaximumBatchingWindowInSeconds": 1, "MaximumRetryAttempts": 1}
    created = ddb.mapping(FunctionName=first, EventSourceArn=arn, **kwargs)
    error = ddb.mapping_error(FunctionName=first, EventSourceArn=arn, **kwargs)
    ddb.mapping(FunctionName=second, EventSourceArn=arn, **kwargs)  # another function: accepted
    check_ddb("test_duplicate_event_source_mappings",
              {"create-table-result": created_table, "create": created, "error": error})


def test_esm_with_not_existing_dynamodb_stream(ddb: DdbKit) -> None:
    function = ddb.function("echo")
    region, account = ddb.backend.region, "123456789012"
    arn = f"arn:aws:dynamodb:{region}:{account}:table/test-table-4a53f4e8/stream/2025-02-22T03:03:25.490"
    error = ddb.mapping_error(FunctionName=function, EventSourceArn=arn, StartingPosition="LATEST")
    check_ddb("test_esm_with_not_existing_dynamodb_stream", {"error": error})


# -- filters: (first item, second item, pattern, invocations); the first item always matches -------------------
FILTERS: dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, Any], int]] = {
    "insert_same_entry_twice": ({"id": {"S": "id_value"}, "id2": {"S": "id2_value"}},
                                {"id": {"S": "id_value"}, "id2": {"S": "id2_value"}}, {"eventName": ["INSERT"]}, 1),
    "content_or_filter": ({"id": {"S": "id_value"}}, {"id": {"S": "id_value"}, "id2": {"S": "id2_new_value"}},
                          {"eventName": ["INSERT", "MODIFY"]}, 2),
    "content_multiple_filters": ({"id": {"S": "id_value"}}, {"id": {"S": "id_value"}, "id2": {"S": "id2_new_value"}},
                                 {"eventName": ["INSERT"], "eventSource": ["aws:dynamodb"]}, 1),
    "content_filter_type": ({"id": {"S": "id_value_1"}, "presentKey": {"S": "presentValue"}},
                            {"id": {"S": "id_value_2"}},
                            {"dynamodb": {"NewImage": {"presentKey": {"S": ["presentValue"]}}}}, 1),
    "exists_filter_type": ({"id": {"S": "id_value_1"}, "presentKey": {"S": "presentValue"}},
                           {"id": {"S": "id_value_2"}},
                           {"dynamodb": {"NewImage": {"presentKey": {"S": [{"exists": True}]}}}}, 1),
    "exists_false_filter": ({"id": {"S": "id_value_1"}},
                            {"id": {"S": "id_value_2"}, "presentKey": {"S": "presentValue"}},
                            {"dynamodb": {"NewImage": {"presentKey": [{"exists": False}]}}}, 2),
    "numeric_filter": ({"id": {"S": "id_value_1"}, "numericFilter": {"N": "42"}},
                       {"id": {"S": "id_value_2"}, "numericFilter": {"N": "101"}},
                       {"dynamodb": {"NewImage": {"numericFilter": {
                           "N": [{"numeric": [">", 100]}, {"anything-but": "101"}]}}}}, 1),
    "prefix_filter": ({"id": {"S": "id_value_1"}, "prefix": {"S": "us-1-other-suffix"}},
                      {"id": {"S": "id_value_1"}, "prefix": {"S": "other-suffix"}},
                      {"dynamodb": {"NewImage": {"prefix": {"S": [{"prefix": "us-1"}]}}}}, 1),
    "date_time_conversion": ({"id": {"S": "id_value_1"}}, {"id": {"S": "id_value_2"}},
                             {"dynamodb": {"ApproximateCreationDateTime": [{"numeric": [">", 0]}]}}, 2),
}


@pytest.mark.parametrize("case", list(FILTERS))
def test_dynamodb_event_filter(ddb: DdbKit, case: str) -> None:
    first, second, pattern, calls = FILTERS[case]
    function = ddb.function("echo")
    table, created_table = ddb.table("id")
    arn = ddb.enable_stream(table, "NEW_AND_OLD_IMAGES")["TableDescription"]["LatestStreamArn"]
    created = ddb.mapping(FunctionName=function, BatchSize=1, StartingPosition="TRIM_HORIZON", EventSourceArn=arn,
                          MaximumBatchingWindowInSeconds=1, MaximumRetryAttempts=1,
                          FilterCriteria={"Filters": [{"Pattern": json.dumps(pattern)}]})
    ddb.ddb.put_item(TableName=table, Item=first)
    wait_for("1 invocation", lambda: ddb.invocations(function), lambda i: len(i) >= 1)
    ddb.settle()
    once = ddb.logged(function)
    ddb.ddb.put_item(TableName=table, Item=second)
    ddb.settle()
    assert len(ddb.invocations(function)) == calls
    events = ddb.logged(function)
    _creation_times_are_epoch_floats(events)
    check_ddb(f"test_dynamodb_event_filter[{case}]", {
        "table_creation_response": created_table, "create_event_source_mapping_response": created,
        "lambda-log-events": once, "lambda-multiple-log-events": events,
    })


# -- ReportBatchItemFailures ----------------------------------------------------------------------------------
def _six_items_the_last_failing(ddb: DdbKit) -> tuple[str, str, dict[str, Any], dict[str, Any], dict[str, Any]]:
    url, queue_arn = ddb.queue()
    function = ddb.function("ddbbif")
    table, arn, created_table, updated = _stream(ddb)
    created = ddb.mapping(FunctionName=function, BatchSize=3, StartingPosition="TRIM_HORIZON", EventSourceArn=arn,
                          MaximumBatchingWindowInSeconds=1, MaximumRetryAttempts=3,
                          DestinationConfig={"OnFailure": {"Destination": queue_arn}},
                          FunctionResponseTypes=["ReportBatchItemFailures"])
    for i in range(6):
        ddb.ddb.put_item(TableName=table, Item={KEY: {"S": f"testId{i}"}, "should_fail": {"BOOL": i == 5}})
    return url, function, created_table, updated, created


def test_dynamodb_report_batch_item_failures(ddb: DdbKit, time_scale) -> None:
    time_scale(10)
    url, function, created_table, updated, created = _six_items_the_last_failing(ddb)
    messages = ddb.receive(url)
    ddb.settle()
    records = sorted((r for event in ddb.logged(function) for r in event["Records"]),
                     key=lambda r: r["dynamodb"]["Keys"][KEY]["S"])
    # testId0-4 once; testId5 in 1 + MaximumRetryAttempts invocations. Upstream leaves $..Records unverified
    # (AWS logged one record more than that), so the list is checked here.
    assert [r["dynamodb"]["Keys"][KEY]["S"] for r in records] == [f"testId{i}" for i in range(5)] + ["testId5"] * 4
    check_ddb("test_dynamodb_report_batch_item_failures", {
        "create_table_response": created_table, "update_table_response": updated,
        "create_event_source_mapping_response": created, "destination_queue_messages": messages,
        "dynamodb_records": {"Records": records},
    }, skip=("$..Records",))


def test_dynamodb_report_batch_item_failures_with_on_failure_destination_config(ddb: DdbKit, time_scale) -> None:
    time_scale(10)
    url, _, created_table, updated, created = _six_items_the_last_failing(ddb)
    messages = ddb.receive(url)
    ddb.settle()
    assert ddb.queue_depth(url) == 1
    # Recorded before Lambda's answers carried EventSourceMappingArn.
    check_ddb("test_dynamodb_report_batch_item_failures_with_on_failure_destination_config", {
        "create_table_response": created_table, "update_table_response": updated,
        "create_event_source_mapping_response": created, "destination_queue_messages": messages,
    }, skip=("$.create_event_source_mapping_response.EventSourceMappingArn",))


@pytest.mark.parametrize("case", list(FAILURES))
def test_dynamodb_report_batch_item_failure_scenarios(ddb: DdbKit, time_scale, case: str) -> None:
    time_scale(10)
    url, queue_arn = ddb.queue()
    function = ddb.function("fixed", env={"RESULT": FAILURES[case]})
    table, arn, created_table, _ = _stream(ddb)
    ddb.mapping(FunctionName=function, BatchSize=3, StartingPosition="TRIM_HORIZON", EventSourceArn=arn,
                MaximumBatchingWindowInSeconds=1, MaximumRetryAttempts=3,
                DestinationConfig={"OnFailure": {"Destination": queue_arn}},
                FunctionResponseTypes=["ReportBatchItemFailures"])
    ddb.ddb.put_item(TableName=table, Item=ITEM)
    messages = ddb.receive(url)
    ddb.settle()
    assert len(ddb.invocations(function)) == 4
    events = [e for e in ddb.logged(function) if "Records" in e]
    check_ddb(f"test_dynamodb_report_batch_item_failure_scenarios[{case}]", {
        "create-table-result": created_table, "destination_queue_messages": messages, "dynamodb_events": events,
    })


@pytest.mark.parametrize("case", [c for c in SUCCESSES if c != "empty_string_success"])
def test_dynamodb_report_batch_item_success_scenarios(ddb: DdbKit, case: str) -> None:
    function = ddb.function("fixed", env={"RESULT": SUCCESSES[case]})
    table, arn, created_table, _ = _stream(ddb)
    ddb.mapping(EventSourceArn=arn, FunctionName=function, StartingPosition="TRIM_HORIZON", BatchSize=1,
                MaximumBatchingWindowInSeconds=0, FunctionResponseTypes=["ReportBatchItemFailures"],
                MaximumRetryAttempts=2)
    ddb.ddb.put_item(TableName=table, Item=ITEM)
    wait_for("1 invocation", lambda: ddb.invocations(function), lambda i: len(i) >= 1)
    ddb.settle()
    assert len(ddb.invocations(function)) == 1
    events = [e for e in ddb.logged(function) if "Records" in e]
    check_ddb(f"test_dynamodb_report_batch_item_success_scenarios[{case}]",
              {"create-table-result": created_table, "dynamodb_events": events})
