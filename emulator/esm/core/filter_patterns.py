"""The EventBridge pattern language that Lambda ``FilterCriteria`` use: compiled once, matched many times.

Semantics follow AWS Event Ruler, the engine behind EventBridge and Lambda event filtering
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html,
https://github.com/aws/event-ruler README and ``JsonRuleCompiler`` for what a pattern may contain):

- A pattern is a non-empty JSON object. Keys of an object are ANDed, the values in a list are ORed, and
  ``"$or": [{..}, {..}]`` ORs whole sub-objects at that level.
- Only leaf values (string, number, boolean, null) are matched. A field whose value is an object is not
  a leaf, so ``{"exists": true}`` does not match it and ``{"exists": false}`` does.
- Arrays in the event are flattened: a leaf rule matches if any element matches, and an object rule
  matches if one element matches the whole object (Ruler's array-consistent matching).
- A key missing from the event matches nothing except ``{"exists": false}``; ``anything-but`` needs the key.
- Numbers compare as numbers (``100`` matches ``100.0``), never as strings; booleans are not numbers.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias, TypeGuard

Scalar: TypeAlias = str | int | float | bool | None
IPNetwork: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network

OR_KEY = "$or"
# Objects nested in a pattern, at most. Lambda caps a pattern at 4096 characters, so no real pattern comes near;
# the cap exists so that the interpreter does not decide: Python 3.11's json parser stops near 1000 levels with a
# RecursionError, 3.13's parses far deeper and the compiler would then overflow the stack in its own recursion.
MAX_PATTERN_DEPTH = 256
_OPERATORS = frozenset(
    {"prefix", "suffix", "equals-ignore-case", "anything-but", "numeric", "exists", "cidr", "wildcard"}
)


class PatternSyntaxError(ValueError):
    """Why a pattern is invalid, in Event Ruler's words (Lambda itself gives one message for all)."""


def is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


class ValueMatcher(Protocol):
    def test(self, value: Scalar) -> bool: ...


@dataclass(frozen=True)
class Exact:
    value: Scalar

    def test(self, value: Scalar) -> bool:
        if is_number(self.value):
            return is_number(value) and value == self.value
        if isinstance(self.value, str):
            return isinstance(value, str) and value == self.value
        return value is self.value  # true, false, null


@dataclass(frozen=True)
class Affix:
    """``prefix`` (``at_start``) or ``suffix``; ``text`` is lower-cased when ``ignore_case``."""

    text: str
    at_start: bool
    ignore_case: bool = False

    def test(self, value: Scalar) -> bool:
        if not isinstance(value, str):
            return False
        value = value.lower() if self.ignore_case else value
        return value.startswith(self.text) if self.at_start else value.endswith(self.text)


@dataclass(frozen=True)
class EqualsIgnoreCase:
    text: str  # lower-cased

    def test(self, value: Scalar) -> bool:
        return isinstance(value, str) and value.lower() == self.text


@dataclass(frozen=True)
class Wildcard:
    regex: re.Pattern[str]

    def test(self, value: Scalar) -> bool:
        return isinstance(value, str) and self.regex.fullmatch(value) is not None


@dataclass(frozen=True)
class Numeric:
    lower: float | None = None
    lower_open: bool = False
    upper: float | None = None
    upper_open: bool = False

    def test(self, value: Scalar) -> bool:
        if not is_number(value):
            return False
        if self.lower is not None and (value < self.lower or (self.lower_open and value == self.lower)):
            return False
        return self.upper is None or not (value > self.upper or (self.upper_open and value == self.upper))


@dataclass(frozen=True)
class Cidr:
    network: IPNetwork

    def test(self, value: Scalar) -> bool:
        if not isinstance(value, str):
            return False
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            return False
        return address.version == self.network.version and address in self.network


@dataclass(frozen=True)
class AnythingBut:
    # Matches any present leaf none of these match; a null or a number is "anything but" a prefix.
    excluded: tuple[ValueMatcher, ...]

    def test(self, value: Scalar) -> bool:
        return not any(matcher.test(value) for matcher in self.excluded)


@dataclass(frozen=True)
class Exists:
    present: bool


@dataclass(frozen=True)
class LeafRule:
    """The list under a key: matches if any of its entries matches any leaf value of the field."""

    matchers: tuple[ValueMatcher, ...]
    if_present: bool = False  # holds {"exists": true}
    if_absent: bool = False  # holds {"exists": false}

    def evaluate(self, leaves: list[Scalar]) -> bool:
        if not leaves:
            return self.if_absent
        return self.if_present or any(m.test(v) for v in leaves for m in self.matchers)


