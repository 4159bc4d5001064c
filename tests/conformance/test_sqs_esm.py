"""SQS cases of shared/conformance/README.md §3 run on the embedded backend and compared with what AWS recorded
(test_lambda_integration_sqs.snapshot.json) after the same normalisation, as the Kinesis cases are.

Every entry of the snapshot file is either compared by a test here (``COMPARED``: snapshot case -> test) or listed
in ``NOT_COMPARED`` with the reason; ``test_every_snapshot_case_is_compared_or_listed`` keeps the two honest.
Visibility timeouts and batching windows run on the backend clock with a time scale; handler sleeps are short
where only order matters. Every wait is on a condition with a timeout.
"""

from __future__ import annotations

import itertools
import json
import sys
from typing import Any

import pytest
from esm_kit import Kit, short_uid, wait_for
from normalize import Normalizer, assert_matches
from snapshots import _load, recorded

SQS = "test_lambda_integration_sqs"
CLASS = "TestSQSEventSourceMapping::"
# The recorder's SQS transformers (upstream test module): these values are present but not compared.
SQS_PRESENT = {
    "SentTimestamp": "sent-timestamp",
    "SenderId": "sender-id",
    "ApproximateFirstReceiveTimestamp": "<approximate-first-receive-timestamp>",
}
# Upstream skips these for the class (AWS leaves md5OfMessageAttributes out of forwarded events).
CLASS_SKIP = ("$..Records..md5OfMessageAttributes",)
# Differences that are not the mapping's. moto's SendMessageBatch answers ``"Failed": []`` where AWS leaves the
# key out. For a message without attributes AWS's recordings disagree with each other: the event a function
# logs has ``md5OfMessageAttributes: null`` (class tests), the event it forwards through SQS has no such key
# (module tests); pipemu always sends null, as the logged events show.
MOTO_BATCH_RESULT = ("$..Failed",)
FORWARDED_MD5 = ("$..Records..md5OfMessageAttributes",)

NOT_COMPARED: dict[str, str] = {
    "test_sqs_queue_as_lambda_dead_letter_queue": (
        "not an event source mapping: a function's own DeadLetterConfig for asynchronous invocations, which "
        "pipemu's runtime does not implement"
    ),
    f"{CLASS}test_sqs_event_source_mapping_update": (
        "targets published function versions (qualified ARNs with different environments); pipemu's runtime "
        "runs $LATEST only"
    ),
    f"{CLASS}test_sqs_event_source_mapping_batching_behaviour[100]": "recorded empty (2024): nothing to compare",
    f"{CLASS}test_sqs_event_filter[plain-string-matching]": "recorded empty (skipped upstream): nothing to compare",
    f"{CLASS}test_sqs_event_filter[plain-string-filter]": "recorded empty (skipped upstream): nothing to compare",
}


def _filter_cases() -> list[str]:
    names = [key.split("::", 1)[1] for key in _load(SQS)]
    prefix = f"{CLASS}test_sqs_event_filter["
    return [n.removeprefix(prefix).removesuffix("]") for n in names if n.startswith(prefix) and n not in NOT_COMPARED]


FILTER_CASES = _filter_cases()

