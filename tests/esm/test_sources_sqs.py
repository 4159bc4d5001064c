"""Reading an SQS queue over boto3 (``Boto3QueueSource``), against moto in process where SQS's answer matters
and a recording client where the calls themselves are the behaviour: the queue's attributes, ReceiveMessage
(at most 10 messages, short polling, every attribute), DeleteMessageBatch and ChangeMessageVisibilityBatch in
entries of at most 10, what the queue still holds, and a deleted queue seen as gone."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from emulator.esm.sqs.source import MAX_ENTRIES, Boto3QueueSource, QueueGone, QueueInfo

REGION = "us-east-1"
ACCOUNT = "123456789012"


@pytest.fixture
def sqs() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("sqs", region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")


def make_queue(sqs: Any, name: str = "orders", **attributes: str) -> tuple[str, str]:
    url = str(sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"])
    arn = str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])
    return url, arn


def send(sqs: Any, url: str, n: int) -> None:
    for i in range(n):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")


# -- attributes --------------------------------------------------------------------------------------------


def test_a_standard_queue_without_a_dead_letter_queue(sqs: Any) -> None:
    _, arn = make_queue(sqs, VisibilityTimeout="45")
    assert Boto3QueueSource(sqs, arn).info() == QueueInfo(fifo=False, visibility_timeout_s=45)


def test_a_fifo_queue_with_a_redrive_policy(sqs: Any) -> None:
    _, dlq = make_queue(sqs, "dead.fifo", FifoQueue="true")
    policy = json.dumps({"deadLetterTargetArn": dlq, "maxReceiveCount": "3"})
    _, arn = make_queue(sqs, "orders.fifo", FifoQueue="true", RedrivePolicy=policy)
    assert Boto3QueueSource(sqs, arn).info() == QueueInfo(
        fifo=True, visibility_timeout_s=30, max_receive_count=3, dead_letter_arn=dlq
    )


def test_attributes_sqs_leaves_out_take_sqss_defaults() -> None:
    source = Boto3QueueSource(Recording({"Attributes": {}}), f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders")
    assert source.info() == QueueInfo(fifo=False, visibility_timeout_s=30)


# -- receive -----------------------------------------------------------------------------------------------


def test_a_received_message_carries_its_ids_body_checksums_and_attributes(sqs: Any) -> None:
    url, arn = make_queue(sqs)
    sent = sqs.send_message(
        QueueUrl=url, MessageBody='{"order": 1}',
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "order"}},
    )
    [message] = Boto3QueueSource(sqs, arn).receive(10)
    assert message.message_id == sent["MessageId"]
    assert message.body == '{"order": 1}'
    assert message.md5_of_body == sent["MD5OfMessageBody"]
    assert message.md5_of_message_attributes == sent["MD5OfMessageAttributes"]
    assert message.message_attributes == {"kind": {"DataType": "String", "StringValue": "order"}}
    assert message.attributes["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(message.attributes)
    assert message.receipt_handle


def test_a_receive_takes_at_most_10_messages_and_at_least_1(sqs: Any) -> None:
    url, arn = make_queue(sqs)
    send(sqs, url, 12)
    source = Boto3QueueSource(sqs, arn)
    assert len(source.receive(0)) == 1
    assert len(source.receive(25)) == MAX_ENTRIES == 10
    assert len(source.receive(3)) == 1  # the one left


def test_a_receive_does_not_wait_and_asks_for_every_attribute() -> None:
    client = Recording({})
    assert Boto3QueueSource(client, f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders").receive(4) == []
    assert client.calls[-1] == ("receive_message", {
        "QueueUrl": "url-orders", "MaxNumberOfMessages": 4, "AttributeNames": ["All"],
        "MessageAttributeNames": ["All"], "WaitTimeSeconds": 0,
    })


def test_a_message_without_attributes_has_empty_ones() -> None:
    raw = {"MessageId": "m", "ReceiptHandle": "h", "Body": "b", "MD5OfBody": "5"}
    [message] = Boto3QueueSource(Recording({"Messages": [raw]}), f"arn:aws:sqs:{REGION}:{ACCOUNT}:q").receive(1)
    assert (message.attributes, message.message_attributes, message.md5_of_message_attributes) == ({}, {}, None)


# -- delete and visibility ---------------------------------------------------------------------------------


def test_deleted_messages_leave_the_queue(sqs: Any) -> None:
    url, arn = make_queue(sqs)
    send(sqs, url, 12)
    source = Boto3QueueSource(sqs, arn)
    received = source.receive(10) + source.receive(10)
    assert source.outstanding() == 12  # in flight
    source.delete([m.receipt_handle for m in received])
    assert source.outstanding() == 0


def test_a_visibility_of_zero_makes_messages_receivable_again(sqs: Any) -> None:
    url, arn = make_queue(sqs)
    send(sqs, url, 2)
    source = Boto3QueueSource(sqs, arn)
    received = source.receive(10)
    assert source.receive(10) == []
    source.change_visibility([m.receipt_handle for m in received], 0)
    again = source.receive(10)
    assert sorted(m.message_id for m in again) == sorted(m.message_id for m in received)
    assert {m.attributes["ApproximateReceiveCount"] for m in again} == {"2"}


def test_a_visibility_timeout_keeps_messages_hidden(sqs: Any) -> None:
    url, arn = make_queue(sqs, VisibilityTimeout="0")
    send(sqs, url, 1)
    source = Boto3QueueSource(sqs, arn)
    received = source.receive(10)
    source.change_visibility([m.receipt_handle for m in received], 600)
    assert source.receive(10) == []


def test_batches_of_more_than_10_go_in_entries_of_10_numbered_per_call() -> None:
    client = Recording({})
    source = Boto3QueueSource(client, f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders")
    handles = [f"h{i}" for i in range(23)]
    source.delete(handles)
    source.change_visibility(handles[:11], 7)
    source.change_visibility(["h0"], -5)  # a negative timeout is sent as 0
    calls = [(op, kwargs) for op, kwargs in client.calls if op != "get_queue_url"]
    expected_deletes = [handles[0:10], handles[10:20], handles[20:23]]
    assert [op for op, _ in calls] == ["delete_message_batch"] * 3 + ["change_message_visibility_batch"] * 3
    for (_, kwargs), chunk in zip(calls[:3], expected_deletes, strict=True):
        assert kwargs == {"QueueUrl": "url-orders",
                          "Entries": [{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(chunk)]}
    assert calls[3][1]["Entries"] == [
        {"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": 7} for i, h in enumerate(handles[:10])
    ]
    assert calls[4][1]["Entries"] == [{"Id": "0", "ReceiptHandle": "h10", "VisibilityTimeout": 7}]
    assert calls[5][1]["Entries"] == [{"Id": "0", "ReceiptHandle": "h0", "VisibilityTimeout": 0}]
    source.delete([])
    assert len(client.calls) == 7  # nothing to delete: no call


def test_outstanding_counts_visible_in_flight_and_delayed_messages(sqs: Any) -> None:
    url, arn = make_queue(sqs)
    send(sqs, url, 3)
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=900)
    source = Boto3QueueSource(sqs, arn)
    source.receive(1)
    assert source.outstanding() == 4


def test_outstanding_asks_for_the_three_counts() -> None:
    client = Recording({"Attributes": {"ApproximateNumberOfMessages": "2",
                                       "ApproximateNumberOfMessagesDelayed": "5"}})
    assert Boto3QueueSource(client, f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders").outstanding() == 7
    assert client.calls[-1][1]["AttributeNames"] == [
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed",
    ]


# -- the queue's URL, and a queue that is gone -------------------------------------------------------------


class Recording:
    """An SQS client that records every call and answers ``response`` (a queue URL for GetQueueUrl), or raises
    ``errors`` in turn first."""

    def __init__(self, response: dict[str, Any], errors: list[str] | None = None) -> None:
        self.response = response
        self.errors = list(errors or [])
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def get_queue_url(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("get_queue_url", kwargs))
        return {"QueueUrl": f"url-{kwargs['QueueName']}"}

    def __getattr__(self, operation: str) -> Any:
        def call(**kwargs: Any) -> dict[str, Any]:
            self.calls.append((operation, kwargs))
            if self.errors:
                code = self.errors.pop(0)
                raise ClientError({"Error": {"Code": code, "Message": "m"}}, operation)
            return self.response

        return call


def test_the_queue_url_is_looked_up_once_by_name_and_owner() -> None:
    client = Recording({"Attributes": {}})
    source = Boto3QueueSource(client, f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders")
    source.outstanding()
    source.outstanding()
    lookups = [kwargs for op, kwargs in client.calls if op == "get_queue_url"]
    assert lookups == [{"QueueName": "orders", "QueueOwnerAWSAccountId": ACCOUNT}]


@pytest.mark.parametrize("code", ["AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"])
def test_a_queue_that_does_not_exist_is_gone_and_looked_up_again_next_time(code: str) -> None:
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders"
    client = Recording({"Attributes": {}}, errors=[code])
    source = Boto3QueueSource(client, arn)
    with pytest.raises(QueueGone) as gone:
        source.outstanding()
    assert gone.value.queue_arn == arn
    assert str(gone.value) == f"queue {arn} does not exist"
    source.outstanding()
    assert [op for op, _ in client.calls] == [
        "get_queue_url", "get_queue_attributes", "get_queue_url", "get_queue_attributes",
    ]


def test_other_errors_are_raised_as_they_are() -> None:
    client = Recording({}, errors=["ThrottlingException"])
    with pytest.raises(ClientError, match="ThrottlingException"):
        Boto3QueueSource(client, f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders").receive(1)


def test_a_deleted_queue_is_gone_and_a_queue_made_again_is_read(sqs: Any) -> None:
    url, arn = make_queue(sqs)
    source = Boto3QueueSource(sqs, arn)
    assert source.outstanding() == 0
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(QueueGone):
        source.receive(1)
    with pytest.raises(QueueGone):
        source.info()
    url, _ = make_queue(sqs)
    send(sqs, url, 1)
    assert len(source.receive(1)) == 1
