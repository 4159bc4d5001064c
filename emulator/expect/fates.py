"""Expectations about what happened to which events: fates per fault class, counts per fate, output
content, order per partition key, and the fields of dead-letter messages."""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise
from typing import Any

from emulator.expect.verdict import ExpectationResult
from emulator.observe.ledger import FateCounts, Ledger
from emulator.spec.expectations import Bounds, CountsSpec, FatesSpec, OrderSpec, OutputsSpec
from emulator.spec.scenario import DeadLettersSpec


def _fault_class_of(ledger: Ledger, index: int) -> list[str]:
    fault = ledger.faulty.get(index)
    if fault is None:
        return ["clean"]
    return [fault, fault.split(":", 1)[0]] if ":" in fault else [fault]


def check_fates(spec: FatesSpec, ledger: Ledger) -> list[ExpectationResult]:
    """A copy the scenario sent again (fault class ``duplicate``) ends as its original did: it is judged by its
    original's fate, so ``duplicate: delivered`` checks something."""
    results = []
    for fault_class, allowed in spec.rules().items():
        members = [i for i in range(len(ledger.keys)) if fault_class in _fault_class_of(ledger, i)]
        origin = {i: ledger.duplicate_of.get(i, i) for i in members}
        wrong = [i for i in members if ledger.fate(origin[i]) not in allowed]
        results.append(
            ExpectationResult(
                name=f"fates.{fault_class}",
                passed=not wrong,
                expected=f"all {len(members)} {fault_class} events {' or '.join(allowed)}",
                actual=f"{len(members) - len(wrong)} of {len(members)}",
                detail=f"{len(wrong)} ended otherwise" if wrong else "",
                near_misses=[
                    {
                        "event": ledger.keys[i],
                        "fault": ledger.faulty.get(i),
                        "fate": ledger.fate(origin[i]),
                        "why": ledger.rejected.get(origin[i]) or ledger.dropped.get(origin[i]),
                    }
                    for i in wrong[:5]
                ],
            )
        )
    return results


def _within(value: int, bound: int | Bounds) -> tuple[bool, str]:
    if isinstance(bound, int):
        return value == bound, f"== {bound}"
    parts, ok = [], True
    if bound.min is not None:
        ok &= value >= bound.min
        parts.append(f">= {bound.min}")
    if bound.max is not None:
        ok &= value <= bound.max
        parts.append(f"<= {bound.max}")
    return ok, " and ".join(parts) or "any"


def check_counts(spec: CountsSpec, counts: FateCounts) -> list[ExpectationResult]:
    actual = {**counts.as_dict(), "redelivered": counts.duplicates}
    results = []
    for name, bound in spec.model_dump(exclude_none=True).items():
        value = actual[name]
        ok, wanted = _within(value, bound if isinstance(bound, int) else Bounds.model_validate(bound))
        results.append(ExpectationResult(name=f"counts.{name}", passed=ok, expected=wanted, actual=value))
    return results


def check_outputs(spec: OutputsSpec, violations: list[dict[str, Any]], count: int, seen: int) -> ExpectationResult:
    return ExpectationResult(
        name="outputs",
        passed=count == 0 and seen > 0,
        expected="every output record "
        + " and ".join(
            ([f"contains {spec.contains}"] if spec.contains else []) + [f"has {f}" for f in spec.fields or []]
        ),
        actual=f"{seen - count} of {seen} records",
        detail=f"{count} records do not" if count else ("no output record was seen" if seen == 0 else ""),
        near_misses=violations,
    )


def check_order(spec: OrderSpec, ledger: Ledger) -> ExpectationResult:
    """Per partition key, events are first delivered in the order the source accepted them: Kinesis
    sequence order where known (a producer's retried records land after later ones, as on AWS), else the
    order they were sent."""
    keys = ledger.partition_keys or []
    position = ledger.sequence_positions()
    groups: dict[str, list[int]] = defaultdict(list)
    for index, key in enumerate(keys):
        if ledger.delivery_order[index] >= 0 and index not in ledger.duplicate_of:
            groups[key].append(index)
    out_of_order: list[dict[str, Any]] = []
    for key, members in groups.items():
        members.sort(key=lambda i: position.get(i, (i,)))
        for before, after in pairwise(members):
            if ledger.delivery_order[after] < ledger.delivery_order[before]:
                out_of_order.append(
                    {"partition_key": key, "event": ledger.keys[after], "delivered_before": ledger.keys[before]}
                )
    checked = sum(len(m) for m in groups.values())
    return ExpectationResult(
        name="order.per_partition_key",
        passed=not out_of_order,
        expected="events of each partition key delivered in the order the source accepted them",
        actual=f"{len(out_of_order)} out of order among {checked} delivered events in {len(groups)} keys",
        near_misses=out_of_order[:5],
    )


def check_dead_letter_fields(spec: DeadLettersSpec, ledger: Ledger) -> list[ExpectationResult]:
    messages = ledger.dead_letters_in(spec.queue)
    results = []
    for field, wanted, label in (("condition", spec.condition, ""), ("batch_size", spec.batch_size, "batchSize ")):
        if wanted is None:
            continue
        wrong = [d for d in messages if getattr(d, field) != wanted]
        results.append(
            ExpectationResult(
                name=f"dead_letters[{spec.queue}].{field}",
                passed=not wrong and bool(messages),
                expected=f"every message {label}{wanted}",
                actual=sorted({str(getattr(d, field)) for d in messages}),
                near_misses=[d.body for d in wrong[:3]],
            )
        )
    return results
