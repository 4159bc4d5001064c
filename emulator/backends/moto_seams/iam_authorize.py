"""Seam: each Lambda function's AWS calls authorised against its own execution role, and recorded.

moto can evaluate identity policies (``moto.iam.access_control``), but only once its global switch
(``INITIAL_NO_AUTH_ACTION_COUNT``) turns authentication on for every caller, the harness included, which then
needs real moto credentials; and its evaluation differs from AWS's where a pipeline notices (measured on moto
5.2.5): Kinesis, DynamoDB, SNS, Lambda and Step Functions requests are checked against the resource ``*``, so a
statement scoped to a stream ARN never matches; actions match case-sensitively; a failed condition on an Allow
statement counts as an explicit deny; the message lacks "on resource: ... because ...". So this seam replaces the
one method moto calls before answering every request (``ActionAuthenticatorMixin._authenticate_and_authorize_action``)
and keeps moto's switch off:

- a request whose session token names a function (``emulator.runtime.environment.function_session_token``: pipemu's
  runtime gives each worker its own) is described (service, IAM action, resource ARN, the function's role and
  that role's policies as moto stores them) and handed to the installed callback, which records it and may
  refuse it; a refusal is raised as AWS's error for that service;
- every other request (the harness, the pollers, a user's own clients) goes to moto's original method, which does
  nothing while moto's switch is off.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from moto.awslambda.models import lambda_backends
from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import JsonRESTError, _RESTError
from moto.iam.models import iam_backends
from moto.s3.exceptions import S3AccessDeniedError

from emulator.runtime.environment import function_from_session_token

TOUCHES = (
    "moto.core.authorization.ActionAuthenticatorMixin._authenticate_and_authorize_action(self, iam_request_cls, "
    "resource) (replaced; uses self.headers, self.region, self.current_account, self._get_action(), "
    "self._get_param(), self.path)",
    "moto.awslambda.models.lambda_backends[account][region].get_function(name) -> .role, .tags",
    "moto.iam.models.iam_backends[account]['aws'].get_role_by_arn(arn) -> .policies {name: json}, "
    ".managed_policies {arn: ManagedPolicy(.document)}",
    "moto.core.exceptions.{JsonRESTError, _RESTError}, moto.s3.exceptions.S3AccessDeniedError (the error shapes)",
    "ManagedPolicy.versions[].{is_default, document}",
)

# API operation -> IAM action, where they differ
# (https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html).
_IAM_ACTION = {
    ("lambda", "Invoke"): "InvokeFunction", ("lambda", "InvokeAsync"): "InvokeFunction",
    ("sqs", "SendMessageBatch"): "SendMessage", ("sqs", "DeleteMessageBatch"): "DeleteMessage",
    ("sqs", "ChangeMessageVisibilityBatch"): "ChangeMessageVisibility", ("sns", "PublishBatch"): "Publish",
}


@dataclass(frozen=True)
class Call:
    """One request made with a function's credentials."""

    function: str
    account: str
    region: str
    action: str  # service:Action, as IAM names it
    resource: str  # the ARN IAM authorises, or "*"
    role_arn: str
    mode: str  # the function's pipemu:iam tag: enforce, report or off
    statements: list[dict[str, Any]] = field(default_factory=list)


Decide = Callable[[Call], str | None]  # the denial message, or None to let the request through

_original: Callable[..., Any] | None = None
_decide: Decide | None = None


def _param(handler: Any, *names: str) -> str | None:
    for name in names:
        try:
            value = handler._get_param(name)
        except Exception:  # a body that is not the shape this service's parser expects
            value = None
        if value:
            return str(value)
    return None


def _batch_table(handler: Any) -> str | None:
    """BatchWriteItem/BatchGetItem name their tables in RequestItems (authorised per table; the first here)."""
    try:
        items = handler._get_param("RequestItems")
    except Exception:
        return None
    return next(iter(items), None) if isinstance(items, dict) else None


