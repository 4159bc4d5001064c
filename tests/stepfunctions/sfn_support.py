"""Deploying small functions and state machines on the embedded backend, and running executions to the end."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from typing import Any

from waiting import wait_for as _wait_for


def wait_for(what: str, probe: Any, done: Any, timeout: float = 30.0) -> Any:
    return _wait_for(what, probe, done, timeout)


class Sfn:
    def __init__(self, pipemu: Any) -> None:
        self.pipemu = pipemu
        self.lam = pipemu.client("lambda")
        self.client = pipemu.client("stepfunctions")
        iam = pipemu.client("iam")
        self.role = iam.create_role(RoleName=f"role-{uuid.uuid4().hex[:8]}", AssumeRolePolicyDocument="{}")[
            "Role"
        ]["Arn"]

    def function(self, source: str, *, name: str | None = None, timeout: int = 10, env: dict[str, str] | None = None
                 ) -> str:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            z.writestr("app.py", source)
        response = self.lam.create_function(
            FunctionName=name or f"fn-{uuid.uuid4().hex[:8]}", Runtime="python3.12", Role=self.role,
            Handler="app.handler", Code={"ZipFile": buffer.getvalue()}, Timeout=timeout,
            Environment={"Variables": env or {}},
        )
        return str(response["FunctionArn"])

    def state_machine(self, definition: dict[str, Any], *, name: str | None = None) -> str:
        response = self.client.create_state_machine(
            name=name or f"sm-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition), roleArn=self.role
        )
        return str(response["stateMachineArn"])

    def start(self, arn: str, value: Any = None, *, name: str | None = None) -> str:
        kwargs: dict[str, Any] = {"stateMachineArn": arn, "input": json.dumps({} if value is None else value)}
        if name is not None:
            kwargs["name"] = name
        return str(self.client.start_execution(**kwargs)["executionArn"])

    def finished(self, execution_arn: str, timeout: float = 30.0) -> dict[str, Any]:
        return dict(wait_for(
            f"execution {execution_arn} to finish",
            lambda: self.client.describe_execution(executionArn=execution_arn),
            lambda d: d["status"] != "RUNNING",
            timeout,
        ))

    def run(self, arn: str, value: Any = None, timeout: float = 30.0) -> dict[str, Any]:
        return self.finished(self.start(arn, value), timeout)

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        return list(self.client.get_execution_history(executionArn=execution_arn)["events"])
