"""Deployment zips extracted once per ``code_sha256`` (the worker imports the handler from there).

Extraction goes to a temporary sibling directory that is renamed into place, so concurrent first invocations
never see a half-extracted tree. ``zipfile`` already refuses absolute paths and ``..`` members.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tempfile
import threading
import zipfile
from pathlib import Path

from emulator.errors import HandlerError


class CodeCache:
    def __init__(self, root: Path) -> None:
        self._root = root
        self._lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    def task_root(self, function_name: str, code_sha256: str, code_zip: bytes) -> Path:
        # CodeSha256 is base64 and may hold "/", so the directory is named by a hash of it.
        target = self._root / hashlib.sha256(code_sha256.encode()).hexdigest()[:24]
        with self._lock:
            lock = self._locks.setdefault(str(target), threading.Lock())
        with lock:
            if not target.is_dir():
                self._extract(function_name, code_zip, target)
        return target

    def _extract(self, function_name: str, code_zip: bytes, target: Path) -> None:
        self._root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".extract-", dir=self._root))
        try:
            with zipfile.ZipFile(io.BytesIO(code_zip)) as archive:
                archive.extractall(staging)
            os.replace(staging, target)
        except zipfile.BadZipFile as e:
            raise HandlerError(
                f"function {function_name!r}: the deployment package is not a valid zip ({e})",
                hint="code_zip must be the bytes of a .zip file, as uploaded to Lambda",
            ) from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
