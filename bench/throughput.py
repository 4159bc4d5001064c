"""Figure 3: raw PutRecords throughput, and end-to-end Kinesis -> Lambda -> S3 throughput at BatchSize 100.

Raw: one thread putting 500-record batches of click events into a 2-shard stream on the embedded backend (with
the Kinesis store seam). Baseline: the same records into moto 5.2.5's own store, same process, same run. Its
cost grows with the shard's fill, so the baseline is quoted for the record count given in the note.
End to end: the clickstream fixture (2 shards, BatchSize 100, the enrich handler writing one S3 object per
batch), from the first put until the last event's output arrived in S3.
"""

from __future__ import annotations

import threading
import time

from bench.common import CLICKSTREAM, click_records, put_all, wait_until
from bench.figures import Figure
from bench.wiring import embedded
from emulator.backends.moto_seams import kinesis_store
from emulator.deploy import Deployer
from emulator.spec.pipeline import load_pipeline


def _raw(records: int, *, stock: bool) -> float:
    data = click_records(records)
    with embedded() as backend:
        if stock:
            kinesis_store.uninstall()
        kinesis = backend.client("kinesis")
        name = "raw-stock" if stock else "raw"
        kinesis.create_stream(StreamName=name, ShardCount=2)
        kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.1})
        put_all(kinesis, name, data[:500])  # first request of its kind: moto builds its app and models
        return (records - 500) / put_all(kinesis, name, data[500:])


def _end_to_end(records: int) -> float:
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
            started = time.time()
            put_all(kinesis, deployment.stream_names["clicks"], data)
            wait_until(lambda: arrived >= records, 600, f"{records} enriched events in S3")
        finally:
            unsubscribe()
    return records / (last_arrival - started)


def run(quick: bool) -> list[Figure]:
    raw_n = 20_000 if quick else 100_000
    stock_n = 10_000 if quick else 40_000
    e2e_n = 20_000 if quick else 100_000
    raw = _raw(raw_n, stock=False)
    stock = _raw(stock_n, stock=True)
    e2e = _end_to_end(e2e_n)
    return [
        Figure("put_records_rps", raw, "records/s", 50_000, stock, ">=",
               note=f"{raw_n:,} records; baseline: moto's own store, {stock_n:,} records"),
        Figure("kinesis_lambda_s3_rps", e2e, "records/s", 10_000, raw, ">=",
               note=f"{e2e_n:,} events, BatchSize 100; baseline: raw PutRecords (row above)"),
        Figure("e2e_over_raw_put", e2e / raw, "ratio", 0.7, e2e / stock, ">=",
               note="baseline: end to end over moto's own PutRecords"),
    ]