COMPARED: dict[str, str] = {
    "test_esm_with_not_existing_sqs_queue": "test_esm_with_not_existing_sqs_queue",
    f"{CLASS}test_event_source_mapping_default_batch_size": "test_event_source_mapping_default_batch_size",
    f"{CLASS}test_duplicate_event_source_mappings": "test_duplicate_event_source_mappings",
    f"{CLASS}test_sqs_event_source_mapping": "test_sqs_event_source_mapping",
    **{
        f"{CLASS}test_sqs_event_source_mapping_batch_size[{n}]": "test_sqs_event_source_mapping_batch_size"
        for n in (15, 100, 1000, 10000)
    },
    f"{CLASS}test_sqs_event_source_mapping_batching_reserved_concurrency": (
        "test_sqs_event_source_mapping_batching_reserved_concurrency"
    ),
    "test_failing_lambda_retries_after_visibility_timeout": "test_failing_lambda_retries_after_visibility_timeout",
    "test_redrive_policy_with_failing_lambda": "test_redrive_policy_with_failing_lambda",
    "test_message_body_and_attributes_passed_correctly": "test_message_body_and_attributes_passed_correctly",
    "test_report_batch_item_failures": "test_report_batch_item_failures",
    "test_report_batch_item_failures_on_lambda_error": "test_report_batch_item_failures_on_lambda_error",
    "test_report_batch_item_failures_invalid_result_json_batch_fails": (
        "test_report_batch_item_failures_invalid_result_json_batch_fails"
    ),
    "test_report_batch_item_failures_empty_json_batch_succeeds": (
        "test_report_batch_item_failures_empty_json_batch_succeeds"
    ),
    "test_fifo_message_group_parallelism": "test_fifo_message_group_parallelism",
    **{f"{CLASS}test_sqs_event_filter[{case}]": "test_sqs_event_filter" for case in FILTER_CASES},
    **{
        f"{CLASS}test_sqs_invalid_event_filter[{case}]": "test_sqs_invalid_event_filter"
        for case in ("None", "simple string", "invalid_filter2", "invalid_filter3")
    },
}


def check(name: str, observed: dict[str, Any], *, skip: tuple[str, ...] = (), norm: Normalizer | None = None) -> None:
    expected = recorded(name, file=SQS)
    assert sorted(observed) == sorted(expected), f"observation names differ from the snapshot's: {sorted(expected)}"
    normalizer = norm or Normalizer(present_only=SQS_PRESENT)
    assert_matches(expected, normalizer(observed), skip=list(skip), what=name)


def test_every_snapshot_case_is_compared_or_listed() -> None:
    keys = {key.split("::", 1)[1] for key in _load(SQS)}
    assert set(COMPARED) | set(NOT_COMPARED) == keys
    assert not set(COMPARED) & set(NOT_COMPARED)
    module = sys.modules[__name__]
    assert all(callable(getattr(module, test, None)) for test in COMPARED.values())
    assert all(reason for reason in NOT_COMPARED.values())


# -- helpers ---------------------------------------------------------------------------------------------------
def queue(kit: Kit, prefix: str, **attributes: Any) -> tuple[str, str]:
    """A queue named ``<prefix>-<uid>`` (``.fifo`` kept at the end); returns (url, arn)."""
    fifo = prefix.endswith(".fifo")
    name = f"{prefix.removesuffix('.fifo')}-{short_uid()}" + (".fifo" if fifo else "")
    attrs = {k: v if isinstance(v, str) else json.dumps(v) for k, v in attributes.items()}
    if fifo:
        attrs["FifoQueue"] = "true"
    url = str(kit.sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"])
    arn = kit.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, str(arn)


def destination(kit: Kit) -> tuple[str, dict[str, Any]]:
    """The queue a function reports to, and GetQueueUrl's answer for it (recorded as get_destination_queue_url)."""
    url, _ = queue(kit, "destination-queue")
    name = url.rsplit("/", 1)[1]
    return url, dict(kit.sqs.get_queue_url(QueueName=name))


def receive_one(kit: Kit, url: str, timeout: float = 30.0) -> dict[str, Any]:
    """The first ReceiveMessage (MaxNumberOfMessages 1, as recorded) that returns a message."""
    return dict(
        wait_for(
            f"a message in {url}",
            lambda: kit.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1),
            lambda r: bool(r.get("Messages")),
            timeout,
        )
    )


