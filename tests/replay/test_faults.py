"""Seeded fault injection: which events become faulty, and how each fault shows up."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from emulator.replay.faults import HandlerFaults, S3WriteFaults, ThrottlingKinesis, apply_event_faults
from emulator.replay.generate import generate
from emulator.spec.scenario import load_scenario
from emulator.spec.traffic import FaultsSpec, HandlerFaultSpec

ROOT = Path(__file__).resolve().parents[2]


def events(n: int = 400) -> Any:
    spec, _ = load_scenario(ROOT / "scenarios" / "clickstream-smoke.yaml")
    return generate(spec, count=n)


def faulted(faults: dict[str, Any], seed: int = 1, n: int = 400) -> list[Any]:
    return list(apply_event_faults(events(n), FaultsSpec.model_validate(faults), seed))


def test_no_faults_passes_events_through_untouched() -> None:
    assert [e.payload for e in apply_event_faults(events(20), None, 1)] == [e.payload for e in events(20)]


def test_poison_is_seeded_tagged_and_malformed() -> None:
    out = faulted({"poison": {"ratio": 0.1, "kinds": ["malformed_json"]}})
    again = faulted({"poison": {"ratio": 0.1, "kinds": ["malformed_json"]}})
    poison = [e for e in out if e.fault]
    assert 20 <= len(poison) <= 60
    assert [e.index for e in poison] == [e.index for e in again if e.fault]
    for e in poison:
        assert e.fault == "poison:malformed_json"
        with pytest.raises(ValueError):
            json.loads(e.payload)
        assert "event_id" in e.fields  # the ledger still knows which event it was


def test_missing_field_drops_the_named_field() -> None:
    out = faulted({"poison": {"ratio": 0.2, "kinds": ["missing_field"], "field": "url"}})
    poison = [e for e in out if e.fault]
    assert poison and all("url" not in json.loads(e.payload) for e in poison)


def test_oversize_exceeds_the_kinesis_record_limit() -> None:
    out = faulted({"poison": {"ratio": 0.05, "kinds": ["oversize"]}}, n=100)
    big = [e for e in out if e.fault == "poison:oversize"]
    assert big and all(len(e.payload) > 1024 * 1024 for e in big)


def test_duplicates_repeat_an_event_right_after_it() -> None:
    out = faulted({"duplicates": {"ratio": 0.05}})
    assert [e.index for e in out] == list(range(len(out)))
    for i, e in enumerate(out):
        if e.fault == "duplicate":
            assert e.payload == out[i - 1].payload
    assert len(out) > 400


def test_late_events_carry_an_old_event_time() -> None:
    out = faulted({"late": {"ratio": 0.1, "field": "ts", "age_s": 86400 * 30}})
    late = [e for e in out if e.fault == "late"]
    assert late and all(json.loads(e.payload)["ts"].startswith("2024-12-02") for e in late)


def test_handler_faults_follow_their_ratios_and_seed() -> None:
    spec = HandlerFaultSpec(function="f", error_ratio=0.2, timeout_ratio=0.1, crash_ratio=0.1, latency_ms=3)
    plan, again = HandlerFaults([spec], 5), HandlerFaults([spec], 5)
    kinds = [(f.kind if f else None) for f in (plan("f") for _ in range(2000))]
    assert kinds == [(f.kind if f else None) for f in (again("f") for _ in range(2000))]
    counts = Counter(kinds)
    assert 300 < counts["error"] < 500 and 120 < counts["timeout"] < 280 and 120 < counts["crash"] < 280
    assert plan("other") is None


class FakeKinesis:
    def __init__(self) -> None:
        self.calls: list[int] = []

    def put_records(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(len(kwargs["Records"]))
        return {"Records": [{"ShardId": "s", "SequenceNumber": str(i)} for i in range(len(kwargs["Records"]))]}


def test_producer_throttling_answers_like_aws_for_a_share_of_records() -> None:
    client = ThrottlingKinesis(FakeKinesis(), 0.3, 1)
    response = client.put_records(StreamName="s", Records=[{"Data": b"x", "PartitionKey": "k"}] * 200)
    failed = [r for r in response["Records"] if "ErrorCode" in r]
    assert response["FailedRecordCount"] == len(failed) == client.throttled
    assert 30 < len(failed) < 90
    assert {r["ErrorCode"] for r in failed} == {"ProvisionedThroughputExceededException"}


def test_s3_write_failures_hit_only_the_named_bucket() -> None:
    decide = S3WriteFaults("out", 0.5, 3)
    assert not any(decide("other", str(i)) for i in range(100))
    assert 30 < sum(decide("out", str(i)) for i in range(100)) < 70
