"""AWS-recorded content of the conformance snapshots, for unit tests that hold pipemu's event shapes to it
(the conformance suite compares whole runs; these tests compare one shaping function at a time)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from conformance_data import snapshots_dir


@cache
def _snapshot(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((snapshots_dir() / f"{name}.snapshot.json").read_text())
    return data


def recorded(name: str, test: str, *path: str | int) -> Any:
    """The value at ``path`` in the ``recorded-content`` of the one entry of snapshot ``name`` (e.g.
    ``test_lambda_integration_sqs``) whose node id ends with ``::<test>``."""
    entries = [value for key, value in _snapshot(name).items() if key.endswith(f"::{test}")]
    if len(entries) != 1:
        raise KeyError(f"{len(entries)} entries for {test!r} in {name}.snapshot.json")
    found: Any = entries[0]["recorded-content"]
    for step in path:
        found = found[step]
    return found
