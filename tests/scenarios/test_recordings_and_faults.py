"""Recordings replay byte for byte; faults end where the scenario says; every fate is accounted for."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from deep_json import DEEP, parser_reads

from emulator.errors import ConfigError
from emulator.replay.rates import Schedule
from emulator.replay.recording import read_recording, write_recording
from emulator.replay.sources import scenario_events
from emulator.spec.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "scenarios" / "clickstream-smoke.yaml"


def outputs(pipemu: Any, bucket: str = "enriched") -> list[dict[str, Any]]:
    s3 = pipemu.client("s3")
    records = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read().decode()
            records += [json.loads(line) for line in body.splitlines() if line.strip()]
    for r in records:
        r.pop("arrived", None)  # the record's arrival instant: the only field that differs between runs
    return sorted(records, key=lambda r: r["event_id"])


def scenario_file(tmp_path: Path, extra: str, count: int = 200, rate: str = "{profile: max}") -> Path:
    text = SMOKE.read_text().replace("../fixtures/", f"{ROOT}/fixtures/")
    text = text.replace("count: 1000", f"count: {count}").replace("rate: {per_second: 500}", f"rate: {rate}")
    text = text.replace("  latency: {p99_ms: 2000}\n", "")
    path = tmp_path / "scenario.yaml"
    path.write_text(text + extra)
    return path


def test_a_recording_replays_to_identical_outputs_twice(pipemu: Any, tmp_path: Path) -> None:
    spec, _ = load_scenario(SMOKE)
    recording = tmp_path / "events.jsonl"
    with recording.open("w") as f:
        n = write_recording(scenario_events(spec, seed=3, count=150), f, scenario=spec.name, seed=3,
                            schedule=Schedule(spec.rate), correlate="event_id")
    assert n == 150
    replayed = list(read_recording(recording, correlate="event_id"))
    assert [e.payload for e in replayed] == [e.payload for e in scenario_events(spec, seed=3, count=150)]

    first = pipemu.replay(SMOKE, recording=recording, rate=5000)
    first_outputs = outputs(pipemu)
    pipemu.backend.reset()
    second = pipemu.replay(SMOKE, recording=recording, rate=5000)
    assert first.passed and second.passed, first.summary() + second.summary()
    assert first.events.sent == second.events.sent == 150
    assert first_outputs == outputs(pipemu)
    assert "--from" in first.command


def test_throttled_producer_retries_until_every_event_is_put(pipemu: Any, tmp_path: Path) -> None:
    path = scenario_file(tmp_path, "faults:\n  producer: {throttle_ratio: 0.3}\n")
    path.write_text(path.read_text().replace("expect:\n", "expect:\n  order: {per: partition_key}\n"))
    result = pipemu.replay(path)
    assert result.passed, result.summary()
    assert result.events.delivered == 200


def test_oversize_records_are_rejected_by_the_source_as_aws_would(pipemu: Any, tmp_path: Path) -> None:
    path = scenario_file(tmp_path, (
        "faults:\n  poison: {ratio: 0.05, kinds: [oversize]}\n"
        "  handler: {function: enrich, crash_ratio: 0.05}\n"
    ), count=60)
    text = path.read_text().replace("expect:\n", "expect:\n  fates: {poison: rejected, clean: delivered}\n")
    path.write_text(text)
    result = pipemu.replay(path)
    assert result.passed, result.summary()
    rejected = [i for i, why in result.ledger.rejected.items()]
    assert rejected and all("1048576" in result.ledger.rejected[i] or "limit" in result.ledger.rejected[i].lower()
                            for i in rejected)


def test_crashing_and_failing_handlers_are_retried_and_nothing_is_lost(pipemu: Any, tmp_path: Path) -> None:
    path = scenario_file(tmp_path, "faults:\n  handler: {function: enrich, error_ratio: 0.1, crash_ratio: 0.05}\n")
    result = pipemu.replay(path)
    assert result.events.lost == 0, result.summary()
    assert result.events.delivered + result.events.dead_lettered == 200
    errors = sum(f["errors"] for f in result.functions.values())
    assert errors > 0


def test_a_recording_line_nested_past_the_parser_depth_is_a_bad_line_or_an_opaque_payload(tmp_path: Path) -> None:
    header = json.dumps({"pipemu_recording": 1, "scenario": "s", "seed": 1})
    recording = tmp_path / "deep.jsonl"
    recording.write_text(header + "\n" + json.dumps({"i": 0, "pk": "a", "data": DEEP}) + "\n")

    # the event's payload is sent as the bytes it is, whatever the parser makes of it
    [event] = read_recording(recording, correlate=None)
    assert (event.payload, event.fields) == (DEEP.encode(), {})

    # a line that is itself too deep: a bad line where the parser gives up (3.11), an event where it does not (3.13)
    recording.write_text(header + "\n" + '{"i": 0, "pk": "a", "data": "x", "deep": ' + DEEP + "}\n")
    if parser_reads(DEEP):
        assert [e.payload for e in read_recording(recording, correlate=None)] == [b"x"]
        return
    with pytest.raises(ConfigError) as caught:
        list(read_recording(recording, correlate=None))
    assert caught.value.line == 2

