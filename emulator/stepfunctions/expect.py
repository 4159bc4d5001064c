"""Scenario expectations on Step Functions executions (``expect.executions``), and their load-time checks.

    expect:
      executions:
        state_machine: rollup                       # default: every state machine of the pipeline
        count: {succeeded: 20, failed: 0}            # also total, timed_out, aborted
        output: {path: summary.total, equals: 3}     # or {subset: {status: ok}}; count: N (default all)
        duration: {p50_ms: 2000, p99_ms: 5000}       # wall clock, like event latency
        retried: {state: Rollup, times: 1}           # executions: N (default at least one)
        caught: {state: Rollup, error: States.TaskFailed}
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

from emulator.expect.latency import summarize
from emulator.expect.verdict import ExpectationResult
from emulator.spec.scenario import ExecutionOutputSpec, ExecutionsSpec
from emulator.stepfunctions.observe import ExecutionRecord

_STATUSES = {"succeeded": "SUCCEEDED", "failed": "FAILED", "timed_out": "TIMED_OUT", "aborted": "ABORTED"}
_PATH_PART = re.compile(r"\.?([^.\[\]]+)|\[(\d+)\]")
_MISSING = object()


def value_at(value: Any, path: str) -> Any:
    """``summary.total``, ``$.items[0].id``: the value there, or ``_MISSING``."""
    text = path.strip()
    text = text[1:] if text.startswith("$") else text
    for match in _PATH_PART.finditer(text):
        key, index = match.group(1), match.group(2)
        if index is not None:
            if not isinstance(value, list) or int(index) >= len(value):
                return _MISSING
            value = value[int(index)]
        elif isinstance(value, dict) and key in value:
            value = value[key]
        else:
            return _MISSING
    return value


def subset_difference(expected: Any, actual: Any, where: str = "$") -> str | None:
    """Where ``actual`` does not contain ``expected`` (objects: recursively a subset; anything else: equal)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{where} is {type(actual).__name__}, not an object"
        for key, item in expected.items():
            if key not in actual:
                return f"{where}.{key} is missing"
            found = subset_difference(item, actual[key], f"{where}.{key}")
            if found is not None:
                return found
        return None
    return None if expected == actual else f"{where} is {actual!r:.80}, expected {expected!r:.80}"


def _output_mismatch(spec: ExecutionOutputSpec, output: Any) -> str | None:
    if "subset" in spec.model_fields_set:
        found = subset_difference(spec.subset, output)
        if found is not None:
            return found
    if spec.path is not None:
        value = value_at(output, spec.path)
        if value is _MISSING:
            return f"no value at {spec.path}"
        if value != spec.equals:
            return f"{spec.path} is {value!r:.80}, expected {spec.equals!r:.80}"
    return None


def _counted(wanted: int | None, n: int) -> tuple[bool, str]:
    return (n >= 1, ">= 1 executions") if wanted is None else (n == wanted, f"{wanted} executions")


def _counts(spec: ExecutionsSpec, records: list[ExecutionRecord]) -> Iterator[ExpectationResult]:
    if spec.count is None:
        return
    by_status = Counter(r.status for r in records)
    for key, wanted in spec.count.model_dump().items():
        if wanted is None:
            continue
        actual = len(records) if key == "total" else by_status[_STATUSES[key]]
        others = [r.brief() for r in records if key != "total" and r.status != _STATUSES[key]][:3]
        yield ExpectationResult(
            name=f"executions.count.{key}", passed=actual == wanted, expected=wanted, actual=actual,
            detail="" if actual == wanted else f"statuses seen: {dict(sorted(by_status.items()))}",
            near_misses=[] if actual == wanted else others,
        )


