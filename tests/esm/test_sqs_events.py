"""SQS record shapes: the event Lambda receives from an SQS mapping, against the AWS recordings in the SQS
snapshot (``test_sqs_event_source_mapping``, ``test_message_body_and_attributes_passed_correctly``,
``test_report_batch_item_failures``) and https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html (the
standard and FIFO examples); and the form the mapping's observer takes a message in."""

from __future__ import annotations

import json
from typing import Any

from aws_recorded import recorded

from emulator.esm.sqs.events import (
    SqsMessage,
    as_stream_record,
    encoded_size,
    event_record,
    lambda_message_attributes,
    observed_record,
    record_attributes,
    synthetic_sequence_number,
)
from emulator.esm.streams.records import StreamRecord

SQS = "test_lambda_integration_sqs"
QUEUE = "arn:aws:sqs:eu-west-1:123456789012:orders"
STANDARD = {
    "ApproximateFirstReceiveTimestamp": "1700000000250",
    "SenderId": "AIDAEXAMPLE",
    "ApproximateReceiveCount": "3",
    "SentTimestamp": "1700000000123",
}
FIFO = {**STANDARD, "MessageDeduplicationId": "dedup-1", "MessageGroupId": "group-a"}


def message(attributes: dict[str, str] | None = None, **fields: Any) -> SqsMessage:
    values: dict[str, Any] = dict(message_id="059f36b4-87a3-44ab-83d2-661975830a7d", receipt_handle="rh-1",
                                  body='{"foo": "bar"}', md5_of_body="9bb58f26192e4ba00f01e2e7b136bbd8",
                                  attributes=STANDARD if attributes is None else attributes)
    return SqsMessage(**(values | fields))


def recorded_record(test: str, *path: str | int) -> dict[str, Any]:
    found: dict[str, Any] = recorded(SQS, test, *path)
    return found


def test_a_standard_record_has_the_recorded_keys_values_and_order() -> None:
    aws = recorded_record("test_sqs_event_source_mapping", "events", 0, "Records", 0)
    record = event_record(message(), queue_arn=QUEUE, region="eu-west-1")
    assert list(record) == list(aws)
    assert list(record["attributes"]) == list(aws["attributes"])
    assert (record["eventSource"], record["messageAttributes"], record["md5OfMessageAttributes"]) == (
        aws["eventSource"], aws["messageAttributes"], aws["md5OfMessageAttributes"])
    assert record == {
        "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
        "receiptHandle": "rh-1",
        "body": '{"foo": "bar"}',
        "attributes": {"ApproximateReceiveCount": "3", "SentTimestamp": "1700000000123",
                       "SenderId": "AIDAEXAMPLE", "ApproximateFirstReceiveTimestamp": "1700000000250"},
        "messageAttributes": {},
        "md5OfMessageAttributes": None,
        "md5OfBody": "9bb58f26192e4ba00f01e2e7b136bbd8",
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE,
        "awsRegion": "eu-west-1",
    }


def test_message_attributes_have_the_recorded_lambda_shape() -> None:
    aws = recorded_record("test_message_body_and_attributes_passed_correctly", "first_attempt", "Messages", 0,
                          "Body", "event", "Records", 0)
    sent = {  # as ReceiveMessage returns the attributes the recorded test sent
        "WeeksOn": {"StringValue": "6", "DataType": "Number"},
        "Author": {"StringValue": "John Grisham", "DataType": "String"},
        "Title": {"StringValue": "The Whistler", "DataType": "String"},
    }
    shaped = lambda_message_attributes(sent)
    assert shaped == aws["messageAttributes"]
    assert [list(value) for value in shaped.values()] == [list(value) for value in aws["messageAttributes"].values()]
    record = event_record(message(message_attributes=sent, md5_of_message_attributes=aws["md5OfMessageAttributes"]),
                          queue_arn=QUEUE, region="eu-west-1")
    assert record["messageAttributes"] == aws["messageAttributes"]
    assert record["md5OfMessageAttributes"] == "d25a6aea97eb8f585bfa92d314504a92"


def test_binary_and_list_attribute_values_are_base64_text() -> None:
    shaped = lambda_message_attributes({
        "Blob": {"BinaryValue": b"\x00\x01\xff", "DataType": "Binary"},
        "Text": {"BinaryValue": "hi", "DataType": "Binary.text"},
        "Lists": {"StringListValues": ["a", 7], "BinaryListValues": [b"ab", "cd"], "DataType": "String"},
        "Untyped": {"StringValue": 5},
    })
    assert shaped == {
        "Blob": {"binaryValue": "AAH/", "stringListValues": [], "binaryListValues": [], "dataType": "Binary"},
        "Text": {"binaryValue": "aGk=", "stringListValues": [], "binaryListValues": [], "dataType": "Binary.text"},
        "Lists": {"stringListValues": ["a", "7"], "binaryListValues": ["YWI=", "Y2Q="], "dataType": "String"},
        "Untyped": {"stringValue": "5", "stringListValues": [], "binaryListValues": [], "dataType": "String"},
    }
    assert list(shaped["Blob"]) == ["binaryValue", "stringListValues", "binaryListValues", "dataType"]
    # A value SQS reports as None is left out, as Lambda leaves out the value a type does not carry
    none = lambda_message_attributes({"N": {"StringValue": None, "BinaryValue": None, "StringListValues": None,
                                            "BinaryListValues": None, "DataType": "String"}})
    assert none == {"N": {"stringListValues": [], "binaryListValues": [], "dataType": "String"}}


