"""The endpoint backend against a moto server subprocess: pipemu drives the pipeline from the client side."""

from __future__ import annotations

import io
import json
import re
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from processes import listening
from verdicts import held_apart_from_latency
from waiting import wait_for

from emulator.backends.base import driven, make_client
from emulator.backends.client_side import FunctionCodeUnknown
from emulator.backends.endpoint import LOCAL, EndpointBackend, probe
from emulator.backends.factory import make_backend
from emulator.backends.moto_server import MotoServerProcess
from emulator.errors import ConfigError
from emulator.runner import run_scenario
from emulator.runtime import InjectedFault
from emulator.spec.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
ROLE = "arn:aws:iam::123456789012:role/pipemu-test"
HANDLER = """
import json, os, boto3
def handler(event, context):
    if event.get("boom"):
        raise ValueError("boom")
    if "Records" in event and "s3" in event["Records"][0]:
        key = event["Records"][0]["s3"]["object"]["key"]
        boto3.client("s3").put_object(Bucket=os.environ["OUT"], Key="seen/" + key, Body=json.dumps(event))
    return {"echo": event}
"""


def _zip(source: str = HANDLER) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def moto_server() -> Iterator[MotoServerProcess]:
    with MotoServerProcess() as server:  # stopped on exit, also when a test fails
        yield server


@pytest.fixture
def backend(moto_server: MotoServerProcess) -> Iterator[EndpointBackend]:
    with EndpointBackend(moto_server.url) as b:
        b.client("iam").create_role(RoleName="pipemu-test", AssumeRolePolicyDocument="{}")  # moto checks roles
        yield b
        b.reset()


def test_the_moto_server_listens_on_127_0_0_1_only(moto_server: MotoServerProcess) -> None:
    assert moto_server.pid is not None
    assert listening(moto_server.pid) == {("127.0.0.1", moto_server.port)}


def test_a_moto_server_is_detected_and_driven_locally(backend: EndpointBackend) -> None:
    assert probe(backend.endpoint_url) == "moto"
    assert backend.kind == "moto" and backend.drive_locally
    assert backend.capabilities == LOCAL
    assert driven(backend) is backend
    assert backend.env()["AWS_ENDPOINT_URL"] == backend.endpoint_url


@pytest.mark.parametrize("scenario", ["clickstream-smoke", "orders-powertools", "powertools-sqs"])
def test_bundled_scenarios_pass_on_the_endpoint_backend(moto_server: MotoServerProcess, scenario: str) -> None:
    spec, pipeline = load_scenario(ROOT / "scenarios" / f"{scenario}.yaml")
    progress: list[dict[str, int]] = []
    with EndpointBackend(moto_server.url, time_scale=spec.time_scale or 1.0) as backend:
        try:
            # Progress makes the runner collect outputs while it replays, for on-time arrival stamps.
            result = run_scenario(spec, backend=backend, progress=progress.append)
            assert held_apart_from_latency(result), result.summary()
            assert result.latency_ms["p99"] is not None  # measured on this path too
            assert result.events.lost == 0 and result.events.sent == spec.events.count
            assert progress and progress[-1]["sent"] == spec.events.count
            assert backend.invocations, "pipemu's runtime ran the handler"
            assert {i.function for i in backend.invocations} <= set(pipeline.functions)
        finally:
            backend.reset()