def redrive(dlq_arn: str, max_receives: int) -> dict[str, str]:
    return {"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receives})}


def echoed_events(kit: Kit, function: str, count: int) -> list[Any]:
    events = wait_for(f"{count} invocation(s)", lambda: kit.logged(function), lambda e: len(e) >= count)
    kit.settle()
    assert len(kit.logged(function)) == count
    return list(events)


def forwarded(kit: Kit, url: str, total: int) -> list[list[dict[str, Any]]]:
    """Batches the forward function sent to ``url`` until they hold ``total`` records (deleted as read)."""
    batches: list[list[dict[str, Any]]] = []

    def read() -> int:
        response = kit.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=120)
        for message in response.get("Messages", []):
            batches.append(json.loads(message["Body"]))
            kit.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return sum(len(b) for b in batches)

    wait_for(f"{total} forwarded records", read, lambda n: n >= total)
    kit.settle()
    assert read() == total
    return batches


# -- create, validation ----------------------------------------------------------------------------------------
def test_esm_with_not_existing_sqs_queue(kit: Kit) -> None:
    function = kit.function("echo")
    missing = f"arn:aws:sqs:us-east-1:123456789012:test-queue-{short_uid()}"
    error = kit.mapping_error(EventSourceArn=missing, FunctionName=function, BatchSize=1)
    check("test_esm_with_not_existing_sqs_queue", {"error": error})


def test_event_source_mapping_default_batch_size(kit: Kit) -> None:
    function = kit.function("echo")
    _, arn_1 = queue(kit, "queue")
    created = kit.mapping(EventSourceArn=arn_1, FunctionName=function)
    update_error = _error(
        lambda: kit.lam.update_event_source_mapping(UUID=created["UUID"], FunctionName=function, BatchSize=11)
    )
    _, arn_2 = queue(kit, "queue")
    create_error = kit.mapping_error(EventSourceArn=arn_2, FunctionName=function, BatchSize=11)
    check(
        f"{CLASS}test_event_source_mapping_default_batch_size",
        {
            "create-event-source-mapping": created,
            "invalid-update-event-source-mapping": update_error,
            "invalid-create-event-source-mapping": create_error,
        },
    )


def _error(call: Any) -> dict[str, Any]:
    from botocore.exceptions import ClientError

    try:
        call()
    except ClientError as exc:
        return dict(exc.response)
    raise AssertionError("the call succeeded; AWS refuses it")


def test_duplicate_event_source_mappings(kit: Kit) -> None:
    function_1, function_2 = kit.function("echo"), kit.function("echo")
    _, arn = queue(kit, "queue")
    create = kit.mapping(FunctionName=function_1, EventSourceArn=arn)
    error = kit.mapping_error(FunctionName=function_1, EventSourceArn=arn)
    check(f"{CLASS}test_duplicate_event_source_mappings", {"create": create, "error": error})
    kit.mapping(FunctionName=function_2, EventSourceArn=arn)  # another function on the same queue is accepted


@pytest.mark.parametrize("case", ["None", "simple string", "invalid_filter2", "invalid_filter3"])
def test_sqs_invalid_event_filter(kit: Kit, case: str) -> None:
    pattern = {
        "None": "null",
        "simple string": "simple string",
        "invalid_filter2": json.dumps({"eventSource": "aws:sqs"}),
        "invalid_filter3": json.dumps({"eventSource": []}),
    }[case]
    function = kit.function("echo")
    _, arn = queue(kit, "queue")
    error = kit.mapping_error(
        EventSourceArn=arn,
        FunctionName=function,
        MaximumBatchingWindowInSeconds=1,
        FilterCriteria={"Filters": [{"Pattern": pattern}]},
    )
    check(f"{CLASS}test_sqs_invalid_event_filter[{case}]", {"create_event_source_mapping_exception": error})


# -- delivery, batch size, concurrency -------------------------------------------------------------------------
def test_sqs_event_source_mapping(kit: Kit, time_scale) -> None:
    time_scale(10)
    function = kit.function("echo")
    url, arn = queue(kit, "queue")
    created = kit.mapping(EventSourceArn=arn, FunctionName=function, MaximumBatchingWindowInSeconds=1)
    kit.sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"foo": "bar"}))
    events = echoed_events(kit, function, 1)
    assert kit.queue_depth(url) == 0
    check(
        f"{CLASS}test_sqs_event_source_mapping",
        {"create-event-source-mapping-response": created, "events": events},
        skip=CLASS_SKIP,
    )


