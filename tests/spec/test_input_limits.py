"""Hostile or careless input is refused before it costs time or memory: alias bombs, huge files, template
format specs that allocate gigabytes, and paths that would make pipemu read (and quote) files of the machine."""

from __future__ import annotations

import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from emulator.errors import ConfigError
from emulator.spec.pipeline import load_pipeline
from emulator.spec.scenario import load_scenario
from emulator.spec.yamlsrc import MAX_ALIAS_VALUES, MAX_BYTES, load_yaml, parse_yaml
from emulator.stepfunctions.definition import load_definition

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = (ROOT / "fixtures" / "clickstream" / "pipeline.yaml").read_text()


def laughs(levels: int = 6, indent: str = "") -> str:
    """A "billion laughs" document: each level is nine aliases of the level below (9**levels strings; six levels
    are enough to cross the limit and small enough that a missing check fails the test instead of the machine)."""
    lines = [f'{indent}a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"{indent}a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def merge_bomb(levels: int = 12) -> str:
    """The same with merge keys: every level merges the one below twice under new keys."""
    lines = ["m0: &m0 {k0: 1}"]
    lines += [f"m{i}: &m{i} {{x{i}: *m{i - 1}, y{i}: *m{i - 1}, z{i}: *m{i - 1}}}" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def refused_cheaply(call: object) -> ConfigError:
    """Run ``call``; it must raise ConfigError having allocated little (a bomb would take gigabytes)."""
    tracemalloc.start()
    try:
        with pytest.raises(ConfigError) as caught:
            call()  # type: ignore[operator]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50 * 1024 * 1024, f"peak {peak / 1e6:.0f} MB while refusing"
    return caught.value


@pytest.mark.parametrize("bomb", [laughs(), merge_bomb()], ids=["aliases", "merge-keys"])
def test_alias_bomb_in_a_pipeline_is_refused_naming_file_and_limit(tmp_path: Path, bomb: str) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text(PIPELINE + bomb)
    error = refused_cheaply(lambda: load_yaml(path))
    assert error.file == str(path)
    assert f"{MAX_ALIAS_VALUES:,}" in error.message and "aliases expand" in error.message
    assert "billion laughs" in (error.hint or "")


def test_aliases_within_the_limit_still_load(tmp_path: Path) -> None:
    doc = parse_yaml(laughs(levels=3) + "b: *a3\n", file=tmp_path / "x.yaml")
    assert len(doc.data["b"]) == 9 and doc.data["b"][8][8][8] == ["lol"] * 9


def test_recursive_alias_is_still_reported_as_such(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="refers to itself"):
        parse_yaml("a: &a [*a]\n", file=tmp_path / "x.yaml")


def test_a_file_over_the_size_limit_is_refused_without_reading_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "pipeline.yaml"
    with path.open("wb") as f:
        f.truncate(50 * 1024 * 1024)  # sparse: 50 MB on paper, nothing on disk

    def no_reading(*_: object, **__: object) -> str:
        raise AssertionError("the file was read")

    monkeypatch.setattr(Path, "read_text", no_reading)
    error = refused_cheaply(lambda: load_pipeline(path))
    assert error.file == str(path)
    assert f"over the limit of {MAX_BYTES:,} bytes" in error.message


def test_alias_bomb_in_a_state_machine_yaml_definition_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "machine.asl.yaml"
    path.write_text("StartAt: A\nStates:\n  A: {Type: Pass, End: true}\nComment:\n" + laughs(indent="  "))
    error = refused_cheaply(lambda: load_definition(path))
    assert error.file == str(path) and "aliases expand" in error.message


def test_oversized_json_definition_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "machine.asl.json"
    path.write_text('{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}, "Comment": "'
                    + "x" * MAX_BYTES + '"}')
    error = refused_cheaply(lambda: load_definition(path))
    assert "over the limit" in error.message


def test_validate_refuses_a_bomb_with_exit_2_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text(PIPELINE.replace("handlers/", f"{ROOT}/fixtures/clickstream/handlers/") + laughs())
    done = subprocess.run(
        [sys.executable, "-m", "emulator.cli", "validate", str(path)], capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "COLUMNS": "300", "PYTHONPATH": str(ROOT)}, cwd=tmp_path,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert str(path) in done.stderr and f"{MAX_ALIAS_VALUES:,}" in done.stderr
    assert "Traceback" not in done.stderr


SECRET = "root:x:0:0:SECRET-CONTENT:/root:/bin/bash\n"


def scenario_naming(tmp_path: Path, pipeline: str) -> Path:
    project = tmp_path / "project"
    (project / "scenarios").mkdir(parents=True)
    (project / "pyproject.toml").write_text("")
    path = project / "scenarios" / "s.yaml"
    path.write_text(
        f"scenario: s\npipeline: {pipeline}\nsource: stream/clicks\nevents: {{count: 1, fields: {{id: uuid4}}}}\n"
        "expect: {}\n"
    )
    return path


@pytest.mark.parametrize("name", ["../../outside.yaml", "../../passwd"])
def test_a_scenario_cannot_name_a_pipeline_outside_its_project(tmp_path: Path, name: str) -> None:
    (tmp_path / Path(name).name).write_text(SECRET)
    with pytest.raises(ConfigError) as caught:
        load_scenario(scenario_naming(tmp_path, name))
    assert "outside the project directory" in str(caught.value)
    assert "SECRET" not in str(caught.value)


def test_a_pipeline_that_is_not_yaml_is_refused_unread_outside_any_project(tmp_path: Path) -> None:
    (tmp_path / "passwd").write_text(SECRET)
    (tmp_path / "s.yaml").write_text(
        "scenario: s\npipeline: passwd\nsource: stream/clicks\nevents: {count: 1, fields: {id: uuid4}}\nexpect: {}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_scenario(tmp_path / "s.yaml")
    assert "is not a .yaml or .yml file" in str(caught.value) and "SECRET" not in str(caught.value)


def test_a_file_that_is_not_a_mapping_is_not_quoted(tmp_path: Path) -> None:
    path = tmp_path / "stolen.yaml"
    path.write_text(SECRET)
    with pytest.raises(ConfigError) as caught:
        load_pipeline(path)
    assert "single value" in str(caught.value) and "SECRET" not in str(caught.value)
