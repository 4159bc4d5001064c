"""Setting up and observing the AWS-recorded Kinesis ESM cases on the embedded backend.

Functions are the handlers in ``handlers/``; what they print is read back from the invocation logs the backend
keeps (AWS's tests read CloudWatch Logs). Every wait is on a condition with a timeout. ``check`` compares one
test's observations with its snapshot entry.
"""

from __future__ import annotations

import base64
import io
import json
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from normalize import Normalizer, assert_matches
from snapshots import recorded
from waiting import wait_for

HANDLERS = Path(__file__).resolve().parent / "handlers"

# Upstream skips these for the whole file (README §2).
SKIP = ["$..Records..eventID", "$..KinesisBatchInfo.shardId"]

HELLO = b"hello"


def check(name: str, observed: dict[str, Any], *, skip: tuple[str, ...] = (), norm: Normalizer | None = None) -> None:
    expected = recorded(name)
    assert sorted(observed) == sorted(expected), f"observation names differ from the snapshot's: {sorted(expected)}"
    assert_matches(expected, (norm or Normalizer())(observed), skip=[*SKIP, *skip], what=name)


def epoch_seconds_ok(event: dict[str, Any]) -> None:
    for record in event["Records"]:
        stamp = record["kinesis"]["approximateArrivalTimestamp"]
        assert isinstance(stamp, float | int) and len(str(int(stamp))) == 10, stamp


def short_uid() -> str:
    return uuid.uuid4().hex[:8]




def decoded(record: dict[str, Any]) -> Any:
    raw = base64.b64decode(record["kinesis"]["data"])
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode()


class Kit:
    """One test's resources. Names carry a random suffix, as in AWS's tests, so the normaliser can tell them."""

    def __init__(self, pipemu: Any) -> None:
        self.pipemu = pipemu
        self.backend = pipemu.backend
        self.lam = pipemu.client("lambda")
        self.kinesis = pipemu.client("kinesis")
        self.sqs = pipemu.client("sqs")
        self._role: str | None = None

    # -- resources -------------------------------------------------------------------------------------
    def role(self) -> str:
        if self._role is None:
            name = f"test-lambda-role-{short_uid()}"
            iam = self.pipemu.client("iam")
            self._role = str(iam.create_role(RoleName=name, AssumeRolePolicyDocument="{}")["Role"]["Arn"])
        return self._role

    def function(self, handler: str, *, env: dict[str, str] | None = None, timeout: int = 30) -> str:
        """Deploy ``handlers/<handler>.py``; returns the function name."""
        name = f"lambda_func-{short_uid()}"
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            z.writestr(f"{handler}.py", (HANDLERS / f"{handler}.py").read_text())
        self.lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=self.role(),
            Handler=f"{handler}.handler",
            Code={"ZipFile": buffer.getvalue()},
            Timeout=timeout,
            Environment={"Variables": env or {}},
        )
        return name

    def stream(self) -> tuple[str, str]:
        name = f"test-kinesis-{short_uid()}"
        self.kinesis.create_stream(StreamName=name, ShardCount=1)
        arn = self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
        return name, str(arn)

    def queue(self) -> tuple[str, str]:
        url = str(self.sqs.create_queue(QueueName=f"test-queue-{short_uid()}")["QueueUrl"])
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, str(arn)

    def topic_into_queue(self) -> tuple[str, str]:
        """An SNS topic with a (not raw) SQS subscription; returns (topic ARN, queue URL)."""
        sns = self.pipemu.client("sns")
        topic = str(sns.create_topic(Name=f"test-topic-{short_uid()}")["TopicArn"])
        url, arn = self.queue()
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
        return topic, url

    def bucket(self) -> str:
        name = f"test-bucket-{short_uid()}"
        self.pipemu.client("s3").create_bucket(Bucket=name)
        return name

    def mapping(self, **kwargs: Any) -> dict[str, Any]:
        response: dict[str, Any] = self.lam.create_event_source_mapping(**kwargs)
        self.backend.esm.wait_synced()
        return response

    def mapping_error(self, **kwargs: Any) -> dict[str, Any]:
        try:
            self.lam.create_event_source_mapping(**kwargs)
        except ClientError as exc:
            return dict(exc.response)
        raise AssertionError(f"create_event_source_mapping({kwargs}) succeeded; AWS refuses it")

    def put(self, stream: str, items: list[tuple[bytes | str, str]]) -> float:
        """One PutRecords of (data, partition key) pairs; returns the wall time right after it."""
        self.kinesis.put_records(
            StreamName=stream, Records=[{"Data": data, "PartitionKey": key} for data, key in items]
        )
        return time.time()

    # -- observations ----------------------------------------------------------------------------------
    def invocations(self, function: str) -> list[Any]:
        return [i for i in list(self.backend.invocations) if i.function == function]

    def logged(self, function: str) -> list[Any]:
        """Every JSON line the function printed, invocation by invocation (in completion order)."""
        out = []
        for invocation in self.invocations(function):
            for line in invocation.logs.splitlines():
                if line.startswith(("{", "[")):
                    try:
                        out.append(json.loads(line))
                    except ValueError:  # the runtime's own lines, e.g. "[ERROR] ZeroDivisionError: ..."
                        continue
        return out

    def log_lines(self, function: str) -> list[str]:
        return [line for i in self.invocations(function) for line in i.logs.splitlines()]

    def receive(self, queue_url: str, count: int = 1, timeout: float = 20.0) -> dict[str, Any]:
        """The first ReceiveMessage answer holding ``count`` messages (as AWS's tests record it)."""
        return dict(
            wait_for(
                f"{count} message(s) in {queue_url}",
                lambda: self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10),
                lambda r: len(r.get("Messages", [])) >= count,
                timeout,
            )
        )

    def queue_depth(self, queue_url: str) -> int:
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until every mapping has read past everything put so far and has nothing left to do."""
        since = time.monotonic()
        wait_for("the mappings to settle", lambda: self.backend.quiescent(since), bool, timeout)
        self.backend.check_alive()