@pytest.mark.parametrize("batch_size", [15, 100, 1000, 10000])
def test_sqs_event_source_mapping_batch_size(kit: Kit, time_scale, batch_size: int) -> None:
    time_scale(10)
    target, _ = queue(kit, "destination-queue")
    function = kit.function("forward", env={"QUEUE_URL": target})
    url, arn = queue(kit, "source-queue")
    created = kit.mapping(
        EventSourceArn=arn, FunctionName=function, MaximumBatchingWindowInSeconds=10, BatchSize=batch_size
    )
    sent_10 = kit.sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": f"{i}-0", "MessageBody": f"{i}-0-message-{i}"} for i in range(10)]
    )
    sent_5 = kit.sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": f"{i}-1", "MessageBody": f"{i}-1-message-{i}"} for i in range(5)]
    )
    records = sorted((r for batch in forwarded(kit, target, 15) for r in batch), key=lambda r: r["body"])
    norm = Normalizer(
        present_only={**SQS_PRESENT, "MaximumBatchingWindowInSeconds": "maximum-batching-window-in-seconds"},
        keyed={"SenderId": "sender-id", "MD5OfMessageBody": "md5-of-body"},
    )
    del norm.present_only["SenderId"]
    check(
        f"{CLASS}test_sqs_event_source_mapping_batch_size[{batch_size}]",
        {
            "create-event-source-mapping-response": created,
            "send-message-batch-result-10": sent_10,
            "send-message-batch-result-5": sent_5,
            "Records": records,
        },
        skip=(*CLASS_SKIP, *MOTO_BATCH_RESULT),
        norm=norm,
    )


def test_sqs_event_source_mapping_batching_reserved_concurrency(kit: Kit, time_scale) -> None:
    time_scale(10)
    target, _ = queue(kit, "destination-queue")
    function = kit.function("forward", env={"QUEUE_URL": target})
    concurrency = kit.lam.put_function_concurrency(FunctionName=function, ReservedConcurrentExecutions=2)
    url, arn = queue(kit, "source-queue")
    for b in range(3):  # queued before the mapping exists, as AWS's test ends up doing at W 10
        kit.sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": f"{i}-{b}", "MessageBody": f"{i}-{b}-message"} for i in range(10)]
        )
    created = kit.mapping(
        EventSourceArn=arn,
        FunctionName=function,
        MaximumBatchingWindowInSeconds=1,
        BatchSize=20,
        ScalingConfig={"MaximumConcurrency": 2},
    )
    batches = forwarded(kit, target, 30)
    records = sorted((r for batch in batches for r in batch), key=lambda r: r["body"])
    norm = Normalizer(present_only=SQS_PRESENT, keyed={"SenderId": "sender-id"})
    del norm.present_only["SenderId"]
    check(
        f"{CLASS}test_sqs_event_source_mapping_batching_reserved_concurrency",
        {
            "put_concurrency_resp": concurrency,
            "create-event-source-mapping-response": created,
            "batch_info": {"total_batches_received": len(batches)},
            "Records": records,
        },
        skip=CLASS_SKIP,
        norm=norm,
    )


@pytest.mark.parametrize("case", FILTER_CASES)
def test_sqs_event_filter(kit: Kit, time_scale, case: str) -> None:
    """Driven from the recorded entry: its FilterCriteria, its delivered body (matching), and a body the filter
    must drop (upstream's, where the entry does not say)."""
    time_scale(10)
    name = f"{CLASS}test_sqs_event_filter[{case}]"
    entry = recorded(name, file=SQS)
    pattern = entry["create_event_source_mapping_response"]["FilterCriteria"]["Filters"][0]["Pattern"]
    [event] = entry["invocation_events"]
    matching = event["Records"][0]["body"]
    function = kit.function("echo")
    url, arn = queue(kit, "queue")
    for body in (matching, NOT_MATCHING.get(case)):
        if body is not None:
            kit.sqs.send_message(QueueUrl=url, MessageBody=body if isinstance(body, str) else json.dumps(body))
    created = kit.mapping(
        EventSourceArn=arn,
        FunctionName=function,
        MaximumBatchingWindowInSeconds=1,
        FilterCriteria={"Filters": [{"Pattern": json.dumps(pattern)}]},
    )
    events = echoed_events(kit, function, 1)
    assert kit.queue_depth(url) == 0  # the filtered-out message is deleted
    check(name, {"create_event_source_mapping_response": created, "invocation_events": events}, skip=CLASS_SKIP)


