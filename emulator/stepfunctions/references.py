"""Load-time checks of a scenario's Step Functions parts: mocks and ``expect.executions`` name state machines,
test cases and states that exist. Called by ``spec.scenario.load_scenario``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from emulator.spec.refs import check_reference
from emulator.spec.yamlsrc import YamlDoc
from emulator.stepfunctions.definition import load_definition, state_names
from emulator.stepfunctions.mocks import load_mock_config

if TYPE_CHECKING:
    from emulator.spec.pipeline import PipelineSpec
    from emulator.spec.scenario import ScenarioSpec


def check_scenario(spec: ScenarioSpec, pipeline: PipelineSpec, doc: YamlDoc) -> None:
    """Mocks and ``expect.executions`` name state machines, test cases and states that exist."""
    where = f" in pipeline {pipeline.source_path}"
    if spec.mocks is not None:
        kind, machine = spec.source.split("/", 1)
        if kind != "state_machine":
            raise doc.error("mocks need a state_machine/NAME source", ("mocks",),
                            hint="mocked executions are started by the scenario itself")
        try:
            load_mock_config(spec.mocks.config).test_case(machine, spec.mocks.test_case)
        except KeyError as exc:
            raise doc.error(str(exc.args[0]), ("mocks", "test_case")) from None
    executions = spec.expect.executions
    if executions is None:
        return
    at = ("expect", "executions")
    if not pipeline.state_machines:
        raise doc.error(f"the pipeline declares no state_machines{where}", at)
    machines = list(pipeline.state_machines)
    if executions.state_machine is not None:
        check_reference(doc, (*at, "state_machine"), executions.state_machine, pipeline.state_machines,
                        "state_machines", where=where)
        machines = [executions.state_machine]
    names: set[str] = set()
    for machine in machines:
        names |= state_names(load_definition(pipeline.state_machines[machine].definition).data)
    for key in ("retried", "caught"):
        fact = getattr(executions, key)
        if fact is not None:
            check_reference(doc, (*at, key, "state"), fact.state, {n: n for n in names}, "states",
                            where=f" in the state machine definitions{where}")
