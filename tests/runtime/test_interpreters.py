"""Which interpreter runs a function: the version its runtime names when installed, else the nearest, with a
note saying which ran instead of which. Discovery is tested with stand-in interpreters (scripts that answer
the version probe) in pyenv/nvm-shaped directories, so the result does not depend on this machine; one test
runs a real handler to check the process is the interpreter that was announced."""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from lambda_helpers import spec

from emulator.errors import HandlerError
from emulator.runtime import LambdaRuntime, interpreters

HOST_MINOR = sys.version_info[1]
OTHER_MINOR = HOST_MINOR + 1  # a Python the harness is not


def _script(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def fake_python(root: Path, version: str, *, boto3: bool) -> Path:
    major, minor, micro = (int(v) for v in version.split("."))
    answer = json.dumps({"version": [major, minor, micro], "boto3": boto3})
    return _script(root / "versions" / version / "bin" / f"python{major}.{minor}", f"echo '{answer}'\n")


def fake_node(root: Path, version: str) -> Path:
    path = root / "versions" / "node" / f"v{version}" / "bin" / "node"
    return _script(path, f'echo "{version} {path}"\n')


@pytest.fixture
def machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty machine: no interpreter on PATH or in any version manager's directory."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for var, sub in (("PYENV_ROOT", "pyenv"), ("UV_PYTHON_INSTALL_DIR", "uv"), ("NVM_DIR", "nvm"),
                     ("FNM_DIR", "fnm"), ("XDG_CACHE_HOME", "cache")):
        monkeypatch.setenv(var, str(tmp_path / sub))
    monkeypatch.delenv("PIPEMU_PYTHON_INTERPRETER", raising=False)
    interpreters.clear_cache()
    yield tmp_path
    interpreters.clear_cache()


def test_the_harness_python_runs_its_own_version_without_a_note(machine: Path) -> None:
    chosen = interpreters.resolve(f"python3.{HOST_MINOR}")

    assert chosen.host and chosen.executable == sys.executable and chosen.note == ""


def test_an_installed_python_of_the_named_version_with_boto3_runs_it(machine: Path) -> None:
    installed = fake_python(machine / "pyenv", f"3.{OTHER_MINOR}.4", boto3=True)

    chosen = interpreters.resolve(f"python3.{OTHER_MINOR}")

    assert (chosen.executable, chosen.version, chosen.host, chosen.note) == (
        str(installed), (3, OTHER_MINOR, 4), False, ""
    )


def test_a_python_without_boto3_is_not_used_and_the_note_says_how_to_fix_it(machine: Path) -> None:
    installed = fake_python(machine / "pyenv", f"3.{OTHER_MINOR}.4", boto3=False)

    chosen = interpreters.resolve(f"python3.{OTHER_MINOR}")

    assert chosen.host and chosen.executable == sys.executable
    assert chosen.note.startswith(f"python3.{OTHER_MINOR} runs on Python {'.'.join(map(str, sys.version_info[:3]))}")
    assert f"{installed} is Python 3.{OTHER_MINOR} but cannot import boto3" in chosen.note
    assert f"`{installed} -m pip install boto3`" in chosen.note


def test_uv_managed_pythons_are_found(machine: Path) -> None:
    version = f"3.{OTHER_MINOR}.1"
    path = _script(machine / "uv" / f"cpython-{version}-linux-x86_64-gnu" / "bin" / f"python3.{OTHER_MINOR}",
                   "echo '" + json.dumps({"version": [3, OTHER_MINOR, 1], "boto3": True}) + "'\n")

    assert interpreters.resolve(f"python3.{OTHER_MINOR}").executable == str(path)


def test_version_manager_shims_on_path_are_not_asked(machine: Path) -> None:
    # a shim would answer for whatever version its manager selected; the real directories are looked up instead
    shim = _script(machine / "shims" / f"python3.{OTHER_MINOR}",
                   "echo '" + json.dumps({"version": [3, OTHER_MINOR, 0], "boto3": True}) + "'\n")
    os.environ["PATH"] = f"{shim.parent}{os.pathsep}{os.environ['PATH']}"

    chosen = interpreters.resolve(f"python3.{OTHER_MINOR}")

    assert chosen.host and f"no Python 3.{OTHER_MINOR} found" in chosen.note


