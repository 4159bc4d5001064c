"""Matching events against compiled filter rules (``filter_patterns``), with EventBridge's semantics: arrays
match when any element does, and a missing key only satisfies absence checks."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from emulator.esm.core.filter_patterns import LeafRule, ObjectRule, Scalar

_EMPTY: Mapping[str, Any] = MappingProxyType({})  # stands for a missing key


def match_rule(rule: ObjectRule, node: object) -> bool:
    """Whether ``node`` (a JSON-shaped event, or the value found at this rule's path) satisfies ``rule``."""
    candidates = _mappings(node)
    if not candidates:
        return _match_mapping(rule, _EMPTY)  # a scalar, or an array of scalars: only absence checks can hold
    return any(_match_mapping(rule, candidate) for candidate in candidates)


def _match_mapping(rule: ObjectRule, mapping: Mapping[str, Any]) -> bool:
    for key, sub_rule in rule.fields:
        value = mapping.get(key, _EMPTY)
        if isinstance(sub_rule, LeafRule):
            if not sub_rule.evaluate(_leaves(value)):
                return False
        elif not match_rule(sub_rule, value):
            return False
    return not rule.alternatives or any(_match_mapping(alt, mapping) for alt in rule.alternatives)


def _mappings(node: object) -> list[Mapping[str, Any]]:
    if isinstance(node, Mapping):
        return [node]  # _EMPTY too: it matches as the empty object it is
    if isinstance(node, list | tuple):
        return [m for element in node for m in _mappings(element)]
    return []


def _leaves(node: object) -> list[Scalar]:
    if isinstance(node, list | tuple):
        return [leaf for element in node for leaf in _leaves(element)]
    if node is None or isinstance(node, str | int | float):
        return [node]
    return []  # objects are intermediate nodes; _EMPTY marks a missing key
