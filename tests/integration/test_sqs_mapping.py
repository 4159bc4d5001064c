"""The SQS poller on the embedded backend, reproducing the AWS-recorded groups of shared/conformance §3:
defaults, batch size and window, retries after the visibility timeout, redrive to a DLQ, partial batch
responses, filtering, FIFO order. Visibility timeouts run on the backend's clock at time scale 10; every wait
is on a condition with a timeout."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from test_embedded_backend import create_function
from test_kinesis_poller import wait_for

SCALE = 10.0
RBIF = "ReportBatchItemFailures"

HANDLER = (
    "import json, os, time, uuid, boto3\n"
    "s3 = boto3.client('s3')\n"
    "def failing(r):\n"
    "    body = json.loads(r['body'])\n"
    "    return body.get('fail_attempts', 0) >= int(r['attributes']['ApproximateReceiveCount'])\n"
    "def handler(event, context):\n"
    "    t0 = time.time()\n"
    "    mode = os.environ.get('MODE', 'echo')\n"
    "    records = event['Records']\n"
    "    result, error = None, None\n"
    "    if mode == 'bif':\n"
    "        result = {'batchItemFailures': [{'itemIdentifier': r['messageId']} for r in records if failing(r)]}\n"
    "        if 'OVERWRITE_RESULT' in os.environ:\n"
    "            result = json.loads(os.environ['OVERWRITE_RESULT'])\n"
    "    elif mode == 'raise':\n"
    "        try:\n"
    "            if any(failing(r) for r in records):\n"
    "                error = 'failed attempt'\n"
    "        except ValueError as exc:\n"
    "            error = str(exc)\n"
    "    s3.put_object(Bucket='calls', Key=f'{t0:.6f}-{uuid.uuid4()}', Body=json.dumps(\n"
    "        {'t0': t0, 't1': time.time(), 'records': records, 'result': result, 'error': error}))\n"
    "    if error:\n"
    "        raise ValueError(error)\n"
    "    return result\n"
)


@pytest.fixture
def scaled(pipemu) -> Iterator[Any]:
    clock = pipemu.backend.clock
    before = clock.scale
    clock.set_scale(SCALE)
    try:
        yield pipemu
    finally:
        clock.set_scale(before)


def calls(pipemu) -> list[dict[str, Any]]:
    s3 = pipemu.client("s3")
    out = [
        json.loads(s3.get_object(Bucket="calls", Key=item["Key"])["Body"].read())
        for item in s3.list_objects_v2(Bucket="calls").get("Contents", [])
    ]
    return sorted(out, key=lambda c: c["t0"])


def setup(pipemu, mode: str = "echo", queue: str = "src", **queue_attributes: Any) -> tuple[str, str]:
    """The recording function and a source queue; returns (queue url, queue arn)."""
    pipemu.client("s3").create_bucket(Bucket="calls")
    env = {k: v for k, v in queue_attributes.pop("env", {}).items()}
    create_function(pipemu, "fn", HANDLER, Environment={"Variables": {"MODE": mode, **env}})
    return make_queue(pipemu, queue, **queue_attributes)


def make_queue(pipemu, name: str, *, dlq_arn: str | None = None, max_receives: int = 2, **attrs: Any):
    sqs = pipemu.client("sqs")
    attributes = {k: str(v) for k, v in attrs.items()}
    if name.endswith(".fifo"):
        attributes["FifoQueue"] = "true"
    if dlq_arn is not None:
        attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receives})
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return str(url), str(arn)


def mapping(pipemu, arn: str, **kwargs: Any) -> dict[str, Any]:
    response = pipemu.client("lambda").create_event_source_mapping(EventSourceArn=arn, FunctionName="fn", **kwargs)
    pipemu.backend.esm.wait_synced()
    return dict(response)


def settle(pipemu, timeout: float = 20.0) -> None:
    """Wait until every mapping has nothing left to do (no batch, no held message, queue drained)."""
    since = time.monotonic()
    pipemu.backend.esm.wake()
    wait_for("quiescence", lambda: pipemu.backend.quiescent(since), bool, timeout)


def send(pipemu, url: str, body: Any, **kwargs: Any) -> dict[str, Any]:
    text = body if isinstance(body, str) else json.dumps(body)
    return dict(pipemu.client("sqs").send_message(QueueUrl=url, MessageBody=text, **kwargs))


def drain(pipemu, url: str) -> list[dict[str, Any]]:
    response = pipemu.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])
    return list(response.get("Messages", []))


def depth(pipemu, url: str) -> int:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = pipemu.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return sum(int(attributes[n]) for n in names)


def stats(pipemu) -> dict[str, int]:
    [only] = pipemu.backend.esm.stats().values()
    return only.as_dict()


def test_default_batch_size_create_response_and_one_delivery(pipemu) -> None:
    url, arn = setup(pipemu)
    response = mapping(pipemu, arn)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert {k: response[k] for k in ("BatchSize", "MaximumBatchingWindowInSeconds", "FunctionResponseTypes")} == {
        "BatchSize": 10,
        "MaximumBatchingWindowInSeconds": 0,
        "FunctionResponseTypes": [],
    }
    assert (response["State"], response["StateTransitionReason"]) == ("Creating", "USER_INITIATED")
    sent = send(pipemu, url, {"foo": "bar"})
    settle(pipemu)
    [call] = calls(pipemu)
    [record] = call["records"]
    assert list(record) == [
        "messageId",
        "receiptHandle",
        "body",
        "attributes",
        "messageAttributes",
        "md5OfMessageAttributes",
        "md5OfBody",
        "eventSource",
        "eventSourceARN",
        "awsRegion",
    ]
    assert record["messageId"] == sent["MessageId"] and record["md5OfBody"] == sent["MD5OfMessageBody"]
    assert record["body"] == '{"foo": "bar"}'
    assert list(record["attributes"]) == [
        "ApproximateReceiveCount",
        "SentTimestamp",
        "SenderId",
        "ApproximateFirstReceiveTimestamp",
    ]
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert (record["messageAttributes"], record["md5OfMessageAttributes"]) == ({}, None)
    assert (record["eventSource"], record["eventSourceARN"], record["awsRegion"]) == ("aws:sqs", arn, "us-east-1")
    assert depth(pipemu, url) == 0


def test_message_attributes_are_passed_in_lambda_form(pipemu) -> None:
    url, arn = setup(pipemu)
    mapping(pipemu, arn, BatchSize=1)
    send(
        pipemu,
        url,
        {"fail_attempts": 0},
        MessageAttributes={
            "Title": {"DataType": "String", "StringValue": "The Whistler"},
            "Author": {"DataType": "String", "StringValue": "John Grisham"},
            "WeeksOn": {"DataType": "Number", "StringValue": "6"},
        },
    )
    [call] = wait_for("1 call", lambda: calls(pipemu), lambda c: len(c) == 1)
    [record] = call["records"]
    assert record["messageAttributes"]["WeeksOn"] == {
        "stringValue": "6",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "Number",
    }
    assert record["messageAttributes"]["Title"]["stringValue"] == "The Whistler"
    assert record["md5OfMessageAttributes"] == "d25a6aea97eb8f585bfa92d314504a92"


@pytest.mark.parametrize("batch_size", [15, 100])
def test_batch_size_with_window_delivers_every_message_once(scaled, batch_size: int) -> None:
    url, arn = setup(scaled)
    mapping(scaled, arn, BatchSize=batch_size, MaximumBatchingWindowInSeconds=10)
    sqs = scaled.client("sqs")
    for b, n in ((0, 10), (1, 5)):
        entries = [{"Id": str(i), "MessageBody": f"{i}-{b}-message-{i}"} for i in range(n)]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    settle(scaled)
    records = sorted((r for c in calls(scaled) for r in c["records"]), key=lambda r: r["body"])
    assert [r["body"] for r in records] == sorted([f"{i}-0-message-{i}" for i in range(10)] + [
        f"{i}-1-message-{i}" for i in range(5)
    ])
    assert {r["attributes"]["ApproximateReceiveCount"] for r in records} == {"1"}
    assert depth(scaled, url) == 0


def test_maximum_concurrency_two_takes_thirty_queued_messages_in_two_batches(scaled) -> None:
    # conformance test_sqs_event_source_mapping_batching_reserved_concurrency: BS 20, W 1, max concurrency 2
    url, arn = setup(scaled)
    scaled.client("lambda").put_function_concurrency(FunctionName="fn", ReservedConcurrentExecutions=2)
    sqs = scaled.client("sqs")
    for b in range(3):
        entries = [{"Id": str(i), "MessageBody": f"{i}-{b}-message"} for i in range(10)]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    mapping(scaled, arn, BatchSize=20, MaximumBatchingWindowInSeconds=1, ScalingConfig={"MaximumConcurrency": 2})
    settle(scaled)
    got = calls(scaled)
    assert len(got) == 2
    records = [r for c in got for r in c["records"]]
    assert sorted(r["body"] for r in records) == sorted(f"{i}-{b}-message" for i in range(10) for b in range(3))
    assert {r["attributes"]["ApproximateReceiveCount"] for r in records} == {"1"}


def test_failing_function_is_retried_after_the_visibility_timeout(scaled) -> None:
    url, arn = setup(scaled, mode="raise", VisibilityTimeout=5)
    mapping(scaled, arn, BatchSize=1)
    send(scaled, url, {"fail_attempts": 1})
    settle(scaled)
    first, second = calls(scaled)
    [r1], [r2] = first["records"], second["records"]
    assert (r1["attributes"]["ApproximateReceiveCount"], first["error"]) == ("1", "failed attempt")
    assert (r2["attributes"]["ApproximateReceiveCount"], second["error"]) == ("2", None)
    assert r1["messageId"] == r2["messageId"] and r1["receiptHandle"] != r2["receiptHandle"]
    received = int(r1["attributes"]["ApproximateFirstReceiveTimestamp"]) / 1000
    emulated_gap = (second["t0"] - received) * SCALE
    assert 4.5 < emulated_gap < 40.0  # 5 s after the receive on the emulated clock (moto alone: 5 s wall = 50)
    assert depth(scaled, url) == 0


def test_redrive_policy_moves_the_message_to_the_dlq_unchanged(scaled) -> None:
    dlq_url, dlq_arn = make_queue(scaled, "dlq")
    url, arn = setup(scaled, mode="raise", VisibilityTimeout=5, dlq_arn=dlq_arn, max_receives=2)
    mapping(scaled, arn, BatchSize=1)
    sent = send(scaled, url, {"fail_attempts": 2})
    settle(scaled)
    # quiescence implies the redrive is done: the DLQ is read without waiting
    [dead] = drain(scaled, dlq_url)
    assert (dead["MessageId"], dead["MD5OfBody"]) == (sent["MessageId"], sent["MD5OfMessageBody"])
    assert json.loads(dead["Body"]) == {"fail_attempts": 2}
    counts = [c["records"][0]["attributes"]["ApproximateReceiveCount"] for c in calls(scaled)]
    assert counts == ["1", "2"]
    assert stats(scaled)["records_dead_lettered"] == 1
    assert depth(scaled, url) == 0


def test_partial_batch_failure_on_a_fifo_queue_redrives_only_the_failed_message(scaled) -> None:
    dlq_url, dlq_arn = make_queue(scaled, "dlq.fifo")
    url, arn = setup(scaled, mode="bif", queue="src.fifo", VisibilityTimeout=8, dlq_arn=dlq_arn, max_receives=2)
    entries = [
        {
            "Id": f"message-{i}",
            "MessageBody": json.dumps({"message": i, "fail_attempts": attempts}),
            "MessageGroupId": "1",
            "MessageDeduplicationId": f"dedup-{i}",
        }
        for i, attempts in ((1, 0), (2, 1), (3, 1), (4, 2))
    ]
    sent = scaled.client("sqs").send_message_batch(QueueUrl=url, Entries=entries)["Successful"]
    ids = {s["Id"]: s["MessageId"] for s in sent}
    mapping(scaled, arn, BatchSize=10, FunctionResponseTypes=[RBIF])
    settle(scaled)
    first, second = calls(scaled)
    assert [json.loads(r["body"])["message"] for r in first["records"]] == [1, 2, 3, 4]
    assert {r["attributes"]["ApproximateReceiveCount"] for r in first["records"]} == {"1"}
    assert first["result"] == {"batchItemFailures": [{"itemIdentifier": ids[f"message-{i}"]} for i in (2, 3, 4)]}
    assert [json.loads(r["body"])["message"] for r in second["records"]] == [2, 3, 4]
    assert {r["attributes"]["ApproximateReceiveCount"] for r in second["records"]} == {"2"}
    assert second["result"] == {"batchItemFailures": [{"itemIdentifier": ids["message-4"]}]}
    attributes = first["records"][0]["attributes"]
    assert (attributes["MessageGroupId"], attributes["MessageDeduplicationId"]) == ("1", "dedup-1")
    assert attributes["SequenceNumber"] == sent[0]["SequenceNumber"]
    [dead] = drain(scaled, dlq_url)
    assert dead["MessageId"] == ids["message-4"]
    assert json.loads(dead["Body"]) == {"message": 4, "fail_attempts": 2}


def test_partial_batch_failure_on_a_standard_queue_deletes_the_successes(scaled) -> None:
    dlq_url, dlq_arn = make_queue(scaled, "dlq")
    url, arn = setup(scaled, mode="bif", VisibilityTimeout=2, dlq_arn=dlq_arn, max_receives=2)
    for i, attempts in enumerate((0, 5, 0)):
        send(scaled, url, {"message": i, "fail_attempts": attempts})
    mapping(scaled, arn, FunctionResponseTypes=[RBIF])
    settle(scaled)
    delivered = [json.loads(r["body"])["message"] for c in calls(scaled) for r in c["records"]]
    assert sorted(delivered) == [0, 1, 1, 2]
    assert [json.loads(m["Body"])["message"] for m in drain(scaled, dlq_url)] == [1]
    assert depth(scaled, url) == 0


def test_report_batch_item_failures_on_lambda_error_sends_the_whole_batch_to_the_dlq(scaled) -> None:
    dlq_url, dlq_arn = make_queue(scaled, "dlq")
    url, arn = setup(scaled, mode="raise", VisibilityTimeout=2, dlq_arn=dlq_arn, max_receives=2)
    send(scaled, url, "{not a json body")
    send(scaled, url, {"message": 2, "fail_attempts": 0})
    mapping(scaled, arn, FunctionResponseTypes=[RBIF])
    settle(scaled)
    dead = sorted(drain(scaled, dlq_url), key=lambda m: m["MD5OfBody"])
    expected = sorted(["{not a json body", json.dumps({"message": 2, "fail_attempts": 0})])
    assert sorted(m["Body"] for m in dead) == expected
    assert all(c["error"] for c in calls(scaled))


def test_invalid_partial_response_fails_the_batch(scaled) -> None:
    dlq_url, dlq_arn = make_queue(scaled, "dlq")
    invalid = {"OVERWRITE_RESULT": json.dumps({"batchItemFailures": [{"foo": "notvalid"}]})}
    url, arn = setup(scaled, mode="bif", VisibilityTimeout=4, dlq_arn=dlq_arn, max_receives=2, env=invalid)
    sent = send(scaled, url, {"message": 1, "fail_attempts": 0})
    mapping(scaled, arn, BatchSize=10, MaximumBatchingWindowInSeconds=0, FunctionResponseTypes=[RBIF])
    settle(scaled)
    counts = [r["attributes"]["ApproximateReceiveCount"] for c in calls(scaled) for r in c["records"]]
    assert counts == ["1", "2"]
    assert [m["MessageId"] for m in drain(scaled, dlq_url)] == [sent["MessageId"]]


def test_empty_json_response_succeeds(scaled) -> None:
    dlq_url, dlq_arn = make_queue(scaled, "dlq")
    url, arn = setup(
        scaled, mode="bif", VisibilityTimeout=4, dlq_arn=dlq_arn, max_receives=1, env={"OVERWRITE_RESULT": "{}"}
    )
    send(scaled, url, {"message": 1, "fail_attempts": 0})
    mapping(scaled, arn, BatchSize=10, FunctionResponseTypes=[RBIF])
    settle(scaled)
    assert len(calls(scaled)) == 1
    assert drain(scaled, dlq_url) == []
    assert depth(scaled, url) == 0


FILTERS = {
    "single": ({"body": {"my-key": ["my-value"]}}, {"my-key": "my-value"}, {"my-key": "other-value"}),
    "or": ({"body": ["my-value-one", "my-value-two"]}, "my-value-two", "other-value"),
    "and": (
        {"body": {"my-key-one": ["other-filter", "my-value-one"], "my-key-two": ["my-value-two"]}},
        {"my-key-one": "my-value-one", "my-key-two": "my-value-two"},
        {"my-key-one": "other-value-", "my-key-two": "my-value-two"},
    ),
    "exists": ({"body": {"my-key": [{"exists": True}]}}, {"my-key": "any"}, {"other-key": "any"}),
    "numeric-bigger": ({"body": {"my-number": [{"numeric": [">", 100]}]}}, {"my-number": 101}, {"my-number": 100}),
    "numeric-smaller": ({"body": {"my-number": [{"numeric": ["<", 100]}]}}, {"my-number": 99}, {"my-number": 100}),
    "numeric-range": (
        {"body": {"my-number": [{"numeric": [">=", 100, "<", 200]}]}},
        {"my-number": 100},
        {"my-number": 200},
    ),
    "prefix": ({"body": {"my-key": [{"prefix": "yes"}]}}, {"my-key": "yes-value"}, {"my-key": "no-value"}),
    "valid-json-filter": ({"body": {"my-key": ["my-value"]}}, {"my-key": "my-value"}, "plain-string"),
}


@pytest.mark.parametrize("case", list(FILTERS))
def test_filter_delivers_the_match_once_and_deletes_the_rest(scaled, case: str) -> None:
    pattern, match, other = FILTERS[case]
    url, arn = setup(scaled)
    send(scaled, url, match)
    send(scaled, url, other)
    criteria = {"Filters": [{"Pattern": json.dumps(pattern)}]}
    mapping(scaled, arn, MaximumBatchingWindowInSeconds=1, FilterCriteria=criteria)
    settle(scaled)
    [call] = calls(scaled)
    [record] = call["records"]
    assert record["body"] == (match if isinstance(match, str) else json.dumps(match))
    assert depth(scaled, url) == 0
    assert stats(scaled)["records_filtered"] == 1


def test_fifo_group_is_processed_in_order_one_batch_at_a_time(pipemu) -> None:
    url, arn = setup(pipemu, queue="src.fifo", VisibilityTimeout=60, ContentBasedDeduplication="true")
    lam = pipemu.client("lambda")
    created = mapping(pipemu, arn, BatchSize=1, Enabled=False)
    assert (created["State"], created["ResponseMetadata"]["HTTPStatusCode"]) == ("Disabled", 202)
    for i in range(5):
        send(pipemu, url, f"message-{i}", MessageGroupId="1")
    enabled = lam.update_event_source_mapping(UUID=created["UUID"], Enabled=True)
    assert (enabled["State"], enabled["ResponseMetadata"]["HTTPStatusCode"]) == ("Enabling", 202)
    pipemu.backend.esm.wait_synced()
    assert lam.get_event_source_mapping(UUID=created["UUID"])["State"] == "Enabled"
    settle(pipemu)
    got = calls(pipemu)
    assert [c["records"][0]["body"] for c in got] == [f"message-{i}" for i in range(5)]
    for earlier, later in itertools.pairwise(got):
        assert earlier["t1"] <= later["t0"]  # never two batches of one group in flight


def test_disable_holds_messages_and_delete_stops_delivery(pipemu) -> None:
    url, arn = setup(pipemu)
    lam = pipemu.client("lambda")
    uuid = mapping(pipemu, arn)["UUID"]
    send(pipemu, url, "a")
    wait_for("a", lambda: calls(pipemu), lambda c: len(c) == 1)
    lam.update_event_source_mapping(UUID=uuid, Enabled=False)
    pipemu.backend.esm.wait_synced()
    send(pipemu, url, "b")
    settle(pipemu)
    assert len(calls(pipemu)) == 1 and depth(pipemu, url) == 1
    lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    pipemu.backend.esm.wait_synced()
    settle(pipemu)
    assert [c["records"][0]["body"] for c in calls(pipemu)] == ["a", "b"]
    lam.delete_event_source_mapping(UUID=uuid)
    pipemu.backend.esm.wait_synced()
    send(pipemu, url, "c")
    settle(pipemu)
    assert len(calls(pipemu)) == 2 and depth(pipemu, url) == 1
