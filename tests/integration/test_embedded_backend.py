"""The embedded backend on a real moto server: binding, reset, Lambda through the runtime, ESM API answers."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from lambda_functions import create_function

from emulator.backends.embedded import EmbeddedBackend
from emulator.errors import HarnessError


def test_binds_loopback_only_and_exposes_a_client_env(pipemu) -> None:
    backend = pipemu.backend
    assert backend.endpoint_url.startswith("http://127.0.0.1:")
    env = backend.env()
    assert env["AWS_ENDPOINT_URL"] == backend.endpoint_url
    assert env["AWS_ACCESS_KEY_ID"].startswith("pipemu")


def test_a_second_backend_in_the_same_process_is_refused(pipemu) -> None:
    with pytest.raises(HarnessError, match="already running"):
        EmbeddedBackend().start()


def test_reset_deletes_resources(pipemu) -> None:
    s3 = pipemu.client("s3")
    s3.create_bucket(Bucket="to-be-reset")
    pipemu.backend.reset()
    assert s3.list_buckets()["Buckets"] == []


def test_invoke_runs_the_handler_in_our_runtime(pipemu) -> None:
    create_function(
        pipemu,
        "echo",
        "def handler(event, context):\n    return {'got': event, 'fn': context.function_name}\n",
    )
    response = pipemu.client("lambda").invoke(FunctionName="echo", Payload=json.dumps({"a": 1}))
    assert json.loads(response["Payload"].read()) == {"got": {"a": 1}, "fn": "echo"}
    assert "FunctionError" not in response


def test_uncaught_exception_is_unhandled_with_aws_error_payload(pipemu) -> None:
    create_function(pipemu, "boom", "def handler(event, context):\n    raise ValueError('nope')\n")
    response = pipemu.client("lambda").invoke(FunctionName="boom", Payload=b"{}", LogType="Tail")
    assert response["FunctionError"] == "Unhandled"
    body = json.loads(response["Payload"].read())
    assert body["errorType"] == "ValueError" and body["errorMessage"] == "nope"
    assert isinstance(body["stackTrace"], list)


def test_s3_notification_invokes_the_function_asynchronously(pipemu) -> None:
    arn = create_function(
        pipemu,
        "copy",
        (
            "import boto3\n"
            "def handler(event, context):\n"
            "    key = event['Records'][0]['s3']['object']['key']\n"
            "    boto3.client('s3').put_object(Bucket='dst', Key=key, Body=b'seen')\n"
        ),
    )
    s3 = pipemu.client("s3")
    s3.create_bucket(Bucket="src")
    s3.create_bucket(Bucket="dst")
    s3.put_bucket_notification_configuration(
        Bucket="src",
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [{"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    s3.put_object(Bucket="src", Key="k1", Body=b"x")
    waiter = s3.get_waiter("object_exists")
    waiter.wait(Bucket="dst", Key="k1", WaiterConfig={"Delay": 0.05, "MaxAttempts": 200})
    assert s3.get_object(Bucket="dst", Key="k1")["Body"].read() == b"seen"


def _stream(pipemu, name: str = "s") -> str:
    kinesis = pipemu.client("kinesis")
    kinesis.create_stream(StreamName=name, ShardCount=1)
    return str(kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"])


def test_kinesis_mapping_answers_like_aws(pipemu) -> None:
    # conformance §5: create response defaults, 202, State Creating
    create_function(pipemu, "f", "def handler(e, c):\n    return None\n")
    arn = _stream(pipemu)
    lam = pipemu.client("lambda")
    created = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="f", StartingPosition="LATEST")
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert created["State"] == "Creating"
    expected = {
        "BatchSize": 100,
        "BisectBatchOnFunctionError": False,
        "DestinationConfig": {"OnFailure": {}},
        "FunctionResponseTypes": [],
        "LastProcessingResult": "No records processed",
        "MaximumBatchingWindowInSeconds": 0,
        "MaximumRecordAgeInSeconds": -1,
        "MaximumRetryAttempts": -1,
        "ParallelizationFactor": 1,
        "StartingPosition": "LATEST",
        "StateTransitionReason": "User action",
        "TumblingWindowInSeconds": 0,
    }
    assert {k: created[k] for k in expected} == expected
    assert lam.get_event_source_mapping(UUID=created["UUID"])["State"] == "Enabled"
    # duplicate pair -> 409 with AWS's message
    with pytest.raises(ClientError) as info:
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="f", StartingPosition="LATEST")
    assert info.value.response["Error"]["Code"] == "ResourceConflictException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert (
        f"Please update or delete the existing mapping with UUID {created['UUID']}"
        in info.value.response["Error"]["Message"]
    )


def test_mapping_on_a_missing_stream_is_refused(pipemu) -> None:
    create_function(pipemu, "f", "def handler(e, c):\n    return None\n")
    missing = "arn:aws:kinesis:us-east-1:123456789012:stream/nope"
    with pytest.raises(ClientError) as info:
        pipemu.client("lambda").create_event_source_mapping(
            EventSourceArn=missing, FunctionName="f", StartingPosition="LATEST"
        )
    assert info.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert info.value.response["Error"]["Message"] == f"Stream not found: {missing}"


def test_moto_no_longer_delivers_records_itself(pipemu) -> None:
    create_function(pipemu, "f", "def handler(e, c):\n    return None\n")
    arn = _stream(pipemu)
    pipemu.client("lambda").create_event_source_mapping(
        EventSourceArn=arn, FunctionName="f", StartingPosition="TRIM_HORIZON"
    )
    from moto.kinesis.models import kinesis_backends

    stream = kinesis_backends["123456789012"]["us-east-1"].streams["s"]
    assert stream.lambda_event_source_mappings == {}