def _resource(service: str, handler: Any, given: str, account: str, region: str) -> str:
    """The ARN IAM authorises for this request; moto computes it only for S3, SQS, IAM and STS."""
    if given != "*":
        return given
    prefix = f"arn:aws:{service}:{region}:{account}"
    if service == "kinesis":
        arn, name = _param(handler, "StreamARN"), _param(handler, "StreamName")
        return arn or (f"{prefix}:stream/{name}" if name else "*")
    if service == "dynamodb":
        arn, name = _param(handler, "StreamArn"), _param(handler, "TableName") or _batch_table(handler)
        return arn or (f"{prefix}:table/{name}" if name else "*")
    if service == "sns":
        return _param(handler, "TopicArn", "TargetArn") or "*"
    if service == "states":
        return _param(handler, "stateMachineArn", "executionArn") or "*"
    if service == "lambda":
        match = re.search(r"/functions/([^/?]+)", unquote(str(getattr(handler, "path", ""))))
        if match:
            name = match.group(1)
            return name if name.startswith("arn:") else f"arn:aws:lambda:{region}:{account}:function:{name}"
    return "*"


def _statements(account: str, role_arn: str) -> list[dict[str, Any]]:
    """The statements of the role's inline and attached policies, as moto stores them."""
    try:
        role = iam_backends[account]["aws"].get_role_by_arn(role_arn)
    except Exception:  # no such role: nothing is allowed, as on AWS
        return []
    documents = [unquote(doc) if isinstance(doc, str) else json.dumps(doc) for doc in role.policies.values()]
    documents += [str(_default_document(policy)) for policy in role.managed_policies.values()]
    out: list[dict[str, Any]] = []
    for document in documents:
        statements = json.loads(document).get("Statement", [])
        out += [statements] if isinstance(statements, dict) else list(statements)
    return out


def _default_document(policy: Any) -> Any:
    return next(v.document for v in policy.versions if v.is_default)


def _describe(handler: Any, function: str, resource: str) -> Call | None:
    auth = str(handler.headers.get("Authorization", ""))
    scope = auth.partition("Credential=")[2].partition(",")[0].split("/")
    if len(scope) < 4:
        return None
    service, account, region = scope[3], str(handler.current_account), str(handler.region)
    operation = str(handler._get_action())
    try:
        fn = lambda_backends[account][region].get_function(function)
    except Exception:  # the function is gone (deleted mid-run): its calls are the harness's problem, not IAM's
        return None
    role = str(fn.role)
    return Call(
        function=function, account=account, region=region,
        action=f"{service}:{_IAM_ACTION.get((service, operation), operation)}",
        resource=_resource(service, handler, resource, account, region), role_arn=role,
        mode=str((fn.tags or {}).get("pipemu:iam", "off")), statements=_statements(account, role),
    )


class _S3AccessDenied(S3AccessDeniedError):
    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message
        self.args = (message,)


def _error(service: str, message: str) -> Exception:
    """AWS's error for a denied request, by service protocol."""
    if service == "s3":
        return _S3AccessDenied(message)
    if service == "sns":  # SNS's query protocol says AuthorizationError (403)
        error = _RESTError("AuthorizationError", message)
        error.code = 403
        return error
    return JsonRESTError("AccessDeniedException", message)


def _authorize(self: Any, iam_request_cls: type, resource: str = "*") -> None:
    function = function_from_session_token(str(self.headers.get("X-Amz-Security-Token", "")))
    decide = _decide
    if function is None or decide is None:
        assert _original is not None
        _original(self, iam_request_cls, resource)
        return
    call = _describe(self, function, resource)
    if call is None:
        return
    message = decide(call)
    if message is not None:
        raise _error(call.action.split(":", 1)[0], message)


def install(decide: Decide) -> None:
    """``decide(call)`` for every request a function makes; a returned message refuses it."""
    global _original, _decide
    _decide = decide
    if _original is None:
        _original = ActionAuthenticatorMixin._authenticate_and_authorize_action
        ActionAuthenticatorMixin._authenticate_and_authorize_action = _authorize  # type: ignore[method-assign]


def uninstall() -> None:
    global _original, _decide
    _decide = None
    if _original is not None:
        ActionAuthenticatorMixin._authenticate_and_authorize_action = _original  # type: ignore[method-assign]
        _original = None


def installed() -> bool:
    return _original is not None
