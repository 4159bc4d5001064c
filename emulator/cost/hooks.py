"""The runner's two calls into the cost model: ``start`` once the pipeline is deployed, ``settle`` once the run is
quiet. Prices come from the settings (``[tool.pipemu]`` ``cost_region``, ``prices_file``, ``prices``) unless the
caller passes a table."""

from __future__ import annotations

from contextlib import ExitStack

from emulator.backends.base import Backend, DrivenBackend
from emulator.cost.bill import Bill, compute_bill
from emulator.cost.measure import RunMeter
from emulator.cost.prices import PriceTable, load_prices
from emulator.deploy import Deployment
from emulator.expect.verdict import ExpectationResult
from emulator.replay.producer import ReplayStats
from emulator.spec.expectations import CostSpec
from emulator.spec.pipeline import PipelineSpec
from emulator.spec.scenario import ScenarioSpec


def prices_from_settings() -> PriceTable:
    from emulator.settings import load_settings

    settings = load_settings()
    return load_prices(settings.cost_region, file=settings.prices_file, overrides=settings.prices)


def start(backend: DrivenBackend | None, stack: ExitStack) -> RunMeter:
    """Meter from now on (the pipeline is deployed); ``stack`` stops the meter however the run ends."""
    meter = RunMeter.start(backend)
    stack.callback(meter.stop)
    return meter


def scenario_rate(stats: ReplayStats) -> float:
    """Events per second the projections assume: the scenario's constant rate, else the rate achieved."""
    return stats.asked_rate or stats.achieved_rate


def settle(
    meter: RunMeter,
    spec: ScenarioSpec,
    pipeline: PipelineSpec,
    deployment: Deployment,
    stats: ReplayStats,
    backend: Backend,
    *,
    prices: PriceTable | None = None,
) -> tuple[Bill | None, list[ExpectationResult]]:
    """The run's bill (None where pipemu does not drive the pipeline, so cannot measure it) and the verdicts of
    ``expect.cost``."""
    bill = None
    if meter.backend is not None:
        sfn = backend.client("stepfunctions") if pipeline.state_machines else None
        usage = meter.usage(pipeline, deployment, events=stats.sent, rate_per_s=scenario_rate(stats), sfn=sfn)
        bill = compute_bill(usage, prices or prices_from_settings())
    return bill, check_cost(spec.expect.cost, bill)


def check_cost(spec: CostSpec | None, bill: Bill | None) -> list[ExpectationResult]:
    if spec is None:
        return []
    out = []
    for name, budget, figure in (
        ("cost.per_million_usd", spec.per_million_usd_max, None if bill is None else bill.per_million_usd),
        ("cost.per_month_usd", spec.per_month_usd_max, None if bill is None else bill.per_month_usd),
    ):
        if budget is None:
            continue
        passed = figure is not None and figure <= budget
        where = f" ({bill.region} prices of {bill.prices_version})" if bill is not None else ""
        detail = ("no bill: this backend does not measure usage" if figure is None
                  else "" if passed else f"${figure - budget:+.4g} against the budget{where}")
        out.append(ExpectationResult(name=name, passed=passed, expected=f"<= ${budget:g}",
                                     actual=None if figure is None else round(figure, 6), detail=detail))
    return out
