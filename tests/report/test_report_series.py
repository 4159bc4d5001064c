"""The report's time series stay small for big runs: a sample of latency points, histograms counted in place."""

from __future__ import annotations

from emulator.observe.ledger import Ledger
from emulator.replay.producer import ReplayStats
from emulator.result import RunResult


def _result(events: int, *, t0: float = 1000.0) -> RunResult:
    ledger = Ledger()
    for i in range(events):
        ledger.add(f"e{i}", sent_at=t0 + i * 0.001)
        if i % 10:  # every tenth event is never delivered
            ledger.delivered(f"e{i}", t0 + i * 0.001 + 0.002 + (i % 7) * 0.001)
    replay = ReplayStats(sent=events, failed=0, asked_rate=None, asked="max", achieved_rate=1000.0,
                         duration_s=events / 1000, started=t0, finished=t0 + events / 1000)
    return RunResult(scenario="s", backend="embedded", seed=1, passed=True, events=ledger.counts(),
                     latency_ms={}, throughput_eps=1000.0, duration_s=events / 1000, expectations=[],
                     replay=replay, time_scale=1.0, command="pipemu replay s", ledger=ledger)


def test_latency_points_are_a_bounded_sample_of_the_delivered_events() -> None:
    series = _result(20_000).report_data(max_points=100)["series"]
    points = series["latency"]
    assert 100 <= len(points) <= 101  # 18,000 delivered events, every 180th
    assert points[0] == [0.001, 3.0]  # event 1: sent at +1 ms, delivered 2 ms + 1 ms later
    assert all(p[1] >= 2.0 for p in points)


def test_throughput_histograms_count_every_event() -> None:
    throughput = _result(5_000).report_data()["series"]["throughput"]
    bucket = throughput["bucket_s"]
    assert round(sum(throughput["sent_per_s"]) * bucket) == 5_000
    assert round(sum(throughput["delivered_per_s"]) * bucket) == 4_500


def test_a_run_with_nothing_sent_has_empty_series() -> None:
    series = _result(0).report_data()["series"]
    assert series["latency"] == []
    assert sum(series["throughput"]["sent_per_s"]) == 0
