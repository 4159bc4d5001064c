"""Parity: the same scenario on two backends, diffed by outcome signature."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.backends.moto_server import MotoServerProcess
from emulator.parity import Signature, compare, run_parity

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def moto_server() -> Iterator[MotoServerProcess]:
    with MotoServerProcess() as server:
        yield server


def test_embedded_and_a_moto_endpoint_agree_on_clickstream(moto_server: MotoServerProcess) -> None:
    report = run_parity(
        ROOT / "scenarios" / "clickstream-smoke.yaml", ["embedded", "endpoint"], endpoint_url=moto_server.url,
        count=60,
    )
    text = report.format()
    assert report.equal, text
    embedded, endpoint = report.signatures
    assert (embedded.backend, endpoint.backend) == ("embedded", "endpoint")
    assert embedded.fate_counts() == endpoint.fate_counts() == {"delivered": 60}
    assert embedded.output_count == endpoint.output_count == 60
    assert embedded.output_digest == endpoint.output_digest
    assert embedded.invocations is not None and endpoint.invocations is not None  # both counted by pipemu
    assert "no difference" in text


def _sig(backend: str, **overrides: object) -> Signature:
    values: dict[str, object] = {
        "backend": backend, "passed": True, "failed_expectations": (), "fates": {"a": "delivered", "b": "delivered"},
        "dead_letter_conditions": {}, "dead_letter_batch_sizes": (), "invocations": {"fn": 3}, "output_count": 2,
        "output_digest": "d1", "outputs": ('{"id":"a"}', '{"id":"b"}'), "executions": {},
    }
    values.update(overrides)
    return Signature(**values)  # type: ignore[arg-type]


def test_compare_separates_real_differences_from_timing() -> None:
    ref = _sig("embedded")
    other = _sig(
        "localstack", passed=False, failed_expectations=("latency.p99",), invocations={"fn": 5},
        fates={"a": "delivered", "b": "dead_lettered"}, dead_letter_conditions={"RetryAttemptsExhausted": 1},
        dead_letter_batch_sizes=(1,), output_count=1, output_digest="d2", outputs=('{"id":"a"}',),
    )
    by_aspect = {d.aspect: d for d in compare(ref, other)}
    assert by_aspect["fates"].detail.startswith("1 events differ: b: delivered vs dead_lettered")
    assert not by_aspect["fates"].timing
    assert not by_aspect["dead-letter conditions"].timing
    assert 'only on embedded: 1 [{"id":"b"}]' in by_aspect["outputs"].detail
    assert by_aspect["expectation latency.p99"].timing and by_aspect["invocations"].timing
    assert by_aspect["dead-letter batch sizes"].timing


def test_same_signatures_have_no_difference() -> None:
    assert compare(_sig("a"), _sig("b", invocations=None)) == []
