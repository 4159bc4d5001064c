"""What a pipeline's state machines did: executions (status, output, timing) and their history, read through the
Step Functions API (ListExecutions, DescribeExecution, GetExecutionHistory), so it works on any backend.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from emulator.errors import WaitTimeout

TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
_SCHEDULED = frozenset({"LambdaFunctionScheduled", "TaskScheduled", "ActivityScheduled"})
_FAILURE_SUFFIXES = ("Failed", "TimedOut", "StartFailed", "SubmitFailed", "ScheduleFailed")


@dataclass(frozen=True)
class StateVisit:
    """One pass through a state: how often its work was retried, and the error a Catch took, if any."""

    name: str
    attempts: int = 0
    caught: str | None = None  # the error name, when the state exited on a caught error
    exited: bool = False

    @property
    def retries(self) -> int:
        return max(0, self.attempts - 1)


@dataclass(frozen=True)
class ExecutionRecord:
    arn: str
    name: str
    state_machine: str  # the pipeline's name for it
    status: str
    started: float  # epoch seconds
    stopped: float | None
    input: Any = None
    output: Any = None
    error: str | None = None
    cause: str | None = None
    events: tuple[dict[str, Any], ...] = field(default=(), repr=False)

    @property
    def duration_ms(self) -> float | None:
        return None if self.stopped is None else max(0.0, (self.stopped - self.started) * 1000)

    def visits(self) -> list[StateVisit]:
        return state_visits(self.events)

    def brief(self) -> dict[str, Any]:
        """For near-miss listings: enough to find the execution, not its whole output."""
        out: dict[str, Any] = {"execution": self.name, "status": self.status}
        if self.error is not None:
            out["error"] = self.error
        if self.cause:
            out["cause"] = self.cause[:300]
        return out


def _epoch(value: Any) -> float | None:
    if isinstance(value, datetime):
        return value.timestamp()
    return None if value is None else float(value)


def _json(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth: kept as text
        return text


def state_visits(events: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> list[StateVisit]:
    """Visits in the order states were entered. A state entered again (a loop, a Map iteration) is a new visit;
    concurrent branches entering the same state name are not told apart."""
    visits: list[StateVisit] = []
    open_by_name: dict[str, int] = {}
    current: int | None = None
    last_failure: str | None = None
    for event in events:
        kind = str(event.get("type", ""))
        if kind.endswith("StateEntered"):
            name = str(event["stateEnteredEventDetails"]["name"])
            visits.append(StateVisit(name))
            current = open_by_name[name] = len(visits) - 1
            last_failure = None
        elif kind in _SCHEDULED and current is not None:
            visit = visits[current]
            visits[current] = StateVisit(visit.name, visit.attempts + 1)
            last_failure = None
        elif kind.endswith(_FAILURE_SUFFIXES) and not kind.startswith("Execution"):
            details: Any = next((v for k, v in event.items() if k.endswith("EventDetails")), {})
            last_failure = str(details.get("error", "")) if isinstance(details, dict) else ""
        elif kind.endswith("StateExited"):
            name = str(event["stateExitedEventDetails"]["name"])
            index = open_by_name.pop(name, None)
            if index is not None:
                visit = visits[index]
                visits[index] = StateVisit(visit.name, visit.attempts, last_failure, exited=True)
            last_failure = None
        else:
            last_failure = None if kind.endswith("Succeeded") else last_failure
    return visits


def _pages(call: Callable[..., Any], key: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    token = None
    while True:
        page = call(**kwargs, **({"nextToken": token} if token else {}))
        yield from page.get(key, [])
        token = page.get("nextToken")
        if not token:
            return


def running(sfn: Any, state_machine_arns: Mapping[str, str]) -> int:
    return sum(
        1
        for arn in state_machine_arns.values()
        for _ in _pages(sfn.list_executions, "executions", stateMachineArn=arn, statusFilter="RUNNING")
    )


def wait_until_settled(
    sfn: Any,
    state_machine_arns: Mapping[str, str],
    *,
    timeout_s: float,
    busy: Callable[[], bool] | None = None,
    quiet_checks: int = 3,
    poll_s: float = 0.02,
) -> None:
    """Wait until no execution is RUNNING and ``busy()`` (work that may still start one, such as in-flight Lambda
    invocations) is false, on ``quiet_checks`` consecutive checks."""
    deadline = time.monotonic() + timeout_s
    quiet = 0
    last = 0
    while time.monotonic() < deadline:
        last = running(sfn, state_machine_arns)
        quiet = quiet + 1 if last == 0 and not (busy is not None and busy()) else 0
        if quiet >= quiet_checks:
            return
        time.sleep(poll_s)  # polling interval of the condition
    raise WaitTimeout(
        "Step Functions executions to finish", timeout_s=timeout_s, last_seen=f"{last} executions RUNNING",
        hint="a Wait state or Retry interval longer than the scenario's timeout_s? raise time_scale or timeout_s",
    )


def collect(sfn: Any, state_machine_arns: Mapping[str, str], *, history: bool = True) -> list[ExecutionRecord]:
    """Every execution of the given state machines (name -> ARN), oldest first."""
    records = []
    for machine, arn in state_machine_arns.items():
        for item in _pages(sfn.list_executions, "executions", stateMachineArn=arn):
            described = sfn.describe_execution(executionArn=item["executionArn"])
            events: tuple[dict[str, Any], ...] = ()
            if history:
                events = tuple(_pages(sfn.get_execution_history, "events", executionArn=item["executionArn"]))
            records.append(
                ExecutionRecord(
                    arn=str(item["executionArn"]),
                    name=str(item["name"]),
                    state_machine=machine,
                    status=str(described["status"]),
                    started=_epoch(described["startDate"]) or 0.0,
                    stopped=_epoch(described.get("stopDate")),
                    input=_json(described.get("input")),
                    output=_json(described.get("output")),
                    error=described.get("error"),
                    cause=described.get("cause"),
                    events=events,
                )
            )
    return sorted(records, key=lambda r: r.started)
