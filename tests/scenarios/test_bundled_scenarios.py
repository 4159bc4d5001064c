"""A scenario suite written the way users write theirs: one test per scenario, the ``pipemu`` fixture."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from verdicts import held

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"


def test_clickstream_smoke_delivers_every_event(pipemu) -> None:
    result = pipemu.replay(SCENARIOS / "clickstream-smoke.yaml")
    assert held(result), result.summary()
    assert result.events.sent == 1000
    assert result.events.delivered == 1000
    assert result.events.lost == 0 and result.events.dead_lettered == 0


def test_powertools_batch_processor_dead_letters_the_poison_orders(pipemu) -> None:
    result = pipemu.replay(SCENARIOS / "orders-powertools.yaml")
    assert held(result), result.summary()
    poison = [i for i in range(result.events.sent) if result.ledger.fate(i) == "dead_lettered"]
    assert poison, "the scenario's weights make some orders poison"
    # every order that is not delivered was dead-lettered; nothing vanished
    assert result.events.delivered + result.events.dead_lettered == result.events.sent
    condition = {d.condition for d in result.ledger.dead_letters}
    assert condition == {"RetryAttemptsExhausted"}


def test_same_seed_same_events_byte_for_byte(tmp_path: Path) -> None:
    from emulator.replay.generate import generate
    from emulator.spec.scenario import load_scenario

    spec, _ = load_scenario(SCENARIOS / "clickstream-smoke.yaml")
    first = [e.payload for e in generate(spec, count=50)]
    second = [e.payload for e in generate(spec, count=50)]
    other = [e.payload for e in generate(spec, seed=spec.seed + 1, count=50)]
    assert first == second
    assert first != other


@pytest.mark.parametrize("count", [1, 250])
def test_counts_are_overridable_and_reports_are_written(pipemu, tmp_path: Path, count: int) -> None:
    result = pipemu.replay(SCENARIOS / "clickstream-smoke.yaml", count=count, rate=5000)
    assert result.events.sent == count and result.passed, result.summary()
    report = json.loads(result.write(tmp_path).read_text())
    assert set(report) >= {
        "scenario",
        "backend",
        "seed",
        "passed",
        "events",
        "latency_ms",
        "throughput_eps",
        "duration_s",
        "expectations",
    }
    assert report["events"]["sent"] == count
    assert {"sent", "delivered", "dead_lettered", "filtered", "lost"} <= set(report["events"])
    assert set(report["latency_ms"]) == {"p50", "p95", "p99", "max"}


def test_chaos_scenario_dead_letters_exactly_the_poison_records(pipemu) -> None:
    # burst traffic, poison records, duplicates, a flaky handler and a throttled producer
    result = pipemu.replay(SCENARIOS / "clickstream-chaos.yaml")
    assert held(result), result.summary()
    poison = {i for i, fault in result.ledger.faulty.items() if fault.startswith("poison")}
    dead = {i for i in range(result.events.sent) if result.ledger.fate(i) == "dead_lettered"}
    assert poison and dead == poison
    assert all(d.batch_size == 1 for d in result.ledger.dead_letters)
    assert result.events.duplicated > 0


def test_several_sources_in_one_run_all_arrive(pipemu) -> None:
    # Kinesis (ramp), SQS (constant) and S3 uploads through bucket notifications, side by side
    result = pipemu.replay(SCENARIOS / "multi-source.yaml")
    assert held(result), result.summary()
    assert result.events.sent == 430 and result.events.delivered == 430
    assert "+" in result.replay.asked  # the asked rates of all three sources


def test_custom_providers_and_payload_size_reach_the_outputs(pipemu) -> None:
    result = pipemu.replay(SCENARIOS / "clickstream-custom-data.yaml", count=200)
    assert held(result), result.summary()
    assert result.events.delivered == 200
