"""A scenario source that starts Step Functions executions: ``source: state_machine/NAME``, one execution per
generated event, the event as the execution's input (the ``Producer`` protocol of ``emulator.replay.producer``).

Executions are named ``pipemu-<run>-<event index>`` so that each one can be traced back to its event. A throttled
StartExecution is retried with backoff, as the AWS SDK does; any other refusal (bad input, no such state machine)
counts the event as not sent.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from emulator.observe.ledger import Ledger
from emulator.replay.generate import GeneratedEvent
from emulator.replay.producer import BASE_BACKOFF_S, MAX_ATTEMPTS
from emulator.stepfunctions.mocks import mocked_arn

_RETRYABLE = frozenset({"ThrottlingException", "TooManyRequestsException", "ServiceUnavailable", "InternalFailure"})


def execution_name(run_id: str, index: int) -> str:
    return f"pipemu-{run_id}-{index}"


class StepFunctionsProducer:
    max_batch = 50
    max_bytes = 50 * 256 * 1024  # 256 KiB per execution input

    def __init__(
        self,
        sfn_client: Any,
        state_machine_arn: str,
        *,
        test_case: str | None = None,
        run_id: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = sfn_client
        self._arn = mocked_arn(state_machine_arn, test_case) if test_case else state_machine_arn
        self.run_id = run_id or uuid.uuid4().hex[:8]
        self._sleep = sleep
        self.executions: dict[str, int] = {}  # execution ARN -> event index
        self.refused: dict[int, str] = {}  # event index -> why StartExecution refused it
        self.throttled = 0

    def _start(self, index: int, event: GeneratedEvent) -> str | None:
        for attempt in range(MAX_ATTEMPTS):
            try:
                response = self._client.start_execution(
                    stateMachineArn=self._arn, name=execution_name(self.run_id, index), input=event.payload.decode()
                )
                return str(response["executionArn"])
            except ClientError as exc:
                error = exc.response["Error"]
                if error["Code"] not in _RETRYABLE or attempt == MAX_ATTEMPTS - 1:
                    self.refused[index] = f"{error['Code']}: {error.get('Message', '')}"
                    return None
                self.throttled += 1
                self._sleep(BASE_BACKOFF_S * 2**attempt)
            except UnicodeDecodeError as exc:
                self.refused[index] = f"the event is not UTF-8 text, so not an execution input: {exc.reason}"
                return None
        return None

    def send(self, batch: list[tuple[int, GeneratedEvent]], ledger: Ledger) -> int:
        failed = 0
        for index, event in batch:
            started = time.time()
            arn = self._start(index, event)
            if arn is None:
                failed += 1
                ledger.mark_dropped(ledger.keys[index], f"StartExecution refused it: {self.refused[index]}")
                continue
            ledger.mark_sent(index, started)
            self.executions[arn] = index
        return failed
