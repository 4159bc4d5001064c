"""Normalise our observations the way the AWS snapshots were normalised, and compare them with the snapshots.

The rules are those of shared/conformance/README.md §1 (LocalStack's snapshot transformers, as recorded):

- ``<uuid:N>`` for UUIDs, ``<sequence-number:N>`` / ``<start-sequence-number:N>`` for Kinesis sequence numbers,
  ``<resource:N>`` for generated names (taken from ARNs), ``<receipt-handle:N>``, ``<m-d5-of-body:N>``,
  ``<md5-of-body:N>``, ``<queue-url:N>`` for those keys' values. N numbers distinct raw values by first appearance,
  and every other occurrence of the same raw value gets the same token;
- ``<timestamp:2022-07-13T13:48:01.000Z>`` for any timestamp in that text format (and its whole-second
  form without milliseconds, as DynamoDB's batch info writes it), ``<datetime>`` for parsed dates;
- unnumbered tokens for values that are present but not compared (``<approximate-arrival-timestamp>``, ...);
- account ``111111111111``, ``<region>``, ``<partition>``; HTTP headers emptied;
- strings starting with ``{`` parsed as JSON one level deep (JSON nested inside stays a string).

``compare`` then treats ``<kind:N>`` as variables: the snapshot's N and ours may differ, but the pairing must be
one-to-one per kind (same N, same raw value; different N, different raw values).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

SNAPSHOT_ACCOUNT = "111111111111"
TIMESTAMP_TOKEN = "<timestamp:2022-07-13T13:48:01.000Z>"

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_ISO_MS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
_ISO_S = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")  # DynamoDB batch info's arrival times
SECONDS_TOKEN = "<timestamp:2022-07-13T13:48:01Z>"
_ARN = re.compile(r"^arn:[a-z-]+:([a-z0-9-]+):[a-z0-9-]*:(\d{12})?:(.+)$")
_TOKEN = re.compile(r"<([a-z0-9-]+):(\d+)>")

# Values registered by key, in this order: a raw value keeps the first kind it was registered under (so a
# start sequence number that is also some record's ``sequenceNumber`` shows as ``<sequence-number:N>``).
_KEYED_KINDS: tuple[tuple[frozenset[str], str], ...] = (
    (frozenset({"sequenceNumber", "SequenceNumber"}), "sequence-number"),
    (frozenset({"startSequenceNumber", "endSequenceNumber"}), "start-sequence-number"),
    (frozenset({"ReceiptHandle", "receiptHandle"}), "receipt-handle"),
    (frozenset({"MD5OfBody"}), "m-d5-of-body"),
    (frozenset({"md5OfBody"}), "md5-of-body"),
    (frozenset({"QueueUrl"}), "queue-url"),
)
# Keys whose values are replaced only where they stand whole (sequence numbers from moto are "1", "2", ...).
_KEYED_SCOPE = {key for keys, _ in _KEYED_KINDS for key in keys} | {"eventID"}
_PRESENT_ONLY = {
    "approximateArrivalTimestamp": "<approximate-arrival-timestamp>",
    "executionStart": "<execution-start>",
    "Signature": "<signature>",
}


class Normalizer:
    """One per test: the same raw value gets the same token across everything normalised with it."""

    def __init__(
        self,
        *,
        account: str = "123456789012",
        region: str = "us-east-1",
        literals: dict[str, str] | None = None,
        present_only: dict[str, str] | None = None,
        keyed: dict[str, str] | None = None,
    ) -> None:
        """``present_only`` adds keys whose values become a fixed token (SQS: ``SentTimestamp``...), ``keyed``
        keys whose values are numbered tokens of a kind (``{"SenderId": "sender-id"}``), as a test's own
        transformers did when it was recorded."""
        self.account = account
        self.region = region
        self.literals = dict(literals or {})
        self.present_only = _PRESENT_ONLY | dict(present_only or {})
        self.keyed_kinds = _KEYED_KINDS + tuple((frozenset({k}), kind) for k, kind in (keyed or {}).items())
        self.keyed_scope = _KEYED_SCOPE | set(keyed or {})
        self._tokens: dict[str, str] = {}
        self._anywhere: dict[str, str] = {}  # long raw values replaced wherever they appear (queue URLs in bodies)
        self._counts: dict[str, int] = {}
        self._resources: list[str] = []
        self._resource_pattern: re.Pattern[str] | None = None

    # -- registration ----------------------------------------------------------------------------------
    def register(self, raw: str, kind: str) -> str:
        """The token for ``raw``; a new one of ``kind`` if the value was not seen before."""
        if raw not in self._tokens:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            self._tokens[raw] = f"<{kind}:{self._counts[kind]}>"
            if kind == "queue-url":
                self._anywhere[raw] = self._tokens[raw]
            if kind == "resource":
                self._resources.append(raw)
                alternatives = "|".join(re.escape(r) for r in sorted(self._resources, key=len, reverse=True))
                self._resource_pattern = re.compile(rf"(?<![A-Za-z0-9_-])(?:{alternatives})(?![A-Za-z0-9_-])")
        return self._tokens[raw]

    def resource(self, name: str) -> str:
        return self.register(name, "resource")

    # -- the transformation ----------------------------------------------------------------------------
    def __call__(self, value: Any) -> Any:
        parsed = _parse_json_strings(value)
        for keys, kind in self.keyed_kinds:
            for key, raw in _walk(parsed):
                if key in keys and isinstance(raw, str):
                    self.register(raw, kind)
        for key, raw in _walk(parsed):
            if isinstance(raw, str):
                self._register_arn_resources(raw)
                if key == "UnsubscribeURL" and "SubscriptionArn=" in raw:
                    self._register_arn_resources(raw.split("SubscriptionArn=", 1)[1])
        return self._replace(parsed, key=None)

    def _register_arn_resources(self, text: str) -> None:
        match = _ARN.match(text)
        if match is None:
            return
        service, resource = match.group(1), match.group(3)
        if service == "s3":
            self.resource(resource.lstrip(":").split("/", 1)[0])
        elif service == "lambda" and resource.startswith("function:"):
            self.resource(resource.split(":")[1])
        elif service == "sns":
            for part in resource.split(":"):
                self.resource(part)
        elif service == "sqs":
            self.resource(resource)
        elif service == "dynamodb":  # table/NAME[/stream/LABEL]; a stream label is a time, with colons
            parts = resource.split("/")
            for index in (1, 3):
                if len(parts) > index:
                    self.resource(parts[index])
        elif service in ("kinesis", "iam", "states"):
            self.resource(resource.split("/")[-1].split(":")[-1])

    def _replace(self, value: Any, *, key: str | None) -> Any:
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for k, v in value.items():
                if k == "ResponseMetadata" and isinstance(v, dict):
                    out[k] = {"HTTPHeaders": {}, "HTTPStatusCode": v.get("HTTPStatusCode")}
                elif k in self.present_only:
                    out[k] = self.present_only[k]
                else:
                    out[k] = self._replace(v, key=k)
            return out
        if isinstance(value, list):
            return [self._replace(v, key=key) for v in value]
        if isinstance(value, (datetime, date)):
            return "<datetime>"
        if isinstance(value, str):
            return self._replace_text(value, key=key)
        return value

    def _replace_text(self, text: str, *, key: str | None) -> str:
        if key in self.keyed_scope:
            if text in self._tokens:
                return self._tokens[text]
            head, sep, tail = text.rpartition(":")
            if key == "eventID" and sep and tail in self._tokens:
                text = f"{head}:{self._tokens[tail]}"
        if key == "SigningCertURL" and "/SimpleNotificationService-" in text:
            cert = text.split("/SimpleNotificationService-", 1)[1].removesuffix(".pem")
            return f"<cert-domain>/SimpleNotificationService-{self.register(cert, 'signing-cert-file')}"
        if key == "UnsubscribeURL" and "/?" in text:
            text = "<unsubscribe-domain>/?" + text.split("/?", 1)[1]
        for raw, token in self._anywhere.items():
            text = text.replace(raw, token)
        for raw, token in self.literals.items():
            text = text.replace(raw, token)
        text = text.replace(self.account, SNAPSHOT_ACCOUNT)
        text = re.sub(r"\barn:aws(-[a-z-]+)?:", "arn:<partition>:", text)
        text = text.replace(self.region, "<region>")
        if self._resource_pattern is not None:
            text = self._resource_pattern.sub(lambda m: self._tokens[m.group(0)], text)
        text = _UUID.sub(lambda m: self.register(m.group(0), "uuid"), text)
        return _ISO_S.sub(SECONDS_TOKEN, _ISO_MS.sub(TIMESTAMP_TOKEN, text))


def _parse_json_strings(value: Any) -> Any:
    """Strings starting with ``{`` become objects, one level deep; dict keys sorted as the recorder did (the
    parsed objects keep their own order)."""
    if isinstance(value, dict):
        return {k: _parse_json_strings(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_parse_json_strings(v) for v in value]
    if isinstance(value, str) and value.startswith("{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _walk(value: Any, key: str | None = None) -> Iterator[tuple[str | None, Any]]:
    """(key, value) for every value in document order; list items carry their list's key."""
    yield key, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v, key)


