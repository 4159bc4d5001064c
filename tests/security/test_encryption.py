"""Encryption at rest declared in the spec: checked with file/line errors, deployed through boto3."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from emulator.errors import ConfigError
from emulator.spec.pipeline import load_pipeline

PIPELINE: dict[str, Any] = {
    "pipeline": "enc",
    "streams": {"managed": {"encryption": "KMS"}, "custom": {"encryption": {"kms": "alias/pipemu-test"}},
                "plain": {}},
    "buckets": {"sse-s3": {"encryption": "AES256"}, "sse-kms": {"encryption": {"kms": "alias/pipemu-test"}}},
    "queues": {"sqs-managed": {"encryption": "SQS"}, "kms-managed": {"encryption": "KMS"}},
    "tables": {"managed": {"key": {"id": "S"}, "encryption": "KMS"},
               "custom": {"key": {"id": "S"}, "encryption": {"kms": "alias/pipemu-test"}},
               "owned": {"key": {"id": "S"}}},
}


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_encryption_is_deployed_on_every_kind_of_resource(pipemu: Any, tmp_path: Path) -> None:
    deployment = pipemu.deploy(_write(tmp_path, PIPELINE))
    kinesis, s3, sqs, kms = (pipemu.client(s) for s in ("kinesis", "s3", "sqs", "kms"))

    def stream(name: str) -> dict[str, Any]:
        summary: dict[str, Any] = kinesis.describe_stream_summary(
            StreamName=deployment.stream_names[name])["StreamDescriptionSummary"]
        return summary

    assert (stream("managed")["EncryptionType"], stream("managed")["KeyId"]) == ("KMS", "alias/aws/kinesis")
    assert (stream("custom")["EncryptionType"], stream("custom")["KeyId"]) == ("KMS", "alias/pipemu-test")
    assert stream("plain").get("EncryptionType", "NONE") == "NONE"
    # the customer alias did not exist: deploy created a key behind it, once for both resources naming it
    key_arn = kms.describe_key(KeyId="alias/pipemu-test")["KeyMetadata"]["Arn"]
    assert deployment.keys == {"alias/pipemu-test": key_arn}

    def rule(bucket: str) -> dict[str, Any]:
        config = s3.get_bucket_encryption(Bucket=deployment.buckets[bucket])["ServerSideEncryptionConfiguration"]
        default: dict[str, Any] = config["Rules"][0]["ApplyServerSideEncryptionByDefault"]
        return default

    assert rule("sse-s3") == {"SSEAlgorithm": "AES256"}
    assert rule("sse-kms") == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/pipemu-test"}

    def attributes(queue: str) -> dict[str, str]:
        found: dict[str, str] = sqs.get_queue_attributes(QueueUrl=deployment.queues[queue],
                                                          AttributeNames=["All"])["Attributes"]
        return found

    assert attributes("sqs-managed")["SqsManagedSseEnabled"] == "true"
    assert attributes("kms-managed")["KmsMasterKeyId"] == "alias/aws/sqs"

    dynamodb = pipemu.client("dynamodb")

    def sse(table: str) -> dict[str, Any]:
        found: dict[str, Any] = dynamodb.describe_table(TableName=deployment.tables[table])["Table"].get(
            "SSEDescription", {})
        return found

    assert (sse("managed")["Status"], sse("managed")["SSEType"]) == ("ENABLED", "KMS")
    assert sse("custom")["KMSMasterKeyArn"] == key_arn
    assert sse("owned") == {}  # DynamoDB's default: an AWS owned key, not described


@pytest.mark.parametrize("section, name, value, message", [
    ("streams", "s", "AES256", "a Kinesis stream cannot use AES256 encryption"),
    ("buckets", "b", "SQS", "a bucket cannot use SQS encryption"),
    ("queues", "q", "AES256", "a queue cannot use AES256 encryption"),
    ("queues", "q", "TLS", "unknown encryption 'TLS'"),
    ("tables", "t", "AES256", "a DynamoDB table cannot use AES256 encryption"),
    ("streams", "s", {"kms": "my-key"}, "'my-key' is not a KMS key id, ARN or alias"),
])
def test_bad_encryption_names_file_line_and_key(tmp_path: Path, section: str, name: str, value: Any,
                                                message: str) -> None:
    body: dict[str, Any] = {"encryption": value, **({"key": {"id": "S"}} if section == "tables" else {})}
    path = _write(tmp_path, {"pipeline": "p", section: {name: body}})
    with pytest.raises(ConfigError) as info:
        load_pipeline(path)
    error = info.value
    assert message in error.message and error.line == (5 if isinstance(value, dict) else 4)
    assert error.key is not None
    assert error.key.startswith(f"{section}.{name}.encryption")
