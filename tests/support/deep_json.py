"""JSON nested past Python 3.11's parser depth, for the tests of every reader of handler, client or file JSON.

3.11's ``json`` raises RecursionError near 1000 levels; 3.13's reads on, so a test asks which one it runs on.
"""

from __future__ import annotations

import json

DEEP = "[" * 5000 + "1" + "]" * 5000


def parser_reads(text: str) -> bool:
    """Whether this Python's json parser reads ``text`` (False: it gives up on its depth)."""
    try:
        json.loads(text)
    except RecursionError:
        return False
    return True
