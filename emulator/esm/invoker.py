"""How a poller calls the target function. Two implementations: the Lambda Invoke API over boto3 (any
backend) and, on the embedded backend, the runtime directly (see ``emulator.backends.embedded``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import ClientError


@dataclass(frozen=True)
class InvokeOutcome:
    """What came back from one synchronous invocation.

    ``invoked`` is False when the call failed before the function ran (throttle, service error): AWS does
    not count those against MaximumRetryAttempts.
    """

    payload: bytes
    function_error: str | None
    status_code: int
    invoked: bool = True
    request_id: str = ""
    error_code: str | None = None

    @property
    def failed(self) -> bool:
        return self.function_error is not None or not self.invoked


class Invoker(Protocol):
    def invoke(self, function_arn: str, payload: bytes) -> InvokeOutcome: ...

    def role_arn(self, function_arn: str) -> str: ...


class Boto3Invoker:
    """Synchronous ``Invoke`` through a boto3 Lambda client."""

    def __init__(self, lambda_client: Any) -> None:
        self._client = lambda_client
        self._roles: dict[str, str] = {}

    def invoke(self, function_arn: str, payload: bytes) -> InvokeOutcome:
        try:
            response = self._client.invoke(
                FunctionName=function_arn, InvocationType="RequestResponse", Payload=payload
            )
        except ClientError as exc:
            return InvokeOutcome(
                payload=b"",
                function_error=None,
                status_code=int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500)),
                invoked=False,
                error_code=exc.response["Error"]["Code"],
            )
        return InvokeOutcome(
            payload=response["Payload"].read(),
            function_error=response.get("FunctionError"),
            status_code=int(response["StatusCode"]),
            request_id=response.get("ResponseMetadata", {}).get("RequestId", ""),
        )

    def role_arn(self, function_arn: str) -> str:
        if function_arn not in self._roles:
            config = self._client.get_function_configuration(FunctionName=function_arn)
            self._roles[function_arn] = str(config.get("Role", ""))
        return self._roles[function_arn]
