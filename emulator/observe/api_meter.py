"""Counts the AWS API requests a pipeline makes, as AWS bills them: by service and operation, with the payload
sizes that decide billed units (SQS and SNS bill each 64 KB chunk as one request; DynamoDB writes 1 KB units).

The embedded backend's HTTP server calls ``ApiMeter.record`` for every request it answers while metering is on.
Requests the harness makes to watch the pipeline (reading dead-letter queues, listing outputs) are not the
pipeline's cost: the harness makes them inside ``observer_calls()``, which marks them with ``OBSERVER_HEADER``.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

OBSERVER_HEADER = "X-Pipemu-Observer"
_ENVIRON_OBSERVER = "HTTP_X_PIPEMU_OBSERVER"
_local = threading.local()
# S3 requests billed at the PUT/COPY/POST/LIST rate; everything else but DELETE at the GET rate
# (https://aws.amazon.com/s3/pricing/, "Requests & data retrievals").
_S3_FREE = frozenset({"DELETE", "OPTIONS"})


@dataclass
class ApiCount:
    requests: int = 0
    chunks_64k: int = 0  # ceil(max(request, response) / 64 KiB), at least 1, per request
    kib_in: int = 0  # ceil(request body / 1 KiB) per request
    units_4k_out: int = 0  # ceil(response body / 4 KiB), at least 1, per request
    bytes_in: int = 0


def _ceil_div(n: int, d: int) -> int:
    return -(-n // d)


def service_of(environ: dict[str, Any]) -> str:
    """The service in the SigV4 credential scope: ``Credential=AKID/20260101/us-east-1/s3/aws4_request``."""
    auth = str(environ.get("HTTP_AUTHORIZATION", ""))
    _, _, scope = auth.partition("Credential=")
    parts = scope.split(",", 1)[0].split("/")
    return parts[3] if len(parts) > 3 else "unknown"


def operation_of(service: str, environ: dict[str, Any], body: bytes | None) -> str:
    target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
    if target:
        return target.rsplit(".", 1)[-1]
    if service == "s3":
        method = str(environ.get("REQUEST_METHOD", "GET"))
        if method in _S3_FREE:
            return method
        query = str(environ.get("QUERY_STRING", ""))
        path = str(environ.get("PATH_INFO", "/")).strip("/")
        listing = method == "GET" and ("/" not in path or "list-type" in query)
        return "LIST" if listing else method
    if body:  # query protocol (SNS, older SQS): Action in the form body
        action = parse_qs(body.decode("latin-1")).get("Action")
        if action:
            return action[0]
    query_action = parse_qs(str(environ.get("QUERY_STRING", ""))).get("Action")
    return query_action[0] if query_action else str(environ.get("REQUEST_METHOD", "?"))


class ApiMeter:
    """Thread-safe counters per (service, operation); counts only between ``start()`` and ``stop()``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str], ApiCount] = {}
        self.active = False

    def start(self) -> None:
        with self._lock:
            self._counts.clear()
            self.active = True

    def stop(self) -> dict[tuple[str, str], ApiCount]:
        """Stop counting; return what was counted since ``start`` (and forget it)."""
        with self._lock:
            self.active = False
            counts, self._counts = self._counts, {}
            return counts

    def record(self, environ: dict[str, Any], body: bytes | None, request_bytes: int, response_bytes: int) -> None:
        if not self.active or environ.get(_ENVIRON_OBSERVER):
            return
        service = service_of(environ)
        key = (service, operation_of(service, environ, body))
        with self._lock:
            count = self._counts.setdefault(key, ApiCount())
            count.requests += 1
            count.chunks_64k += max(1, _ceil_div(max(request_bytes, response_bytes), 65536))
            count.kib_in += _ceil_div(request_bytes, 1024)
            count.units_4k_out += max(1, _ceil_div(response_bytes, 4096))
            count.bytes_in += request_bytes


@contextlib.contextmanager
def observer_calls() -> Iterator[None]:
    """Requests made in this block, by clients passed to ``mark_observer``, are the harness's, not the pipeline's."""
    depth = getattr(_local, "depth", 0)
    _local.depth = depth + 1
    try:
        yield
    finally:
        _local.depth = depth


def _tag(request: Any, **_: Any) -> None:
    if getattr(_local, "depth", 0):
        request.headers[OBSERVER_HEADER] = "1"


def mark_observer(client: Any) -> Any:
    """Let ``client``'s calls inside ``observer_calls()`` carry the observer header (idempotent)."""
    client.meta.events.register("before-sign", _tag, unique_id="pipemu-observer-tag")
    return client