# Bodies the filter drops (not in the snapshot: they never reach the function). Upstream's current parameters;
# for the 2024 entries (filter0..7, *-filter) the node id names the dropped body only for filter4.
NOT_MATCHING: dict[str, Any] = {
    "single": {"my-key": "other-value"},
    "or": {"my-key": "other-value"},
    "and": {"my-key-one": "other-value-", "my-key-two": "my-value-two"},
    "exists": {"other-key": "any-value-two"},
    "numeric-bigger": {"my-number": 100},
    "numeric-smaller": {"my-number": 100},
    "numeric-range": {"my-number": 200},
    "prefix": {"my-key": "no-value"},
    "valid-json-filter": "plain-string",
    "filter4-item_matching4-this is a test string": "this is a test string",
}


# -- retries after the visibility timeout, redrive -------------------------------------------------------------
def test_failing_lambda_retries_after_visibility_timeout(kit: Kit, time_scale) -> None:
    time_scale(10)
    target, got_url = destination(kit)
    function = kit.function("sqsint", timeout=5)
    url, arn = queue(kit, "source-queue", VisibilityTimeout="5")
    uuid = kit.mapping(EventSourceArn=arn, FunctionName=function, BatchSize=1)["UUID"]
    mapping = kit.lam.get_event_source_mapping(UUID=uuid)
    kit.sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"destination": target, "fail_attempts": 1}))
    first = receive_one(kit, target)
    second = receive_one(kit, target)
    kit.settle()
    assert kit.sqs.receive_message(QueueUrl=target).get("Messages", []) == []  # no third attempt
    assert kit.queue_depth(url) == 0
    check(
        "test_failing_lambda_retries_after_visibility_timeout",
        {
            "get_destination_queue_url": got_url,
            "event_source_mapping": mapping,
            "first_attempt": first,
            "second_attempt": second,
        },
        skip=FORWARDED_MD5,
    )


def test_redrive_policy_with_failing_lambda(kit: Kit, time_scale) -> None:
    time_scale(10)
    target, got_url = destination(kit)
    function = kit.function("sqsint", timeout=5)
    dlq, dlq_arn = queue(kit, "event-dlq")
    url, arn = queue(kit, "source-queue", VisibilityTimeout="5", **redrive(dlq_arn, 2))
    kit.mapping(EventSourceArn=arn, FunctionName=function, BatchSize=1)
    kit.sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"destination": target, "fail_attempts": 2}))
    first = receive_one(kit, target)
    assert kit.sqs.receive_message(QueueUrl=dlq).get("Messages", []) == []  # not before the second attempt
    second = receive_one(kit, target)
    dead = receive_one(kit, dlq)
    check(
        "test_redrive_policy_with_failing_lambda",
        {"get_destination_queue_url": got_url, "first_attempt": first, "second_attempt": second, "dlq_response": dead},
        skip=FORWARDED_MD5,
    )


