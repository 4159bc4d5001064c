"""User settings: ``[tool.pipemu]`` in the nearest pyproject.toml, overridden by ``PIPEMU_*`` environment
variables, overridden by command-line flags.

    [tool.pipemu]
    backend = "embedded"
    report_dir = "build/pipemu"
    time_scale = 10
    seed = 7
    cost_region = "eu-west-1"        # the price table's region for cost figures (default us-east-1)
    prices_file = "prices.json"      # merged over the bundled table (same shape as emulator/cost/prices.json)

    [tool.pipemu.prices]             # single prices, "service.item" = USD
    "lambda.requests_million" = 0.2
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field, fields, replace
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
    cost_region: str = "us-east-1"
    prices_file: Path | None = None
    prices: dict[str, float] = field(default_factory=dict)
    source: str = "defaults"  # where the values came from, for `pipemu doctor`


def _find_pyproject(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def _coerce(name: str, value: Any, *, file: Path | None, origin: str) -> Any:
    try:
        if name in ("report_dir", "prices_file"):
            path = Path(str(value))
            return path if path.is_absolute() or file is None else file.parent / path
        if name == "prices":
            table = json.loads(value) if isinstance(value, str) else value
            if not isinstance(table, dict) or not all(
                isinstance(v, int | float) and not isinstance(v, bool) and v >= 0 for v in table.values()
            ):
                raise ValueError('must map "service.item" to a price in USD >= 0')
            return {str(k): float(v) for k, v in table.items()}
        if name == "time_scale":
            scale = float(value)
            if scale <= 0:
                raise ValueError("must be > 0")
            return scale
        if name == "seed":
            return int(value)
        if name in ("backend", "cost_region"):
            return str(value)
    except (TypeError, ValueError, RecursionError) as exc:  # RecursionError: a prices table nested too deeply
        raise ConfigError(
            f"bad value {value!r} for {name}: {exc}", file=file or origin, key=name,
            hint="backend, cost_region: a name; report_dir, prices_file: a path; time_scale: a number > 0; "
                 'seed: an integer; prices: a table of "service.item" = USD',
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
        except RecursionError:  # tomllib parses nested arrays and inline tables recursively
            raise ConfigError(
                "not readable TOML: arrays or tables nested too deeply", file=pyproject,
                hint="fix the file or remove [tool.pipemu]",
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
