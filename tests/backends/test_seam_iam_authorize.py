"""The iam_authorize seam: a request carrying a function's session token is authorised against that function's
execution role and answered with AWS's error shape when denied; any other request is not checked.

GIVEN a function whose role allows only some calls and which is tagged pipemu:iam=enforce, WHEN a client signs
requests with that function's session token (as its worker does), THEN the exact AWS error code and message come
back for what the role does not allow, and the call is recorded. Fails loudly when moto moves the method the seam
replaces or the models it reads.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from lambda_functions import zipped
from moto.core.authorization import ActionAuthenticatorMixin

from emulator.backends.moto_seams import iam_authorize
from emulator.runtime.environment import function_session_token

ACCOUNT = "123456789012"


def _function(pipemu: Any, mode: str, statements: list[dict[str, Any]]) -> None:
    iam = pipemu.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    role = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    if statements:  # IAM refuses a policy without statements
        iam.put_role_policy(RoleName="fn-role", PolicyName="p",
                            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))
    pipemu.client("lambda").create_function(
        FunctionName="worker", Runtime="python3.12", Role=role, Handler="app.handler",
        Code={"ZipFile": zipped("def handler(e, c):\n    return 1\n")}, Tags={"pipemu:iam": mode})


def _as_function(pipemu: Any, service: str) -> Any:
    return boto3.client(service, endpoint_url=pipemu.backend.endpoint_url, region_name="us-east-1",
                        aws_access_key_id="ASIAPIPEMUTEST000000", aws_secret_access_key="x",
                        aws_session_token=function_session_token("worker"))


def _denied(call: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as info:
        call()
    return {"code": info.value.response["Error"]["Code"], "message": info.value.response["Error"]["Message"],
            "status": info.value.response["ResponseMetadata"]["HTTPStatusCode"]}


def _principal() -> str:
    return f"arn:aws:sts::{ACCOUNT}:assumed-role/fn-role/worker"


def test_the_seam_replaces_the_method_moto_calls_before_every_answer(pipemu: Any) -> None:
    assert iam_authorize.installed(), "the embedded backend installs iam_authorize"
    assert ActionAuthenticatorMixin._authenticate_and_authorize_action is iam_authorize._authorize


def test_function_calls_are_authorised_by_service_with_aws_error_shapes(pipemu: Any) -> None:
    s3, sqs, kinesis, sns = (pipemu.client(s) for s in ("s3", "sqs", "kinesis", "sns"))
    s3.create_bucket(Bucket="out")
    queue = sqs.create_queue(QueueName="q")["QueueUrl"]
    kinesis.create_stream(StreamName="clicks", ShardCount=1)
    topic = sns.create_topic(Name="t")["TopicArn"]
    _function(pipemu, "enforce", [
        {"Effect": "Allow", "Action": ["s3:PutObject", "kinesis:PutRecord*"], "Resource": [
            "arn:aws:s3:::out/allowed/*", f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/clicks"]},
        {"Effect": "Deny", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::out/allowed/secret*"},
    ])

    _as_function(pipemu, "s3").put_object(Bucket="out", Key="allowed/a", Body=b"x")
    _as_function(pipemu, "kinesis").put_record(StreamName="clicks", Data=b"x", PartitionKey="k")  # fast path off

    assert _denied(lambda: _as_function(pipemu, "s3").put_object(Bucket="out", Key="other/a", Body=b"x")) == {
        "code": "AccessDenied", "status": 403,
        "message": f"User: {_principal()} is not authorized to perform: s3:PutObject on resource: "
                   "arn:aws:s3:::out/other/a because no identity-based policy allows the s3:PutObject action"}
    secret = _denied(lambda: _as_function(pipemu, "s3").put_object(Bucket="out", Key="allowed/secret1", Body=b""))
    assert secret["message"].endswith("arn:aws:s3:::out/allowed/secret1 with an explicit deny in an "
                                      "identity-based policy")
    sent = _denied(lambda: _as_function(pipemu, "sqs").send_message_batch(
        QueueUrl=queue, Entries=[{"Id": "1", "MessageBody": "x"}]))
    assert sent["code"] == "AccessDeniedException"
    assert f"perform: sqs:SendMessage on resource: arn:aws:sqs:us-east-1:{ACCOUNT}:q" in sent["message"]
    published = _denied(lambda: _as_function(pipemu, "sns").publish(TopicArn=topic, Message="x"))
    assert (published["code"], published["status"]) == ("AuthorizationError", 403)
    assert f"sns:Publish on resource: {topic}" in published["message"]
    described = _denied(lambda: _as_function(pipemu, "kinesis").describe_stream(StreamName="clicks"))
    assert described["code"] == "AccessDeniedException" and "kinesis:DescribeStream" in described["message"]
    pipemu.client("dynamodb").create_table(
        TableName="items", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    batch = _denied(lambda: _as_function(pipemu, "dynamodb").batch_write_item(
        RequestItems={"items": [{"PutRequest": {"Item": {"k": {"S": "1"}}}}]}))
    assert f"dynamodb:BatchWriteItem on resource: arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/items " in (
        batch["message"])

    records = [(r.action, r.outcome) for r in pipemu.backend.audit.records()]
    assert records == [("s3:PutObject", "allowed"), ("kinesis:PutRecord", "allowed"), ("s3:PutObject", "denied"),
                       ("s3:PutObject", "denied"), ("sqs:SendMessage", "denied"), ("sns:Publish", "denied"),
                       ("kinesis:DescribeStream", "denied"), ("dynamodb:BatchWriteItem", "denied")]


def test_report_mode_allows_and_records_the_would_be_denial(pipemu: Any) -> None:
    pipemu.client("s3").create_bucket(Bucket="out")
    _function(pipemu, "report", [])
    _as_function(pipemu, "s3").put_object(Bucket="out", Key="k", Body=b"x")
    (record,) = pipemu.backend.audit.records()
    assert (record.outcome, record.resource) == ("would_be_denied", "arn:aws:s3:::out/k")
    assert record.message is not None and "because no identity-based policy allows" in record.message


def test_the_harness_and_other_callers_are_never_checked(pipemu: Any) -> None:
    _function(pipemu, "enforce", [])
    pipemu.client("s3").create_bucket(Bucket="free")  # the harness's own credentials
    stranger = boto3.client("s3", endpoint_url=pipemu.backend.endpoint_url, region_name="us-east-1",
                            aws_access_key_id="AKIAOTHER", aws_secret_access_key="x", aws_session_token="other")
    stranger.put_object(Bucket="free", Key="k", Body=b"x")
    assert pipemu.backend.audit.records() == []
