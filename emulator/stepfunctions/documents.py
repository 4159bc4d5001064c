"""JSON or YAML documents (ASL definitions, mock configuration files), read with the line of every key.

JSON is parsed by ``json`` (the authority on what the file means). Lines come from composing the same text as YAML,
which JSON nearly is; tabs, legal JSON whitespace but not YAML indentation, are blanked first (a tab inside a JSON
string must be escaped, so this never changes a value).
"""

from __future__ import annotations

import json
from pathlib import Path

from emulator.errors import ConfigError
from emulator.nesting import deeper_than
from emulator.spec.yamlsrc import MAX_DEPTH, YamlDoc, check_size, load_yaml, parse_yaml


def _read(file: Path, what: str) -> str:
    if not file.is_file():
        state = "is not a file" if file.exists() else "not found"
        raise ConfigError(f"{what} {state}", file=file)
    check_size(file, what)  # before reading: json.loads has no limit of its own
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{what} is not UTF-8 text ({exc.reason})", file=file) from None


def _json_error(exc: json.JSONDecodeError) -> tuple[str, int, int]:
    """(message, line, column) of a JSON error, the same on every Python version.

    Python 3.13 names a trailing comma and points at it; earlier versions report the closing bracket after it
    ("Expecting property name..." or "Expecting value"), often on the next line. Both are reported at the comma.
    """
    if exc.msg.startswith("Illegal trailing comma"):
        return "trailing comma before the closing bracket", exc.lineno, exc.colno
    before = exc.doc[: exc.pos].rstrip()
    if exc.pos < len(exc.doc) and exc.doc[exc.pos] in "]}" and before.endswith(","):
        comma = len(before) - 1
        line = exc.doc.count("\n", 0, comma) + 1
        return "trailing comma before the closing bracket", line, comma - exc.doc.rfind("\n", 0, comma)
    return exc.msg, exc.lineno, exc.colno


def parse_json_document(text: str, *, file: Path, what: str) -> YamlDoc:
    try:
        data = json.loads(text)
        too_deep = deeper_than(data, MAX_DEPTH)
    except json.JSONDecodeError as exc:
        message, line, column = _json_error(exc)
        raise ConfigError(
            f"invalid JSON in {what}: {message} (column {column})", file=file, line=line,
            hint="check for a missing comma or quote, or a trailing comma, on this line or the one above",
        ) from None
    except RecursionError:  # Python 3.11's parser stops near 1000 levels; 3.13's parses on, hence the walk too
        too_deep = True
    if too_deep:
        raise ConfigError(
            f"{what} nests objects and arrays more than {MAX_DEPTH} levels deep", file=file, line=1,
            hint="no real definition nests this deep: check the file is the one you meant",
        )
    if not isinstance(data, dict):
        raise ConfigError(f"the {what} is a JSON {type(data).__name__}, not an object", file=file, line=1)
    try:
        lines = parse_yaml(text.replace("\t", " "), file=file, what=what).lines
    except ConfigError:
        lines = {(): 1}  # valid JSON that YAML cannot compose: keep the data, lose the lines
    return YamlDoc(file=file, data=data, lines=lines)


def load_document(path: str | Path, *, what: str) -> YamlDoc:
    """Read a JSON (``.json``) or YAML file into data plus key lines; anything else is tried as JSON first."""
    file = Path(path)
    text = _read(file, what)
    if file.suffix in (".yaml", ".yml"):
        return load_yaml(file, what=what)
    if file.suffix == ".json" or text.lstrip().startswith("{"):
        return parse_json_document(text, file=file, what=what)
    return parse_yaml(text, file=file, what=what)
