"""Every AWS call a function makes, authorised (``iam: enforce``), judged (``report``) or only recorded (``off``).

The trail is CloudTrail-like: time, function, action, resource, outcome. ``CallAudit.decide`` is what the
embedded backend's ``iam_authorize`` seam calls for each request a function's worker makes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from emulator.security.policy import denial_message, evaluate

# by_mapping: what the function's event source mapping does with its role on AWS (read the source, send failures)
Outcome = Literal["allowed", "denied", "would_be_denied", "not_checked", "by_mapping"]
MAX_RECORDS = 200_000  # a bound on memory: a million-event run's calls are kept as counts beyond it


class CallFacts(Protocol):
    """What the seam knows of a request (``iam_authorize.Call``)."""

    @property
    def function(self) -> str: ...

    @property
    def account(self) -> str: ...

    @property
    def region(self) -> str: ...

    @property
    def action(self) -> str: ...

    @property
    def resource(self) -> str: ...

    @property
    def role_arn(self) -> str: ...

    @property
    def mode(self) -> str: ...

    @property
    def statements(self) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class CallRecord:
    time: float  # epoch seconds
    function: str
    action: str
    resource: str
    outcome: Outcome
    message: str | None = None  # the AccessDenied message for a denied (or would-be-denied) call

    def as_dict(self) -> dict[str, Any]:
        out = {"time": round(self.time, 3), "function": self.function, "action": self.action,
               "resource": self.resource, "outcome": self.outcome}
        if self.message:
            out["message"] = self.message
        return out


def principal_arn(account: str, role_arn: str, function: str) -> str:
    """The caller as AWS names a function's assumed execution role."""
    return f"arn:aws:sts::{account}:assumed-role/{role_arn.rsplit('/', 1)[-1]}/{function}"


class CallAudit:
    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self._now = now
        self._lock = threading.Lock()
        self._records: list[CallRecord] = []
        self.dropped = 0  # calls beyond MAX_RECORDS, not kept

    def decide(self, call: CallFacts) -> str | None:
        """Record ``call``; the AccessDenied message when it must be refused (``enforce`` only)."""
        outcome: Outcome = "not_checked"
        message = None
        if call.mode in ("enforce", "report"):
            context = {"aws:RequestedRegion": call.region, "aws:PrincipalArn": call.role_arn,
                       "aws:PrincipalAccount": call.account, "aws:SourceAccount": call.account,
                       "aws:SecureTransport": "false"}
            decision = evaluate(call.statements, call.action, call.resource, context)
            if decision.allowed:
                outcome = "allowed"
            else:
                message = denial_message(principal_arn(call.account, call.role_arn, call.function), call.action,
                                         call.resource, decision.outcome)
                outcome = "denied" if call.mode == "enforce" else "would_be_denied"
        self._add(CallRecord(self._now(), call.function, call.action, call.resource, outcome, message))
        return message if outcome == "denied" else None

    def _add(self, record: CallRecord) -> None:
        with self._lock:
            if len(self._records) < MAX_RECORDS:
                self._records.append(record)
            else:
                self.dropped += 1

    def records(self, since: float = 0.0) -> list[CallRecord]:
        with self._lock:
            return [r for r in self._records if r.time >= since]

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
            self.dropped = 0
