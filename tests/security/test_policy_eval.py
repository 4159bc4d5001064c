"""Identity-policy evaluation (emulator.security.policy) and the policy a run needs (least_privilege), unit level.

Each case states the AWS rule it checks
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from emulator.errors import ConfigError
from emulator.security.audit import CallRecord
from emulator.security.least_privilege import least_privilege, missing_grants, to_references, unused_grants
from emulator.security.policy import denial_message, evaluate, resource_matches
from emulator.spec.pipeline import load_pipeline

BUCKET = "arn:aws:s3:::out"
STREAM = "arn:aws:kinesis:us-east-1:123456789012:stream/clicks"


def allow(action: Any, resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


@pytest.mark.parametrize("statements, action, resource, outcome", [
    ([], "s3:PutObject", f"{BUCKET}/k", "implicit_deny"),                              # nothing allows it
    ([allow("s3:PutObject", f"{BUCKET}/*")], "s3:PutObject", f"{BUCKET}/k", "allowed"),
    ([allow("s3:PutObject", f"{BUCKET}/*")], "s3:PutObject", "arn:aws:s3:::other/k", "implicit_deny"),
    ([allow("s3:*", "*"), deny("s3:PutObject", f"{BUCKET}/secret/*")], "s3:PutObject", f"{BUCKET}/secret/x",
     "explicit_deny"),                                                                   # deny wins over allow
    ([deny("s3:PutObject", f"{BUCKET}/secret/*"), allow("s3:*", "*")], "s3:PutObject", f"{BUCKET}/k", "allowed"),
    ([allow("S3:putobject", f"{BUCKET}/*")], "s3:PutObject", f"{BUCKET}/k", "allowed"),  # actions: any case
    ([allow("s3:PutObject", "arn:aws:s3:::OUT/*")], "s3:PutObject", f"{BUCKET}/k", "implicit_deny"),  # ARNs: exact
    ([allow("kinesis:Get?ecords", STREAM)], "kinesis:GetRecords", STREAM, "allowed"),   # ? is one character
    ([allow("kinesis:*", "arn:aws:kinesis:*:*:stream/c*")], "kinesis:PutRecords", STREAM, "allowed"),
    ([{"Effect": "Allow", "NotAction": "s3:DeleteObject", "Resource": "*"}], "s3:PutObject", f"{BUCKET}/k",
     "allowed"),
    ([{"Effect": "Allow", "NotAction": "s3:Delete*", "Resource": "*"}], "s3:DeleteObject", f"{BUCKET}/k",
     "implicit_deny"),
    ([{"Effect": "Allow", "Action": "s3:*", "NotResource": f"{BUCKET}/private/*"}], "s3:GetObject",
     f"{BUCKET}/private/k", "implicit_deny"),
])
def test_evaluation_order_and_matching(statements: list[dict[str, Any]], action: str, resource: str,
                                       outcome: str) -> None:
    assert evaluate(statements, action, resource).outcome == outcome


@pytest.mark.parametrize("condition, allowed", [
    ({"StringEquals": {"aws:RequestedRegion": "us-east-1"}}, True),
    ({"StringEquals": {"aws:RequestedRegion": ["eu-west-1", "us-east-1"]}}, True),   # values: OR
    ({"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}, False),
    ({"StringNotEquals": {"aws:RequestedRegion": "eu-west-1"}}, True),
    ({"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/pipemu-*"}}, True),
    ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/other"}}, False),
    ({"Bool": {"aws:SecureTransport": "true"}}, False),                               # the emulator speaks HTTP
    ({"StringEquals": {"aws:SourceVpc": "vpc-1"}}, False),                           # missing key: false
    ({"StringNotEquals": {"aws:SourceVpc": "vpc-1"}}, True),                         # ... but negated: true
    ({"StringEqualsIfExists": {"aws:SourceVpc": "vpc-1"}}, True),                    # ... and IfExists: true
    ({"Null": {"aws:SourceVpc": "true"}}, True),
    ({"StringEquals": {"aws:RequestedRegion": "us-east-1"}, "Bool": {"aws:SecureTransport": "true"}}, False),
])
def test_conditions(condition: dict[str, Any], allowed: bool) -> None:
    context = {"aws:RequestedRegion": "us-east-1", "aws:PrincipalArn": "arn:aws:iam::1:role/pipemu-f",
               "aws:SecureTransport": "false"}
    statements = [allow("s3:PutObject", "*", Condition=condition)]
    assert evaluate(statements, "s3:PutObject", f"{BUCKET}/k", context).allowed is allowed


def test_a_failed_condition_on_a_deny_does_not_deny() -> None:
    statements = [allow("s3:*", "*"), deny("s3:*", "*", Condition={"Bool": {"aws:SecureTransport": "false"}})]
    assert evaluate(statements, "s3:PutObject", "x", {"aws:SecureTransport": "true"}).allowed


def test_wildcards_stay_inside_an_arn_segment() -> None:
    assert not resource_matches("arn:aws:kinesis:*:stream/clicks", STREAM)
    assert resource_matches("arn:aws:s3:::out*", f"{BUCKET}/any/key")


def test_denial_messages_are_aws_s() -> None:
    who = "arn:aws:sts::1:assumed-role/r/f"
    assert denial_message(who, "s3:PutObject", "arn:aws:s3:::b/k", "implicit_deny") == (
        "User: arn:aws:sts::1:assumed-role/r/f is not authorized to perform: s3:PutObject on resource: "
        "arn:aws:s3:::b/k because no identity-based policy allows the s3:PutObject action")
    assert denial_message(who, "s3:PutObject", "arn:aws:s3:::b/k", "explicit_deny").endswith(
        "with an explicit deny in an identity-based policy")


def _call(action: str, resource: str) -> CallRecord:
    return CallRecord(0.0, "f", action, resource, "allowed")


def test_least_privilege_groups_actions_and_generalises_object_keys() -> None:
    calls = [_call("s3:PutObject", f"{BUCKET}/clicks/s1/1.jsonl"), _call("s3:PutObject", f"{BUCKET}/clicks/s2/2"),
             _call("kinesis:GetRecords", STREAM), _call("kinesis:DescribeStream", STREAM),
             _call("states:DescribeExecution", "arn:aws:states:us-east-1:1:execution:sm:run-1")]
    assert least_privilege(calls) == [
        {"Effect": "Allow", "Action": ["kinesis:DescribeStream", "kinesis:GetRecords"], "Resource": STREAM},
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"{BUCKET}/clicks/*"},
        {"Effect": "Allow", "Action": "states:DescribeExecution",
         "Resource": "arn:aws:states:us-east-1:1:execution:sm:*"},
    ]


def test_the_difference_from_the_declared_policy() -> None:
    declared = [allow(["s3:PutObject", "s3:GetObject"], f"{BUCKET}/*")]
    calls = [_call("s3:PutObject", f"{BUCKET}/k"), _call("sqs:SendMessage", "arn:aws:sqs:us-east-1:1:q")]
    assert unused_grants(declared, calls) == [f"s3:GetObject on {BUCKET}/*"]
    assert missing_grants(declared, calls) == ["sqs:SendMessage on arn:aws:sqs:us-east-1:1:q"]


def test_generated_statements_use_the_pipeline_s_references() -> None:
    statements = [allow("s3:PutObject", f"{BUCKET}/clicks/*"), allow("kinesis:GetRecords", [STREAM, "*"])]
    refs = {BUCKET: "${bucket:out}", STREAM: "${stream:clicks}"}
    assert to_references(statements, refs) == [allow("s3:PutObject", "${bucket:out}/clicks/*"),
                                                allow("kinesis:GetRecords", ["${stream:clicks}", "*"])]


def _pipeline(tmp_path: Path, policies: Any) -> Path:
    (tmp_path / "h").mkdir(exist_ok=True)
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump({"pipeline": "p", "buckets": ["out"],
                                    "functions": {"f": {"code": "h", "handler": "a.b", "policies": policies}}}))
    return path


@pytest.mark.parametrize("policies, message", [
    ([{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "${bucket:nope}/*"}], "unknown bucket 'nope'"),
    ([{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "${vpc:x}"}], "unknown reference kind 'vpc'"),
    ([{"Effect": "Maybe", "Action": "s3:PutObject", "Resource": "*"}], "should be 'Allow' or 'Deny'"),
    ([{"Effect": "Allow", "Action": "PutObject", "Resource": "*"}], "'PutObject' is not an IAM action"),
    ([{"Effect": "Allow", "Action": "s3:PutObject"}], "exactly one of Resource and NotResource"),
    ([{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*",
       "Condition": {"DateLessThan": {"aws:CurrentTime": "2030-01-01"}}}], "'DateLessThan' is not evaluated"),
])
def test_bad_statements_name_file_line_and_key(tmp_path: Path, policies: Any, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_pipeline(_pipeline(tmp_path, policies))
    assert message in info.value.message and info.value.line is not None
    assert info.value.key is not None and info.value.key.startswith("functions.f.policies")


def test_a_policy_file_is_checked_with_its_own_lines(tmp_path: Path) -> None:
    (tmp_path / "policy.json").write_text(
        '{"Version": "2012-10-17", "Statement": [\n  {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},\n'
        '  {"Effect": "Allow", "Action": "bad", "Resource": "*"}\n]}\n')
    with pytest.raises(ConfigError) as info:
        load_pipeline(_pipeline(tmp_path, "policy.json"))
    assert info.value.file is not None and info.value.file.endswith("policy.json") and info.value.line == 3
    (tmp_path / "list.yaml").write_text("# ok\n- Effect: Allow\n  Action: s3:GetObject\n  Resource: '${bucket:out}'\n")
    spec = load_pipeline(_pipeline(tmp_path, "list.yaml"))
    assert spec.functions["f"].policies is not None and spec.functions["f"].policies[0].action == ["s3:GetObject"]
