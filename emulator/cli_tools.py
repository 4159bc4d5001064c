"""`pipemu doctor` and `pipemu init`."""

from __future__ import annotations

import importlib.metadata as metadata
import os
import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from emulator.cli_output import fail, make_console
from emulator.errors import ConfigError, PipemuError

STARTER = Path(__file__).parent / "templates" / "starter"
STARTER_FILES = ("pipeline.yaml", "scenario.yaml", "handlers/app.py")


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _docker() -> tuple[bool, str]:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True, "engine answers"
    except Exception as exc:
        return False, f"no engine answers ({type(exc).__name__})"


def doctor_rows() -> list[tuple[str, bool, str]]:
    """(check, ok, detail) for everything pipemu's backends need."""
    from emulator.settings import load_settings

    rows: list[tuple[str, bool, str]] = []
    py = sys.version_info
    rows.append(("Python", py >= (3, 11), f"{py.major}.{py.minor}.{py.micro} (needs 3.11+)"))
    rows += _runtime_rows()
    moto = _version("moto")
    rows.append(("moto", moto == "5.2.5", f"{moto} (pipemu's embedded seams are written for 5.2.5)"))
    for package in ("boto3", "faker", "testcontainers"):
        found = _version(package)
        rows.append((package, found is not None, found or "not installed"))
    docker_ok, docker_detail = _docker()
    rows.append(("Docker (LocalStack backend)", docker_ok, docker_detail))
    token = bool(os.environ.get("LOCALSTACK_AUTH_TOKEN"))
    rows.append(("LOCALSTACK_AUTH_TOKEN", True,
                 "set" if token else "not set: fine for localstack/localstack:4.14.0, needed for newer images"))
    aws_opt_in = os.environ.get("PIPEMU_ALLOW_AWS") == "1"
    rows.append(("AWS backend opt-in", True, "PIPEMU_ALLOW_AWS=1" if aws_opt_in else
                 "off (pass --i-understand-this-uses-real-aws or set PIPEMU_ALLOW_AWS=1)"))
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    rows.append(("chromium (report screenshots in tests)", True, chromium or "not found: apt-get install chromium"))
    try:
        settings = load_settings()
        rows.append(("settings", True, f"backend={settings.backend} report_dir={settings.report_dir} "
                                       f"time_scale={settings.time_scale} seed={settings.seed} ({settings.source})"))
    except ConfigError as exc:
        rows.append(("settings", False, str(exc)))
    return rows


def _runtime_rows() -> list[tuple[str, bool, str]]:
    """The Lambda runtimes the embedded backend can serve here, and on which interpreter."""
    from emulator.runtime import interpreters

    rows: list[tuple[str, bool, str]] = []
    for runtime, served in interpreters.served().items():
        if isinstance(served, interpreters.Interpreter):
            rows.append((f"runtime {runtime}", True, served.note or f"runs on {served.label}"))
        else:
            rows.append((f"runtime {runtime}", False, f"{served.message} ({served.hint})"))
    return rows


def register(app: typer.Typer) -> None:
    @app.command()
    def doctor() -> None:
        """Check Python, the Lambda runtimes served here, moto, Docker, LocalStack token and what each backend
        needs."""
        rows = doctor_rows()
        table = Table(title="pipemu doctor")
        table.add_column("check")
        table.add_column("")
        table.add_column("detail")
        for name, ok, detail in rows:
            table.add_row(escape(name), "[green]ok[/]" if ok else "[red]missing[/]", escape(detail))
        make_console().print(table)
        embedded = all(ok for name, ok, _ in rows if name in ("Python", "moto", "boto3", "faker"))
        make_console().print("embedded backend: " + ("ready" if embedded else "NOT ready (see above)"))
        if not embedded:
            raise typer.Exit(3)

    @app.command()
    def init(
        directory: Annotated[Path, typer.Argument(help="where to write the starter files")] = Path("."),
    ) -> None:
        """Write a starter pipeline, handler and scenario that replay green: `pipemu replay scenario.yaml`."""
        try:
            existing = [f for f in STARTER_FILES if (directory / f).exists()]
            if existing:
                raise ConfigError(f"{', '.join(existing)} already exist", file=directory / existing[0],
                                  hint="run `pipemu init` in an empty directory; nothing was written")
            for name in STARTER_FILES:
                target = directory / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(STARTER / name, target)
        except PipemuError as error:
            raise fail(error, make_console(stderr=True)) from None
        print(f"wrote {', '.join(STARTER_FILES)} in {directory.resolve()}")
        print("next: pipemu replay scenario.yaml")
