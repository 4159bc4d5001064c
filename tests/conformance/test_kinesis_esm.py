"""Kinesis cases of shared/conformance/README.md §2 (create, validation, delivery, processing result, filtering;
the failure cases are in test_kinesis_esm_failures.py), run on the embedded backend and compared with what AWS
recorded (test_lambda_integration_kinesis.snapshot.json) after the same normalisation.

Each test builds the same named observations as AWS's test recorded, normalises them with one ``Normalizer`` (so
tokens number consistently across the entry) and compares the whole entry. Sleeps inside handlers are scaled down
where only order matters; batching windows run on the backend clock with a time scale.
"""

from __future__ import annotations

import json
from typing import Any

from esm_kit import HELLO, Kit, check, epoch_seconds_ok, wait_for


# -- create, validation ---------------------------------------------------------------------------------------
def test_esm_with_not_existing_kinesis_stream(kit: Kit) -> None:
    function = kit.function("echo")
    missing = "arn:aws:kinesis:us-east-1:123456789012:stream/test-foobar-81ded7e8"
    error = kit.mapping_error(EventSourceArn=missing, FunctionName=function, StartingPosition="LATEST")
    check("test_esm_with_not_existing_kinesis_stream", {"error": error})


def test_duplicate_event_source_mappings(kit: Kit) -> None:
    function_1, function_2 = kit.function("echo"), kit.function("echo")
    _, arn = kit.stream()
    create = kit.mapping(FunctionName=function_1, EventSourceArn=arn, StartingPosition="LATEST")
    error = kit.mapping_error(FunctionName=function_1, EventSourceArn=arn, StartingPosition="LATEST")
    check("test_duplicate_event_source_mappings", {"create": create, "error": error})
    # a different function on the same stream is accepted
    kit.mapping(FunctionName=function_2, EventSourceArn=arn, StartingPosition="LATEST")


# -- delivery -------------------------------------------------------------------------------------------------
def test_create_kinesis_event_source_mapping(kit: Kit) -> None:
    function = kit.function("echo")
    stream, arn = kit.stream()
    created = kit.mapping(EventSourceArn=arn, FunctionName=function, StartingPosition="LATEST")
    kit.put(stream, [(HELLO, f"test_{i}") for i in range(10)])
    [event] = wait_for("1 invocation", lambda: kit.logged(function), lambda e: len(e) >= 1)
    kit.settle()
    assert len(kit.invocations(function)) == 1
    epoch_seconds_ok(event)
    check(
        "test_create_kinesis_event_source_mapping",
        {"create_event_source_mapping_response": created, "kinesis_records": event},
    )


def test_create_kinesis_event_source_mapping_multiple_lambdas_single_kinesis_event_stream(kit: Kit) -> None:
    stream, arn = kit.stream()
    functions = {"a": kit.function("echo"), "b": kit.function("echo")}
    observed: dict[str, Any] = {}
    for label, function in functions.items():
        observed[f"create_event_source_mapping_response-{label}"] = kit.mapping(
            EventSourceArn=arn, FunctionName=function, StartingPosition="TRIM_HORIZON"
        )
    kit.put(stream, [(HELLO, "test_1")])
    for label, function in functions.items():
        wait_for(f"function {label} invoked", lambda f=function: kit.logged(f), lambda e: len(e) >= 1)
    kit.settle()
    for label, function in functions.items():
        [event] = kit.logged(function)
        epoch_seconds_ok(event)
        observed[f"kinesis_records-{label}"] = event
    check("test_create_kinesis_event_source_mapping_multiple_lambdas_single_kinesis_event_stream", observed)


def test_kinesis_event_source_mapping_with_async_invocation(kit: Kit) -> None:
    sleep_s = 1.0  # AWS: 5 s; the point is that batch 2 starts only after batch 1 finished
    function = kit.function("parallel", env={"SLEEP_S": str(sleep_s)})
    stream, arn = kit.stream()
    created = kit.mapping(EventSourceArn=arn, FunctionName=function, StartingPosition="LATEST", BatchSize=10)
    for i in range(2):
        kit.put(stream, [(json.dumps({"record_id": j}), f"test_{i}") for j in range(10)])
    events = wait_for("2 invocations", lambda: kit.logged(function), lambda e: len(e) >= 2, timeout=30)
    kit.settle()
    assert len(kit.invocations(function)) == 2
    assert events[1]["executionStart"] - events[0]["executionStart"] > sleep_s
    check(
        "test_kinesis_event_source_mapping_with_async_invocation",
        {"create_event_source_mapping_response": created, "invocation_events": events},
    )