def test_pipemu_python_interpreter_host_keeps_python_functions_on_the_harness(
    machine: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_python(machine / "pyenv", f"3.{OTHER_MINOR}.4", boto3=True)
    monkeypatch.setenv("PIPEMU_PYTHON_INTERPRETER", "host")

    chosen = interpreters.resolve(f"python3.{OTHER_MINOR}")

    assert chosen.host and chosen.note.endswith("PIPEMU_PYTHON_INTERPRETER=host")


def test_pythons_older_than_the_worker_needs_are_passed_over(machine: Path) -> None:
    fake_python(machine / "pyenv", "3.9.18", boto3=True)

    chosen = interpreters.resolve("python3.9")

    assert chosen.host and "pipemu's worker needs Python 3.11+" in chosen.note


def test_node_of_the_named_major_version_runs_it(machine: Path) -> None:
    fake_node(machine / "nvm", "18.20.1")
    node22 = fake_node(machine / "nvm", "22.3.0")

    chosen = interpreters.resolve("nodejs22.x")

    assert (chosen.executable, chosen.version, chosen.note) == (str(node22), (22, 3, 0), "")


def test_without_the_named_node_the_nearest_runs_and_the_note_says_so(machine: Path) -> None:
    fake_node(machine / "nvm", "18.20.1")
    node22 = fake_node(machine / "nvm", "22.3.0")

    chosen = interpreters.resolve("nodejs20.x")

    assert chosen.executable == str(node22)  # 18 and 22 are as near; the newer wins
    assert chosen.note.startswith(f"nodejs20.x runs on Node.js 22.3.0 ({node22}): no Node.js 20 found")
    assert "npm install --prefix ~/.cache/pipemu/node@20 node@20" in chosen.note


def test_node_installed_from_npm_into_pipemus_cache_is_found(machine: Path) -> None:
    path = machine / "cache" / "pipemu" / "node@18" / "node_modules" / "node" / "bin" / "node"
    _script(path, f'echo "18.19.0 {path}"\n')

    assert interpreters.resolve("nodejs18.x").executable == str(path)


def test_no_node_at_all_is_a_handler_error_with_a_hint(machine: Path) -> None:
    with pytest.raises(HandlerError) as raised:
        interpreters.resolve("nodejs20.x")

    assert "nodejs20.x functions need Node.js, and none was found" in str(raised.value)
    assert "apt-get install nodejs" in (raised.value.hint or "")


def test_doctor_lists_every_runtime_this_machine_can_serve(machine: Path) -> None:
    fake_node(machine / "nvm", "20.1.0")

    served = interpreters.served()

    assert set(served) == set(interpreters.RUNTIMES)
    node20, node22 = served["nodejs20.x"], served["nodejs22.x"]
    assert isinstance(node20, interpreters.Interpreter) and node20.note == ""
    assert isinstance(node22, interpreters.Interpreter) and "no Node.js 22 found" in node22.note


def test_doctor_says_why_a_runtime_cannot_be_served(machine: Path) -> None:
    served = interpreters.served()

    assert isinstance(served["nodejs20.x"], HandlerError)
    assert isinstance(served[f"python3.{HOST_MINOR}"], interpreters.Interpreter)


def test_a_python_function_runs_on_the_interpreter_that_was_announced(tmp_path: Path) -> None:
    """End to end on this machine's real interpreters: what the handler's process reports is what resolve()
    said (another Python when one with boto3 is installed, else the harness's with a note)."""
    interpreters.clear_cache()
    runtime_name = f"python3.{OTHER_MINOR}"
    chosen = interpreters.resolve(runtime_name)
    code = "import sys\n\ndef handler(event, context):\n    return [list(sys.version_info[:2]), sys.executable]\n"
    fn = spec("probe.handler", {"probe.py": code}, runtime=runtime_name)

    with LambdaRuntime(endpoint_url="http://127.0.0.1:9") as runtime:
        result = runtime.invoke(fn, b"{}")

    version, _ = json.loads(result.payload)
    assert tuple(version) == chosen.version[:2]
    assert (chosen.note == "") == (tuple(version) == (3, OTHER_MINOR))


def _another_python() -> tuple[Path, int] | None:
    """A real Python 3.11+ on this machine that is not the harness's (pyenv's, uv's or on PATH), if any."""
    for minor in (12, 13, 11, 14):
        if minor == HOST_MINOR:
            continue
        for path in interpreters._python_paths(minor):
            if path.is_file() and os.access(path, os.X_OK):
                return path, minor
    return None


ANOTHER_PYTHON = _another_python()  # looked up before any test hides this machine's interpreters


def _sdk_dir(target: Path) -> Path:
    """The harness's boto3 and its pure-Python dependencies, linked into one directory."""
    import importlib

    target.mkdir()
    for name in ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six"):
        module = importlib.import_module(name)
        source = Path(module.__file__ or "")
        source = source.parent if source.name == "__init__.py" else source
        (target / source.name).symlink_to(source)
    return target


def test_a_python_function_runs_on_another_installed_python(machine: Path) -> None:
    """A real second interpreter (given the harness's boto3 through a wrapper script, as a venv would) runs the
    function: pipemu's worker works there and the handler sees that version. Without a second Python on this
    machine the function falls back to the harness's, and the test checks that instead."""
    found = ANOTHER_PYTHON
    code = "import sys\nimport boto3\n\ndef handler(event, context):\n    return list(sys.version_info[:2])\n"
    if found is None:
        runtime_name = f"python3.{OTHER_MINOR}"
        expected = (3, HOST_MINOR)
    else:
        real, minor = found
        sdk = _sdk_dir(machine / "sdk")
        _script(machine / "pyenv" / "versions" / f"3.{minor}.0" / "bin" / f"python3.{minor}",
                f'PYTHONPATH="${{PYTHONPATH:+$PYTHONPATH:}}{sdk}" exec {real} "$@"\n')
        runtime_name, expected = f"python3.{minor}", (3, minor)
    fn = spec("probe.handler", {"probe.py": code}, runtime=runtime_name)

    with LambdaRuntime(endpoint_url="http://127.0.0.1:9") as runtime:
        result = runtime.invoke(fn, b"{}")

    assert result.function_error is None, result.payload.decode() + result.logs
    assert tuple(json.loads(result.payload)) == expected
    assert (interpreters.resolve(runtime_name).note == "") == (found is not None)
