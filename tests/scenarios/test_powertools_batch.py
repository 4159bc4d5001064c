"""Powertools batch consumers that write nothing (fixtures/powertools-batch): delivery judged with
``processed_by``, poison records dead-lettered by the source's identity whatever their body."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from emulator.spec.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"


def _poison(result) -> set[int]:  # type: ignore[no-untyped-def]
    return {i for i, fault in result.ledger.faulty.items() if fault.startswith("poison")}


def test_kinesis_consumer_delivers_every_clean_record_and_dead_letters_every_poison_one(pipemu) -> None:
    result = pipemu.replay(SCENARIOS / "powertools-kinesis.yaml")
    assert result.passed, result.summary()
    poison = _poison(result)
    fates = {i: result.ledger.fate(i) for i in range(result.events.sent)}
    assert poison and {i for i, f in fates.items() if f == "dead_lettered"} == poison
    assert {i for i, f in fates.items() if f == "delivered"} == set(fates) - poison
    # the non-JSON poison records are found by their shard and sequence number, like the others
    assert any(result.ledger.faulty[i] == "poison:malformed_json" for i in poison)
    assert result.ledger.reached_counts() == {"processed_by/settle-payments": result.events.sent - len(poison)}


def test_sqs_consumer_poison_messages_are_dead_lettered_by_message_id(pipemu) -> None:
    result = pipemu.replay(SCENARIOS / "powertools-sqs.yaml")
    assert result.passed, result.summary()
    poison = _poison(result)
    dead = {i for i in range(result.events.sent) if result.ledger.fate(i) == "dead_lettered"}
    assert poison and dead == poison
    malformed = [d for d in result.ledger.dead_letters if isinstance(d.body, str)]
    assert malformed and all(len(d.event_indexes) == 1 for d in malformed)  # not JSON, still matched
    assert result.events.delivered == result.events.sent - len(poison)


def test_without_processed_by_the_same_run_fails_with_a_hint(pipemu, tmp_path: Path) -> None:
    """The consumer writes nothing: a bucket end sees nothing, and the verdict says what to write instead."""
    fixture = tmp_path / "fixture"
    shutil.copytree(ROOT / "fixtures/powertools-batch", fixture)
    pipeline = fixture / "pipeline.yaml"
    pipeline.write_text(pipeline.read_text().replace("queues:\n", "buckets: [unused]\nqueues:\n"))
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        (SCENARIOS / "powertools-kinesis.yaml").read_text()
        .replace("../fixtures/powertools-batch/pipeline.yaml", str(pipeline))
        .replace("delivered: {processed_by: settle-payments}", "delivered: {bucket: unused, correlate: payment_id}")
        .replace("count: 200", "count: 40")
    )
    spec, _ = load_scenario(scenario)
    result = pipemu.replay(scenario)
    assert not result.passed
    [delivered] = [e for e in result.expectations if e.name == "delivered"]
    assert "were processed by settle-payments successfully but none reached s3://unused" in delivered.detail
    assert "did you mean `processed_by: settle-payments`?" in delivered.detail
    assert json.loads(json.dumps(spec.expect.delivered.model_dump()))["mode"] == "all"
