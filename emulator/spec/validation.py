"""Shared pydantic plumbing: the strict base model, rule errors, and ValidationError -> ConfigError.

A rule that knows which key is wrong raises ``rule_error(message, path=..., hint=...)``; the path is relative
to the model that raised it and is appended to pydantic's ``loc``, so the user sees the line of that key.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from emulator.errors import ConfigError
from emulator.spec.yamlsrc import KeyPath, YamlDoc, close_match_hint, load_yaml

RULE = "pipemu_rule"
M = TypeVar("M", bound=BaseModel)


def rule_error(message: str, *, path: KeyPath = (), hint: str | None = None) -> PydanticCustomError:
    # The message travels in ctx: a template would treat '{field}' in user text as a placeholder.
    return PydanticCustomError(RULE, "{message}", {"message": message, "hint": hint, "path": path})


class Strict(BaseModel):
    """Frozen, no unknown keys; an unknown key names the allowed ones."""

    # Input uses the YAML spelling (the alias) only, so 'name:' is not a second way to write 'pipeline:'.
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _no_unknown_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        fields = cls.model_fields
        accepted = {field.alias or name for name, field in fields.items()}
        for key in data:
            if key not in accepted:
                # Excluded fields (source_path) are set by pipemu, not written by users: not worth suggesting.
                spelled = {field.alias or name for name, field in fields.items() if not field.exclude}
                raise rule_error(
                    f"unknown key '{key}'", path=(str(key),),
                    hint=close_match_hint(str(key), spelled, what="allowed keys", list_with_match=False),
                )
        return data


def loc_to_path(loc: tuple[str | int, ...], data: Any) -> KeyPath:
    """Follow pydantic's ``loc`` through the input data, dropping union tags and validator-internal parts."""
    path: list[str | int] = []
    current = data
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        in_dict = isinstance(current, dict) and isinstance(part, str) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        if in_dict or in_list:
            path.append(part)
            current = current[part]
        elif isinstance(current, dict) and isinstance(part, str) and last:
            path.append(part)  # a missing or unknown key: not in the data, still worth naming
    return tuple(path)


_KIND = {dict: "a mapping", list: "a list", str: "a string", int: "an integer", float: "a number",
         bool: "a boolean", type(None): "null"}


def describe(value: Any) -> str:
    kind = _KIND.get(type(value), type(value).__name__)
    if isinstance(value, dict | list):
        return kind
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{kind} {text}" if value is not None else kind


def _message(err: Any) -> tuple[str, str | None]:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == RULE:
        return str(ctx["message"]), ctx.get("hint")
    if kind == "missing":
        return f"missing required key '{err['loc'][-1]}'", None
    if kind == "extra_forbidden":
        return f"unknown key '{err['loc'][-1]}'", None
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping, got {describe(err['input'])}", None
    if kind == "list_type":
        return f"expected a list, got {describe(err['input'])}", None
    msg = str(err["msg"])
    if kind == "value_error" and msg.startswith("Value error, "):
        return msg[len("Value error, "):], None
    if msg.startswith("Input should be "):
        msg = "should be " + msg[len("Input should be "):]
    hint = None
    if kind == "literal_error" and isinstance(err["input"], str):
        allowed = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        hint = close_match_hint(err["input"], allowed, list_with_match=False)
        hint = hint if hint and hint.startswith("did you mean") else None
    return f"{msg}, got {describe(err['input'])}", hint


def to_config_error(exc: ValidationError, doc: YamlDoc) -> ConfigError:
    """The earliest (by line) problem in ``exc`` as a ConfigError; says how many more there are."""
    found: dict[KeyPath, tuple[int, str, str | None]] = {}
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        if err["type"] == RULE:
            # Extend with the rule's own key path; walking the data drops parts the input does not spell
            # (e.g. 'faker' for the short form 'uuid4').
            loc = (*loc, *((err.get("ctx") or {}).get("path") or ()))
        path = loc_to_path(loc, doc.data)
        if path in found:
            continue  # one complaint per key: union members each report the same input
        message, hint = _message(err)
        found[path] = (doc.line_for(path) or 0, message, hint)
    if not found:
        return doc.error("invalid configuration")
    path, (_, message, hint) = min(found.items(), key=lambda item: item[1][0])
    more = len(found) - 1
    if more:
        message += f" (and {more} more problem{'s' if more > 1 else ''})"
    return doc.error(message, path, hint=hint)


__all__ = ["RULE", "Strict", "loc_to_path", "rule_error", "to_config_error"]


def load_document(path: str | Path, model: type[M], *, what: str) -> tuple[M, YamlDoc]:
    """Read a YAML file into ``model``: paths in it resolve against the file's directory, and every error is a
    ConfigError naming the file, line and key."""
    doc = load_yaml(path, what=what)
    if "source_path" in doc.data:
        raise doc.error("unknown key 'source_path'", ("source_path",),
                        hint="source_path is set by pipemu to the file's own path; remove it")
    file = doc.file.resolve()
    try:
        spec = model.model_validate({**doc.data, "source_path": file}, context={"base_dir": file.parent})
    except ValidationError as exc:
        raise to_config_error(exc, doc) from None
    return spec, doc
