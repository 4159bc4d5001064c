"""YAML loading that remembers where every key came from.

The file is composed into nodes with ``yaml.SafeLoader`` (so nothing executes), then walked into plain Python
data and a map from key path to 1-based line, so that any later complaint (pydantic, cross references) can
name the file, the line and a dotted key path such as ``mappings[0].batch_size``.

Hostile input is refused before it costs anything: a file over ``MAX_BYTES`` is not read, and a document whose
aliases would expand it by more than ``MAX_ALIAS_VALUES`` values (a "billion laughs" bomb: nine aliases of nine
aliases... is 10^9 values from a few hundred bytes) is refused after composition, which keeps every alias as
one shared node, so counting the expansion costs one pass over the distinct nodes.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from emulator.errors import ConfigError

KeyPath = tuple[str | int, ...]

_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
MAX_DEPTH = 200
# AWS caps a state machine definition at 1 MiB (Step Functions quotas, "Maximum definition size"); no pipeline
# or scenario file comes near it.
MAX_BYTES = 1024 * 1024
# What aliases may add to a document, in values: generous for anchors shared across sections.
MAX_ALIAS_VALUES = 100_000


def format_path(path: Iterable[str | int]) -> str:
    """``("mappings", 0, "batch_size")`` -> ``mappings[0].batch_size``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def close_match_hint(
    word: str,
    choices: Iterable[str],
    *,
    what: str = "allowed",
    list_with_match: bool = True,
    max_listed: int = 40,
) -> str | None:
    """``did you mean 'x'?`` when one is close, with (or instead of) the list of choices if it is short."""
    names = sorted(set(choices))
    if not names:
        return None
    listing = f"{what}: {', '.join(names)}" if len(names) <= max_listed else None
    match = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
    if match:
        suggestion = f"did you mean '{match[0]}'?"
        return f"{suggestion} ({listing})" if listing and list_with_match else suggestion
    return listing


