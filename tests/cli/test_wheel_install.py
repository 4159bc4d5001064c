"""The newcomer's path from the built wheel: install it into a fresh virtual environment outside the source tree,
then `pipemu init x && cd x && pipemu replay scenario.yaml` and `pipemu doctor` there.

The editable install that the rest of the suite uses reads templates and py.typed straight from the checkout, so
it cannot notice package data missing from the wheel; this test can.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# What a checkout holds besides the sources: environments, caches and build output.
NOT_SOURCES = shutil.ignore_patterns(".git", ".venv", "venv", ".ci", "build", "dist", "*.egg-info", "__pycache__",
                                     ".*_cache", "node_modules", "pipemu-report", ".pipemu")


def outside_env() -> dict[str, str]:
    """This environment without PYTHONPATH and the like: they would show pip and Python the checkout."""
    return {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "PIPEMU_"))}


def run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(part) for part in command], cwd=cwd, env=outside_env() if env is None else env,
                          capture_output=True, text=True, timeout=300, check=False)


def build_wheel(tmp_path: Path) -> Path:
    # A copy of the checkout, so that setuptools' build/ directory (which can carry modules deleted since the
    # last build) and egg-info never come from or land in the source tree.
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCES)
    # No build isolation: setuptools comes from the test extra, so the build downloads nothing.
    done = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--wheel-dir",
               tmp_path / "dist", source, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    [wheel] = (tmp_path / "dist").glob("pipemu-*.whl")
    return wheel


def make_venv(tmp_path: Path, wheel: Path) -> Path:
    """A fresh environment with the wheel installed, its dependencies read from the one running this test."""
    venv = tmp_path / "venv"
    done = run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    python = venv / "bin" / "python"
    done = run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", wheel,
               cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    # Only now the dependencies: pip would take the checkout's editable install among them for this wheel and
    # install nothing. Not --system-site-packages: run from a virtual environment (as .ci/run does), that exposes
    # the base interpreter's packages, not this environment's. Directories named in a .pth file go on sys.path
    # after the venv's own site-packages, and the .pth files inside them (the editable install's) are not run.
    purelib = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path)
    here = [*site.getsitepackages(), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    (Path(purelib.stdout.strip()) / "_dependencies_from_the_test_environment.pth").write_text(
        "\n".join(dict.fromkeys(here)) + "\n")
    return venv


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp_path = tmp_path_factory.mktemp("wheel")
    wheel = build_wheel(tmp_path)
    return wheel, make_venv(tmp_path, wheel)


def newcomer_env(venv: Path) -> dict[str, str]:
    env = outside_env()
    return {**env, "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", "VIRTUAL_ENV": str(venv),
            "NO_COLOR": "1", "COLUMNS": "200"}


def test_the_wheel_ships_the_package_data(installed: tuple[Path, Path]) -> None:
    wheel, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {path.relative_to(ROOT).as_posix() for path in (ROOT / "emulator").rglob("*")
               if path.is_file() and "__pycache__" not in path.parts}
    assert {"emulator/py.typed", "emulator/templates/starter/handlers/app.py"} <= shipped
    assert shipped - names == set(), "files under emulator/ that the wheel leaves out"


def test_the_venv_runs_pipemu_from_the_wheel_not_the_checkout(installed: tuple[Path, Path], tmp_path: Path) -> None:
    _, venv = installed
    env = newcomer_env(venv)
    where = run("python", "-c", "import emulator; print(emulator.__file__)", cwd=tmp_path, env=env)
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).resolve().is_relative_to(venv.resolve()), where.stdout
    assert shutil.which("pipemu", path=env["PATH"]) == str(venv / "bin" / "pipemu")


def test_init_replay_and_doctor_from_the_installed_wheel(installed: tuple[Path, Path], tmp_path: Path) -> None:
    _, venv = installed
    env = newcomer_env(venv)

    pipemu = venv / "bin" / "pipemu"  # the venv's own script, whatever else PATH holds

    init = run(pipemu, "init", "x", cwd=tmp_path, env=env)
    assert init.returncode == 0, init.stdout + init.stderr
    replay = run(pipemu, "replay", "scenario.yaml", cwd=tmp_path / "x", env=env)
    doctor = run(pipemu, "doctor", cwd=tmp_path / "x", env=env)

    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert "PASSED" in replay.stdout
    assert (tmp_path / "x" / "pipemu-report" / "report.html").is_file()
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "embedded backend: ready" in doctor.stdout
