"""How deep JSON-shaped data nests, measured without recursion.

Python's json module decides depth limits by interpreter version (3.11's parser stops near 1000 levels with a
RecursionError, 3.13's parses far deeper), so code that walks user or handler data recursively, or indents it,
asks here first and gets the same answer on every version.
"""

from __future__ import annotations


def deeper_than(data: object, limit: int) -> bool:
    """Whether objects and arrays in ``data`` nest more than ``limit`` levels (the top level is level 0)."""
    stack: list[tuple[object, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(value, dict):
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list | tuple):
            stack.extend((item, depth + 1) for item in value)
    return False
