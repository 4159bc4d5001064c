"""The AWS-recorded snapshots, looked up by test name.

The data is copied into the repository (tests/conformance/aws-snapshots) and also lives next to it
(``<repo>/../shared/conformance``). When it is missing the conformance tests fail: a skipped conformance suite
would read as a passing one.
"""

from __future__ import annotations

import difflib
import json
from functools import cache
from pathlib import Path
from typing import Any

KINESIS = "test_lambda_integration_kinesis"


def repo_root() -> Path:
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").is_file():
            return parent
    raise FileNotFoundError(f"no pyproject.toml above {here}: cannot find the repository root")


def snapshot_dir() -> Path:
    from conformance_data import snapshots_dir

    return snapshots_dir()


@cache
def _load(name: str) -> dict[str, Any]:
    path = snapshot_dir() / f"{name}.snapshot.json"
    if not path.is_file():
        raise FileNotFoundError(f"snapshot file {path} is missing")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def recorded(test: str, *, file: str = KINESIS) -> dict[str, Any]:
    """``recorded-content`` of the entry whose node id ends with ``::<test>`` (``test`` may carry its class:
    ``TestKinesisEventFiltering::test_kinesis_event_filtering_json_pattern``)."""
    entries = _load(file)
    found = [key for key in entries if key.endswith(f"::{test}")]
    if len(found) != 1:
        names = [key.rsplit("::", 1)[-1] for key in entries]
        close = difflib.get_close_matches(test.rsplit("::", 1)[-1], names, n=3)
        problem = "no entry" if not found else f"{len(found)} entries"
        raise KeyError(f"{problem} for {test!r} in {file}.snapshot.json; close: {close}")
    content: dict[str, Any] = entries[found[0]]["recorded-content"]
    return content
