"""How traffic arrives (rate profiles) and what goes wrong on purpose (seeded faults), as scenario keys.

    rate: {per_second: 500}                                   # constant
    rate: {profile: ramp, from: 10, to: 500, over_s: 5}       # linear ramp, then holds `to`
    rate: {profile: step, steps: [{per_second: 100, for_s: 2}, {per_second: 800, for_s: 1}]}  # last step holds
    rate: {profile: burst, base: 100, peak: 2000, every_s: 2, burst_s: 0.2}
    rate: {profile: max}                                      # as fast as possible
    rate: {profile: recorded, speed: 2}                       # a recording's offsets, 2x faster

    faults:
      poison: {ratio: 0.02, kinds: [malformed_json, missing_field, oversize], field: url}
      duplicates: {ratio: 0.01}
      late: {ratio: 0.05, field: ts, age_s: 3600}
      handler: {function: enrich, error_ratio: 0.05, latency_ms: 20, timeout_ratio: 0.0, crash_ratio: 0.01}
      producer: {throttle_ratio: 0.05}
      s3_write_failures: {bucket: enriched, ratio: 0.02}
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator

from emulator.spec.validation import Strict, rule_error

Profile = Literal["constant", "ramp", "step", "burst", "max", "recorded"]


class RateStep(Strict):
    per_second: float = Field(gt=0)
    for_s: float = Field(gt=0)


class RateSpec(Strict):
    profile: Profile = "constant"
    per_second: float | None = Field(None, gt=0)
    from_: float | None = Field(None, alias="from", gt=0)
    to: float | None = Field(None, gt=0)
    over_s: float | None = Field(None, gt=0)
    steps: list[RateStep] | None = Field(None, min_length=1)
    base: float | None = Field(None, gt=0)
    peak: float | None = Field(None, gt=0)
    every_s: float | None = Field(None, gt=0)
    burst_s: float | None = Field(None, gt=0)
    speed: float = Field(1.0, gt=0)

    @model_validator(mode="after")
    def _profile_keys(self) -> Self:
        needed: dict[str, tuple[str, ...]] = {
            "constant": ("per_second",), "ramp": ("from", "to", "over_s"), "step": ("steps",),
            "burst": ("base", "peak", "every_s", "burst_s"), "max": (), "recorded": (),
        }
        values = {"per_second": self.per_second, "from": self.from_, "to": self.to, "over_s": self.over_s,
                  "steps": self.steps, "base": self.base, "peak": self.peak, "every_s": self.every_s,
                  "burst_s": self.burst_s}
        for key in needed[self.profile]:
            if values[key] is None:
                raise rule_error(f"profile '{self.profile}' needs '{key}'", path=(key,),
                                 hint=f"{self.profile} takes: {', '.join(needed[self.profile]) or 'no keys'}")
        for key, value in values.items():
            if value is not None and key not in needed[self.profile]:
                raise rule_error(f"'{key}' does not apply to profile '{self.profile}'", path=(key,),
                                 hint=f"{self.profile} takes: {', '.join(needed[self.profile]) or 'no keys'}")
        burst, period = self.burst_s, self.every_s
        if self.profile == "burst" and burst is not None and period is not None and burst >= period:
            raise rule_error("burst_s must be shorter than every_s", path=("burst_s",))
        return self


PoisonKind = Literal["malformed_json", "missing_field", "oversize"]


class PoisonSpec(Strict):
    ratio: float = Field(gt=0, le=1)
    kinds: list[PoisonKind] = Field(default_factory=lambda: list[PoisonKind](["malformed_json"]), min_length=1)
    field: str | None = None  # the field a missing_field poison drops (default: the last one)
    oversize_bytes: int = Field(1_100_000, ge=1)


class DuplicatesSpec(Strict):
    ratio: float = Field(gt=0, le=1)


class LateSpec(Strict):
    ratio: float = Field(gt=0, le=1)
    field: str
    age_s: float = Field(gt=0)


class HandlerFaultSpec(Strict):
    function: str
    error_ratio: float = Field(0.0, ge=0, le=1)
    latency_ms: float = Field(0.0, ge=0)
    timeout_ratio: float = Field(0.0, ge=0, le=1)
    crash_ratio: float = Field(0.0, ge=0, le=1)

    @model_validator(mode="after")
    def _sum(self) -> Self:
        if self.error_ratio + self.timeout_ratio + self.crash_ratio > 1:
            raise rule_error("error_ratio + timeout_ratio + crash_ratio is more than 1", path=("error_ratio",))
        return self


class ProducerFaultSpec(Strict):
    throttle_ratio: float = Field(gt=0, lt=1)


class S3WriteFaultSpec(Strict):
    bucket: str
    ratio: float = Field(gt=0, le=1)


class FaultsSpec(Strict):
    seed: int | None = None
    poison: PoisonSpec | None = None
    duplicates: DuplicatesSpec | None = None
    late: LateSpec | None = None
    handler: list[HandlerFaultSpec] | HandlerFaultSpec | None = None
    producer: ProducerFaultSpec | None = None
    s3_write_failures: S3WriteFaultSpec | None = None

    def handler_faults(self) -> list[HandlerFaultSpec]:
        if self.handler is None:
            return []
        return self.handler if isinstance(self.handler, list) else [self.handler]