def _output(spec: ExecutionOutputSpec, records: list[ExecutionRecord]) -> ExpectationResult:
    succeeded = [r for r in records if r.status == "SUCCEEDED"]
    misses = [(r, why) for r in succeeded if (why := _output_mismatch(spec, r.output)) is not None]
    matched = len(succeeded) - len(misses)
    wanted = spec.count if spec.count is not None else len(succeeded)
    passed = matched == wanted and (spec.count is not None or bool(succeeded))
    shown = {"subset": spec.subset} if "subset" in spec.model_fields_set else {}
    if spec.path is not None:
        shown[spec.path] = spec.equals
    return ExpectationResult(
        name="executions.output", passed=passed, expected=f"{wanted} succeeded executions with output {shown}",
        actual=f"{matched} of {len(succeeded)}", detail="" if succeeded else "no execution succeeded",
        near_misses=[{**r.brief(), "why": why, "output": str(r.output)[:300]} for r, why in misses[:3]],
    )


def _durations(spec: ExecutionsSpec, records: list[ExecutionRecord], scale: float) -> Iterator[ExpectationResult]:
    if spec.duration is None:
        return
    durations = [d for r in records if (d := r.duration_ms) is not None]
    stats = summarize(durations)
    clock = "wall clock" + (f"; time scale {scale:g}" if scale != 1 else "")
    slowest = sorted((r for r in records if r.duration_ms is not None), key=lambda r: -(r.duration_ms or 0))[:3]
    for key in ("p50", "p95", "p99", "max"):
        budget = getattr(spec.duration, f"{key}_ms")
        if budget is None:
            continue
        value = stats.get(key)
        passed = value is not None and value <= budget
        yield ExpectationResult(
            name=f"executions.duration.{key}", passed=passed, expected=f"<= {budget:g} ms",
            actual=None if value is None else round(value, 3),
            detail="no execution finished" if value is None else clock,
            near_misses=[] if passed else [{**r.brief(), "duration_ms": round(r.duration_ms or 0, 1)} for r in slowest],
        )


def _retried(spec: ExecutionsSpec, records: list[ExecutionRecord]) -> Iterator[ExpectationResult]:
    if spec.retried is None:
        return
    state, times = spec.retried.state, spec.retried.times
    seen: Counter[int] = Counter()
    matched = 0
    for record in records:
        retries = [v.retries for v in record.visits() if v.name == state]
        if retries:
            seen[max(retries)] += 1
        matched += times in retries
    passed, wanted = _counted(spec.retried.executions, matched)
    yield ExpectationResult(
        name=f"executions.retried[{state}]", passed=passed, expected=f"{wanted} retrying it {times} times",
        actual=matched, detail="" if passed else f"executions by retries of {state}: {dict(sorted(seen.items()))}",
    )


def _caught(spec: ExecutionsSpec, records: list[ExecutionRecord]) -> Iterator[ExpectationResult]:
    if spec.caught is None:
        return
    state, error = spec.caught.state, spec.caught.error
    errors: Counter[str] = Counter()
    matched = 0
    for record in records:
        caught = [v.caught for v in record.visits() if v.name == state and v.caught is not None]
        errors.update(caught)
        matched += any(error is None or c == error for c in caught)
    passed, wanted = _counted(spec.caught.executions, matched)
    uncaught = [r.brief() for r in records if r.status == "FAILED"][:3]
    yield ExpectationResult(
        name=f"executions.caught[{state}]", passed=passed,
        expected=f"{wanted} catching {error or 'an error'} from it", actual=matched,
        detail="" if passed else f"errors caught there: {dict(errors) or 'none'}",
        near_misses=[] if passed else uncaught,
    )


def check_executions(
    spec: ExecutionsSpec, records: list[ExecutionRecord], *, time_scale: float = 1.0
) -> list[ExpectationResult]:
    if spec.state_machine is not None:
        records = [r for r in records if r.state_machine == spec.state_machine]
    results = [*_counts(spec, records)]
    if spec.output is not None:
        results.append(_output(spec.output, records))
    results += [*_durations(spec, records, time_scale), *_retried(spec, records), *_caught(spec, records)]
    return results
