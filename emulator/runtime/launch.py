"""How a function's worker process is started: which program, with which environment and flags.

Every worker speaks the same frames (``protocol.py``), whatever its language; only the program differs:
- Python: ``<python> -m emulator.runtime.worker``. On the harness's own Python, ``emulator`` is imported from
  where pipemu is installed (nothing to add when that is site-packages, which the handler keeps anyway). On
  another Python, the directory holding ``emulator`` is put on PYTHONPATH and removed again by the worker
  before it loads the handler, so the handler sees that interpreter's packages only.
- Node.js: ``<node> node_worker.mjs``, a file shipped with pipemu. ``NODE_PATH`` is the task root, as on AWS
  (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime);
  ``node_modules`` in the deployment package is found by Node's own resolution.
"""

from __future__ import annotations

import site
from dataclasses import dataclass
from pathlib import Path

from emulator.runtime.environment import worker_environment
from emulator.runtime.interpreters import Interpreter
from emulator.runtime.spec import FunctionSpec

RUNTIME_DIR = Path(__file__).resolve().parent
NODE_WORKER = RUNTIME_DIR / "node_worker.mjs"
IMPORT_ROOT = str(RUNTIME_DIR.parent.parent)  # the directory holding the `emulator` package


@dataclass(frozen=True)
class Launch:
    command: tuple[str, ...]  # empty: the harness's own ``python -m emulator.runtime.worker``
    env: dict[str, str]
    args: list[str]  # the flags after the fd flags


def host_import_path() -> str | None:
    """What the harness's Python needs on PYTHONPATH to import ``emulator`` in a worker: nothing when pipemu is
    installed into site-packages."""
    site_dirs = {str(Path(p).resolve()) for p in [*site.getsitepackages(), site.getusersitepackages()]}
    return None if IMPORT_ROOT in site_dirs else IMPORT_ROOT


def plan(
    fn: FunctionSpec,
    interpreter: Interpreter,
    *,
    task_root: Path,
    home: Path,
    endpoint_url: str,
    log_stream_name: str,
) -> Launch:
    def environment(import_path: str | None) -> dict[str, str]:
        return worker_environment(
            fn,
            task_root=task_root,
            runtime_dir=RUNTIME_DIR,
            home=home,
            endpoint_url=endpoint_url,
            log_stream_name=log_stream_name,
            import_path=import_path,
        )

    if interpreter.language == "node":
        env = environment(None)
        env.setdefault("NODE_PATH", str(task_root))
        return Launch((interpreter.executable, str(NODE_WORKER)), env, [])
    if not interpreter.host:
        command = (interpreter.executable, "-m", "emulator.runtime.worker")
        return Launch(command, environment(IMPORT_ROOT), ["--drop-path", IMPORT_ROOT])
    import_path = host_import_path()
    args = ["--drop-path", import_path] if import_path else []
    user_site = site.getusersitepackages() if site.ENABLE_USER_SITE else ""
    if user_site and Path(user_site).is_dir():  # HOME is replaced, so the worker would not find it itself
        args += ["--add-path", user_site]
    return Launch((), environment(import_path), args)