# -- comparison ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Difference:
    path: str
    reason: str
    expected: Any = None
    actual: Any = None

    def __str__(self) -> str:
        return (
            f"{self.path}: {self.reason}\n  expected (AWS): {_short(self.expected)}\n"
            f"  observed (us):  {_short(self.actual)}"
        )


def _short(value: Any, limit: int = 600) -> str:
    text = json.dumps(value, default=str, sort_keys=True)
    return text if len(text) <= limit else text[:limit] + "..."


@dataclass
class _Bindings:
    """Token variables: per kind, snapshot N <-> our M, one-to-one."""

    forward: dict[tuple[str, str], str] = field(default_factory=dict)
    backward: dict[tuple[str, str], str] = field(default_factory=dict)

    def bind(self, kind: str, expected: str, actual: str) -> str | None:
        known = self.forward.get((kind, expected))
        if known is not None and known != actual:
            return f"<{kind}:{expected}> already stands for the value we call <{kind}:{known}>"
        other = self.backward.get((kind, actual))
        if other is not None and other != expected:
            return f"our <{kind}:{actual}> already stands for the snapshot's <{kind}:{other}>"
        self.forward[(kind, expected)] = actual
        self.backward[(kind, actual)] = expected
        return None


class _Skip:
    """A JSONPath of the kind upstream skips: ``$..Records..eventID``, ``$..KinesisBatchInfo.shardId``."""

    def __init__(self, pattern: str) -> None:
        if not pattern.startswith("$"):
            raise ValueError(f"skip path must start with $: {pattern!r}")
        self.pattern = pattern
        self.steps = [(m.group(1) == "..", m.group(2)) for m in re.finditer(r"(\.\.|\.)([^.\[]+)", pattern[1:])]

    def matches(self, path: Sequence[str | int]) -> bool:
        keys = [p for p in path if isinstance(p, str)]  # list positions are transparent

        def match(i: int, j: int) -> bool:
            if j == len(self.steps):
                return i == len(keys)
            descend, name = self.steps[j]
            if not descend:
                return i < len(keys) and name in ("*", keys[i]) and match(i + 1, j + 1)
            return any(name in ("*", keys[k]) and match(k + 1, j + 1) for k in range(i, len(keys)))

        return match(0, 0)


