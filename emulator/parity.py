"""Parity: run one scenario on several backends and diff what the pipeline did, to prove a backend against another
(the embedded one against LocalStack or AWS).

Each run is reduced to an outcome signature:
- the fate of every event, by its correlate key (delivered, dead_lettered, filtered, lost...);
- dead letters: the conditions named by on-failure records (strict), the number of messages and their batch sizes;
- invocations per function, where the backend lets pipemu count them (embedded, an endpoint it drives);
- the output records: sorted, volatile fields removed (arrival times, sequence numbers), digested;
- Step Functions execution statuses per state machine.
Batching depends on timing on every backend, AWS included: message counts, batch sizes and invocation counts are
shown side by side but only count as differences with ``strict_timing``.

    report = run_parity("scenarios/clickstream-smoke.yaml", ["embedded", "moto-server"], count=100)
    print(report.format()); assert report.equal
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator.backends.base import Backend, driven, mapping_manager
from emulator.backends.factory import make_backend
from emulator.observe.outputs import parse_records
from emulator.runner import RunResult, run_scenario
from emulator.spec.scenario import ScenarioSpec, load_scenario

VOLATILE_FIELDS = frozenset(
    {"arrived", "approximateArrivalTimestamp", "shard_sequence", "sequenceNumber", "SequenceNumber", "eventID",
     "request_id", "requestId", "aws_request_id", "timestamp"}
)
_EXAMPLES = 5
_TIMED = frozenset({"latency", "throughput"})  # expectations whose verdict depends on the machine's speed


@dataclass(frozen=True)
class Signature:
    backend: str
    passed: bool
    failed_expectations: tuple[str, ...]
    fates: dict[str, str]
    dead_letter_conditions: dict[str, int]
    dead_letter_batch_sizes: tuple[int, ...]
    invocations: dict[str, int] | None
    output_count: int
    output_digest: str
    outputs: tuple[str, ...] = field(repr=False)
    executions: dict[str, dict[str, int]]

    def fate_counts(self) -> dict[str, int]:
        return dict(sorted(Counter(self.fates.values()).items()))


@dataclass(frozen=True)
class Difference:
    aspect: str
    backend: str  # the backend compared with the reference (the first)
    detail: str
    timing: bool = False  # depends on batching/timing: informational unless strict


@dataclass
class ParityReport:
    scenario: str
    signatures: list[Signature]
    differences: list[Difference]
    strict_timing: bool = False

    @property
    def equal(self) -> bool:
        return not self.counted()

    def counted(self) -> list[Difference]:
        return [d for d in self.differences if self.strict_timing or not d.timing]

    def format(self) -> str:
        ref = self.signatures[0]
        lines = [f"parity of {self.scenario}: {' vs '.join(s.backend for s in self.signatures)}"]
        width = max(len(s.backend) for s in self.signatures)
        for s in self.signatures:
            inv = "n/a" if s.invocations is None else ", ".join(f"{k} {v}" for k, v in sorted(s.invocations.items()))
            letters = dict(sorted(s.dead_letter_conditions.items()))
            lines.append(
                f"  {s.backend:<{width}}  {'PASSED' if s.passed else 'FAILED'}  fates {s.fate_counts()}  "
                f"outputs {s.output_count} ({s.output_digest[:12]})  "
                f"dead letters {sum(letters.values())} {letters}"
                f"  invocations {inv}"
            )
        for d in self.differences:
            tag = "timing" if d.timing else "DIFF"
            lines.append(f"  {tag:<6} {d.aspect}: {ref.backend} vs {d.backend}: {d.detail}")
        counted = self.counted()
        verdict = "no difference" if not counted else f"{len(counted)} difference{'s' * (len(counted) != 1)}"
        if not counted and self.differences:
            verdict += " (timing-dependent figures differ; --strict-timing counts them)"
        lines.append(f"  {verdict}")
        return "\n".join(lines)


def _strip(value: Any, volatile: frozenset[str]) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v, volatile) for k, v in value.items() if k not in volatile}
    if isinstance(value, list):
        return [_strip(v, volatile) for v in value]
    return value


def _canonical(records: Iterable[Any], volatile: frozenset[str]) -> tuple[str, ...]:
    return tuple(sorted(json.dumps(_strip(r, volatile), sort_keys=True, separators=(",", ":")) for r in records))


def _outputs(backend: Backend, result: RunResult, spec: ScenarioSpec) -> list[Any]:
    end = spec.expect.delivered.first("bucket") if spec.expect.delivered is not None else None
    if end is None or result.deployment is None:
        return []
    s3 = backend.client("s3")
    bucket = result.deployment.buckets[end.name]
    records: list[Any] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=end.prefix or ""):
        for item in page.get("Contents", []):
            records.extend(parse_records(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()))
    return records


def _executions(backend: Backend, result: RunResult) -> dict[str, dict[str, int]]:
    if result.deployment is None or not result.deployment.state_machines:
        return {}
    sfn = backend.client("stepfunctions")
    out: dict[str, dict[str, int]] = {}
    for name, arn in result.deployment.state_machines.items():
        statuses: Counter[str] = Counter()
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn):
            statuses.update(str(e["status"]) for e in page["executions"])
        out[name] = dict(sorted(statuses.items()))
    return out


def signature(
    backend: Backend, result: RunResult, spec: ScenarioSpec, *, volatile: frozenset[str] = VOLATILE_FIELDS
) -> Signature:
    """The outcome signature of ``result``, read while ``backend`` still runs (outputs and executions)."""
    ledger = result.ledger
    fates = {key: ledger.fate(i) for i, key in enumerate(ledger.keys) if i not in ledger.duplicate_of}
    conditions = Counter(d.condition or "redrive" for d in ledger.dead_letters)
    prefix = result.deployment.prefix if result.deployment is not None else ""
    driven_part = driven(backend)  # only a driven backend counts its invocations
    invocations = None
    if driven_part is not None:
        records = list(driven_part.invocations)
        invocations = dict(sorted(Counter(r.function.removeprefix(prefix) for r in records).items()))
    outputs = _canonical(_outputs(backend, result, spec), volatile)
    return Signature(
        backend=backend.name,
        passed=result.passed,
        failed_expectations=tuple(sorted(e.name for e in result.failures)),
        fates=fates,
        dead_letter_conditions=dict(sorted(conditions.items())),
        dead_letter_batch_sizes=tuple(sorted(d.batch_size or 0 for d in ledger.dead_letters)),
        invocations=invocations,
        output_count=len(outputs),
        output_digest=hashlib.sha256("\n".join(outputs).encode()).hexdigest(),
        outputs=outputs,
        executions=_executions(backend, result),
    )


def _examples(items: Iterable[str]) -> str:
    items = list(items)
    shown = "; ".join(i[:160] for i in items[:_EXAMPLES])
    return shown + (f"; ... {len(items) - _EXAMPLES} more" if len(items) > _EXAMPLES else "")


def compare(ref: Signature, other: Signature) -> list[Difference]:
    out: list[Difference] = []
    b = other.backend
    for name in sorted(set(ref.failed_expectations) ^ set(other.failed_expectations)):
        verdicts = " vs ".join("failed" if name in s.failed_expectations else "held" for s in (ref, other))
        out.append(Difference(f"expectation {name}", b, verdicts, timing=name.split(".")[0] in _TIMED))
    changed = [f"{k}: {ref.fates.get(k, 'absent')} vs {other.fates.get(k, 'absent')}"
               for k in sorted(set(ref.fates) | set(other.fates)) if ref.fates.get(k) != other.fates.get(k)]
    if changed:
        out.append(Difference("fates", b, f"{len(changed)} events differ: {_examples(changed)}"))
    if set(ref.dead_letter_conditions) != set(other.dead_letter_conditions):
        out.append(Difference("dead-letter conditions", b,
                              f"{sorted(ref.dead_letter_conditions)} vs {sorted(other.dead_letter_conditions)}"))
    elif ref.dead_letter_conditions != other.dead_letter_conditions:
        out.append(Difference("dead-letter messages", b,
                              f"{ref.dead_letter_conditions} vs {other.dead_letter_conditions}", timing=True))
    if ref.dead_letter_batch_sizes != other.dead_letter_batch_sizes:
        out.append(Difference("dead-letter batch sizes", b,
                              f"{list(ref.dead_letter_batch_sizes)} vs {list(other.dead_letter_batch_sizes)}",
                              timing=True))
    if ref.invocations is not None and other.invocations is not None and ref.invocations != other.invocations:
        out.append(Difference("invocations", b, f"{ref.invocations} vs {other.invocations}", timing=True))
    if ref.output_digest != other.output_digest:
        only_ref = sorted((Counter(ref.outputs) - Counter(other.outputs)).elements())
        only_other = sorted((Counter(other.outputs) - Counter(ref.outputs)).elements())
        out.append(Difference(
            "outputs", b,
            f"{ref.output_count} vs {other.output_count} records; only on {ref.backend}: {len(only_ref)} "
            f"[{_examples(only_ref)}]; only on {b}: {len(only_other)} [{_examples(only_other)}]",
        ))
    if ref.executions != other.executions:
        out.append(Difference("executions", b, f"{ref.executions} vs {other.executions}"))
    return out


BackendFactory = Callable[[str, float], Backend]


def _clean_up(backend: Backend, result: RunResult | None) -> None:
    """Leave a shared endpoint as it was found: stop the mappings first (no poller then reads a stream that is
    being deleted), then reset."""
    if result is not None and result.deployment is not None and result.deployment.mappings:
        lam = backend.client("lambda")
        for uuid in result.deployment.mappings:
            lam.delete_event_source_mapping(UUID=uuid)
        esm = mapping_manager(backend)
        if esm is not None:
            esm.wait_synced()
    backend.reset()


def run_parity(
    scenario: str | Path | ScenarioSpec,
    backends: Sequence[str],
    *,
    endpoint_url: str | None = None,
    allow_aws: bool = False,
    seed: int | None = None,
    count: int | None = None,
    rate: float | None = None,
    strict_timing: bool = False,
    volatile: frozenset[str] = VOLATILE_FIELDS,
    factory: BackendFactory | None = None,
    on_result: Callable[[str, RunResult], None] | None = None,
) -> ParityReport:
    """Run ``scenario`` on each backend in turn (same seed, same events) and diff each against the first."""
    if len(backends) < 2:
        raise ValueError("parity needs at least two backends")
    spec = scenario if isinstance(scenario, ScenarioSpec) else load_scenario(scenario)[0]
    scale = spec.time_scale or 1.0

    def default_factory(name: str, time_scale: float) -> Backend:
        return make_backend(name, endpoint_url=endpoint_url, time_scale=time_scale, allow_aws=allow_aws)

    make = factory or default_factory
    signatures: list[Signature] = []
    for name in backends:
        backend = make(name, scale)
        with backend:
            backend.reset()  # the embedded backend's moto state is per process: a previous run may have left some
            result = None
            try:
                result = run_scenario(spec, backend=backend, seed=seed, count=count, rate=rate)
                if on_result is not None:
                    on_result(name, result)
                sig = signature(backend, result, spec, volatile=volatile)
            finally:
                _clean_up(backend, result)
        signatures.append(sig)
    differences = [d for other in signatures[1:] for d in compare(signatures[0], other)]
    return ParityReport(spec.name, signatures, differences, strict_timing)