def test_message_body_and_attributes_passed_correctly(kit: Kit, time_scale) -> None:
    time_scale(10)
    target, got_url = destination(kit)
    function = kit.function("sqsint", timeout=5)
    _, dlq_arn = queue(kit, "event-dlq")
    url, arn = queue(kit, "source-queue", VisibilityTimeout="5", **redrive(dlq_arn, 2))
    kit.mapping(EventSourceArn=arn, FunctionName=function, BatchSize=1)
    kit.sqs.send_message(
        QueueUrl=url,
        MessageBody=json.dumps({"destination": target, "fail_attempts": 0}),
        MessageAttributes={
            "Title": {"DataType": "String", "StringValue": "The Whistler"},
            "Author": {"DataType": "String", "StringValue": "John Grisham"},
            "WeeksOn": {"DataType": "Number", "StringValue": "6"},
        },
    )
    first = receive_one(kit, target)
    check(
        "test_message_body_and_attributes_passed_correctly",
        {"get_destination_queue_url": got_url, "first_attempt": first},
        skip=("$..stringListValues", "$..binaryListValues"),
    )


# -- ReportBatchItemFailures -----------------------------------------------------------------------------------
def _records_by_message(response: dict[str, Any]) -> dict[str, Any]:
    """As the recorder did: the Body parsed, each record's body parsed, records sorted by ``message``."""
    [message] = response["Messages"]
    body = json.loads(message["Body"])
    for record in body["event"]["Records"]:
        record["body"] = json.loads(record["body"])
    body["event"]["Records"].sort(key=lambda r: r["body"]["message"])
    message["Body"] = body
    return response


def test_report_batch_item_failures(kit: Kit, time_scale) -> None:
    time_scale(10)
    target, got_url = destination(kit)
    function = kit.function("sqsbif", env={"DESTINATION_QUEUE_URL": target}, timeout=8)
    dlq, dlq_arn = queue(kit, "event-dlq.fifo")
    url, arn = queue(kit, "source-queue.fifo", VisibilityTimeout="8", **redrive(dlq_arn, 2))
    fails = {1: 0, 2: 1, 3: 1, 4: 2}
    sent = kit.sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {
                "Id": f"message-{i}",
                "MessageBody": json.dumps({"message": i, "fail_attempts": n}),
                "MessageGroupId": "1",
                "MessageDeduplicationId": f"dedup-{i}",
            }
            for i, n in fails.items()
        ],
    )
    sent["Successful"].sort(key=lambda r: r["Id"])
    created = kit.mapping(
        EventSourceArn=arn,
        FunctionName=function,
        BatchSize=10,
        MaximumBatchingWindowInSeconds=0,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    first = _records_by_message(receive_one(kit, target))
    assert kit.sqs.receive_message(QueueUrl=dlq).get("Messages", []) == []
    second = _records_by_message(receive_one(kit, target))
    dead = receive_one(kit, dlq)
    kit.settle()
    assert kit.sqs.receive_message(QueueUrl=target).get("Messages", []) == []  # no third invocation
    check(
        "test_report_batch_item_failures",
        {
            "get_destination_queue_url": got_url,
            "send_message_batch": sent,
            "create_event_source_mapping": created,
            "first_invocation": first,
            "second_invocation": second,
            "dlq_response": dead,
        },
        skip=(*MOTO_BATCH_RESULT, *FORWARDED_MD5),
        norm=Normalizer(present_only=SQS_PRESENT, keyed={"MD5OfMessageBody": "md5-of-body"}),
    )


def test_report_batch_item_failures_on_lambda_error(kit: Kit, time_scale) -> None:
    time_scale(10)
    function = kit.function("sqsint", timeout=2)
    dlq, dlq_arn = queue(kit, "event-dlq")
    url, arn = queue(kit, "source-queue", VisibilityTimeout="2", **redrive(dlq_arn, 2))
    kit.sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "message-1", "MessageBody": "{not a json body"},
            {"Id": "message-2", "MessageBody": json.dumps({"message": 2, "fail_attempts": 0})},
        ],
    )
    kit.mapping(EventSourceArn=arn, FunctionName=function, FunctionResponseTypes=["ReportBatchItemFailures"])
    messages: list[dict[str, Any]] = []

    def collect() -> int:
        messages.extend(kit.sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", []))
        return len(messages)

    wait_for("both messages in the DLQ", collect, lambda n: n >= 2)
    messages.sort(key=lambda m: m["MD5OfBody"])
    check("test_report_batch_item_failures_on_lambda_error", {"dlq_messages": messages})


def test_report_batch_item_failures_invalid_result_json_batch_fails(kit: Kit, time_scale) -> None:
    time_scale(10)
    target, got_url = destination(kit)
    overwrite = '{"batchItemFailures": [{"foo":"notvalid"}]}'
    function = kit.function("sqsbif", env={"DESTINATION_QUEUE_URL": target, "OVERWRITE_RESULT": overwrite}, timeout=4)
    dlq, dlq_arn = queue(kit, "event-dlq")
    url, arn = queue(kit, "source-queue", VisibilityTimeout="4", **redrive(dlq_arn, 2))
    kit.mapping(
        EventSourceArn=arn,
        FunctionName=function,
        BatchSize=10,
        MaximumBatchingWindowInSeconds=0,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    kit.sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"message": 1, "fail_attempts": 0}))
    first = receive_one(kit, target)
    second = receive_one(kit, target)
    dead = receive_one(kit, dlq)
    check(
        "test_report_batch_item_failures_invalid_result_json_batch_fails",
        {
            "get_destination_queue_url": got_url,
            "first_invocation": first,
            "second_invocation": second,
            "dlq_response": dead,
        },
        skip=FORWARDED_MD5,
    )


