"""The verdict of one expectation: what was expected, what happened, and the near misses that explain a failure.
Every checker (``checks``, ``fates``, Step Functions' ``expect``) returns these."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class ExpectationResult:
    name: str
    passed: bool
    expected: Any
    actual: Any
    detail: str = ""
    near_misses: list[Any] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        text = f"{self.name}: expected {self.expected}, got {self.actual}"
        if self.detail:
            text += f" ({self.detail})"
        return text
