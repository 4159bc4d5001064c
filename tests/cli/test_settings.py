"""[tool.pipemu] settings with PIPEMU_* overrides."""

from __future__ import annotations

from pathlib import Path

import pytest
from deep_json import DEEP

from emulator.errors import ConfigError
from emulator.settings import load_settings


def test_defaults_without_any_configuration(tmp_path: Path) -> None:
    s = load_settings(tmp_path, environ={})
    assert (s.backend, s.report_dir, s.time_scale, s.seed, s.source) == (
        "embedded", Path("pipemu-report"), None, None, "defaults")


def test_pyproject_table_then_environment_overrides(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.pipemu]\nreport_dir = "out"\ntime_scale = 10\nseed = 3\n')
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    s = load_settings(nested, environ={"PIPEMU_SEED": "9"})
    assert s.report_dir == tmp_path / "out" and s.time_scale == 10.0 and s.seed == 9
    assert "PIPEMU_SEED" in s.source and "pyproject.toml" in s.source


def test_unknown_setting_names_the_file_and_key(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.pipemu]\ntime_scal = 10\n")
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path, environ={})
    assert info.value.key == "tool.pipemu.time_scal" and str(tmp_path / "pyproject.toml") in str(info.value)


def test_bad_environment_value_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="PIPEMU_TIME_SCALE"):
        load_settings(tmp_path, environ={"PIPEMU_TIME_SCALE": "fast"})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[tool.pipemu]\nseed = \n", "not valid TOML: "),
        ("[tool.pipemu]\nx = " + DEEP + "\n",
         "not readable TOML: arrays or tables nested too deeply"),
    ],
    ids=["malformed", "nested past tomllib's recursion"],
)
def test_an_unreadable_pyproject_is_a_config_error_naming_it(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "pyproject.toml").write_text(text)

    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path, environ={})

    assert info.value.file == str(tmp_path / "pyproject.toml")
    assert message in str(info.value)
