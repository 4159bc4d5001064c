"""Helpers shared by the benchmarks: memory readings, percentiles, a throwaway pipeline, click payloads."""

from __future__ import annotations

import json
import resource
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from hdrh.histogram import HdrHistogram

ROOT = Path(__file__).resolve().parent.parent
HANDLERS = Path(__file__).resolve().parent / "handlers"
CLICKSTREAM = ROOT / "fixtures" / "clickstream" / "pipeline.yaml"


def rss_mib() -> float:
    """Resident set size now (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentiles_ms(samples_s: Iterable[float], *quantiles: float) -> list[float]:
    """Percentiles of durations given in seconds, via an HDR histogram at microsecond resolution."""
    histogram = HdrHistogram(1, 60_000_000, 3)
    for s in samples_s:
        histogram.record_value(max(1, int(s * 1_000_000)))
    return [histogram.get_value_at_percentile(q) / 1000 for q in quantiles]


def wait_until(done: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout_s:.0f} s for {what}")
        time.sleep(0.005)


def write_pipeline(text: str) -> Path:
    """A pipeline file in a fresh temporary directory, with the benchmark handlers copied beside it as
    ``handlers/`` (pipemu keeps handler code inside the pipeline's project directory)."""
    folder = Path(tempfile.mkdtemp(prefix="pipemu-bench-"))
    shutil.copytree(HANDLERS, folder / "handlers", ignore=shutil.ignore_patterns("__pycache__"))
    path = folder / "pipeline.yaml"
    path.write_text(text)
    return path


def click_records(count: int, *, seed: int = 7) -> list[dict[str, Any]]:
    """PutRecords entries shaped like the clickstream fixture's events (about 190 bytes each)."""
    out = []
    for i in range(count):
        user = (i * 7919 + seed) % 200 + 1
        click = {
            "event_id": str(uuid.UUID(int=(i << 64) | seed)),
            "user_id": user,
            "url": f"https://www.example{user % 17}.com/category/item-{i % 997}.html",
            "ts": "2026-11-26T04:00:00",
        }
        out.append({"Data": json.dumps(click, separators=(",", ":")).encode(), "PartitionKey": str(user)})
    return out


def batches(records: list[dict[str, Any]], size: int = 500) -> list[list[dict[str, Any]]]:
    return [records[i : i + size] for i in range(0, len(records), size)]


def put_all(kinesis: Any, stream: str, records: list[dict[str, Any]]) -> float:
    """Put every record in 500-record PutRecords calls from this thread; returns the wall seconds taken.
    Throttled entries are retried (moto does not throttle, so this is only a guard)."""
    started = time.perf_counter()
    for batch in batches(records):
        pending = batch
        while pending:
            response = kinesis.put_records(StreamName=stream, Records=pending)
            pending = [e for e, r in zip(pending, response["Records"], strict=True) if "ErrorCode" in r]
    return time.perf_counter() - started
