"""Figure 2: put-to-handler latency at 200 events/s, BatchSize 1, window 0, for a handler that prints and one
that prints nothing, in Python (``probe.py``) and in Node.js (``probe.mjs``, figures ending ``_node``).

Measured from just before PutRecords to the handler's first line (the handler notes ``time.time()`` there, see
``handlers/probe.py``). Baseline: the PutRecords call itself, the floor no delivery can beat (a record is not
readable before the put that stores it returns).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench.common import percentiles_ms, wait_until, write_pipeline
from bench.figures import Figure
from bench.wiring import embedded
from emulator.deploy import Deployer
from emulator.spec.pipeline import load_pipeline

RATE = 200.0

PIPELINE = """
pipeline: bench-latency
streams:
  lat-{name}: {{shards: 1}}
functions:
  probe-{name}:
    code: handlers/
    handler: probe.{kind}
    runtime: {runtime}
    timeout: 5
    environment: {{BENCH_PROBE_FILE: {probe}}}
mappings:
  - source: stream/lat-{name}
    function: probe-{name}
    batch_size: 1
    maximum_batching_window_in_seconds: 0
    starting_position: TRIM_HORIZON
"""


def _measure(kind: str, count: int, runtime: str = "python3.12") -> tuple[list[float], list[float]]:
    """(put-to-handler seconds, PutRecords call seconds) for ``count`` events after a warm-up."""
    probe = Path(tempfile.mkdtemp(prefix="pipemu-bench-probe-")) / "entered.txt"
    probe.touch()
    name = f"{kind}-{runtime.replace('.', '-')}"  # moto's state outlives one backend: names differ per run
    spec = load_pipeline(write_pipeline(PIPELINE.format(name=name, kind=kind, probe=probe, runtime=runtime)))
    warmup = 50
    with embedded() as backend:
        deployment = Deployer(backend.client).deploy(spec)
        backend.warm(deployment.concurrency(spec))
        assert backend.esm is not None
        backend.esm.wait_synced()
        kinesis = backend.client("kinesis")
        stream = deployment.stream_names[f"lat-{name}"]
        sent: dict[str, float] = {}
        put_s: list[float] = []
        t0 = time.monotonic()
        for i in range(warmup + count):
            due = t0 + i / RATE
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            key = f"k{i}"
            started = time.time()
            kinesis.put_records(StreamName=stream, Records=[{"Data": b'{"n":%d}' % i, "PartitionKey": key}])
            ended = time.time()
            if i >= warmup:
                sent[key] = started
                put_s.append(ended - started)

        def entered() -> dict[str, float]:
            out = {}
            for line in probe.read_text().splitlines():
                key, at = line.split()
                out[key] = float(at)
            return out

        wait_until(lambda: len(entered()) >= warmup + count, 30, f"{count} {kind} handler entries")
        seen = entered()
    return [seen[k] - t for k, t in sent.items()], put_s


def run(quick: bool) -> list[Figure]:
    count = 400 if quick else 2000
    figures: list[Figure] = []
    for runtime, suffix in (("python3.12", ""), ("nodejs20.x", "_node")):
        for kind, label in (("silent", "prints nothing"), ("loud", "prints")):
            latencies, puts = _measure(kind, count, runtime)
            p50, p99 = percentiles_ms(latencies, 50, 99)
            b50, b99 = percentiles_ms(puts, 50, 99)
            note = f"{runtime} handler {label}; baseline: the PutRecords call alone"
            figures.append(Figure(f"put_to_handler_p50_ms_{kind}{suffix}", p50, "ms", 2.0, b50, note=note))
            figures.append(Figure(f"put_to_handler_p99_ms_{kind}{suffix}", p99, "ms", 10.0, b99, note=note))
    return figures
