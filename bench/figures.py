"""A measured figure, its target and its same-run baseline."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

Goal = Literal["<=", ">="]


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    target: float | None  # None: reported, no target (the issue asks it to fall, not to reach a number)
    baseline: float | None
    goal: Goal = "<="
    note: str = ""  # what the baseline is, shown in the table

    @property
    def passed(self) -> bool:
        if self.target is None or math.isnan(self.value):
            return self.target is None and not math.isnan(self.value)
        return self.value <= self.target if self.goal == "<=" else self.value >= self.target

    def as_json(self) -> dict[str, Any]:
        def clean(x: float | None) -> float | None:
            return None if x is None or math.isnan(x) else round(x, 6)

        return {
            "name": self.name,
            "value": clean(self.value),
            "unit": self.unit,
            "target": self.target,
            "baseline": clean(self.baseline),
            "passed": self.passed,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any], goal: Goal, note: str) -> Figure:
        value = raw["value"]
        return cls(
            name=raw["name"],
            value=math.nan if value is None else float(value),
            unit=raw["unit"],
            target=raw["target"],
            baseline=raw["baseline"],
            goal=goal,
            note=note,
        )


def failed(name: str, unit: str, target: float | None, goal: Goal, why: str) -> Figure:
    """A benchmark that could not produce its figure: reported as failed, with the reason."""
    return Figure(name, math.nan, unit, target, None, goal, note=f"FAILED: {why}")
