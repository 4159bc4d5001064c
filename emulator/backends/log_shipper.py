"""What the Lambda service does with an invocation's output: it writes it to CloudWatch Logs, log group
``/aws/lambda/NAME``, one log stream per execution environment (``YYYY/MM/DD/[$LATEST]<32 hex>``), one log
event per line (START, the handler's lines, END, REPORT).
https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html

``LogShipper`` takes every finished invocation from the runtime (``LambdaRuntime.on_invocation``), hands its
lines to live listeners (``pipemu up`` prints them) and writes them in the background through a ``LogSink``:
moto's logs backend in process on the embedded backend (``moto_seams.lambda_logs``), ``PutLogEvents`` through
boto3 on an endpoint pipemu drives from the client side. Either way ``GetLogEvents``, ``FilterLogEvents``,
``DescribeLogGroups`` and ``aws logs tail`` read them back.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import ClientError

from emulator.runtime import FunctionSpec, InvocationResult

log = logging.getLogger(__name__)

# PutLogEvents takes at most 10,000 events or 1,048,576 bytes (26 bytes of overhead per event).
# https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html
MAX_BATCH_EVENTS = 10_000
MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD_BYTES = 26


def log_group(function_name: str) -> str:
    return f"/aws/lambda/{function_name}"


@dataclass(frozen=True)
class LogLine:
    """One log event of one invocation, as live listeners see it."""

    function: str
    stream: str
    timestamp_ms: int
    message: str


class LogSink(Protocol):
    def ensure_group(self, account: str, region: str, group: str) -> None: ...

    def write(self, account: str, region: str, group: str, stream: str, events: list[dict[str, Any]]) -> None:
        """Append ``events`` (``{"timestamp": ms, "message": str}``, in time order), creating the group and the
        stream when they do not exist (a reset may have removed them)."""
        ...


class Boto3LogSink:
    """Writes through a CloudWatch Logs client (an endpoint that stores logs but runs no Lambda code)."""

    def __init__(self, client: Callable[[], Any]) -> None:
        self._client = client
        self._streams: set[tuple[str, str]] = set()

    def ensure_group(self, account: str, region: str, group: str) -> None:
        try:
            self._client().create_log_group(logGroupName=group)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceAlreadyExistsException":
                raise

    def write(self, account: str, region: str, group: str, stream: str, events: list[dict[str, Any]]) -> None:
        client = self._client()
        if (group, stream) not in self._streams:
            self._create_stream(account, region, group, stream)
        try:
            client.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            self._create_stream(account, region, group, stream)
            client.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)

    def _create_stream(self, account: str, region: str, group: str, stream: str) -> None:
        self.ensure_group(account, region, group)
        try:
            self._client().create_log_stream(logGroupName=group, logStreamName=stream)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceAlreadyExistsException":
                raise
        self._streams.add((group, stream))


def log_events(result: InvocationResult) -> list[dict[str, Any]]:
    """One event per line. The invocation's lines are dated when it started; END and REPORT when it ended."""
    started_ms = int(result.started * 1000)
    ended_ms = started_ms + int(result.duration_ms + (result.init_duration_ms or 0.0))
    events = []
    for line in result.logs.splitlines():
        if not line:
            continue
        at = ended_ms if line.startswith(("END RequestId:", "REPORT RequestId:")) else started_ms
        events.append({"timestamp": at, "message": line})
    return events


def _batches(events: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    out: list[list[dict[str, Any]]] = [[]]
    size = 0
    for event in events:
        cost = len(event["message"].encode()) + EVENT_OVERHEAD_BYTES
        if out[-1] and (len(out[-1]) >= MAX_BATCH_EVENTS or size + cost > MAX_BATCH_BYTES):
            out.append([])
            size = 0
        out[-1].append(event)
        size += cost
    return [batch for batch in out if batch]


_Key = tuple[str, str, str, str]  # account, region, group, stream


class LogShipper:
    """Background writer of invocation logs; ``record`` is the runtime's invocation listener."""

    def __init__(self, sink: LogSink) -> None:
        self._sink = sink
        self._queue: queue.Queue[tuple[_Key, list[dict[str, Any]]] | None] = queue.Queue()
        self._listeners: list[Callable[[LogLine], None]] = []
        self._idle = threading.Condition()
        self._pending = 0
        self._thread = threading.Thread(target=self._run, name="pipemu-lambda-logs", daemon=True)
        self._thread.start()

    def subscribe(self, listener: Callable[[LogLine], None]) -> Callable[[], None]:
        """Call ``listener(line)`` for every log line as invocations finish; returns the unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def created(self, function_arn: str) -> None:
        """A function was created: its log group exists from now on (AWS creates it by the first invoke)."""
        _, _, _, region, account, _, name = function_arn.split(":")[:7]
        self._sink.ensure_group(account, region, log_group(name))

    def record(self, fn: FunctionSpec, result: InvocationResult) -> None:
        events = log_events(result)
        if not events:
            return
        parts = fn.arn.split(":")
        stream = result.log_stream or "unknown"
        for listener in list(self._listeners):
            for event in events:
                listener(LogLine(fn.name, stream, event["timestamp"], event["message"]))
        with self._idle:
            self._pending += 1
        self._queue.put(((parts[4], parts[3], log_group(fn.name), stream), events))

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until everything recorded so far is written; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout_s)

    def close(self, timeout_s: float = 5.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout_s)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            items = [item]
            while True:  # everything queued meanwhile goes out in one request per stream
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._write(items)
                    return
                items.append(more)
            self._write(items)

    def _write(self, items: list[tuple[_Key, list[dict[str, Any]]]]) -> None:
        by_stream: dict[_Key, list[dict[str, Any]]] = {}
        for key, events in items:
            by_stream.setdefault(key, []).extend(events)
        try:
            for (account, region, group, stream), events in by_stream.items():
                events.sort(key=lambda e: e["timestamp"])  # PutLogEvents wants time order within a request
                for batch in _batches(events):
                    self._sink.write(account, region, group, stream, batch)
        except Exception as exc:  # logs are best effort: a sink failure (endpoint gone, store reset) must not
            # stop the writer, and the next batch recreates what is missing
            log.warning("could not write Lambda logs to CloudWatch Logs: %s", exc)
        finally:
            with self._idle:
                self._pending -= len(items)
                self._idle.notify_all()
