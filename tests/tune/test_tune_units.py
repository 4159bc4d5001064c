"""pipemu tune's parts without a backend: the grid of settings, the aws_timing model, the Pareto front."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from emulator.errors import ConfigError
from emulator.spec.scenario import load_scenario
from emulator.tune.grid import combinations, mapping_index, parse_vary, spec_patch
from emulator.tune.sweep import Trial, backlog_grew, pareto_front, recommend
from emulator.tune.timing import STREAM_POLL_S, modelled_latencies, timing_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def smoke():
    return load_scenario(ROOT / "scenarios" / "clickstream-smoke.yaml")


def test_every_combination_of_the_varied_keys(smoke) -> None:
    spec, pipeline = smoke
    vary = parse_vary(["batch_size=1,10", "maximum_batching_window_in_seconds=0,5", "memory=512", "shards=4"])

    combos = combinations(pipeline, mapping_index(pipeline, spec.source, None), vary)

    assert [c.label for c in combos][:2] == [
        "batch_size=1 maximum_batching_window_in_seconds=0 memory=512 shards=4",
        "batch_size=1 maximum_batching_window_in_seconds=5 memory=512 shards=4",
    ]
    assert len(combos) == 4
    last = combos[-1].pipeline
    assert last.mappings[0].batch_size == 10 and last.mappings[0].maximum_batching_window_in_seconds == 5
    assert last.functions["enrich"].memory == 512 and last.streams["clicks"].shards == 4
    assert last.mappings[0].on_failure == "queue/clicks-dlq"  # what was not varied stays
    assert pipeline.mappings[0].batch_size == 100  # the original is untouched
    patch = yaml.safe_load(spec_patch(pipeline, combos[-1]))
    assert patch["mappings"][0]["batch_size"] == 10 and patch["mappings"][0]["source"] == "stream/clicks"
    assert patch["functions"] == {"enrich": {"memory": 512}} and patch["streams"] == {"clicks": {"shards": 4}}


@pytest.mark.parametrize(("items", "message"), [
    (["batch_size"], "should be KEY=V1,V2"),
    (["colour=1,2"], "cannot vary 'colour'"),
    (["batch_size=1", "batch_size=2"], "varied twice"),
    ([], "nothing to vary"),
])
def test_bad_vary_is_an_input_error(items, message) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        parse_vary(items)
    assert info.value.exit_code == 2


def test_an_invalid_combination_is_refused_before_anything_runs(smoke) -> None:
    _, pipeline = smoke
    with pytest.raises(ConfigError, match="batch_size=0") as info:
        combinations(pipeline, 0, parse_vary(["batch_size=0,10"]))
    assert info.value.key == "--vary"


def test_aws_timing_by_hand(smoke) -> None:
    _, pipeline = smoke  # 2 shards
    combo = combinations(pipeline, 0, parse_vary(["batch_size=100", "maximum_batching_window_in_seconds=5"]))[0]
    mapping = combo.pipeline.mappings[0]

    quiet = timing_for(combo.pipeline, mapping, rate_per_s=20)  # 10/s per shard: 100 records take 10 s > window
    busy = timing_for(combo.pipeline, mapping, rate_per_s=500)  # 250/s per shard: 100 records take 0.4 s

    assert (quiet.poll_s, quiet.gather_s) == (STREAM_POLL_S, 5.0)
    assert busy.gather_s == pytest.approx(0.4)
    added = [quiet.added_ms(i) for i in range(1000)]
    assert 0 <= min(added) < 100 and 5900 < max(added) <= 6000  # up to 1 s polling + 5 s gathering
    assert sum(added) / len(added) == pytest.approx(3000, rel=0.02)  # both uniform: 0.5 s + 2.5 s on average
    assert modelled_latencies([(3, 10.0)], quiet) == [10.0 + quiet.added_ms(3)]
    no_window = combinations(pipeline, 0, parse_vary(["maximum_batching_window_in_seconds=0"]))[0]
    assert timing_for(no_window.pipeline, no_window.pipeline.mappings[0], 20).gather_s == 0


def trial(label: str, p99: float, usd: float, failures: tuple[str, ...] = ()) -> Trial:
    from emulator.tune.grid import Combination

    return Trial(Combination({"k": label}, None, 0), {"p50": p99 / 2, "p95": p99, "p99": p99, "max": p99},  # type: ignore[arg-type]
                 {"p99": p99}, 100.0, 10, 0, usd, usd * 1000, failures, 1.0)


def test_pareto_front_and_the_cheapest_within_budget() -> None:
    fast_dear, mid, slow_cheap = trial("a", 500, 3.0), trial("b", 1500, 1.0), trial("c", 6000, 0.2)
    dominated, failing = trial("d", 1600, 1.5), trial("e", 100, 0.1, ("delivered",))
    trials = [fast_dear, mid, slow_cheap, dominated, failing]

    assert pareto_front(trials) == [slow_cheap, mid, fast_dear]
    assert recommend(trials, 2000) is mid
    assert recommend(trials, 400) is None
    assert recommend(trials, None) is slow_cheap


def test_a_backlog_is_latency_rising_through_the_run() -> None:
    assert backlog_grew([100.0] * 50 + [2000.0 + i * 10 for i in range(50)])
    assert not backlog_grew([100.0 + (i % 7) for i in range(100)])


def test_tune_refuses_bad_input_with_exit_2_before_replaying_anything(tmp_path) -> None:
    from typer.testing import CliRunner

    from emulator.cli import app

    scenario = str(ROOT / "scenarios" / "clickstream-smoke.yaml")
    runner = CliRunner()

    bad_key = runner.invoke(app, ["tune", scenario, "--vary", "colour=1,2", "--report-dir", str(tmp_path)])
    bad_model = runner.invoke(app, ["tune", scenario, "--vary", "batch_size=1", "--latency", "psychic",
                                    "--report-dir", str(tmp_path)])

    assert bad_key.exit_code == 2 and "cannot vary 'colour'" in bad_key.output
    assert bad_model.exit_code == 2 and "unknown latency model" in bad_model.output
    assert not (tmp_path / "tune-recording.jsonl").exists()
