"""Seam: tell pipemu the instant each S3 object is written, with its bytes.

Latency is measured from an event's send to its output's arrival. S3's LastModified has one-second
resolution on the wire, and polling ListObjects adds its interval to every figure, so on the embedded
backend we observe ``moto.s3.models.S3Backend.put_object`` directly. The object is still stored by moto as
usual; this only reports it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from moto.s3.exceptions import S3ClientError
from moto.s3.models import S3Backend

TOUCHES = ("moto.s3.models.S3Backend.put_object(bucket_name, key_name, value, ...)",)

Listener = Callable[[str, str, bytes, float], None]

FailDecider = Callable[[str, str], bool]

_original: Callable[..., Any] | None = None
_listener: Listener | None = None
_fail: FailDecider | None = None
_lock = threading.Lock()


class SlowDown(S3ClientError):
    """What S3 answers a prefix it is throttling (HTTP 503); used to inject write failures."""

    code = "SlowDown"

    def __init__(self) -> None:
        super().__init__("SlowDown", "Please reduce your request rate. (injected by pipemu)")


def set_write_failures(decider: FailDecider | None) -> None:
    """``decider(bucket, key)`` True makes that PutObject fail with SlowDown (scenario fault injection)."""
    global _fail
    _fail = decider


def _patched_put_object(
    self: Any, bucket_name: str, key_name: str, value: bytes, *args: Any, **kwargs: Any
) -> Any:
    assert _original is not None
    fail = _fail
    if fail is not None and fail(bucket_name, key_name):
        raise SlowDown()
    key = _original(self, bucket_name, key_name, value, *args, **kwargs)
    listener = _listener
    if listener is not None:
        listener(bucket_name, key_name, bytes(value), time.time())
    return key


def install(listener: Listener) -> None:
    global _original, _listener
    with _lock:
        _listener = listener
        if _original is None:
            _original = S3Backend.put_object
            setattr(S3Backend, "put_object", _patched_put_object)


def uninstall() -> None:
    global _original, _listener
    with _lock:
        _listener = None
        set_write_failures(None)
        if _original is not None:
            setattr(S3Backend, "put_object", _original)
            _original = None
