"""Benchmark handlers. ``silent`` and ``loud`` note the wall time at their first line, keyed by the first
record's partition key, in the file named by BENCH_PROBE_FILE (appends of one short line are atomic);
``loud`` also prints, ``silent`` writes nothing to stdout or stderr. ``noop`` measures invoke overhead."""

import os
import time

_PROBE = os.environ.get("BENCH_PROBE_FILE")
_FD = os.open(_PROBE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644) if _PROBE else -1


def silent(event, context):
    entered = time.time()
    key = event["Records"][0]["kinesis"]["partitionKey"]
    os.write(_FD, f"{key} {entered!r}\n".encode())
    return {}


def loud(event, context):
    entered = time.time()
    key = event["Records"][0]["kinesis"]["partitionKey"]
    os.write(_FD, f"{key} {entered!r}\n".encode())
    print(f"got {len(event['Records'])} record(s), first {key}")
    return {}


def noop(event, context):
    return {"ok": True}
