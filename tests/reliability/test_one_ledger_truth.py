"""One ledger truth: the ledger, the mapping statistics and the dead-letter queues agree at the end of a run,
and when they cannot (a handler wrote its output, then its invocation failed) the run fails naming the events.
A latency budget missed while the host stalled says so, with the stall figure."""

from __future__ import annotations

import math
import random
import textwrap
from pathlib import Path
from typing import Any

from emulator.expect.verdict import ExpectationResult
from emulator.observe.stall import StallMeter
from emulator.runner import _stall_noted, run_scenario

WRITES_THEN_FAILS = """
    import base64, json, boto3
    s3 = boto3.client("s3")
    def handler(event, context):
        d = json.loads(base64.b64decode(event["Records"][0]["kinesis"]["data"]))
        s3.put_object(Bucket="out", Key=f"o/{d['id']}.json", Body=json.dumps(d).encode())
        if d["n"] % 2:
            return {"not json": object()}  # Lambda cannot serialise this: the invocation fails after the write
        return {}
"""


def test_output_written_before_a_failed_invocation_fails_the_run_naming_the_events(pipemu: Any, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "handlers").mkdir()
    (tmp_path / "handlers" / "app.py").write_text(textwrap.dedent(WRITES_THEN_FAILS))
    (tmp_path / "pipeline.yaml").write_text(textwrap.dedent("""\
        pipeline: p
        streams: {s: {shards: 1}}
        buckets: [out]
        queues: {dlq: {}}
        functions: {f: {code: handlers/, handler: app.handler}}
        mappings:
          - {source: stream/s, function: f, batch_size: 1, starting_position: TRIM_HORIZON,
             maximum_retry_attempts: 0, on_failure: queue/dlq}
        """))
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(textwrap.dedent("""\
        scenario: writes-then-fails
        pipeline: pipeline.yaml
        source: stream/s
        events: {count: 20, fields: {id: uuid4, n: {faker: pyint, min_value: 0, max_value: 9}}}
        rate: {per_second: 100}
        expect: {delivered: {bucket: out, correlate: id}}
        """))
    result = run_scenario(scenario, backend=pipemu.backend)
    mapping_dead = sum(m["records_dead_lettered"] for m in result.mappings.values())
    assert mapping_dead > 0, result.mappings
    agreement = [e for e in result.expectations if e.name == "ledger agrees"]
    assert not result.passed and agreement, result.summary()
    ledger = result.ledger
    named = {key for i, key in enumerate(ledger.keys) if not math.isnan(ledger.dead_lettered_at[i])}
    assert set(agreement[0].near_misses) == named and len(named) == mapping_dead
    assert f"{mapping_dead} events are both delivered and in a dead-letter queue" in agreement[0].detail


def test_a_missed_latency_budget_names_the_host_stall() -> None:
    missed = ExpectationResult(name="latency.p99_ms", passed=False, expected="<= 3000", actual=4100.0)
    noted = _stall_noted(missed, {"max_ms": 900.0, "p99_ms": 400.0, "total_ms": 5000.0})
    assert "the host stalled" in noted.detail and "900 ms" in noted.detail
    assert _stall_noted(missed, {"max_ms": 2.0, "p99_ms": 1.0, "total_ms": 9.0}) == missed
    kept = ExpectationResult(name="lost", passed=False, expected=0, actual=3)
    assert _stall_noted(kept, {"max_ms": 900.0, "p99_ms": 400.0, "total_ms": 5000.0}) == kept


def test_the_stall_meter_sees_a_thread_held_off_the_interpreter() -> None:
    data = [random.random() for _ in range(1_500_000)]
    with StallMeter() as meter:
        sorted(data)  # one C call that keeps the GIL: the meter's thread cannot run meanwhile
        sorted(data)
    figures = meter.figures()
    assert figures["max_ms"] > 0 and figures["total_ms"] >= figures["max_ms"]
