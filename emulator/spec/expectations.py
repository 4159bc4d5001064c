"""Expectation keys beyond the basics: fates per fault class, counts per fate, output content, order, and the
fields of dead-letter messages.

    expect:
      fates: {poison: dead_lettered, clean: delivered}     # every poison event dead-lettered, nothing else
      counts: {dead_lettered: {min: 1}, duplicated: 5}
      outputs: {contains: {source: web}, fields: [domain, path]}
      order: {per: partition_key}
      dead_letters: {queue: dlq, condition: RetryAttemptsExhausted, batch_size: 1}
      cost: {per_million_usd_max: 2.5}                       # the projected AWS bill (emulator.cost)
"""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import Field, model_validator

from emulator.spec.validation import Strict, rule_error

Fate = Literal["delivered", "dead_lettered", "filtered", "rejected", "lost"]
FAULT_CLASSES = ("clean", "poison", "poison:malformed_json", "poison:missing_field", "poison:oversize", "late",
                 "duplicate")


class Bounds(Strict):
    min: int | None = Field(None, ge=0)
    max: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _order(self) -> Self:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise rule_error(f"min {self.min} is more than max {self.max}", path=("min",))
        return self


class CountsSpec(Strict):
    delivered: int | Bounds | None = None
    dead_lettered: int | Bounds | None = None
    filtered: int | Bounds | None = None
    rejected: int | Bounds | None = None
    duplicated: int | Bounds | None = None
    redelivered: int | Bounds | None = None


class OutputsSpec(Strict):
    contains: dict[str, Any] | None = None  # a JSON subset every output record must contain
    fields: list[str] | None = None  # dotted paths every output record must have


class OrderSpec(Strict):
    per: Literal["partition_key"] = "partition_key"


class CostSpec(Strict):
    """Budgets for the run's projected AWS bill: per million events, and per month at the scenario's rate."""

    per_million_usd_max: float | None = Field(None, gt=0)
    per_month_usd_max: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _some_budget(self) -> Self:
        if self.per_million_usd_max is None and self.per_month_usd_max is None:
            raise rule_error("give per_million_usd_max or per_month_usd_max",
                             hint="e.g. cost: {per_million_usd_max: 2.5}")
        return self


class FatesSpec(Strict):
    """Fault class -> the fate (or fates) every event of that class must end in."""

    model_config = Strict.model_config | {"extra": "allow"}

    @model_validator(mode="before")
    @classmethod
    def _no_unknown_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise rule_error("fates must map a fault class to a fate",
                             hint=f"fault classes: {', '.join(FAULT_CLASSES)}")
        fates = ("delivered", "dead_lettered", "filtered", "rejected", "lost")
        for key, value in data.items():
            if key not in FAULT_CLASSES:
                raise rule_error(f"unknown fault class '{key}'", path=(str(key),),
                                 hint=f"fault classes: {', '.join(FAULT_CLASSES)}")
            values = value if isinstance(value, list) else [value]
            for v in values:
                if v not in fates:
                    raise rule_error(f"unknown fate '{v}'", path=(str(key),), hint=f"fates: {', '.join(fates)}")
        return data

    def rules(self) -> dict[str, tuple[str, ...]]:
        extra = self.model_extra or {}
        return {k: tuple(v) if isinstance(v, list) else (v,) for k, v in extra.items()}
