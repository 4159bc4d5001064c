"""User settings: ``[tool.pipemu]`` in the nearest pyproject.toml, overridden by ``PIPEMU_*`` environment
variables, overridden by command-line flags.

    [tool.pipemu]
    backend = "embedded"
    report_dir = "build/pipemu"
    time_scale = 10
    seed = 7
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from emulator.errors import ConfigError

ENV_PREFIX = "PIPEMU_"


@dataclass(frozen=True)
class Settings:
    backend: str = "embedded"
    report_dir: Path = Path("pipemu-report")
    time_scale: float | None = None
    seed: int | None = None
    source: str = "defaults"  # where the values came from, for `pipemu doctor`


def _find_pyproject(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def _coerce(name: str, value: Any, *, file: Path | None, origin: str) -> Any:
    try:
        if name == "report_dir":
            path = Path(str(value))
            return path if path.is_absolute() or file is None else file.parent / path
        if name == "time_scale":
            scale = float(value)
            if scale <= 0:
                raise ValueError("must be > 0")
            return scale
        if name == "seed":
            return int(value)
        if name == "backend":
            return str(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"bad value {value!r} for {name}: {exc}", file=file or origin, key=name,
            hint="backend: a name; report_dir: a path; time_scale: a number > 0; seed: an integer",
        ) from None
    return value


def load_settings(cwd: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    settings = Settings()
    names = {f.name for f in fields(Settings)} - {"source"}
    pyproject = _find_pyproject((cwd or Path.cwd()).resolve())
    sources = []
    if pyproject is not None:
        try:
            table = tomllib.loads(pyproject.read_text()).get("tool", {}).get("pipemu", {})
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(
                f"not valid TOML: {exc}", file=pyproject, hint="fix the file or remove [tool.pipemu]"
            ) from None
        for key, value in table.items():
            if key not in names:
                raise ConfigError(f"unknown setting '{key}'", file=pyproject, key=f"tool.pipemu.{key}",
                                  hint=f"settings: {', '.join(sorted(names))}")
            settings = replace(settings, **{key: _coerce(key, value, file=pyproject, origin=str(pyproject))})
        if table:
            sources.append(f"{pyproject} [tool.pipemu]")
    for name in sorted(names):
        value = env.get(ENV_PREFIX + name.upper())
        if value:
            settings = replace(settings, **{name: _coerce(name, value, file=None, origin=ENV_PREFIX + name.upper())})
            sources.append(ENV_PREFIX + name.upper())
    return replace(settings, source=", ".join(sources) or "defaults")
