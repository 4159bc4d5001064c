"""Worker side: where handler output goes, the ``logging`` setup, and the context object.

Everything the handler writes through ``sys.stdout``, ``sys.stderr`` or ``logging`` becomes a LOG frame on the
private event pipe, written immediately and in order with the RESULT frame, so the parent has every line the
moment the result arrives (no waiting for output to "settle") and keeps the lines written before a crash or a
timeout. This mirrors the AWS runtime, which makes stdout/stderr unbuffered and sends log frames to a
telemetry fd: https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html
"""

from __future__ import annotations

import io
import logging
import os
import threading
import time
from typing import Any

from emulator.runtime import protocol


class EventSink:
    """The worker's end of the event pipe. One lock, so frames from handler threads never interleave."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._lock = threading.Lock()

    def send(self, kind: int, header: object | None = None, body: bytes = b"") -> None:
        frame = protocol.encode(kind, header, body)
        with self._lock:
            protocol.write_all(self._fd, frame)

    def log(self, text: str) -> None:
        if text:
            self.send(protocol.LOG, None, text.encode("utf-8", "backslashreplace"))


class _BinaryLog(io.RawIOBase):
    """``sys.stdout.buffer``: bytes written by the handler are logged as text."""

    def __init__(self, sink: EventSink, fd: int) -> None:
        self._sink = sink
        self._fd = fd

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        raw = bytes(data)
        self._sink.log(raw.decode("utf-8", "replace"))
        return len(raw)

    def fileno(self) -> int:
        return self._fd


class LogStream(io.TextIOBase):
    """Replacement for ``sys.stdout``/``sys.stderr``: every write is sent at once (AWS makes both unbuffered).

    ``fileno()`` is the real fd (a pipe the parent also reads), for code that hands it to a subprocess."""

    encoding = "utf-8"
    errors = "backslashreplace"

    def __init__(self, sink: EventSink, fd: int, name: str) -> None:
        self._sink = sink
        self._fd = fd
        self._name = name
        self._buffer = _BinaryLog(sink, fd)

    @property
    def buffer(self) -> _BinaryLog:
        return self._buffer

    @property
    def name(self) -> str:
        return self._name

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self._fd

    def write(self, s: str) -> int:
        self._sink.log(s)
        return len(s)

    def writelines(self, lines: Any) -> None:
        self._sink.log("".join(lines))


class _RequestIdFilter(logging.Filter):
    """Stamps the current request id on every record, as the AWS runtime's ``LambdaLoggerFilter`` does."""

    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


class _SinkHandler(logging.Handler):
    def __init__(self, sink: EventSink) -> None:
        super().__init__()
        self.log_sink = sink  # the AWS handler's attribute name; context.log() looks for it

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.log_sink.log(self.format(record))
        except Exception:
            self.handleError(record)


_REQUEST_FILTER = _RequestIdFilter()


def install_logging(sink: EventSink) -> None:
    """Root handler in the AWS text format: ``[LEVEL]\\t<UTC time>Z\\t<request id>\\t<message>\\n``.

    Like AWS, the root level is left alone (WARNING) unless AWS_LAMBDA_LOG_LEVEL is set, and timestamps are
    UTC. https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html"""
    logging.Formatter.converter = time.gmtime
    handler = _SinkHandler(sink)
    handler.setFormatter(
        logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
            "%Y-%m-%dT%H:%M:%S",
        )
    )
    handler.addFilter(_REQUEST_FILTER)
    root = logging.getLogger()
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper()
    if level in logging.getLevelNamesMapping():
        root.setLevel(level)
    root.addHandler(handler)


def set_request_id(request_id: str) -> None:
    _REQUEST_FILTER.request_id = request_id


class LambdaContext:
    """The ``context`` argument. Field names and meanings follow
    https://docs.aws.amazon.com/lambda/latest/dg/python-context.html

    ``memory_limit_in_mb`` is an int (the AWS runtime passes the env var's string; pipemu's contract says
    int). ``identity`` and ``client_context`` are None: pipemu has no mobile-SDK invocations."""

    def __init__(self, request_id: str, invoked_function_arn: str, timeout_ms: int, sink: EventSink) -> None:
        env = os.environ
        self.aws_request_id = request_id
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = invoked_function_arn
        self.memory_limit_in_mb = int(env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity: object | None = None
        self.client_context: object | None = None
        self._deadline = time.monotonic() + timeout_ms / 1000
        self._sink = sink

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))

    def log(self, msg: object) -> None:
        self._sink.log(str(msg))

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},log_group_name={self.log_group_name},"
            f"log_stream_name={self.log_stream_name},function_name={self.function_name},"
            f"memory_limit_in_mb={self.memory_limit_in_mb},function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn},client_context=None,identity=None])"
        )
