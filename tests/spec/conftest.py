"""Fixtures for spec tests: YAML written into tmp_path, and a checker for ConfigError location and hint."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from spec_samples import PIPELINE_YAML, SCENARIO_YAML

from emulator.errors import ConfigError

Write = Callable[[str, str], Path]


@pytest.fixture
def write(tmp_path: Path) -> Write:
    """``write("a/b.yaml", text)``: dedent, write under tmp_path, return the path."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return _write


@pytest.fixture
def pipeline_file(tmp_path: Path, write: Write) -> Callable[[str], Path]:
    """Write a pipeline (the brief's example by default) next to a ``handlers/`` directory."""

    def _make(text: str = PIPELINE_YAML, name: str = "fixtures/clickstream/pipeline.yaml") -> Path:
        path = write(name, text)
        (path.parent / "handlers").mkdir(exist_ok=True)
        return path

    return _make


@pytest.fixture
def scenario_file(pipeline_file: Callable[[str], Path], write: Write) -> Callable[..., Path]:
    """Write the brief's pipeline and a scenario (the brief's example by default) in ``scenarios/``."""

    def _make(text: str = SCENARIO_YAML, pipeline: str = PIPELINE_YAML) -> Path:
        pipeline_file(pipeline)
        return write("scenarios/smoke.yaml", text)

    return _make


def raises_config(
    call: Callable[[], Any],
    *,
    line: int | None = None,
    key: str | None = None,
    message: str = "",
    hint: str | None = "",
    file: Path | None = None,
) -> ConfigError:
    """Call, expect a ConfigError, and check where it points and what it says."""
    with pytest.raises(ConfigError) as info:
        call()
    err = info.value
    if file is not None:
        assert err.file is not None and Path(err.file).resolve() == file.resolve(), str(err)
    if line is not None:
        assert err.line == line, str(err)
    if key is not None:
        assert err.key == key, str(err)
    assert message in err.message, str(err)
    if hint is None:
        assert err.hint is None, str(err)
    elif hint:
        assert err.hint is not None and hint in err.hint, str(err)
    assert err.exit_code == 2
    return err


@pytest.fixture
def expect_error() -> Callable[..., ConfigError]:
    return raises_config
