"""The AWS backend refuses to start without an explicit opt-in; the real run needs opt-in and credentials."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.backends.aws import OPT_IN_ENV, OPT_IN_FLAG, AwsBackend, opted_in
from emulator.backends.factory import make_backend
from emulator.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_refuses_without_opt_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(OPT_IN_ENV, raising=False)
    with pytest.raises(ConfigError) as error:
        AwsBackend()
    assert OPT_IN_FLAG in str(error.value) and f"{OPT_IN_ENV}=1" in str(error.value)
    with pytest.raises(ConfigError, match="explicit opt-in"):
        make_backend("aws")
    monkeypatch.setenv(OPT_IN_ENV, "yes")  # only "1" opts in
    assert not opted_in()


def test_opt_in_by_flag_or_env_gives_a_per_run_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(OPT_IN_ENV, raising=False)
    first, second = AwsBackend(allow=True, region="eu-west-1"), AwsBackend(allow=True, region="eu-west-1")
    assert first.resource_prefix.startswith("pmu-") and first.resource_prefix != second.resource_prefix
    assert first.resource_prefix == first.resource_prefix.lower()  # bucket names are lowercase
    monkeypatch.setenv(OPT_IN_ENV, "1")
    assert AwsBackend(region="eu-west-1").capabilities.time_scale is False
