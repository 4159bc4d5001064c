"""Lambda event source mapping ``FilterCriteria``: validated and compiled when a mapping is created, then
applied to each Kinesis or SQS record before it joins a batch.

AWS behaviour (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html):

- ``Filters`` are ORed: a record is kept if any pattern matches; with no filters every record is kept.
- A pattern Lambda cannot parse fails the API call with 400 ``InvalidParameterValueException``
  "Invalid filter pattern definition." (conformance: ``test_sqs_invalid_event_filter``).
- Kinesis (https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis-filtering.html): the pattern sees the
  record's ``kinesis`` object (``partitionKey``, ``sequenceNumber``, ``data``...) with ``data``
  base64-decoded and parsed as JSON. A pattern that names ``data`` drops a record whose data is not valid
  JSON; a pattern on the other metadata keys still applies to it.
- SQS (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs-filtering.html): the pattern sees the record's
  keys. When it gives ``body`` an object (a "valid JSON" filter), the body is parsed as JSON and a
  plain-string body is dropped; when it gives ``body`` a list (a "plain string" filter), the body is
  compared as the string it is.
- The matching language is EventBridge's; see :mod:`emulator.esm.core.filter_patterns`.

Filtered-out records never reach the function: the poller deletes them (SQS) or steps past them (Kinesis).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from emulator.esm.core.filter_matching import match_rule
from emulator.esm.core.filter_patterns import (
    LeafRule,
    ObjectRule,
    PatternSyntaxError,
    compile_rule,
    strict_json_loads,
)

__all__ = [
    "CompiledPattern",
    "FilterPatternError",
    "kinesis_record_matches",
    "matches",
    "parse_filter_criteria",
    "sqs_record_matches",
]

# Lambda adds these after filtering (EventBridge Pipes documents them as unusable in patterns), so a pattern
# on them never matches.
_SQS_UNFILTERABLE = ("eventSource", "eventSourceARN", "awsRegion")


class _NotJson:
    """The decoded form of a body or data that is not valid JSON."""


_NOT_JSON = _NotJson()


class FilterPatternError(ValueError):
    """A ``FilterCriteria`` Lambda refuses: 400 ``InvalidParameterValueException``.

    ``str()`` is AWS's message word for word, so API responses can echo it; ``reason`` says what is wrong and
    ``index`` which filter (1-based) it is in.
    """

    code = "InvalidParameterValueException"
    message = "Invalid filter pattern definition."

    def __init__(self, reason: str, *, index: int | None = None, pattern: object = None) -> None:
        self.reason = reason
        self.index = index
        self.pattern = pattern
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"FilterPatternError(reason={self.reason!r}, index={self.index!r}, pattern={self.pattern!r})"


@dataclass(frozen=True)
class CompiledPattern:
    """One filter's ``Pattern``: the string as given (APIs echo it) and its compiled rule."""

    source: str
    rule: ObjectRule
    # Top-level keys the pattern names (also inside a top-level "$or"), and those it gives an object.
    fields: frozenset[str]
    object_fields: frozenset[str]

    @classmethod
    def compile(cls, source: str) -> CompiledPattern:
        rule = compile_rule(source)
        top = list(_top_level(rule))
        return cls(
            source=source,
            rule=rule,
            fields=frozenset(key for key, _ in top),
            object_fields=frozenset(key for key, sub in top if isinstance(sub, ObjectRule)),
        )


def _top_level(rule: ObjectRule) -> Iterator[tuple[str, LeafRule | ObjectRule]]:
    yield from rule.fields
    for alternative in rule.alternatives:
        yield from _top_level(alternative)


def parse_filter_criteria(criteria: Mapping[str, Any] | None) -> list[CompiledPattern]:
    """Validate and compile ``{"Filters": [{"Pattern": "<json>"}, ...]}``; ``None`` or no filters: ``[]``.

    Raises :class:`FilterPatternError` for any pattern Lambda would reject. Limits that the API schema
    enforces, not the pattern parser (5 filters by default, 4096 characters a pattern), are not checked.
    """
    if criteria is None:
        return []
    if not isinstance(criteria, Mapping):
        raise FilterPatternError("FilterCriteria must be an object", pattern=criteria)
    filters = criteria.get("Filters")
    if filters is None:
        return []
    if not isinstance(filters, list | tuple):
        raise FilterPatternError("FilterCriteria.Filters must be a list", pattern=filters)
    compiled: list[CompiledPattern] = []
    for index, item in enumerate(filters, start=1):
        source = item.get("Pattern") if isinstance(item, Mapping) else None
        if not isinstance(source, str):
            raise FilterPatternError("Pattern must be a JSON string", index=index, pattern=source)
        try:
            compiled.append(CompiledPattern.compile(source))
        except PatternSyntaxError as exc:
            raise FilterPatternError(str(exc), index=index, pattern=source) from exc
    return compiled


def matches(pattern: CompiledPattern, event: Mapping[str, Any]) -> bool:
    """EventBridge matching of one compiled pattern against a JSON-shaped event, as it is."""
    return match_rule(pattern.rule, event)


def kinesis_record_matches(patterns: Sequence[CompiledPattern], record: Mapping[str, Any]) -> bool:
    """Whether Lambda keeps this Kinesis record: ``record`` as delivered to the function
    (``{"kinesis": {"data": <base64>, "partitionKey": ...}, "eventSource": ...}``) or its ``kinesis`` object.
    """
    if not patterns:
        return True
    inner = record.get("kinesis")
    metadata: Mapping[str, Any] = inner if isinstance(inner, Mapping) else record
    data = _decode_kinesis_data(metadata.get("data"))
    # Plain data is only ever read by a pattern that names "data", and such a pattern is skipped below.
    view = {**metadata, "data": data}
    for pattern in patterns:
        if isinstance(data, _NotJson) and "data" in pattern.fields:
            continue  # "valid JSON" filter on data, plain data: Lambda drops the record
        if match_rule(pattern.rule, view):
            return True
    return False


def sqs_record_matches(patterns: Sequence[CompiledPattern], record: Mapping[str, Any]) -> bool:
    """Whether Lambda keeps this SQS record (``{"messageId", "body", "attributes", ...}`` as delivered)."""
    if not patterns:
        return True
    raw = {key: value for key, value in record.items() if key not in _SQS_UNFILTERABLE}
    wants_json = any("body" in pattern.object_fields for pattern in patterns)
    decoded = _parse_json(raw.get("body")) if wants_json else _NOT_JSON
    for pattern in patterns:
        if "body" in pattern.object_fields:
            if isinstance(decoded, _NotJson):
                continue  # "valid JSON" filter on body, plain-string body: Lambda drops the message
            view: Mapping[str, Any] = {**raw, "body": decoded}
        else:
            view = raw  # no body filter, or a plain-string filter: the body is compared as the string it is
        if match_rule(pattern.rule, view):
            return True
    return False


def _decode_kinesis_data(data: object) -> object:
    """``data`` as the function gets it (base64 text), decoded and parsed; anything else is not JSON."""
    if not isinstance(data, str):
        return _NOT_JSON
    try:
        return _parse_json(base64.b64decode(data, validate=True).decode())
    except ValueError:  # not base64 (binascii.Error) or not UTF-8 (UnicodeDecodeError): both ValueErrors
        return _NOT_JSON


def _parse_json(text: object) -> object:
    if not isinstance(text, str):
        return _NOT_JSON
    try:
        return strict_json_loads(text)
    except (ValueError, RecursionError):
        return _NOT_JSON
