"""StepFunctionsProducer with a fake client: one execution per event, throttling retried, refusals reported."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from emulator.observe.ledger import Ledger
from emulator.replay.generate import GeneratedEvent
from emulator.stepfunctions.producer import StepFunctionsProducer, execution_name

ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:rollup"


class FakeSfn:
    def __init__(self, failures: dict[int, list[str]]) -> None:
        self.failures = failures  # call number -> error codes to raise, in order
        self.calls: list[dict[str, Any]] = []

    def start_execution(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        index = int(kwargs["name"].rsplit("-", 1)[1])
        codes = self.failures.get(index, [])
        if codes:
            code = codes.pop(0)
            raise ClientError({"Error": {"Code": code, "Message": f"{code}!"}}, "StartExecution")
        return {"executionArn": f"{kwargs['stateMachineArn']}:{kwargs['name']}".replace("stateMachine", "execution")}


def events(n: int) -> list[tuple[int, GeneratedEvent]]:
    return [(i, GeneratedEvent(index=i, fields={"i": i}, payload=f'{{"i": {i}}}'.encode(), partition_key="k"))
            for i in range(n)]


def test_one_named_execution_per_event_with_the_event_as_input() -> None:
    client, ledger = FakeSfn({}), Ledger()
    batch = events(3)
    for _, event in batch:
        ledger.add(str(event.index))
    producer = StepFunctionsProducer(client, ARN, run_id="r1", sleep=lambda s: None)
    assert producer.send(batch, ledger) == 0
    assert [c["name"] for c in client.calls] == [execution_name("r1", i) for i in range(3)]
    assert [c["input"] for c in client.calls] == ['{"i": 0}', '{"i": 1}', '{"i": 2}']
    assert sorted(producer.executions.values()) == [0, 1, 2]


def test_throttling_is_retried_and_other_refusals_are_reported() -> None:
    client = FakeSfn({0: ["ThrottlingException", "ThrottlingException"], 1: ["InvalidExecutionInput"]})
    ledger = Ledger()
    batch = events(2)
    for _, event in batch:
        ledger.add(str(event.index))
    slept: list[float] = []
    producer = StepFunctionsProducer(client, ARN, run_id="r", sleep=slept.append)
    assert producer.send(batch, ledger) == 1
    assert producer.throttled == 2 and len(slept) == 2
    assert list(producer.executions.values()) == [0]
    assert producer.refused == {1: "InvalidExecutionInput: InvalidExecutionInput!"}
    assert "StartExecution refused it" in ledger.dropped[1]


def test_a_test_case_is_started_on_the_mocked_arn() -> None:
    client, ledger = FakeSfn({}), Ledger()
    ledger.add("0")
    StepFunctionsProducer(client, ARN, test_case="HappyPath", run_id="r").send(events(1), ledger)
    assert client.calls[0]["stateMachineArn"] == f"{ARN}#HappyPath"
