"""The endpoint backend's S3 arrival watcher: objects that come and go under it are not a harness failure."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from waiting import wait_for

from emulator.backends.s3_notify import ArrivalWatcher


class DeletedBeforeRead:
    """An S3 client whose object ``gone`` is deleted between the listing and the read, as a handler that moves
    its input elsewhere (copy, then delete) does while the watcher scans."""

    def __init__(self, real: Any, gone: str) -> None:
        self._real = real
        self._gone = gone

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def get_object(self, **kwargs: Any) -> Any:
        if kwargs["Key"] == self._gone:
            self._real.delete_object(Bucket=kwargs["Bucket"], Key=self._gone)
        return self._real.get_object(**kwargs)


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="testing",
                              aws_secret_access_key="testing")
        client.create_bucket(Bucket="out")
        yield client


def test_an_object_deleted_before_it_is_read_is_skipped_and_the_watch_goes_on(s3: Any) -> None:
    # GIVEN a watcher on a bucket, and an object that a handler deletes while the watcher lists it
    watcher = ArrivalWatcher(DeletedBeforeRead(s3, gone="moved"), interval_s=0.01)
    seen: list[tuple[str, bytes]] = []
    watcher.subscribe(lambda bucket, key, body, at: seen.append((key, body)), {"out"})
    try:
        s3.put_object(Bucket="out", Key="moved", Body=b"1")
        s3.put_object(Bucket="out", Key="kept", Body=b"2")
        # WHEN the watcher scans
        wait_for("the object that stayed reported", lambda: list(seen), bool, timeout=30)
        s3.put_object(Bucket="out", Key="later", Body=b"3")
        wait_for("the watch going on after the deleted object", lambda: list(seen), lambda s: len(s) == 2, timeout=30)
    finally:
        watcher.stop()
    # THEN the objects that stayed are reported with their bodies, the deleted one is not, and nothing failed
    assert seen == [("kept", b"2"), ("later", b"3")]
    assert watcher.errors == []
