"""What a run does for Step Functions (the runner registers these in ``SOURCES`` and ``SETTLE_HOOKS``):

- ``producer``: a ``state_machine/NAME`` source starts one execution per event (against a mock test case when
  the scenario has ``mocks``);
- ``settle``: after quiescence, wait until no execution runs, mark each source event whose execution finished as
  delivered (the execution is where it went), and check ``expect.executions``.
"""

from __future__ import annotations

import dataclasses
from contextlib import ExitStack
from typing import Any

from emulator.backends.base import Backend, driven
from emulator.deploy import Deployment
from emulator.errors import WaitTimeout
from emulator.expect.verdict import ExpectationResult
from emulator.observe.ledger import Ledger
from emulator.spec.scenario import ScenarioSpec
from emulator.stepfunctions.expect import check_executions
from emulator.stepfunctions.mocks import load_mock_config, use_mock_config
from emulator.stepfunctions.observe import TERMINAL, collect, running, wait_until_settled
from emulator.stepfunctions.producer import StepFunctionsProducer


def producer(spec: ScenarioSpec, deployment: Deployment, backend: Backend, stack: ExitStack) -> StepFunctionsProducer:
    name = spec.source.split("/", 1)[1]
    arn = deployment.state_machines[name]
    test_case = None
    if spec.mocks is not None:
        config = load_mock_config(spec.mocks.config)
        deployed = arn.split(":")[6]
        if deployed != name and name in config.test_cases:  # a prefixed deployment: same test cases
            config = dataclasses.replace(config, test_cases={**config.test_cases, deployed: config.test_cases[name]})
        stack.enter_context(use_mock_config(backend, config))
        test_case = spec.mocks.test_case
    return StepFunctionsProducer(backend.client("stepfunctions"), arn, test_case=test_case)


def wanted(spec: ScenarioSpec) -> bool:
    return spec.expect.executions is not None or spec.source.startswith("state_machine/")


def settle(
    spec: ScenarioSpec, deployment: Deployment, backend: Backend, ledger: Ledger, source: Any, *, timeout_s: float
) -> list[ExpectationResult]:
    machines = dict(deployment.state_machines)
    if not machines:
        return []
    sfn = backend.client("stepfunctions")
    driven_part = driven(backend)
    results: list[ExpectationResult] = []
    try:
        wait_until_settled(sfn, machines, timeout_s=timeout_s,
                           busy=(lambda: driven_part.in_flight() > 0) if driven_part is not None else None)
    except WaitTimeout as exc:
        results.append(ExpectationResult(
            name="executions.finished", passed=False, expected="no execution RUNNING",
            actual=f"{running(sfn, machines)} RUNNING", detail=exc.message,
        ))
    executions = spec.expect.executions
    history = executions is not None and (executions.retried is not None or executions.caught is not None)
    records = collect(sfn, machines, history=history)
    if isinstance(source, StepFunctionsProducer):
        for record in records:
            index = source.executions.get(record.arn)
            if index is not None and record.status in TERMINAL and record.stopped is not None:
                ledger.delivered(ledger.keys[index], record.stopped)
    if executions is not None:
        scale = driven_part.clock.scale if driven_part is not None else 1.0
        results += check_executions(executions, records, time_scale=scale)
    return results
