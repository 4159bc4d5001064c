"""Figure 5: a 1,000,000-event replay of the clickstream scenario as fast as the pipeline takes it (peak RSS,
last-decile over first-decile throughput), and a 1,000,000-event generation in constant memory.

Replay baselines: the emulator's RSS once deployed, before the replay; and for the decile ratio, moto's own
Kinesis store filling up under the same PutRecords load (its puts slow as the shard fills).
Generation baseline: plain Faker calling the same providers and ``json.dumps`` in a loop.
"""

from __future__ import annotations

import json
import math
import time

from bench.common import ROOT, click_records, peak_rss_mib, rss_mib
from bench.figures import Figure
from bench.wiring import embedded
from emulator.runner import run_scenario
from emulator.spec.scenario import load_scenario
from emulator.spec.traffic import RateSpec

SCENARIO = ROOT / "scenarios" / "clickstream-smoke.yaml"


def decile_ratio(done_at: list[float], started: float) -> float:
    """Throughput of the last tenth of the events over that of the first tenth, by completion time."""
    times = sorted(t for t in done_at if not math.isnan(t))
    n = len(times)
    if n < 10:
        return math.nan
    tenth = n // 10
    first = tenth / max(1e-9, times[tenth - 1] - started)
    last = tenth / max(1e-9, times[-1] - times[n - tenth - 1])
    return last / first


def _replay(count: int) -> tuple[float, float, float, float, int]:
    spec, _ = load_scenario(SCENARIO)
    spec = spec.model_copy(update={"rate": RateSpec(profile="max"), "timeout_s": 1800.0})
    with embedded() as backend:
        idle_rss = rss_mib()
        result = run_scenario(spec, backend=backend, count=count)
        peak = peak_rss_mib()  # the replay's; the decile lists built below are this benchmark's own
    started = result.replay.started
    delivered = decile_ratio(list(result.ledger.delivered_at), started)
    sent = decile_ratio(list(result.ledger.sent_at), started)
    return peak, idle_rss, sent, delivered, result.events.delivered


def _stock_put_ratio(count: int) -> float:
    from emulator.backends.moto_seams import kinesis_store

    records = click_records(count)
    done: list[float] = []
    with embedded() as backend:
        kinesis_store.uninstall()
        kinesis = backend.client("kinesis")
        kinesis.create_stream(StreamName="fill", ShardCount=2)
        kinesis.get_waiter("stream_exists").wait(StreamName="fill", WaiterConfig={"Delay": 0.1})
        started = time.time()
        for i in range(0, count, 500):
            kinesis.put_records(StreamName="fill", Records=records[i : i + 500])
            done.extend([time.time()] * len(records[i : i + 500]))
    return decile_ratio(done, started)


def _generate(count: int) -> tuple[float, float]:
    from emulator.replay.generate import generate

    spec, _ = load_scenario(SCENARIO)
    before = rss_mib()
    started = time.perf_counter()
    for _ in generate(spec, count=count):
        pass
    return count / (time.perf_counter() - started), rss_mib() - before


def _plain_faker(count: int) -> tuple[float, float]:
    from faker import Faker

    fake = Faker()
    fake.seed_instance(42)
    before = rss_mib()
    started = time.perf_counter()
    for _ in range(count):
        event = {"event_id": fake.uuid4(), "user_id": fake.pyint(min_value=1, max_value=200),
                 "url": fake.uri(), "ts": fake.iso8601()}
        json.dumps(event, separators=(",", ":")).encode()
    return count / (time.perf_counter() - started), rss_mib() - before


def run(quick: bool) -> list[Figure]:
    n = 100_000 if quick else 1_000_000
    stock_n = 10_000 if quick else 40_000
    gen_rate, gen_growth = _generate(n)
    faker_rate, faker_growth = _plain_faker(n)
    peak, idle, sent_ratio, delivered_ratio, delivered = _replay(n)
    stock_ratio = _stock_put_ratio(stock_n)
    label = f"{n:,} events"
    return [
        Figure("replay_peak_rss_mib", peak, "MiB", 1024, idle,
               note=f"{label}, {delivered:,} delivered; baseline: RSS once deployed"),
        Figure("replay_sent_last_over_first_decile", sent_ratio, "ratio", 0.9, stock_ratio, ">=",
               note=f"{label} put/s; baseline: moto's store, PutRecords/s over {stock_n:,}"),
        Figure("replay_delivered_last_over_first_decile", delivered_ratio, "ratio", 0.9, stock_ratio, ">=",
               note=f"{label} delivered/s (the first tenth shares the CPU with the producer)"),
        Figure("generate_rss_growth_mib", gen_growth, "MiB", 32, faker_growth,
               note=f"{label} generated; baseline: plain Faker loop"),
        Figure("generate_eps", gen_rate, "events/s", None, faker_rate, ">=",
               note=f"{label}; baseline: plain Faker, same providers"),
    ]
