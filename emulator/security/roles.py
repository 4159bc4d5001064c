"""Execution roles: one per function that declares ``policies``, its statements (``${kind:name}`` resolved to ARNs)
as the role's inline policy, created through boto3 so every backend (AWS included) gets the same role.

Also the permissions AWS checks when an event source mapping is created: the execution role must be able to read
the source and write to the on-failure destination, or CreateEventSourceMapping fails
(https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html#events-kinesis-permissions,
https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html#events-sqs-permissions). pipemu checks them before the
call when ``iam: enforce`` (the embedded backend's moto does not).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from emulator.errors import ConfigError
from emulator.security.policy import evaluate
from emulator.spec.security import POLICY_REFERENCE

if TYPE_CHECKING:
    from emulator.deploy import Deployment
    from emulator.spec.mapping import MappingSpec
    from emulator.spec.pipeline import PipelineSpec

POLICY_NAME = "pipemu-policy"
IAM_TAG = "pipemu:iam"  # the function's iam mode, read by the embedded backend's iam_authorize seam
TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
# What CreateEventSourceMapping needs of the execution role, per source kind, and AWS's refusal.
SOURCE_ACTIONS = {
    "stream": ("kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStream", "kinesis:ListShards"),
    "table": ("dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:DescribeStream", "dynamodb:ListStreams"),
    "queue": ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"),
}
DESTINATION_ACTION = {"queue": ("sqs:SendMessage", "SQS"), "topic": ("sns:Publish", "SNS"),
                      "bucket": ("s3:PutObject", "S3")}


class Arns:
    """ARNs for ``${kind:name}``: deployed resources, and functions and state machines by their future names."""

    def __init__(self, out: Deployment, account: str, region: str) -> None:
        self._out, self._account, self._region = out, account, region

    def __call__(self, kind: str, name: str) -> str:
        out, prefix = self._out, self._out.prefix
        if kind == "function":
            return f"arn:aws:lambda:{self._region}:{self._account}:function:{prefix}{name}"
        if kind == "state_machine":
            return f"arn:aws:states:{self._region}:{self._account}:stateMachine:{prefix}{name}"
        if kind == "bucket":
            return f"arn:aws:s3:::{out.buckets[name]}"
        if kind == "table":
            return out.table_arns[name]
        return out.arn_of(f"{kind}/{name}")


def resolve(statements: list[dict[str, Any]], arns: Callable[[str, str], str]) -> list[dict[str, Any]]:
    def fill(text: str) -> str:
        return POLICY_REFERENCE.sub(lambda m: arns(m["kind"], m["name"]), text)

    out = []
    for statement in statements:
        resolved = dict(statement)
        for key in ("Resource", "NotResource"):
            if key in resolved:
                resolved[key] = [fill(r) for r in resolved[key]]
        out.append(resolved)
    return out


def role_name(prefix: str, function: str) -> str:
    """IAM role names are at most 64 characters: a long one keeps a hash of the whole."""
    name = f"{prefix}pipemu-{function}"
    return name if len(name) <= 64 else f"{name[:55]}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def create_role(iam: Any, name: str, statements: list[dict[str, Any]]) -> str:
    """The role with these statements as its one inline policy (replaced when the role exists)."""
    try:
        arn = str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"])
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "EntityAlreadyExists":
            raise
        arn = str(iam.get_role(RoleName=name)["Role"]["Arn"])
    if not statements:  # `policies: []`: a role allowed nothing (IAM refuses a policy without statements)
        try:
            iam.delete_role_policy(RoleName=name, PolicyName=POLICY_NAME)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "NoSuchEntity":
                raise
        return arn
    document = {"Version": "2012-10-17", "Statement": statements}
    iam.put_role_policy(RoleName=name, PolicyName=POLICY_NAME, PolicyDocument=json.dumps(document))
    return arn


def check_mapping_permissions(spec: PipelineSpec, index: int, mapping: MappingSpec, statements: list[dict[str, Any]],
                              source_arn: str, destination_arn: str | None) -> None:
    """Refuse the mapping as CreateEventSourceMapping does when the role cannot read its source or write to its
    on-failure destination (ConfigError naming the mapping, with AWS's message)."""
    kind = mapping.source_kind
    missing = [a for a in SOURCE_ACTIONS[kind] if not evaluate(statements, a, source_arn).allowed]
    if missing and kind == "queue":
        message = (f"The provided execution role does not have permissions to call {missing[0].split(':')[1]} "
                   "on SQS")
    elif missing:
        message = (f"Cannot access stream {source_arn}. Please ensure the role can perform the GetRecords, "
                   "GetShardIterator, DescribeStream, and ListStreams Actions on your stream in IAM.")
    elif mapping.on_failure is not None and destination_arn is not None:
        action, service = DESTINATION_ACTION[mapping.on_failure.split("/", 1)[0]]
        resource = f"{destination_arn}/*" if service == "S3" else destination_arn
        if evaluate(statements, action, resource).allowed:
            return
        missing = [action]
        message = f"The provided execution role does not have permissions to call {action.split(':')[1]} on {service}"
    else:
        return
    raise ConfigError(
        f"InvalidParameterValueException: {message}", file=spec.source_path, key=f"mappings[{index}]",
        hint=f"function '{mapping.function}' policies lack {', '.join(missing)} "
        f"on {destination_arn if missing[0].startswith(('sqs:Send', 'sns:', 's3:')) else source_arn}",
    )
