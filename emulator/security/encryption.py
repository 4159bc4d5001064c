"""Encryption at rest as the spec declares it, applied through boto3 so every backend gets the same calls.

- Streams: ``StartStreamEncryption`` once ACTIVE (https://docs.aws.amazon.com/kinesis/latest/APIReference/API_StartStreamEncryption.html).
- Buckets: ``PutBucketEncryption`` default rule (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketEncryption.html).
- Queues: ``SqsManagedSseEnabled`` or ``KmsMasterKeyId`` at CreateQueue
  (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html).

``KMS`` without a key means the service's AWS managed key (``alias/aws/kinesis``, ``alias/aws/s3``,
``alias/aws/sqs``). A customer alias (``alias/NAME``) that does not exist yet is created with a new symmetric key,
since an emulator starts empty.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from emulator.spec.security import Encryption

Client = Callable[[str], Any]


class Keys:
    """Resolves the spec's key references to key ids, creating missing customer aliases once per deploy."""

    def __init__(self, client: Client, description: str) -> None:
        self._client = client
        self._description = description
        self.arns: dict[str, str] = {}  # alias or id as written -> key ARN

    def key_id(self, encryption: Encryption, service: str) -> str:
        key = encryption.kms or f"alias/aws/{service}"
        if key.startswith("alias/aws/"):
            return key  # AWS managed: exists in every account and region on first use
        if key not in self.arns:
            self.arns[key] = self._customer_key(key)
        return key

    def _customer_key(self, key: str) -> str:
        kms = self._client("kms")
        try:
            return str(kms.describe_key(KeyId=key)["KeyMetadata"]["Arn"])
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "NotFoundException" or not key.startswith("alias/"):
                raise
        created = kms.create_key(Description=self._description)["KeyMetadata"]
        kms.create_alias(AliasName=key, TargetKeyId=created["KeyId"])
        return str(created["Arn"])


def queue_attributes(encryption: Encryption | None, keys: Keys) -> dict[str, str]:
    if encryption is None:
        return {}
    if encryption.kind == "SQS":
        return {"SqsManagedSseEnabled": "true"}
    return {"KmsMasterKeyId": keys.key_id(encryption, "sqs")}


def encrypt_bucket(s3: Any, bucket: str, encryption: Encryption | None, keys: Keys) -> None:
    if encryption is None:
        return
    rule: dict[str, str] = {"SSEAlgorithm": "AES256"}
    if encryption.kind == "KMS":
        rule = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": keys.key_id(encryption, "s3")}
    s3.put_bucket_encryption(
        Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": rule}]}
    )


def table_sse(encryption: Encryption | None, keys: Keys) -> dict[str, Any]:
    """CreateTable's SSESpecification: KMS with the AWS managed key (alias/aws/dynamodb) or a customer key
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_SSESpecification.html). Without it
    DynamoDB still encrypts the table, with an AWS owned key."""
    if encryption is None:
        return {}
    sse: dict[str, Any] = {"Enabled": True, "SSEType": "KMS"}
    if encryption.kms is not None:
        key = keys.key_id(encryption, "dynamodb")
        sse["KMSMasterKeyId"] = keys.arns.get(key, key)  # the key's ARN, as DescribeTable reports it
    return {"SSESpecification": sse}


def encrypt_stream(kinesis: Any, stream: str, encryption: Encryption | None, keys: Keys) -> bool:
    """Start server-side encryption; True when the stream now goes UPDATING (wait for ACTIVE again)."""
    if encryption is None:
        return False
    kinesis.start_stream_encryption(StreamName=stream, EncryptionType="KMS",
                                    KeyId=keys.key_id(encryption, "kinesis"))
    return True