@dataclass(frozen=True)
class ObjectRule:
    fields: tuple[tuple[str, LeafRule | ObjectRule], ...]
    alternatives: tuple[ObjectRule, ...] = ()  # from "$or": at least one must match at this level


# --- compiling --------------------------------------------------------------------------------------------


def strict_json_loads(text: str) -> Any:
    """``json.loads`` without Python's NaN/Infinity extension, which AWS's JSON parser rejects."""
    return json.loads(text, parse_constant=_reject_constant)


def compile_rule(source: str) -> ObjectRule:
    try:
        document = strict_json_loads(source)
    except (ValueError, RecursionError) as exc:
        raise PatternSyntaxError(f"Filter is not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise PatternSyntaxError("Filter is not an object")
    return _compile_object(document, in_or=False, depth=1)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _compile_object(document: Mapping[str, Any], *, in_or: bool, depth: int) -> ObjectRule:
    if depth > MAX_PATTERN_DEPTH:
        raise PatternSyntaxError(f"Filter nests objects more than {MAX_PATTERN_DEPTH} levels deep")
    if not document:
        raise PatternSyntaxError("Empty objects are not allowed")
    fields: list[tuple[str, LeafRule | ObjectRule]] = []
    alternatives: tuple[ObjectRule, ...] = ()
    for key, value in document.items():
        if key == OR_KEY:
            alternatives = _compile_or(value, depth=depth + 1)
        elif in_or and key in _OPERATORS:
            raise PatternSyntaxError(f"{key} is Ruler reserved fieldName which cannot be used inside $or.")
        elif isinstance(value, dict):
            fields.append((key, _compile_object(value, in_or=in_or, depth=depth + 1)))
        elif isinstance(value, list):
            fields.append((key, _compile_leaf(value)))
        else:
            raise PatternSyntaxError(f'"{key}" must be an object or an array')
    return ObjectRule(tuple(fields), alternatives)


def _compile_or(value: object, *, depth: int) -> tuple[ObjectRule, ...]:
    if not isinstance(value, list):
        raise PatternSyntaxError("It must be an Array followed with $or.")
    if not all(isinstance(branch, dict) for branch in value):
        raise PatternSyntaxError("Only JSON object is allowed in array of $or relationship.")
    if len(value) < 2:
        raise PatternSyntaxError("There must have at least 2 Objects in $or relationship.")
    return tuple(_compile_object(branch, in_or=True, depth=depth) for branch in value)


def _compile_leaf(values: list[Any]) -> LeafRule:
    if not values:
        raise PatternSyntaxError("Empty arrays are not allowed")
    matchers: list[ValueMatcher] = []
    exists: set[bool] = set()
    for value in values:
        if isinstance(value, dict):
            compiled = _compile_expression(value)
            if isinstance(compiled, Exists):
                exists.add(compiled.present)
            else:
                matchers.append(compiled)
        elif value is None or isinstance(value, str | int | float):
            matchers.append(Exact(value))
        else:
            raise PatternSyntaxError("Match value must be String, number, true, false, or null")
    return LeafRule(tuple(matchers), if_present=True in exists, if_absent=False in exists)


def _compile_expression(expression: Mapping[str, Any]) -> ValueMatcher | Exists:
    if len(expression) != 1:
        raise PatternSyntaxError("Only one key allowed in match expression")
    ((operator, argument),) = expression.items()
    if operator in ("prefix", "suffix"):
        return _compile_affix(operator, argument)
    if operator == "equals-ignore-case":
        return EqualsIgnoreCase(_string(argument, operator).lower())
    if operator == "wildcard":
        return Wildcard(wildcard_regex(_string(argument, operator)))
    if operator == "numeric":
        return _compile_numeric(argument)
    if operator == "cidr":
        return Cidr(_compile_cidr(argument))
    if operator == "exists":
        if not isinstance(argument, bool):
            raise PatternSyntaxError("exists match pattern must be either true or false.")
        return Exists(argument)
    if operator == "anything-but":
        return _compile_anything_but(argument)
    raise PatternSyntaxError(f"Unrecognized match type {operator}")


def _string(argument: object, operator: str) -> str:
    if not isinstance(argument, str):
        raise PatternSyntaxError(f"{operator} match pattern must be a string")
    return argument


def _compile_affix(operator: str, argument: object) -> Affix:
    at_start = operator == "prefix"
    if isinstance(argument, dict) and list(argument) == ["equals-ignore-case"]:
        return Affix(_string(argument["equals-ignore-case"], operator).lower(), at_start, ignore_case=True)
    return Affix(_string(argument, operator), at_start)


def _compile_numeric(argument: object) -> Numeric:
    if not isinstance(argument, list):
        raise PatternSyntaxError("Value of numeric must be an array.")
    if not argument or not isinstance(argument[0], str):
        raise PatternSyntaxError(f"Invalid member in numeric match: {argument[0] if argument else ']'}")
    operator = argument[0]
    if operator not in ("=", "<", "<=", ">", ">="):
        raise PatternSyntaxError(f"Unrecognized numeric range operator: {operator}")
    first = _operand(argument, 1, "equals" if operator == "=" else operator)
    if operator in ("=", "<", "<=") or len(argument) == 2:
        if len(argument) > 2:
            raise PatternSyntaxError("Too many elements in numeric expression")
        if operator == "=":
            return Numeric(lower=first, upper=first)
        if operator.startswith("<"):
            return Numeric(upper=first, upper_open=operator == "<")
        return Numeric(lower=first, lower_open=operator == ">")
    second_operator = argument[2]
    if not isinstance(second_operator, str):
        raise PatternSyntaxError(f"Bad value in numeric range: {second_operator}")
    if second_operator not in ("<", "<="):
        raise PatternSyntaxError(f"Bad numeric range operator: {second_operator}")
    second = _operand(argument, 3, second_operator)
    if len(argument) > 4:
        raise PatternSyntaxError("Too many terms in numeric range expression")
    if second <= first:
        raise PatternSyntaxError("Bottom must be less than top")
    return Numeric(lower=first, lower_open=operator == ">", upper=second, upper_open=second_operator == "<")


def _operand(argument: list[Any], index: int, name: str) -> float:
    value = argument[index] if index < len(argument) else None
    if not is_number(value):
        raise PatternSyntaxError(f"Value of {name} must be numeric")
    return value


def _compile_cidr(argument: object) -> IPNetwork:
    if not isinstance(argument, str):
        raise PatternSyntaxError("prefix match pattern must be a string")  # sic: Ruler's message for cidr
    if argument.count("/") != 1:
        raise PatternSyntaxError("Malformed CIDR, one '/' required")
    try:
        return ipaddress.ip_network(argument, strict=False)
    except ValueError as exc:
        raise PatternSyntaxError(f"Nonstandard IP address: {argument.split('/')[0]}") from exc


def _compile_anything_but(argument: object) -> AnythingBut:
    if isinstance(argument, dict):
        if len(argument) != 1:
            raise PatternSyntaxError("Only one key allowed in match expression")
        ((operator, inner),) = argument.items()
        if operator in ("prefix", "suffix"):
            if not isinstance(inner, str):
                raise PatternSyntaxError("prefix/suffix match pattern must be a string")
            if not inner:
                raise PatternSyntaxError("Null prefix/suffix not allowed")
            return AnythingBut((Affix(inner, at_start=operator == "prefix"),))
        if operator in ("equals-ignore-case", "wildcard"):
            texts = _string_or_strings(inner, operator)
            if operator == "wildcard":
                return AnythingBut(tuple(Wildcard(wildcard_regex(t)) for t in texts))
            return AnythingBut(tuple(EqualsIgnoreCase(t.lower()) for t in texts))
        raise PatternSyntaxError(f"Unsupported anything-but pattern: {operator}")
    if isinstance(argument, list):
        if not argument or not all(isinstance(v, str) or is_number(v) for v in argument):
            raise PatternSyntaxError("Inside anything but list, start|null|boolean is not supported.")
        if len({isinstance(v, str) for v in argument}) > 1:
            raise PatternSyntaxError(
                "Inside anything but list, either all values are number or string, "
                "mixed type is not supported"
            )
        return AnythingBut(tuple(Exact(v) for v in argument))
    if isinstance(argument, str) or is_number(argument):
        return AnythingBut((Exact(argument),))
    raise PatternSyntaxError("Value of anything-but must be an array or single string/number value.")


def _string_or_strings(argument: object, operator: str) -> list[str]:
    if isinstance(argument, str):
        return [argument]
    if isinstance(argument, list) and argument and all(isinstance(v, str) for v in argument):
        return list(argument)
    raise PatternSyntaxError(f"Inside anything-but/{operator} list, number|start|null|boolean not supported.")


def wildcard_regex(text: str) -> re.Pattern[str]:
    """``*`` is any run of characters; ``\\*`` is a star and ``\\\\`` a backslash; no other escapes."""
    parts: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\":
            escaped = text[i + 1 : i + 2]
            if escaped not in ("*", "\\"):
                raise PatternSyntaxError(f"Invalid escape character at pos {i + 1}")
            parts.append(re.escape(escaped))
            i += 2
            continue
        if char == "*":
            if text[i + 1 : i + 2] == "*":
                raise PatternSyntaxError(f"Consecutive wildcard characters at pos {i + 1}")
            parts.append(".*")
        else:
            parts.append(re.escape(char))
        i += 1
    return re.compile("".join(parts), re.DOTALL)