def test_report_batch_item_failures_empty_json_batch_succeeds(kit: Kit, time_scale) -> None:
    time_scale(10)
    target, got_url = destination(kit)
    function = kit.function("sqsbif", env={"DESTINATION_QUEUE_URL": target, "OVERWRITE_RESULT": "{}"}, timeout=4)
    dlq, dlq_arn = queue(kit, "event-dlq")
    url, arn = queue(kit, "source-queue", VisibilityTimeout="4", **redrive(dlq_arn, 1))
    kit.mapping(
        EventSourceArn=arn,
        FunctionName=function,
        BatchSize=10,
        MaximumBatchingWindowInSeconds=0,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    kit.sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"message": 1, "fail_attempts": 0}))
    first = receive_one(kit, target)
    kit.settle()
    assert kit.sqs.receive_message(QueueUrl=dlq).get("Messages", []) == []
    assert kit.queue_depth(url) == 0 and len(kit.invocations(function)) == 1
    check(
        "test_report_batch_item_failures_empty_json_batch_succeeds",
        {"get_destination_queue_url": got_url, "first_invocation": first},
        skip=FORWARDED_MD5,
    )


# -- FIFO ------------------------------------------------------------------------------------------------------
def test_fifo_message_group_parallelism(kit: Kit) -> None:
    function = kit.function("sleep", env={"SLEEP_S": "0.2"}, timeout=10)
    url, arn = queue(kit, "test-queue.fifo", ContentBasedDeduplication="true", VisibilityTimeout="60")
    disabled = kit.mapping(FunctionName=function, EventSourceArn=arn, Enabled=False, BatchSize=1)
    for i in range(5):
        kit.sqs.send_message(QueueUrl=url, MessageBody=f"message-{i}", MessageGroupId="fixed-message-group-id-test")
    enabling = kit.lam.update_event_source_mapping(UUID=disabled["UUID"], Enabled=True)
    kit.backend.esm.wait_synced()
    enabled = kit.lam.get_event_source_mapping(UUID=disabled["UUID"])
    logged = wait_for("5 invocations", lambda: kit.logged(function), lambda e: len(e) >= 5)
    kit.settle()
    # AWS saw one log stream: one execution environment, so never two batches of the group at once
    assert [b for e in logged for b in e["bodies"]] == [f"message-{i}" for i in range(5)]
    assert all(a["end"] <= b["start"] for a, b in itertools.pairwise(logged))
    check(
        "test_fifo_message_group_parallelism",
        {"create_esm_disabled": disabled, "update_esm_enabling": enabling, "get_esm_enabled": enabled},
    )
