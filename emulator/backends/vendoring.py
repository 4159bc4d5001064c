"""Functions that run somewhere else (LocalStack's Lambda containers, real AWS) need their dependencies inside the
zip: pipemu's own runtime can use the host's packages, theirs cannot.

Convention: a ``requirements.txt`` at the top of a function's code directory. When a zip being deployed has one,
``pip install --target`` installs those requirements for Lambda's platform (manylinux x86_64 wheels, the
function's Python version) and they are added to the zip; the handler's own files win over a package file of
the same name. Installs are cached per requirements text and runtime.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from emulator.errors import HandlerError

REQUIREMENTS = "requirements.txt"
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_CACHE = Path(tempfile.gettempdir()) / "pipemu-vendor-cache"


def _python_version(runtime: str) -> str:
    return runtime.removeprefix("python") if runtime.startswith("python") else "3.12"


def install_requirements(requirements: bytes, runtime: str, cache_dir: Path = _CACHE) -> Path:
    """The directory holding ``requirements`` installed for ``runtime`` (built once, then cached)."""
    key = hashlib.sha256(requirements + runtime.encode()).hexdigest()[:20]
    target = cache_dir / key
    if target.is_dir():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f"{key}-", dir=cache_dir))
    req_file = building / REQUIREMENTS
    req_file.write_bytes(requirements)
    site = building / "site"
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
        "--target", str(site), "--platform", "manylinux2014_x86_64", "--implementation", "cp",
        "--python-version", _python_version(runtime), "--only-binary=:all:", "-r", str(req_file),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        shutil.rmtree(building, ignore_errors=True)
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-10:])
        raise HandlerError(
            f"could not install the function's {REQUIREMENTS} for {runtime}:\n{tail}",
            hint="every requirement needs a manylinux x86_64 wheel for that Python version (Lambda's platform)",
        )
    with contextlib.suppress(OSError):  # another process built it meanwhile
        site.rename(target)
    shutil.rmtree(building, ignore_errors=True)
    return target


def vendor_requirements(code_zip: bytes, *, runtime: str = "python3.12", cache_dir: Path = _CACHE) -> bytes:
    """``code_zip`` plus its requirements' packages; unchanged when it has no top-level requirements.txt."""
    with zipfile.ZipFile(io.BytesIO(code_zip)) as archive:
        names = archive.namelist()
        if REQUIREMENTS not in names:
            return code_zip
        own = {name: archive.read(name) for name in names if not name.endswith("/")}
    site = install_requirements(own[REQUIREMENTS], runtime, cache_dir)
    files = {
        path.relative_to(site).as_posix(): path
        for path in sorted(site.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
        and path.relative_to(site).parts[0] != "bin"
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for name in sorted(set(files) | set(own)):
            info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(info, own[name] if name in own else files[name].read_bytes())
    return buffer.getvalue()


class VendoringLambdaClient:
    """A boto3 Lambda client that vendors requirements into every zip it deploys."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self._runtimes: dict[str, str] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def create_function(self, **kwargs: Any) -> Any:
        code = dict(kwargs.get("Code") or {})
        runtime = str(kwargs.get("Runtime") or "python3.12")
        self._runtimes[str(kwargs["FunctionName"])] = runtime
        if "ZipFile" in code:
            code["ZipFile"] = vendor_requirements(bytes(code["ZipFile"]), runtime=runtime)
        return self._real.create_function(**{**kwargs, "Code": code})

    def update_function_code(self, **kwargs: Any) -> Any:
        if "ZipFile" in kwargs:
            runtime = self._runtimes.get(str(kwargs["FunctionName"])) or str(
                self._real.get_function_configuration(FunctionName=kwargs["FunctionName"]).get("Runtime")
                or "python3.12"
            )
            kwargs = {**kwargs, "ZipFile": vendor_requirements(bytes(kwargs["ZipFile"]), runtime=runtime)}
        return self._real.update_function_code(**kwargs)