def test_mappings_stay_on_the_client_side(backend: EndpointBackend, moto_server: MotoServerProcess) -> None:
    kinesis, lam = backend.client("kinesis"), backend.client("lambda")
    kinesis.create_stream(StreamName="s", ShardCount=1)
    arn = kinesis.describe_stream_summary(StreamName="s")["StreamDescriptionSummary"]["StreamARN"]
    lam.create_function(FunctionName="f", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": _zip()})
    created = lam.create_event_source_mapping(FunctionName="f", EventSourceArn=arn, StartingPosition="LATEST")
    assert created["State"] == "Creating"
    assert lam.get_event_source_mapping(UUID=created["UUID"])["State"] == "Enabled"
    assert [m["UUID"] for m in lam.list_event_source_mappings()["EventSourceMappings"]] == [created["UUID"]]
    server_side = make_client("lambda", endpoint_url=moto_server.url, region="us-east-1")
    assert server_side.list_event_source_mappings()["EventSourceMappings"] == []  # nothing for moto to fire

    with pytest.raises(ClientError) as conflict:
        lam.create_event_source_mapping(FunctionName="f", EventSourceArn=arn, StartingPosition="LATEST")
    assert conflict.value.response["Error"]["Code"] == "ResourceConflictException"
    with pytest.raises(ClientError) as missing:
        lam.create_event_source_mapping(FunctionName="nope", EventSourceArn=arn, StartingPosition="LATEST")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    lam.delete_event_source_mapping(UUID=created["UUID"])
    with pytest.raises(ClientError) as gone:
        lam.get_event_source_mapping(UUID=created["UUID"])
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_invoke_runs_the_deployed_zip_locally_with_faults(backend: EndpointBackend) -> None:
    lam = backend.client("lambda")
    lam.create_function(FunctionName="f", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": _zip()}, Environment={"Variables": {"OUT": "x"}})
    ok = lam.invoke(FunctionName="f", Payload=b'{"a": 1}')
    assert ok["StatusCode"] == 200 and "FunctionError" not in ok
    assert json.loads(ok["Payload"].read()) == {"echo": {"a": 1}}
    failed = lam.invoke(FunctionName="f", Payload=b'{"boom": true}')
    assert failed["FunctionError"] == "Unhandled"
    assert json.loads(failed["Payload"].read())["errorType"] == "ValueError"
    backend.set_handler_faults(lambda name: InjectedFault(kind="error"))
    assert lam.invoke(FunctionName="f", Payload=b"{}").get("FunctionError") == "Unhandled"
    backend.set_handler_faults(None)
    assert [i.error for i in backend.invocations] == [None, "Unhandled", "Unhandled"]


def test_code_deployed_by_another_client_needs_register_code(
    backend: EndpointBackend, moto_server: MotoServerProcess
) -> None:
    other = make_client("lambda", endpoint_url=moto_server.url, region="us-east-1")
    other.create_function(FunctionName="g", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                          Code={"ZipFile": _zip()})
    lam = backend.client("lambda")
    with pytest.raises(FunctionCodeUnknown, match="register_code"):
        lam.invoke(FunctionName="g", Payload=b"{}")
    backend.register_code("g", _zip())
    assert lam.invoke(FunctionName="g", Payload=b'{"x": 2}')["StatusCode"] == 200
    other.delete_function(FunctionName="g")


def test_s3_notifications_invoke_the_function(backend: EndpointBackend) -> None:
    s3, lam = backend.client("s3"), backend.client("lambda")
    s3.create_bucket(Bucket="in-bucket")
    s3.create_bucket(Bucket="out-bucket")
    arn = lam.create_function(FunctionName="n", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                              Code={"ZipFile": _zip()}, Environment={"Variables": {"OUT": "out-bucket"}})["FunctionArn"]
    s3.put_object(Bucket="in-bucket", Key="before.json", Body=b"{}")  # existed before: not notified
    s3.put_bucket_notification_configuration(
        Bucket="in-bucket",
        NotificationConfiguration={"LambdaFunctionConfigurations": [
            {"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"],
             "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".json"}]}}},
        ]},
    )
    config = s3.get_bucket_notification_configuration(Bucket="in-bucket")
    assert config["LambdaFunctionConfigurations"][0]["LambdaFunctionArn"] == arn
    arrived = threading.Event()
    seen: list[str] = []

    def on_object(bucket: str, key: str, body: bytes, at: float) -> None:
        seen.append(key)
        arrived.set()

    unsubscribe = backend.watch_s3(on_object, {"out-bucket"})
    s3.put_object(Bucket="in-bucket", Key="skip.txt", Body=b"x")
    s3.put_object(Bucket="in-bucket", Key="a b.json", Body=b"{}")
    assert arrived.wait(30), "the notified function wrote nothing within 30 s"
    unsubscribe()
    assert seen == ["seen/a+b.json"]  # the key as S3 puts it in the event: URL-encoded


def test_state_machines_fail_fast_on_a_moto_endpoint(backend: EndpointBackend) -> None:
    with pytest.raises(ConfigError, match="cannot run state machines"):
        backend.client("stepfunctions").create_state_machine(name="sm", definition="{}", roleArn=ROLE)


def test_reset_deletes_what_the_backend_created(backend: EndpointBackend, moto_server: MotoServerProcess) -> None:
    s3, iam = backend.client("s3"), backend.client("iam")
    s3.create_bucket(Bucket="to-go")
    s3.put_object(Bucket="to-go", Key="k", Body=b"1")  # emptied first
    backend.client("sqs").create_queue(QueueName="q-to-go")
    backend.client("kinesis").create_stream(StreamName="stream-to-go", ShardCount=1)
    backend.client("lambda").create_function(FunctionName="fn-to-go", Runtime="python3.12", Role=ROLE,
                                             Handler="app.handler", Code={"ZipFile": _zip()})
    iam.create_role(RoleName="role-to-go", AssumeRolePolicyDocument="{}")
    iam.put_role_policy(RoleName="role-to-go", PolicyName="inline", PolicyDocument='{"Version": "2012-10-17", '
                        '"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}')
    other = make_client("s3", endpoint_url=moto_server.url, region="us-east-1")
    other.create_bucket(Bucket="not-ours")
    backend.reset()
    assert {b["Name"] for b in other.list_buckets()["Buckets"]} == {"not-ours"}
    assert backend.client("sqs").list_queues().get("QueueUrls", []) == []
    assert backend.client("kinesis").list_streams()["StreamNames"] == []
    assert backend.client("lambda").list_functions()["Functions"] == []
    assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == []
    other.delete_bucket(Bucket="not-ours")


def test_factory_names_and_errors(moto_server: MotoServerProcess) -> None:
    assert isinstance(make_backend("endpoint", endpoint_url=moto_server.url), EndpointBackend)
    with pytest.raises(ConfigError, match="endpoint URL"):
        make_backend("endpoint")
    with pytest.raises(ConfigError, match="one of: embedded, endpoint, moto-server, localstack, aws"):
        make_backend("nope")


def test_scenarios_needing_s3_write_faults_are_refused(backend: EndpointBackend) -> None:
    with pytest.raises(ConfigError, match="cannot make S3 writes fail"):
        backend.set_s3_write_failures(lambda bucket, key: True)


def test_invocation_logs_reach_the_moto_servers_cloudwatch_logs(
    backend: EndpointBackend, moto_server: MotoServerProcess
) -> None:
    lam = backend.client("lambda")
    lam.create_function(FunctionName="logged", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": _zip()})
    logs = make_client("logs", endpoint_url=moto_server.url, region="us-east-1")  # another client, as the CLI
    groups = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/logged")["logGroups"]
    assert [g["logGroupName"] for g in groups] == ["/aws/lambda/logged"]
    lam.invoke(FunctionName="logged", Payload=b'{"a": 1}')

    def messages() -> list[str]:
        return [e["message"] for e in logs.filter_log_events(logGroupName="/aws/lambda/logged")["events"]]

    seen = wait_for("the invocation's log lines on the server", messages,
                    lambda m: any(x.startswith("REPORT RequestId:") for x in m))
    assert [m.split(" ", 1)[0] for m in seen] == ["START", "END", "REPORT"]
    stream = logs.describe_log_streams(logGroupName="/aws/lambda/logged")["logStreams"][0]["logStreamName"]
    assert re.match(r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$", stream)
