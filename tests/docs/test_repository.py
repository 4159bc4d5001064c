"""The repository holds only code we write: installed third-party packages stay out of git.

A committed ``node_modules`` once passed every local run and failed in CI: ``.gitignore``'s ``build/`` had kept
each package's ``build/`` directory out of the commit, while the install stamp in it said "installed", so a clean
clone ran handlers against packages without their code.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INSTALLED = ("node_modules", "site-packages", ".venv", "__pycache__")


def tracked_files() -> list[str]:
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.fail("this test reads the checkout's git index: run it from a git clone with git on PATH")
    done = subprocess.run([git, "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    return [name for name in done.stdout.decode().split("\0") if name]


def test_no_installed_packages_are_committed() -> None:
    # GIVEN every file git tracks
    files = tracked_files()

    # THEN none lies in a directory that a package manager fills
    committed = sorted({part for name in files for part in Path(name).parts if part in INSTALLED})
    offenders = [name for name in files if set(Path(name).parts) & set(INSTALLED)][:5]
    assert not committed, f"installed packages are committed ({', '.join(committed)}), e.g. {offenders}"
    assert len(files) > 100  # the index was read, not an empty listing


def test_test_modules_import_support_code_the_way_ci_finds_it() -> None:
    """``tests`` is not a package: CI runs pytest with only ``tests/support`` on the path (pyproject's ``pythonpath``).

    A ``from tests.support... import`` passed every run with ``PYTHONPATH`` set to the checkout and stopped CI's
    collection with ``No module named 'tests'``.
    """
    # GIVEN every Python file under tests/
    offenders = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        # WHEN its imports are read
        for node in ast.walk(tree):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            offenders += [f"{path.relative_to(ROOT)}:{node.lineno}" for name in names
                          if name == "tests" or name.startswith("tests.")]
    # THEN none imports the tests directory as a package
    assert not offenders, f"import support modules by their own name (tests/support is on pytest's path): {offenders}"
