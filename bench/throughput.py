"""Figure 3: raw PutRecords throughput, and end-to-end Kinesis -> Lambda -> S3 throughput at BatchSize 100.

Raw: one thread putting 500-record batches of click events into a 2-shard stream on the embedded backend (with
the Kinesis store seam). Baseline: the same records into moto 5.2.5's own store, same process, same run. Its
cost grows with the shard's fill, so the baseline is quoted for the record count given in the note.
End to end: the clickstream fixture (2 shards, BatchSize 100, the enrich handler writing one S3 object per
batch), from the first put until the last event's output arrived in S3.
"""

from __future__ import annotations

import os
import threading
import time

from bench.common import CLICKSTREAM, click_records, put_all, wait_until
from bench.figures import Figure
from bench.wiring import embedded
from emulator.backends.moto_seams import kinesis_store
from emulator.deploy import Deployer
from emulator.spec.pipeline import load_pipeline


def _cpu_s() -> float:
    """CPU seconds used so far by this process and its reaped children (the handler workers, once stopped)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _worker_cpu_s() -> float:
    """CPU seconds of this process's live children (handler workers), read from /proc (Linux)."""
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    for task in os.listdir("/proc"):
        if not task.isdigit():
            continue
        try:
            with open(f"/proc/{task}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid():  # ppid
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def _raw(records: int, *, stock: bool) -> tuple[float, float]:
    """(records/s, CPU microseconds per record) for one thread putting ``records`` records."""
    data = click_records(records)
    with embedded() as backend:
        if stock:
            kinesis_store.uninstall()
        kinesis = backend.client("kinesis")
        name = "raw-stock" if stock else "raw"
        kinesis.create_stream(StreamName=name, ShardCount=2)
        kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.1})
        put_all(kinesis, name, data[:500])  # first request of its kind: moto builds its app and models
        cpu = _cpu_s()
        took = put_all(kinesis, name, data[500:])
        return (records - 500) / took, (_cpu_s() - cpu) / (records - 500) * 1e6


def _end_to_end(records: int) -> tuple[float, float]:
    """(records/s, CPU microseconds per record across this process and the handler workers)."""
    data = click_records(records)
    spec = load_pipeline(CLICKSTREAM)
    arrived = 0
    last_arrival = 0.0
    lock = threading.Lock()

    def on_put(bucket: str, key: str, body: bytes, at: float) -> None:
        nonlocal arrived, last_arrival
        with lock:
            arrived += body.count(b"\n")
            last_arrival = at

    with embedded() as backend:
        deployment = Deployer(backend.client).deploy(spec)
        backend.warm(deployment.concurrency(spec))
        assert backend.esm is not None
        backend.esm.wait_synced()
        unsubscribe = backend.watch_s3(on_put)
        try:
            kinesis = backend.client("kinesis")
            cpu = _cpu_s() + _worker_cpu_s()
            started = time.time()
            put_all(kinesis, deployment.stream_names["clicks"], data)
            wait_until(lambda: arrived >= records, 600, f"{records} enriched events in S3")
            cpu = _cpu_s() + _worker_cpu_s() - cpu
        finally:
            unsubscribe()
    return records / (last_arrival - started), cpu / records * 1e6


def run(quick: bool) -> list[Figure]:
    raw_n = 20_000 if quick else 100_000
    stock_n = 10_000 if quick else 40_000
    e2e_n = 20_000 if quick else 100_000
    raw, raw_cpu = _raw(raw_n, stock=False)
    stock, _ = _raw(stock_n, stock=True)
    e2e, e2e_cpu = _end_to_end(e2e_n)
    cores = os.cpu_count() or 1
    return [
        Figure("put_records_rps", raw, "records/s", 50_000, stock, ">=",
               note=f"{raw_n:,} records; baseline: moto's own store, {stock_n:,} records"),
        Figure("kinesis_lambda_s3_rps", e2e, "records/s", 10_000, raw, ">=",
               note=f"{e2e_n:,} events, BatchSize 100; baseline: raw PutRecords (row above)"),
        Figure("e2e_over_raw_put", e2e / raw, "ratio", 0.7, e2e / stock, ">=",
               note="baseline: end to end over moto's own PutRecords"),
        # What bounds the ratio: the raw put is one thread on one core; end to end, every record also costs the
        # poller, the handler (decode, enrich, S3 write in a worker) and moto's S3, on all cores together.
        Figure("put_records_cpu_us_per_record", raw_cpu, "us CPU", None, None,
               note="raw PutRecords: producer's boto3 + moto, one process"),
        Figure("e2e_cpu_us_per_record", e2e_cpu, "us CPU", None, raw_cpu,
               note="end to end: this process + handler workers; baseline: raw put (row above)"),
        Figure("e2e_over_raw_put_cpu_bound", cores * raw_cpu / e2e_cpu, "ratio", None, e2e / raw,
               note=f"the most e2e/raw can reach with {cores} cores fully used; baseline: the measured ratio"),
    ]
