"""Every error pipemu raises, grouped by who is to blame.

- ``ConfigError``: the user's files (pipeline, scenario, recording). Exit code 2.
- ``HandlerError``: the user's handler code could not be loaded or deployed. Exit code 2.
- ``HarnessError``: pipemu itself or the infrastructure under it (emulator died, port in use). Exit code 3.
- ``ExpectationFailed``: the pipeline ran but did not do what the scenario expects. Exit code 1.

Each error renders a complete message from ``str()``: what, where, and a hint.
"""

from __future__ import annotations

from pathlib import Path


class PipemuError(Exception):
    exit_code = 3

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(self.__str__())

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message


class ConfigError(PipemuError):
    """Bad input in a user's file: names the file, line and key."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        key: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.file = str(file) if file is not None else None
        self.line = line
        self.key = key
        super().__init__(message, hint=hint)

    @property
    def location(self) -> str:
        where = self.file or "<input>"
        if self.line is not None:
            where += f":{self.line}"
        return where

    def __str__(self) -> str:
        head = f"{self.location}: "
        if self.key:
            head += f"{self.key}: "
        text = head + self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class HandlerError(PipemuError):
    """The user's handler code cannot be loaded (bad module, missing function)."""

    exit_code = 2


class HarnessError(PipemuError):
    """pipemu or the infrastructure under it failed."""

    exit_code = 3


class EmulatorDied(HarnessError):
    pass


class WaitTimeout(HarnessError):
    """A wait for a condition ran out: says what, how long, what was last seen."""

    def __init__(self, what: str, *, timeout_s: float, last_seen: str, hint: str | None = None) -> None:
        self.what = what
        self.timeout_s = timeout_s
        self.last_seen = last_seen
        super().__init__(
            f"timed out after {timeout_s:.1f}s waiting for {what}; last seen: {last_seen}", hint=hint
        )


class ExpectationFailed(PipemuError):
    exit_code = 1


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM, which pipemu turns into the same) during a run: ``result`` holds what was measured
    until then, marked interrupted, for the report. Still a ``KeyboardInterrupt`` for callers that only know that."""

    def __init__(self, result: object) -> None:
        self.result = result
        super().__init__("interrupted")