@dataclass(frozen=True, slots=True)
class YamlDoc:
    """A loaded YAML mapping plus the line of every key (or list item) in it."""

    file: Path
    data: dict[str, Any]
    lines: dict[KeyPath, int]

    def line_for(self, path: KeyPath) -> int | None:
        """The line of ``path``, or of its nearest ancestor present in the file."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return None

    def error(self, message: str, path: KeyPath = (), *, hint: str | None = None) -> ConfigError:
        return ConfigError(
            message, file=self.file, line=self.line_for(path), key=format_path(path) or None, hint=hint
        )


def load_yaml(path: str | Path, *, what: str = "file") -> YamlDoc:
    """Read ``path`` as a YAML mapping. Every failure is a ``ConfigError`` naming the file."""
    file = Path(path)
    if not file.exists():
        raise ConfigError(
            f"{what} not found", file=file, hint=f"paths are relative to the current directory ({Path.cwd()})"
        )
    if not file.is_file():
        hint = None
        if file.is_dir():
            found = sorted(p.name for p in file.iterdir() if p.suffix in (".yaml", ".yml"))
            hint = "it is a directory"
            if found:
                hint += f"; YAML files in it: {', '.join(found)}"
        raise ConfigError(f"{what} is not a file", file=file, hint=hint)
    check_size(file, what)
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{what} is not UTF-8 text ({exc.reason})", file=file) from None
    except OSError as exc:
        raise ConfigError(f"cannot read {what}: {exc.strerror}", file=file) from None
    return parse_yaml(text, file=file, what=what)


def check_size(file: Path, what: str) -> None:
    """Refuse a file over ``MAX_BYTES`` without reading it."""
    try:
        size = file.stat().st_size
    except OSError as exc:
        raise ConfigError(f"cannot read {what}: {exc.strerror}", file=file) from None
    if size > MAX_BYTES:
        raise _too_big(file, what, size)


def _too_big(file: Path, what: str, size: int) -> ConfigError:
    return ConfigError(
        f"{what} is {size:,} bytes, over the limit of {MAX_BYTES:,} bytes", file=file,
        hint="pipemu reads pipelines, scenarios and definitions of up to 1 MiB (AWS's limit for a state machine "
        "definition); generate large data with events.fields instead of writing it out",
    )


def parse_yaml(text: str, *, file: str | Path, what: str = "file") -> YamlDoc:
    """Parse YAML text (already read) into a ``YamlDoc``."""
    source = Path(file)
    if len(text) > MAX_BYTES:
        raise _too_big(source, what, len(text.encode("utf-8", errors="replace")))
    loader = yaml.SafeLoader(text)
    try:
        try:
            root = loader.get_single_node()
            if root is None:
                raise ConfigError(
                    f"{what} is empty", file=source, line=1, hint="expected a mapping of keys to values"
                )
            _check_expansion(root, source, what)
            walker = _Walker(loader, source)
            data = walker.value(root, (), 0)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        raise _malformed(exc, source) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", file=source) from None
    except RecursionError:
        raise ConfigError("invalid YAML: nested too deeply", file=source) from None
    if not isinstance(data, dict):
        # The value itself is not quoted: the file may be anything the user pointed at (e.g. not YAML at all).
        kind = "a list" if isinstance(data, list) else f"a single value (of type {type(data).__name__})"
        raise ConfigError(
            f"top level of the {what} is {kind}", file=source, line=root.start_mark.line + 1,
            hint="expected a mapping of keys to values, e.g. 'pipeline: NAME'",
        )
    return YamlDoc(file=source, data=data, lines=walker.lines)


def _check_expansion(root: Node, file: Path, what: str) -> None:
    """Refuse a document whose aliases expand it by more than ``MAX_ALIAS_VALUES`` values.

    Composition shares one node per anchor, so the expanded size of every node is computed once (memoised by
    identity) over the distinct nodes: linear in the file, whatever the aliases would expand to."""
    expanded: dict[int, int] = {}
    started: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in expanded or (not children_done and id(node) in started):
            continue
        children = _children(node)
        if not children_done:
            started.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in expanded)
            continue
        # A child still missing here is an ancestor (a recursive alias): the walker reports that one.
        expanded[id(node)] = 1 + sum(expanded.get(id(child), 1) for child in children)
    added = expanded[id(root)] - len(started)
    if added > MAX_ALIAS_VALUES:
        raise ConfigError(
            f"invalid YAML: aliases expand the {what} by {added:,} values, over the limit of "
            f"{MAX_ALIAS_VALUES:,}", file=file, line=1,
            hint="an alias (*name) repeats its anchor's whole value; nested aliases multiply (a 'billion laughs' "
            "document); write the values out or reuse fewer levels of anchors",
        )


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


def _malformed(exc: yaml.MarkedYAMLError, file: Path) -> ConfigError:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or "malformed YAML"
    if exc.context and exc.context not in problem:
        problem = f"{exc.context}: {problem}"
    hint = "check the indentation and quoting on this line and the one above"
    if "\\t" in problem or "\t" in problem:
        hint = "YAML does not allow tab characters for indentation; use spaces"
    elif "expected a single document" in problem:
        hint = "a pipemu file holds exactly one YAML document; remove the extra '---'"
    line = mark.line + 1 if mark is not None else None
    return ConfigError(f"invalid YAML: {problem}", file=file, line=line, hint=hint)


class _Walker:
    """Turns composed nodes into plain data, recording the line of each key path."""

    def __init__(self, loader: yaml.SafeLoader, file: Path) -> None:
        self.loader = loader
        self.file = file
        self.lines: dict[KeyPath, int] = {(): 1}
        self._active: set[int] = set()

    def value(self, node: Node, path: KeyPath, depth: int) -> Any:
        if depth > MAX_DEPTH:
            line = node.start_mark.line + 1
            raise ConfigError("invalid YAML: nested too deeply", file=self.file, line=line)
        if isinstance(node, ScalarNode):
            try:
                return self.loader.construct_object(node, deep=True)
            except (ValueError, TypeError, OverflowError) as exc:
                # e.g. '2024-13-45' looks like a date to YAML, and '!!int x' is not an int
                raise ConfigError(
                    f"invalid YAML value {node.value!r}: {exc}", file=self.file,
                    line=node.start_mark.line + 1, key=format_path(path) or None,
                    hint="quote it to make it a string",
                ) from None
        if id(node) in self._active:
            raise ConfigError(
                "invalid YAML: an alias refers to itself", file=self.file, line=node.start_mark.line + 1,
                key=format_path(path) or None,
            )
        self._active.add(id(node))
        try:
            if isinstance(node, MappingNode):
                return self._mapping(node, path, depth)
            if isinstance(node, SequenceNode):
                self._check_tag(node, _SEQ_TAG, path)
                items = []
                for index, item in enumerate(node.value):
                    self.lines.setdefault((*path, index), item.start_mark.line + 1)
                    items.append(self.value(item, (*path, index), depth + 1))
                return items
        finally:
            self._active.discard(id(node))
        raise ConfigError("invalid YAML: unexpected node", file=self.file, line=node.start_mark.line + 1)

    def _mapping(self, node: MappingNode, path: KeyPath, depth: int) -> dict[str, Any]:
        self._check_tag(node, _MAP_TAG, path)
        seen: set[str] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self._key(key_node, path)
            if key in seen:
                raise ConfigError(
                    f"duplicate key '{key}'", file=self.file, line=key_node.start_mark.line + 1,
                    key=format_path((*path, key)), hint="each key may appear once in a mapping; remove one",
                )
            seen.add(key)
        # Resolves '<<: *anchor' merges in place; the mapping's own keys come last, so they win below.
        self.loader.flatten_mapping(node)
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node, path)
            self.lines[(*path, key)] = key_node.start_mark.line + 1
            out[key] = self.value(value_node, (*path, key), depth + 1)
        return out

    def _key(self, node: Node, path: KeyPath) -> str:
        if not isinstance(node, ScalarNode):
            raise ConfigError(
                "invalid YAML: a key must be a plain value, not a list or mapping", file=self.file,
                line=node.start_mark.line + 1, key=format_path(path) or None,
            )
        # Keys are names: keep the text as written ('on' stays 'on', '1' stays '1').
        return str(node.value)

    def _check_tag(self, node: Node, expected: str, path: KeyPath) -> None:
        if node.tag != expected:
            raise ConfigError(
                f"unsupported YAML tag {node.tag}", file=self.file, line=node.start_mark.line + 1,
                key=format_path(path) or None, hint="remove the tag; plain mappings and lists are expected",
            )