def test_kinesis_event_source_trim_horizon(kit: Kit) -> None:
    function = kit.function("parallel", env={"SLEEP_S": "0.2"})
    stream, arn = kit.stream()
    for i in range(2):
        kit.put(stream, [(json.dumps({"record_id": j}), f"test_{i}") for j in range(10)])
    created = kit.mapping(EventSourceArn=arn, FunctionName=function, StartingPosition="TRIM_HORIZON", BatchSize=10)
    kit.put(stream, [(json.dumps({"record_id": j}), "test_3") for j in range(10)])
    events = wait_for("3 invocations", lambda: kit.logged(function), lambda e: len(e) >= 3, timeout=30)
    kit.settle()
    assert len(kit.invocations(function)) == 3
    check(
        "test_kinesis_event_source_trim_horizon",
        {"create_event_source_mapping_response": created, "invocation_events": events},
    )


def test_disable_kinesis_event_source_mapping(kit: Kit) -> None:
    function = kit.function("echo")
    stream, arn = kit.stream()
    created = kit.mapping(EventSourceArn=arn, FunctionName=function, StartingPosition="LATEST", BatchSize=10)
    kit.put(stream, [(json.dumps({"record_id": i}), "test") for i in range(10)])
    events = wait_for("1 invocation", lambda: kit.logged(function), lambda e: len(e) >= 1)
    kit.lam.update_event_source_mapping(UUID=created["UUID"], Enabled=False)
    kit.backend.esm.wait_synced()
    wait_for(
        "State Disabled",
        lambda: kit.lam.get_event_source_mapping(UUID=created["UUID"])["State"],
        lambda s: s == "Disabled",
    )
    kit.put(stream, [(json.dumps({"record_id_disabled": i}), "test") for i in range(10)])
    kit.backend.esm.wake()
    kit.settle()
    assert len(kit.invocations(function)) == 1
    check(
        "test_disable_kinesis_event_source_mapping",
        {"create_event_source_mapping_response": created, "invocation_events": events},
    )


# -- processing result, filtering -----------------------------------------------------------------------------
def test_kinesis_empty_provided(kit: Kit, time_scale) -> None:
    time_scale(10)
    function = kit.function("empty")
    stream, arn = kit.stream()
    created = kit.mapping(
        FunctionName=function,
        EventSourceArn=arn,
        StartingPosition="TRIM_HORIZON",
        BatchSize=1,
        MaximumBatchingWindowInSeconds=1,
        MaximumRetryAttempts=2,
    )
    kit.put(stream, [(HELLO, "test")])
    got = wait_for(
        "LastProcessingResult OK",
        lambda: kit.lam.get_event_source_mapping(UUID=created["UUID"]),
        lambda r: r["LastProcessingResult"] == "OK",
    )
    kit.settle()
    assert sum(line.startswith("REPORT") for line in kit.log_lines(function)) == 1
    check("test_kinesis_empty_provided", {"create_event_source_mapping_response": created, "get_esm_result": got})


def test_kinesis_event_filtering_json_pattern(kit: Kit, time_scale) -> None:
    time_scale(10)
    functions = [kit.function("klog"), kit.function("klog")]
    stream, arn = kit.stream()
    created = [
        kit.mapping(
            FunctionName=function,
            BatchSize=1,
            StartingPosition="TRIM_HORIZON",
            EventSourceArn=arn,
            MaximumBatchingWindowInSeconds=1,
            MaximumRetryAttempts=1,
            FilterCriteria={"Filters": [{"Pattern": json.dumps({"data": {"event_type": [f"function_{n}"]}})}]},
        )
        for n, function in enumerate(functions, start=1)
    ]
    kit.kinesis.put_record(
        StreamName=stream, Data=json.dumps({"event_type": "function_1", "message": "foo"}), PartitionKey="custom"
    )
    kit.kinesis.put_record(
        StreamName=stream, Data=json.dumps({"event_type": "function_2", "message": "bar"}), PartitionKey="custom"
    )
    for function in functions:
        wait_for(f"{function} invoked", lambda f=function: kit.invocations(f), lambda i: len(i) >= 1)
    kit.settle()
    assert [len(kit.invocations(f)) for f in functions] == [1, 1]
    [line] = [line for line in kit.log_lines(functions[0]) if line.startswith("[")]
    check(
        "TestKinesisEventFiltering::test_kinesis_event_filtering_json_pattern",
        {
            "create_event_source_mapping_response": created[0],
            "create_event_source_mapping_2_response": created[1],
            "kinesis-record-lambda-payload": line,
        },
    )
