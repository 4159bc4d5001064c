"""What a run reports about its pipeline: mappings by source and function, cold starts that happened, batch and
record counters that add up to the ledger at the end of the run."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_mapping_and_function_figures_match_the_ledger(pipemu) -> None:
    result = pipemu.replay(ROOT / "scenarios" / "clickstream-smoke.yaml", count=300, rate=2000)
    assert result.events.delivered == 300, result.summary()
    assert list(result.mappings) == ["stream/clicks -> enrich"]
    stats = result.mappings["stream/clicks -> enrich"]
    assert stats["records_succeeded"] == result.events.delivered  # not a few short: counted before the end
    assert 1 <= stats["batches_succeeded"] <= stats["invocations"]
    enrich = result.functions["enrich"]
    assert enrich["invocations"] == stats["invocations"]
    assert enrich["cold_starts"] >= 2  # two shards: two environments warmed at deploy, whatever ran after
