"""Identity-policy evaluation as AWS does it within one account, for the policies of an execution role.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html: a request is denied
when any matching statement denies it (explicit deny), else allowed when any matching statement allows it, else
denied (implicit deny). A statement matches when its Action (or NotAction) matches the action, its Resource (or
NotResource) the resource, and every condition holds.

- Actions match case-insensitively with ``*`` and ``?``; resources case-sensitively, segment by segment of the ARN
  (a wildcard does not span the ``:`` between ARN segments; ``*`` alone matches every resource).
- Conditions: the String, Arn, Numeric and Bool operators, ``Null``, their ``IfExists`` forms; keys
  ``aws:RequestedRegion``, ``aws:PrincipalArn``, ``aws:PrincipalAccount``, ``aws:SecureTransport`` (false: the
  emulator speaks HTTP) and ``aws:SourceAccount``. A missing key makes a condition false, except for negated
  operators (``StringNotEquals``...) and ``IfExists``, which hold (AWS's rule for missing keys).

Not modelled: resource-based policies (bucket and queue policies), permission boundaries, session policies, SCPs,
``ForAnyValue``/``ForAllValues`` set operators, policy variables (``${aws:username}``), Date and IP operators.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

Outcome = Literal["allowed", "explicit_deny", "implicit_deny"]
CONTEXT_KEYS = ("aws:RequestedRegion", "aws:PrincipalArn", "aws:PrincipalAccount", "aws:SecureTransport",
                "aws:SourceAccount")
_STRING_OPS = {"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
               "StringLike", "StringNotLike"}
_ARN_OPS = {"ArnEquals", "ArnNotEquals", "ArnLike", "ArnNotLike"}
_NUMERIC_OPS = {"NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
                "NumericGreaterThan", "NumericGreaterThanEquals"}
OPERATORS = frozenset(_STRING_OPS | _ARN_OPS | _NUMERIC_OPS | {"Bool", "Null"})


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    statement: int | None = None  # index of the statement that decided (None for an implicit deny)

    @property
    def allowed(self) -> bool:
        return self.outcome == "allowed"


def supported_operator(name: str) -> bool:
    return name.removesuffix("IfExists") in OPERATORS


@lru_cache(maxsize=4096)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(fnmatch.translate(pattern), re.IGNORECASE if ignore_case else 0)


def _like(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    # fnmatch also knows [...] classes, which IAM does not: escape them so they match literally.
    escaped = pattern.replace("[", "[[]")
    return _glob(escaped, ignore_case).match(value) is not None


def action_matches(pattern: str, action: str) -> bool:
    return pattern == "*" or _like(pattern, action, ignore_case=True)


def resource_matches(pattern: str, resource: str) -> bool:
    if pattern == "*":
        return True
    want, have = pattern.split(":", 5), resource.split(":", 5)
    return len(want) == len(have) and all(_like(w, h) for w, h in zip(want, have, strict=True))


def _values(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [str(v).lower() if isinstance(v, bool) else str(v) for v in items]


def _compare(operator: str, expected: Sequence[str], actual: str) -> bool:
    if operator in ("StringEquals", "StringNotEquals", "ArnEquals", "ArnNotEquals"):
        hit = actual in expected if operator.startswith("String") else any(resource_matches(e, actual)
                                                                            for e in expected)
    elif operator in ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"):
        hit = actual.lower() in (e.lower() for e in expected)
    elif operator in ("StringLike", "StringNotLike"):
        hit = any(_like(e, actual) for e in expected)
    elif operator in ("ArnLike", "ArnNotLike"):
        hit = any(resource_matches(e, actual) for e in expected)
    elif operator == "Bool":
        hit = actual.lower() in (e.lower() for e in expected)
    else:
        return _numeric(operator, expected, actual)
    return not hit if "Not" in operator else hit


def _numeric(operator: str, expected: Sequence[str], actual: str) -> bool:
    try:
        value, bounds = float(actual), [float(e) for e in expected]
    except ValueError:
        return False
    tests: dict[str, Callable[[float], bool]] = {
        "NumericEquals": lambda b: value == b, "NumericNotEquals": lambda b: value != b,
        "NumericLessThan": lambda b: value < b, "NumericLessThanEquals": lambda b: value <= b,
        "NumericGreaterThan": lambda b: value > b, "NumericGreaterThanEquals": lambda b: value >= b,
    }
    test = tests[operator]
    return all(test(b) for b in bounds) if operator == "NumericNotEquals" else any(test(b) for b in bounds)


def conditions_hold(conditions: Mapping[str, Mapping[str, Any]] | None, context: Mapping[str, str]) -> bool:
    """Every operator's every key must hold (AND); a key's values are alternatives (OR)."""
    for raw_operator, keys in (conditions or {}).items():
        if_exists = raw_operator.endswith("IfExists")
        operator = raw_operator.removesuffix("IfExists")
        for key, expected in keys.items():
            actual = next((v for k, v in context.items() if k.lower() == key.lower()), None)
            if operator == "Null":
                wanted_missing = _values(expected)[0].lower() == "true"
                if (actual is None) != wanted_missing:
                    return False
                continue
            if actual is None:
                if if_exists or "Not" in operator:
                    continue
                return False
            if not _compare(operator, _values(expected), actual):
                return False
    return True


def _any(patterns: Iterable[str] | None, match: Any, value: str) -> bool:
    return any(match(p, value) for p in patterns or [])


def statement_applies(statement: Mapping[str, Any], action: str, resource: str, context: Mapping[str, str]) -> bool:
    if "NotAction" in statement:
        if _any(_list(statement["NotAction"]), action_matches, action):
            return False
    elif not _any(_list(statement.get("Action")), action_matches, action):
        return False
    if "NotResource" in statement:
        if _any(_list(statement["NotResource"]), resource_matches, resource):
            return False
    elif not _any(_list(statement.get("Resource")), resource_matches, resource):
        return False
    return conditions_hold(statement.get("Condition"), context)


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def evaluate(statements: Sequence[Mapping[str, Any]], action: str, resource: str,
             context: Mapping[str, str] | None = None) -> Decision:
    """Decide ``action`` on ``resource`` (an ARN, or ``*`` for actions without one) under ``statements``."""
    context = context or {}
    allowed: int | None = None
    for index, statement in enumerate(statements):
        if not statement_applies(statement, action, resource, context):
            continue
        if statement.get("Effect") == "Deny":
            return Decision("explicit_deny", index)
        if allowed is None:
            allowed = index
    return Decision("allowed", allowed) if allowed is not None else Decision("implicit_deny")


def denial_message(principal_arn: str, action: str, resource: str, outcome: Outcome) -> str:
    """AWS's AccessDenied message for an identity-policy denial
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html)."""
    why = ("with an explicit deny in an identity-based policy" if outcome == "explicit_deny"
           else f"because no identity-based policy allows the {action} action")
    return f"User: {principal_arn} is not authorized to perform: {action} on resource: {resource} {why}"
