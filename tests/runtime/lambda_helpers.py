"""Helpers for the runtime tests: deployment zips built in memory from ``handlers/``, process checks."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import zipfile
from pathlib import Path
from typing import Any

from processes import children

from emulator.runtime import FunctionSpec

HANDLERS = Path(__file__).parent / "handlers"
ENDPOINT = "http://127.0.0.1:4599"
ACCOUNT = "123456789012"


def zip_of(files: dict[str, str | bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buf.getvalue()


def handler_files(*names: str) -> dict[str, str | bytes]:
    """Files from ``handlers/`` keyed by their path in the zip (``x.py.txt`` is stored as ``x.py``)."""
    files: dict[str, str | bytes] = {}
    for name in names:
        path = HANDLERS / name
        targets = sorted(p for p in path.rglob("*.py")) if path.is_dir() else [path]
        for target in targets:
            files[str(target.relative_to(HANDLERS)).removesuffix(".txt")] = target.read_bytes()
    return files


def code_sha256(code: bytes) -> str:
    """What Lambda reports as CodeSha256: base64 of the zip's SHA-256."""
    return base64.b64encode(hashlib.sha256(code).digest()).decode()


def spec(handler: str, files: dict[str, str | bytes], name: str = "fn", **overrides: Any) -> FunctionSpec:
    code = zip_of(files)
    fields: dict[str, Any] = {
        "name": name,
        "arn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}",
        "handler": handler,
        "code_zip": code,
        "code_sha256": code_sha256(code),
    }
    fields.update(overrides)
    return FunctionSpec(**fields)


def child_pids() -> set[int]:
    """Children of this test process that run or are not yet reaped."""
    return children(os.getpid(), unreaped=True)


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
