"""Seam: state machines created through CloudFormation live where the Step Functions API looks.

With execution switched on (``sfn_config``), moto's Step Functions API answers from its interpreter's backend
(``stepfunctions_parser_backends``, chosen per request by ``moto.stepfunctions.responses.get_backend``), while
CloudFormation's ``AWS::StepFunctions::StateMachine`` handlers create, update and delete in the plain backend
(``moto.stepfunctions.models.stepfunctions_backends``): a stack's state machine was invisible to
DescribeStateMachine and ListStateMachines. The handlers read that module-level name at call time, so it is
pointed at a view that picks the backend the API uses.
"""

from __future__ import annotations

from typing import Any

import moto.stepfunctions.models as sfn_models
from moto.core.config import default_user_config

TOUCHES = (
    "moto.stepfunctions.models.stepfunctions_backends (read by StateMachine.{create,delete,update}_from_"
    "cloudformation_json)",
    "moto.stepfunctions.responses.get_backend(account, region) (its choice, repeated here)",
    "moto.stepfunctions.parser.models.stepfunctions_parser_backends",
)

_original: Any = None


class _Regions:
    def __init__(self, account: str) -> None:
        self._account = account

    def __getitem__(self, region: str) -> Any:
        # The same choice as moto.stepfunctions.responses.get_backend, made here: that module imports this name
        # once, and imported after install() it would hold this view and ask it back, forever.
        if default_user_config.get("stepfunctions", {}).get("execute_state_machine", False):
            from moto.stepfunctions.parser.models import stepfunctions_parser_backends

            return stepfunctions_parser_backends[self._account][region]
        return _original[self._account][region]


class _SameBackendAsTheApi:
    """``[account][region]`` -> the backend the Step Functions API answers from right now."""

    def __getitem__(self, account: str) -> _Regions:
        return _Regions(account)


def install() -> None:
    global _original
    if _original is None:
        _original = sfn_models.stepfunctions_backends
        setattr(sfn_models, "stepfunctions_backends", _SameBackendAsTheApi())


def uninstall() -> None:
    global _original
    if _original is not None:
        setattr(sfn_models, "stepfunctions_backends", _original)
        _original = None
