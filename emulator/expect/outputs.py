"""Checks on each output record: a JSON subset it must contain, dotted paths it must have."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulator.spec.expectations import OutputsSpec

_MISSING = object()


def contains(record: Any, subset: Any) -> bool:
    """JSON-subset match: dicts by key (recursively), lists element-wise by position, scalars by equality."""
    if isinstance(subset, dict):
        return isinstance(record, dict) and all(k in record and contains(record[k], v) for k, v in subset.items())
    if isinstance(subset, list):
        return (
            isinstance(record, list)
            and len(record) >= len(subset)
            and all(contains(r, s) for r, s in zip(record, subset, strict=False))
        )
    return bool(record == subset)


def lookup(record: Any, path: str) -> Any:
    current = record
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return _MISSING
    return current


def output_checker(spec: OutputsSpec | None) -> Callable[[Any], str | None] | None:
    if spec is None:
        return None

    def check(record: Any) -> str | None:
        if spec.contains is not None and not contains(record, spec.contains):
            return f"does not contain {spec.contains}"
        for path in spec.fields or []:
            if lookup(record, path) is _MISSING:
                return f"has no '{path}'"
        return None

    return check