def path_matches(pattern: str, path: Sequence[str | int]) -> bool:
    return _Skip(pattern).matches(path)


def _render(path: Sequence[str | int]) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def compare(expected: Any, actual: Any, *, skip: Iterable[str] = ()) -> Difference | None:
    """The first difference between a snapshot value and our normalised observation, or None.

    Keys, types and values are compared; list order matters, dict key order does not (boto3 orders keys by
    its service model, not as sent). Paths matching ``skip`` are left out on both sides.
    """
    skips = [_Skip(s) for s in skip]
    bindings = _Bindings()

    def skipped(path: list[str | int]) -> bool:
        return any(s.matches(path) for s in skips)

    def walk(exp: Any, act: Any, path: list[str | int]) -> Difference | None:
        if skipped(path):
            return None
        if isinstance(exp, dict) and isinstance(act, dict):
            exp_keys = [k for k in exp if not skipped([*path, k])]
            act_keys = {k for k in act if not skipped([*path, k])}
            missing = [k for k in exp_keys if k not in act_keys]
            if missing:
                return Difference(_render([*path, missing[0]]), "missing in our observation", exp[missing[0]])
            extra = sorted(act_keys - set(exp_keys))
            if extra:
                return Difference(_render([*path, extra[0]]), "not in the AWS snapshot", None, act[extra[0]])
            for k in exp_keys:
                found = walk(exp[k], act[k], [*path, k])
                if found is not None:
                    return found
            return None
        if isinstance(exp, list) and isinstance(act, list):
            for i, (e, a) in enumerate(zip(exp, act, strict=False)):
                found = walk(e, a, [*path, i])
                if found is not None:
                    return found
            if len(exp) != len(act):
                return Difference(_render(path), f"list length {len(act)}, AWS has {len(exp)}", exp, act)
            return None
        if type(exp) is not type(act):
            return Difference(_render(path), f"type {type(act).__name__}, AWS has {type(exp).__name__}", exp, act)
        if isinstance(exp, str):
            reason = _compare_text(exp, act, bindings)
            return None if reason is None else Difference(_render(path), reason, exp, act)
        if exp != act:
            return Difference(_render(path), "different value", exp, act)
        return None

    return walk(expected, actual, [])


def _compare_text(expected: str, actual: str, bindings: _Bindings) -> str | None:
    exp_parts, act_parts = _TOKEN.split(expected), _TOKEN.split(actual)
    # split() with two groups yields [text, kind, n, text, kind, n, ..., text]
    if len(exp_parts) != len(act_parts):
        return "different text or number of tokens"
    for i in range(0, len(exp_parts), 3):
        if exp_parts[i] != act_parts[i]:
            return "different text"
        if i + 2 < len(exp_parts):
            kind_e, n_e, kind_a, n_a = exp_parts[i + 1], exp_parts[i + 2], act_parts[i + 1], act_parts[i + 2]
            if kind_e != kind_a:
                return f"token kind <{kind_a}:..>, AWS has <{kind_e}:..>"
            clash = bindings.bind(kind_e, n_e, n_a)
            if clash is not None:
                return clash
    return None


def assert_matches(
    expected: Any,
    actual: Any,
    *,
    skip: Iterable[str] = (),
    what: str = "observation",
    explain: Callable[[], str] | None = None,
) -> None:
    """Fail with the first differing path, both values, and the skipped paths (so a reader sees what was not
    compared)."""
    skip = list(skip)
    difference = compare(expected, actual, skip=skip)
    if difference is None:
        return
    lines = [f"{what} differs from the AWS snapshot", str(difference)]
    if skip:
        lines.append(f"  (not compared: {', '.join(skip)})")
    if explain is not None:
        lines.append(explain())
    raise AssertionError("\n".join(lines))
