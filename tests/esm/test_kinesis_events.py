"""The Kinesis on-failure record and its timestamps, against the AWS recording
(``test_kinesis_event_source_mapping_with_on_failure_destination_config`` in the Kinesis snapshot)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from esm_fakes import records

from emulator.esm.streams.kinesis_events import iso_ms, on_failure_record

FN = "arn:aws:lambda:us-east-1:123456789012:function:fn"
STREAM = "arn:aws:kinesis:us-east-1:123456789012:stream/s"


def failure(**overrides: object) -> dict[str, object]:
    context: dict[str, object] = dict(
        condition="RetryAttemptsExhausted", invoke_count=2, function_arn=FN, shard_id="shardId-000000000000",
        stream_arn=STREAM, now=1_700_000_000.5, function_error="Unhandled", invoked=True,
    )
    return dict(on_failure_record(records(2), **(context | overrides)))  # type: ignore[arg-type]


def test_the_on_failure_record_has_the_recorded_shape() -> None:
    # GIVEN the record for a batch given up after two invocations that raised
    record = failure()
    # THEN its keys, in AWS's order, and the constant fields are the recorded ones
    assert list(record) == ["requestContext", "responseContext", "version", "timestamp", "KinesisBatchInfo"]
    assert list(record["requestContext"]) == ["requestId", "functionArn", "condition", "approximateInvokeCount"]
    assert record["version"] == "1.0"
    assert record["timestamp"] == "2023-11-14T22:13:20.500Z"


def test_each_on_failure_record_has_its_own_uuid_request_id() -> None:
    first, second = failure()["requestContext"], failure()["requestContext"]
    ids = [first["requestId"], second["requestId"]]  # type: ignore[index]
    assert [str(uuid.UUID(i)) for i in ids] == ids and ids[0] != ids[1]


@pytest.fixture
def new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("new_york")
def test_timestamps_are_utc_with_milliseconds_whatever_the_local_time_zone() -> None:
    assert iso_ms(1_700_000_000.123) == "2023-11-14T22:13:20.123Z"
    assert iso_ms(1_700_000_000.0) == "2023-11-14T22:13:20.000Z"
