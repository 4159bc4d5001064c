"""Rate profiles: exact due offsets for each profile."""

from __future__ import annotations

import pytest

from emulator.replay.rates import Schedule
from emulator.spec.traffic import RateSpec


def schedule(**kwargs: object) -> Schedule:
    return Schedule(RateSpec.model_validate(kwargs))


def test_constant_spaces_events_evenly() -> None:
    s = schedule(per_second=100)
    assert [s.offset(i) for i in (0, 1, 100)] == [0.0, 0.01, 1.0]
    assert s.describe() == "100/s"


def test_max_and_no_rate_are_unpaced() -> None:
    assert schedule(profile="max").offset(10) is None
    assert Schedule(None).offset(10) is None and Schedule(None).unpaced


def test_ramp_accelerates_then_holds() -> None:
    s = schedule(profile="ramp", **{"from": 10}, to=110, over_s=10)  # 600 events during the ramp
    assert s.offset(0) == 0.0
    assert s.offset(600) == pytest.approx(10.0)
    assert s.offset(710) == pytest.approx(11.0)  # then 110/s
    gaps = [s.offset(i + 1) - s.offset(i) for i in (0, 300, 599)]  # type: ignore[operator]
    assert gaps[0] > gaps[1] > gaps[2]
    assert s.rate_at(5) == pytest.approx(60)


def test_step_changes_rate_at_each_boundary_and_holds_the_last() -> None:
    s = schedule(profile="step", steps=[{"per_second": 10, "for_s": 2}, {"per_second": 100, "for_s": 1}])
    assert s.offset(20) == pytest.approx(2.0)
    assert s.offset(120) == pytest.approx(3.0)
    assert s.offset(220) == pytest.approx(4.0)
    assert s.rate_at(2.5) == 100


def test_burst_sends_peaks_at_the_start_of_each_period() -> None:
    s = schedule(profile="burst", base=10, peak=1000, every_s=2, burst_s=0.1)  # 100 in burst + 19 after
    assert s.offset(99) == pytest.approx(0.099)
    assert s.offset(100) == pytest.approx(0.1)
    assert s.offset(101) == pytest.approx(0.2)
    assert s.offset(119) == pytest.approx(2.0)
    assert s.rate_at(0.05) == 1000 and s.rate_at(1.0) == 10


def test_recorded_uses_the_recording_offsets_with_speed() -> None:
    s = schedule(profile="recorded", speed=4)
    assert s.offset(5, recorded_offset=2.0) == 0.5


@pytest.mark.parametrize("kwargs", [
    {"profile": "ramp", "to": 5, "over_s": 1},
    {"profile": "constant"},
    {"profile": "burst", "base": 1, "peak": 2, "every_s": 1, "burst_s": 1},
    {"profile": "max", "per_second": 5},
])
def test_incomplete_or_mixed_profiles_are_refused(kwargs: dict[str, object]) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        RateSpec.model_validate(kwargs)
