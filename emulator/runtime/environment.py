"""The worker's environment variables, built from scratch so a handler can only ever reach the emulator.

Reserved variables follow https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html
(``AWS_EXECUTION_ENV``, ``LAMBDA_TASK_ROOT``, ``TZ=:UTC``...). From the host only what a process needs to run
is kept (PATH, locale, temp dir). Credentials are fixed fakes and ``AWS_ENDPOINT_URL`` points at the emulator;
HOME is a private empty directory and ``AWS_CONFIG_FILE``/``AWS_SHARED_CREDENTIALS_FILE`` name files that do
not exist, so neither the host's ``~/.aws`` nor its ``AWS_PROFILE`` can leak into boto3 inside the handler.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from emulator.runtime.spec import FunctionSpec

FAKE_ACCESS_KEY_ID = "testing"
FAKE_SECRET_ACCESS_KEY = "testing"
FAKE_SESSION_TOKEN = "testing"
# A worker's session token names its function, so the embedded backend knows whose role a request runs under
# (the iam_authorize seam): on AWS the execution role's temporary credentials play that part.
_FUNCTION_TOKEN = "pipemu-function/"


def function_session_token(function: str) -> str:
    return f"{_FUNCTION_TOKEN}{function}"


def function_from_session_token(token: str) -> str | None:
    """The function a worker's session token names, or None for any other token (the harness's own)."""
    return token[len(_FUNCTION_TOKEN):] or None if token.startswith(_FUNCTION_TOKEN) else None

# Kept from the host because processes need them to run, never because a handler should see host settings.
_HOST_KEYS = ("PATH", "LANG", "LANGUAGE", "TMPDIR", "SYSTEMROOT", "SYSTEMDRIVE", "WINDIR", "COMSPEC")


def worker_environment(
    fn: FunctionSpec,
    *,
    task_root: Path,
    runtime_dir: Path,
    home: Path,
    endpoint_url: str,
    log_stream_name: str,
    import_path: str | None,
    host_env: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """``import_path`` is the PYTHONPATH that lets the worker import ``emulator`` (None if it needs none); the
    worker removes it again before loading the handler. The function's declared variables go on top, as on
    AWS."""
    env = neutral_environment(home=home, endpoint_url=endpoint_url, import_path=import_path, host_env=host_env)
    env.update(
        {
            "_HANDLER": fn.handler,
            "AWS_REGION": fn.region,
            "AWS_DEFAULT_REGION": fn.region,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": fn.name,
            "AWS_SESSION_TOKEN": function_session_token(fn.name),
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": fn.version,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{fn.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream_name,
            "LAMBDA_TASK_ROOT": str(task_root),
            "LAMBDA_RUNTIME_DIR": str(runtime_dir),
        }
    )
    env.update(fn.environment)
    return env


def neutral_environment(
    *, home: Path, endpoint_url: str, import_path: str | None, host_env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """What every worker's environment has whatever its function: what a process needs from the host, the
    fake credentials, the emulator's endpoint, the private HOME. A pre-started worker starts with this."""
    host = os.environ if host_env is None else host_env
    env = {k: v for k, v in host.items() if k in _HOST_KEYS or k.startswith("LC_")}
    env.setdefault("LANG", "en_US.UTF-8")
    env.setdefault("PATH", os.defpath)
    env.update(
        {
            "TZ": ":UTC",
            "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": FAKE_SECRET_ACCESS_KEY,
            "AWS_SESSION_TOKEN": FAKE_SESSION_TOKEN,
            "AWS_ENDPOINT_URL": endpoint_url,
            "HOME": str(home),
            "AWS_CONFIG_FILE": str(home / ".aws" / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / ".aws" / "credentials"),
        }
    )
    if import_path:
        env["PYTHONPATH"] = import_path
    return env
