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

from emulator.esm.sqs.source import MAX_ENTRIES, Boto3QueueSource, QueueGone, QueueInfo, VisibilityKeeper

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


# -- returning messages on the emulated clock (VisibilityKeeper) -------------------------------------------


class Clock:
    """An emulated clock running ``scale`` times faster than the wall, moved by hand."""

    def __init__(self, scale: float = 10.0, now: float = 1000.0) -> None:
        self.scale = scale
        self.at = now

    def now(self) -> float:
        return self.at


class Visibility:
    """A queue source recording ChangeMessageVisibility calls; ``gone`` makes them raise QueueGone."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], int]] = []
        self.gone = False
        self.broken = False

    def change_visibility(self, receipt_handles: Any, timeout_s: int) -> None:
        if self.gone:
            raise QueueGone("arn:aws:sqs:us-east-1:123456789012:orders")
        if self.broken:
            raise RuntimeError("connection reset")
        self.calls.append((list(receipt_handles), timeout_s))


def keeper(scale: float = 10.0) -> tuple[VisibilityKeeper, Visibility, Clock]:
    queue, clock = Visibility(), Clock(scale)
    return VisibilityKeeper(queue, clock), queue, clock  # type: ignore[arg-type]


def test_held_messages_stay_invisible_in_wall_seconds_past_the_longest_due_instant() -> None:
    keep, queue, clock = keeper(scale=10.0)
    assert not keep and keep.next_due() is None
    keep.hold([(clock.at + 30.0, "h1", False), (clock.at + 95.0, "h2", True)])
    # 95 emulated seconds at scale 10 are 9.5 wall seconds: ceil to 10, plus 1 so SQS does not return it first
    assert queue.calls == [(["h1", "h2"], 11)]
    assert keep and keep.next_due() == clock.at + 30.0
    keep.hold([])
    assert len(queue.calls) == 1


def test_a_message_due_now_is_held_for_one_wall_second() -> None:
    keep, queue, clock = keeper(scale=100.0)
    keep.hold([(clock.at, "h1", False)])
    assert queue.calls == [(["h1"], 1)]


def test_due_messages_are_made_visible_once_the_clock_reaches_them() -> None:
    keep, queue, clock = keeper()
    keep.hold([(clock.at + 30.0, "h1", True), (clock.at + 30.0, "h2", False), (clock.at + 60.0, "h3", True)])
    queue.calls.clear()
    clock.at += 29.0
    assert keep.release_due() == 0 and queue.calls == []
    clock.at += 1.0  # exactly due
    assert keep.release_due() == 1  # one of the two will be moved to the dead-letter queue
    assert sorted(queue.calls[0][0]) == ["h1", "h2"] and queue.calls[0][1] == 0
    assert keep.next_due() == clock.at + 30.0
    clock.at += 30.0
    assert keep.release_due() == 1
    assert queue.calls[1] == (["h3"], 0)
    assert not keep


def test_releasing_into_a_deleted_queue_counts_nothing() -> None:
    keep, queue, clock = keeper()
    keep.hold([(clock.at + 1.0, "h1", True)])
    queue.gone = True
    clock.at += 5.0
    assert keep.release_due() == 0
    assert not keep


def test_a_stopped_poller_leaves_messages_to_sqs_at_their_due_instants() -> None:
    keep, queue, clock = keeper(scale=10.0)
    keep.hold([(clock.at + 100.0, "h1", False), (clock.at + 95.0, "h2", False)])
    queue.calls.clear()
    keep.expire_later([(clock.at + 12.0, "h3"), (clock.at - 5.0, "h4")])
    # 100 and 95 emulated seconds are 10 and 9.5 wall seconds, both 10 once rounded up; 12 -> 2; overdue -> 0
    assert sorted((sorted(h), t) for h, t in queue.calls) == [(["h1", "h2"], 10), (["h3"], 2), (["h4"], 0)]
    assert not keep


def test_leaving_messages_to_a_broken_queue_is_best_effort() -> None:
    keep, queue, clock = keeper()
    queue.broken = True
    keep.expire_later([(clock.at + 10.0, "h1"), (clock.at + 50.0, "h2")])  # no exception
    queue.broken = False
    queue.gone = True
    keep.expire_later([(clock.at + 10.0, "h1")])


def test_wall_time_is_emulated_time_over_the_scale_never_negative() -> None:
    keep, _, _ = keeper(scale=4.0)
    assert keep.wall(10.0) == 2.5
    assert keep.wall(-3.0) == 0.0
