"""The API meter: requests classified as AWS bills them, and the harness's own reads left out."""

from __future__ import annotations

from emulator.backends.base import driven
from emulator.observe.api_meter import ApiMeter
from emulator.observe.outputs import QueueWatcher


def environ(service: str, **extra: str) -> dict[str, str]:
    auth = f"AWS4-HMAC-SHA256 Credential=AKID/20261203/us-east-1/{service}/aws4_request, SignedHeaders=host"
    return {"HTTP_AUTHORIZATION": auth, **extra}


def test_requests_are_counted_by_service_operation_and_64k_chunk() -> None:
    meter = ApiMeter()
    meter.record(environ("sqs", HTTP_X_AMZ_TARGET="AmazonSQS.SendMessage"), None, 100, 50)  # not started
    meter.start()

    meter.record(environ("sqs", HTTP_X_AMZ_TARGET="AmazonSQS.SendMessageBatch"), None, 200_000, 300)
    meter.record(environ("s3", REQUEST_METHOD="PUT", PATH_INFO="/bucket/key"), None, 2048, 0)
    meter.record(environ("s3", REQUEST_METHOD="GET", PATH_INFO="/bucket", QUERY_STRING="list-type=2"), None, 0, 900)
    meter.record(environ("s3", REQUEST_METHOD="GET", PATH_INFO="/bucket/key"), None, 0, 900)
    meter.record(environ("sns", REQUEST_METHOD="POST"), b"Action=Publish&TopicArn=x", 30, 10)
    meter.record(environ("sqs", HTTP_X_PIPEMU_OBSERVER="1", HTTP_X_AMZ_TARGET="AmazonSQS.ReceiveMessage"), None, 1, 1)
    counts = meter.stop()

    assert set(counts) == {("sqs", "SendMessageBatch"), ("s3", "PUT"), ("s3", "LIST"), ("s3", "GET"),
                           ("sns", "Publish")}
    assert counts[("sqs", "SendMessageBatch")].chunks_64k == 4  # 200,000 bytes = 4 chunks of 64 KB
    assert counts[("s3", "PUT")].kib_in == 2 and counts[("s3", "PUT")].bytes_in == 2048
    meter.record(environ("sns", REQUEST_METHOD="POST"), b"Action=Publish", 30, 10)
    assert meter.stop() == {}  # stopped: nothing more is counted


def test_the_pipelines_requests_count_and_the_harness_watcher_does_not(pipemu) -> None:
    backend = driven(pipemu.backend)  # the session's embedded backend (one per process)
    assert backend is not None and backend.meter is not None
    sqs = backend.client("sqs")
    url = sqs.create_queue(QueueName="metered")["QueueUrl"]
    backend.meter.start()

    sqs.send_message(QueueUrl=url, MessageBody="x" * 70_000)  # two 64 KB chunks
    watcher = QueueWatcher(sqs, url)
    seen = watcher.drain()
    sqs.send_message(QueueUrl=url, MessageBody="y")
    counts = backend.meter.stop()

    assert len(seen) == 1
    assert counts[("sqs", "SendMessage")].requests == 2
    assert counts[("sqs", "SendMessage")].chunks_64k == 3
    assert ("sqs", "ReceiveMessage") not in counts  # the watcher's polls are the harness's, not the pipeline's
