"""The README's examples run: set-up commands, Python snippets, YAML references, command lines."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", README, flags=re.S)


def blocks(lang: str) -> list[str]:
    return [body for kind, body in BLOCKS if kind == lang]


def test_exactly_the_two_set_up_commands() -> None:
    installs = [line.strip() for line in README.splitlines() if line.strip().startswith("pip install")]
    assert installs == [
        "pip install -e . && pipemu replay scenarios/clickstream-smoke.yaml",
        "pip install -e '.[test]' && pytest",
    ]
    assert "pip install -e '.[test]' && pytest" in (ROOT / ".ci" / "run").read_text()


def test_the_pytest_example_passes_as_a_user_would_run_it(tmp_path: Path) -> None:
    [example] = [b for b in blocks("python") if "def test_" in b]
    path = tmp_path / "test_readme_example.py"
    path.write_text(example)
    done = subprocess.run([sys.executable, "-m", "pytest", str(path), "-q", "-p", "no:cacheprovider"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "pipemu scenarios" in done.stdout  # the plugin's terminal summary


def test_the_library_example_runs() -> None:
    [example] = [b for b in blocks("python") if "run_scenario(" in b]
    done = subprocess.run([sys.executable, "-c", example], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "PASSED" in done.stdout


@pytest.mark.parametrize("marker,where,loader", [
    ("pipeline: clickstream", "fixtures/clickstream/_readme_pipeline.yaml", "pipeline"),
    ("scenario: clickstream-chaos", "scenarios/_readme_scenario.yaml", "scenario"),
])
def test_the_yaml_references_load(marker: str, where: str, loader: str) -> None:
    from emulator.spec.pipeline import load_pipeline
    from emulator.spec.scenario import load_scenario

    [text] = [b for b in blocks("yaml") if b.startswith(marker)]
    path = ROOT / where
    path.write_text(text)
    try:
        if loader == "pipeline":
            assert load_pipeline(path).name == "clickstream"
        else:
            spec, _ = load_scenario(path)
            assert spec.faults is not None and spec.rate is not None and spec.rate.profile == "burst"
    finally:
        path.unlink()


def test_every_pipemu_command_line_uses_real_commands_and_options() -> None:
    lines = [line.split("#")[0].strip() for b in blocks("sh") for line in b.splitlines()]
    segments = [part.strip() for line in lines for part in line.split("&&")]
    commands = [shlex.split(part) for part in segments if part.startswith("pipemu ")]
    assert len(commands) >= 10
    helps: dict[str, str] = {}
    for argv in commands:
        sub = argv[1]
        if sub not in helps:
            env = {"COLUMNS": "300", "NO_COLOR": "1", "PATH": "/usr/bin:/bin"}
            done = subprocess.run([sys.executable, "-m", "emulator.cli", sub, "--help"], capture_output=True,
                                  text=True, timeout=60, env=env)
            assert done.returncode == 0, f"pipemu {sub}: {done.stderr}"
            helps[sub] = done.stdout
        for option in (a.split("=")[0] for a in argv[2:] if a.startswith("--")):
            assert option in helps[sub], f"`pipemu {sub}` has no {option}"
