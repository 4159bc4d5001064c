"""Seam: make moto's Step Functions actually execute state machines.

``moto.core.config.default_user_config["stepfunctions"]["execute_state_machine"]`` switches moto from
returning canned executions to running the ASL interpreter.
"""

from __future__ import annotations

from moto.core.config import default_user_config

TOUCHES = ('moto.core.config.default_user_config["stepfunctions"]["execute_state_machine"]',)

_previous: bool | None = None


def install() -> None:
    global _previous
    section = default_user_config.setdefault("stepfunctions", {})
    if _previous is None:
        _previous = bool(section.get("execute_state_machine", False))
    section["execute_state_machine"] = True


def uninstall() -> None:
    global _previous
    if _previous is not None:
        default_user_config.setdefault("stepfunctions", {})["execute_state_machine"] = _previous
        _previous = None
