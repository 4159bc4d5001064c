"""Runs one benchmark group in this (fresh) process and writes its figures as JSON:
``python -m bench.child GROUP OUT.json [--quick]``."""

from __future__ import annotations

import importlib
import json
import logging
import sys
from pathlib import Path

GROUPS = ("boot", "latency", "throughput", "invoke", "replay", "suite", "release")


def main(argv: list[str]) -> int:
    group, out = argv[0], Path(argv[1])
    quick = "--quick" in argv[2:]
    if group not in GROUPS:
        print(f"unknown benchmark group {group!r}; known: {', '.join(GROUPS)}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING)
    module = importlib.import_module(f"bench.{group}")
    figures = module.run(quick)
    out.write_text(json.dumps([{**f.as_json(), "goal": f.goal, "note": f.note} for f in figures]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
