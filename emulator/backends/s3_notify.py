"""S3 -> Lambda bucket notifications for an endpoint that runs no Lambda code (a moto server would try Docker on
every matching PutObject): the Lambda part of a bucket's notification configuration stays on the client side and
a poller lists the notified buckets, invoking the function asynchronously for each new object, as S3 does.

Event shape: https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
Limits: events are ObjectCreated only (seen by listing: deletes are not seen), one object per event, the event
time is when pipemu saw the object, and failed asynchronous invocations are not retried.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

from botocore.exceptions import ClientError

log = logging.getLogger(__name__)

_GONE = frozenset({"NoSuchBucket"})


def _matches(config: dict[str, Any], key: str) -> bool:
    events = config.get("Events") or []
    if not any(fnmatch.fnmatch("s3:ObjectCreated:Put", pattern) for pattern in events):
        return False
    rules = ((config.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []
    for rule in rules:
        name, value = str(rule["Name"]).lower(), str(rule["Value"])
        if (name == "prefix" and not key.startswith(value)) or (name == "suffix" and not key.endswith(value)):
            return False
    return True


def s3_event(region: str, bucket: str, item: dict[str, Any], configuration_id: str) -> bytes:
    now = datetime.now(UTC)
    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:PIPEMU"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": uuid.uuid4().hex[:16].upper(), "x-amz-id-2": uuid.uuid4().hex},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": configuration_id,
            "bucket": {"name": bucket, "ownerIdentity": {"principalId": "PIPEMU"}, "arn": f"arn:aws:s3:::{bucket}"},
            "object": {
                "key": quote_plus(str(item["Key"]), safe="/"),
                "size": int(item.get("Size", 0)),
                "eTag": str(item.get("ETag", "")).strip('"'),
                "sequencer": f"{time.time_ns():016X}",
            },
        },
    }
    return json.dumps({"Records": [record]}).encode()


class NotificationPoller:
    """Lists each notified bucket every ``interval_s`` and hands one event per new object and matching
    configuration to ``invoke_async(function_arn, payload)``."""

    def __init__(
        self,
        s3_client: Any,
        invoke_async: Callable[[str, bytes], None],
        *,
        region: str,
        interval_s: float = 0.05,
    ) -> None:
        self._s3 = s3_client
        self._invoke = invoke_async
        self._region = region
        self._interval_s = interval_s
        self._configs: dict[str, list[dict[str, Any]]] = {}
        self._seen: dict[str, set[tuple[str, str]]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._clean_scan_started = 0.0
        self.errors: list[BaseException] = []

    def configure(self, bucket: str, configs: list[dict[str, Any]]) -> None:
        """Replace ``bucket``'s Lambda notifications. Objects already there are not notified (as on AWS)."""
        seen = self._list(bucket) if configs else set()
        with self._lock:
            if configs:
                self._configs[bucket] = [dict(c, Id=c.get("Id") or str(uuid.uuid4())) for c in configs]
                self._seen[bucket] = seen
            else:
                self._configs.pop(bucket, None)
                self._seen.pop(bucket, None)
            self._clean_scan_started = 0.0

    def configs(self, bucket: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(c) for c in self._configs.get(bucket, [])]

    def clear(self) -> None:
        with self._lock:
            self._configs.clear()
            self._seen.clear()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="pipemu-s3-notifications", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def idle_since(self, since: float) -> bool:
        """A scan that began after ``since`` (monotonic) found nothing new."""
        with self._lock:
            return not self._configs or self._clean_scan_started >= since

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            started = time.monotonic()
            try:
                found = self.scan()
            except Exception as exc:  # an endpoint error: keep it for check_alive, go on polling
                log.exception("S3 notification scan failed")
                self.errors.append(exc)
                continue
            if not found:
                with self._lock:
                    self._clean_scan_started = started

    def scan(self) -> int:
        """One pass over every notified bucket; returns how many events were sent."""
        with self._lock:
            buckets = {b: list(c) for b, c in self._configs.items()}
        sent = 0
        for bucket, configs in buckets.items():
            try:
                items = self._items(bucket)
            except ClientError as exc:
                if exc.response["Error"]["Code"] in _GONE:
                    self.configure(bucket, [])
                    continue
                raise
            with self._lock:
                seen = self._seen.setdefault(bucket, set())
                new = [i for i in items if (i["Key"], i.get("ETag", "")) not in seen]
                seen.update((i["Key"], i.get("ETag", "")) for i in new)
            for item in new:
                for config in configs:
                    if _matches(config, str(item["Key"])):
                        event = s3_event(self._region, bucket, item, str(config["Id"]))
                        self._invoke(str(config["LambdaFunctionArn"]), event)
                        sent += 1
        return sent

    def _items(self, bucket: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            items.extend(page.get("Contents", []))
        return items

    def _list(self, bucket: str) -> set[tuple[str, str]]:
        return {(str(i["Key"]), str(i.get("ETag", ""))) for i in self._items(bucket)}


class LocalS3Client:
    """A boto3 S3 client whose bucket notification configuration keeps its Lambda part on the client side;
    queue and topic notifications go to the endpoint, which delivers them itself."""

    def __init__(self, real: Any, poller: NotificationPoller) -> None:
        self._real = real
        self._poller = poller

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def put_bucket_notification_configuration(self, **kwargs: Any) -> Any:
        config = dict(kwargs["NotificationConfiguration"])
        lambdas = list(config.pop("LambdaFunctionConfigurations", []))
        response = self._real.put_bucket_notification_configuration(**{**kwargs, "NotificationConfiguration": config})
        self._poller.configure(str(kwargs["Bucket"]), lambdas)
        return response

    def get_bucket_notification_configuration(self, **kwargs: Any) -> Any:
        response = dict(self._real.get_bucket_notification_configuration(**kwargs))
        lambdas = self._poller.configs(str(kwargs["Bucket"]))
        if lambdas:
            response["LambdaFunctionConfigurations"] = lambdas
        return response


Arrival = Callable[[str, str, bytes, float], None]
"""(bucket, key, body, arrived wall time), as the embedded backend's ``watch_s3`` listeners get them."""


class ArrivalWatcher:
    """``watch_s3`` for an endpoint: lists the watched buckets every ``interval_s`` and reports each new object
    with the time the listing that first showed it returned, so latencies are measured while the run goes on,
    at most one interval late. Listing costs O(objects in the bucket): fine for scenario-sized outputs."""

    def __init__(self, s3_client: Any, *, interval_s: float = 0.02) -> None:
        self._s3 = s3_client
        self._interval_s = interval_s
        self._listeners: list[tuple[Arrival, frozenset[str] | None]] = []
        self._seen: dict[str, set[tuple[str, str]]] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._clean_scan_started = 0.0
        self.errors: list[BaseException] = []

    def subscribe(self, listener: Arrival, buckets: set[str] | None = None) -> Callable[[], None]:
        """Objects already there are not reported; returns the unsubscribe."""
        entry = (listener, frozenset(buckets) if buckets is not None else None)
        for bucket in self._buckets([entry]):
            if bucket not in self._seen:
                self._seen[bucket] = {(str(i["Key"]), str(i.get("ETag", ""))) for i in self._items(bucket)}
        with self._lock:
            self._listeners.append(entry)
            if self._thread is None or not self._thread.is_alive():
                self._wake.clear()
                self._thread = threading.Thread(target=self._run, name="pipemu-s3-arrivals", daemon=True)
                self._thread.start()

        def unsubscribe() -> None:
            with self._lock:
                if entry in self._listeners:
                    self._listeners.remove(entry)
                if not self._listeners:
                    self._seen.clear()
                    self._wake.set()

        return unsubscribe

    def stop(self) -> None:
        with self._lock:
            self._listeners.clear()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(5)

    def idle_since(self, since: float) -> bool:
        with self._lock:
            return not self._listeners or self._clean_scan_started >= since

    def _buckets(self, listeners: list[tuple[Arrival, frozenset[str] | None]]) -> set[str]:
        if any(b is None for _, b in listeners):
            return {str(b["Name"]) for b in self._s3.list_buckets().get("Buckets", [])}
        return {bucket for _, buckets in listeners for bucket in buckets or ()}

    def _items(self, bucket: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            items.extend(page.get("Contents", []))
        return items

    def _run(self) -> None:
        while not self._wake.wait(self._interval_s):
            with self._lock:
                listeners = list(self._listeners)
            if not listeners:
                return
            started = time.monotonic()
            try:
                found = self._scan(listeners)
            except ClientError as exc:
                if exc.response["Error"]["Code"] in _GONE:
                    continue  # a bucket deleted under the watch (reset): the next scan lists again
                log.exception("S3 arrival scan failed")
                self.errors.append(exc)
                continue
            except Exception as exc:
                log.exception("S3 arrival scan failed")
                self.errors.append(exc)
                continue
            if not found:
                with self._lock:
                    self._clean_scan_started = started

    def _scan(self, listeners: list[tuple[Arrival, frozenset[str] | None]]) -> int:
        found = 0
        for bucket in sorted(self._buckets(listeners)):
            items = self._items(bucket)
            arrived = time.time()
            seen = self._seen.setdefault(bucket, set())
            for item in items:
                ident = (str(item["Key"]), str(item.get("ETag", "")))
                if ident in seen:
                    continue
                seen.add(ident)
                try:
                    body = self._s3.get_object(Bucket=bucket, Key=ident[0])["Body"].read()
                except ClientError as exc:
                    if exc.response["Error"]["Code"] != "NoSuchKey":
                        raise
                    continue  # deleted between the listing and the read (a handler moving it): nothing to report
                found += 1
                for listener, buckets in listeners:
                    if buckets is None or bucket in buckets:
                        listener(bucket, ident[0], body, arrived)
        return found