def test_fifo_attributes_in_the_documented_order_with_a_sequence_number() -> None:
    recorded_fifo = recorded_record("test_report_batch_item_failures", "first_invocation", "Messages", 0, "Body",
                                    "event", "Records", 0)["attributes"]
    attributes = record_attributes(message(FIFO))
    assert set(attributes) == set(recorded_fifo)
    # The FIFO example of with-sqs.html: SequenceNumber and MessageGroupId after SentTimestamp, the
    # deduplication id after SenderId
    assert list(attributes) == ["ApproximateReceiveCount", "SentTimestamp", "SequenceNumber", "MessageGroupId",
                                "SenderId", "MessageDeduplicationId", "ApproximateFirstReceiveTimestamp"]
    assert attributes["MessageGroupId"] == "group-a" and attributes["MessageDeduplicationId"] == "dedup-1"
    given = record_attributes(message({**FIFO, "SequenceNumber": "18849496460467696128"}))
    assert given["SequenceNumber"] == "18849496460467696128"
    assert list(given) == list(attributes)


def test_the_trace_header_follows_the_receive_count_and_other_attributes_are_left_out() -> None:
    attributes = record_attributes(message({**STANDARD, "AWSTraceHeader": "Root=1-5759e988-bd862e3fe1be46a994272793",
                                            "DeadLetterQueueSourceArn": QUEUE}))
    assert list(attributes) == ["ApproximateReceiveCount", "AWSTraceHeader", "SentTimestamp", "SenderId",
                                "ApproximateFirstReceiveTimestamp"]
    assert attributes["AWSTraceHeader"] == "Root=1-5759e988-bd862e3fe1be46a994272793"


def test_missing_standard_attributes_are_present_and_empty() -> None:
    attributes = record_attributes(message({"ApproximateReceiveCount": "2"}))
    assert attributes == {"ApproximateReceiveCount": "2", "SentTimestamp": "", "SenderId": "",
                          "ApproximateFirstReceiveTimestamp": ""}
    assert list(attributes) == ["ApproximateReceiveCount", "SentTimestamp", "SenderId",
                                "ApproximateFirstReceiveTimestamp"]
    assert record_attributes(message({}))["ApproximateReceiveCount"] == ""


def test_a_synthetic_sequence_number_is_20_digits_stable_and_ordered_by_send_time() -> None:
    first = synthetic_sequence_number("id-1", "1700000000123")
    assert len(first) == 20 and first.isdigit()
    assert first == synthetic_sequence_number("id-1", "1700000000123")  # the same on every redelivery
    assert first.startswith("1700000000123")
    assert synthetic_sequence_number("id-0", "1700000000124") > synthetic_sequence_number("id-9", "1700000000123")
    # Messages sent in the same millisecond still get distinct numbers of the same length
    same_ms = {synthetic_sequence_number(f"id-{i}", "1700000000123") for i in range(200)}
    assert len(same_ms) == 200 and {len(n) for n in same_ms} == {20}
    assert synthetic_sequence_number("id-1", "").startswith("0" * 13)
    fifo = record_attributes(message({"MessageGroupId": "g"}))
    assert fifo["SequenceNumber"].startswith("0" * 13) and len(fifo["SequenceNumber"]) == 20
    # A FIFO record whose queue gave no sequence number gets the message's own, ordered by its send time
    sent = record_attributes(message(FIFO))["SequenceNumber"]
    assert sent == synthetic_sequence_number("059f36b4-87a3-44ab-83d2-661975830a7d", "1700000000123")
    assert sent.startswith("1700000000123")


def test_receive_count_and_group_of_a_message() -> None:
    assert message(FIFO).receive_count == 3 and message(FIFO).group_id == "group-a"
    assert message({}).receive_count == 1 and message({}).group_id is None


def test_encoded_size_is_the_records_json_bytes() -> None:
    small = event_record(message(body=""), queue_arn=QUEUE, region="eu-west-1")
    large = event_record(message(body="é" * 1000), queue_arn=QUEUE, region="eu-west-1")
    assert encoded_size(small) == len(json.dumps(small))
    assert encoded_size(large) - encoded_size(small) == len(json.dumps("é" * 1000)) - 2


def test_the_observer_sees_a_message_by_its_id_group_body_and_send_time() -> None:
    fifo = message(FIFO)
    expected = StreamRecord(sequence_number=fifo.message_id, partition_key="group-a", data=b'{"foo": "bar"}',
                            arrival=1_700_000_000.123)
    assert as_stream_record(fifo) == expected
    assert observed_record(event_record(fifo, queue_arn=QUEUE, region="eu-west-1")) == expected
    standard = message()
    assert as_stream_record(standard).partition_key == "" == observed_record(
        event_record(standard, queue_arn=QUEUE, region="eu-west-1")).partition_key
    unsent = message({})
    assert as_stream_record(unsent).arrival == 0.0
    assert observed_record(event_record(unsent, queue_arn=QUEUE, region="eu-west-1")).arrival == 0.0
