"""Frames exchanged between the runtime (parent) and a worker over two private pipes.

The pipes are passed to the worker with ``pass_fds`` and are never the worker's stdout/stderr, so nothing the
handler prints can corrupt the protocol. A frame is::

    u32 total length (of everything after this field) | u8 kind | u32 header length | header JSON | body

The header is a small JSON object (typed below); the body is raw bytes (a payload or log text), so payloads
and logs are never re-encoded. This module is imported by the worker, so it stays dependency-free and cheap.
"""

from __future__ import annotations

import json
import os
import select
import struct
import time
from typing import Any, NamedTuple, NotRequired, TypedDict

_PREFIX = struct.Struct(">IBI")

# worker -> parent
READY = 1  # init finished (the parent times init itself, interpreter start included)
INIT_ERROR = 2  # init failed; header: InitErrorHeader, body: AWS error JSON
LOG = 3  # handler output; body: UTF-8 text
RESULT = 4  # invocation finished; header: ResultHeader, body: response or AWS error JSON
OOM = 5  # handler ran out of memory; the worker kills itself right after
# parent -> worker
INVOKE = 10  # header: InvokeHeader, body: the event payload
ASSIGN = 11  # to a pre-started worker: header AssignHeader (the function it becomes)


class AssignHeader(TypedDict):
    env: dict[str, str]  # the whole environment, replacing the neutral one the worker started with
    cwd: str
    args: list[str]  # the command-line flags a worker started for this function would have had


class InitErrorHeader(TypedDict):
    error_type: str
    hint: str


class FaultHeader(TypedDict):
    kind: str | None  # "error" | "timeout" | "crash" | None
    latency_ms: float


class InvokeHeader(TypedDict):
    request_id: str
    timeout_ms: int
    invoked_function_arn: str
    fault: NotRequired[FaultHeader]


class ResultHeader(TypedDict):
    ok: bool
    duration_ms: float
    max_rss_mb: int
    exiting: NotRequired[bool]  # the worker exits right after this result (Node.js: an uncaught exception)


class Frame(NamedTuple):
    kind: int
    header: dict[str, Any]
    body: bytes


def encode(kind: int, header: object | None = None, body: bytes = b"") -> bytes:
    head = json.dumps(header, separators=(",", ":")).encode() if header is not None else b""
    return _PREFIX.pack(5 + len(head) + len(body), kind, len(head)) + head + body


class FrameReader:
    """Accumulates bytes read from a pipe and yields complete frames; a trailing partial frame stays
    buffered."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> None:
        self._buf += data

    def next(self) -> Frame | None:
        if len(self._buf) < _PREFIX.size:
            return None
        total, kind, head_len = _PREFIX.unpack_from(self._buf)
        end = 4 + total
        if len(self._buf) < end:
            return None
        head_end = _PREFIX.size + head_len
        header = json.loads(bytes(self._buf[_PREFIX.size : head_end])) if head_len else {}
        body = bytes(self._buf[head_end:end])
        del self._buf[:end]
        return Frame(kind, header, body)


def write_all(fd: int, data: bytes, deadline: float | None = None) -> None:
    """Write every byte to ``fd``. With a ``deadline`` (monotonic) the fd must be non-blocking, and a reader
    that stops reading makes this raise ``TimeoutError`` instead of hanging the caller forever."""
    view = memoryview(data)
    poller: select.poll | None = None
    while view:
        try:
            n = os.write(fd, view)
        except BlockingIOError:
            if deadline is None:
                raise
            if poller is None:
                poller = select.poll()
                poller.register(fd, select.POLLOUT)
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not poller.poll(remaining * 1000):
                raise TimeoutError("pipe reader stopped reading") from None
            continue
        view = view[n:]
