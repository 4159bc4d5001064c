"""A guard against reaching real AWS by accident, from handler code or from the harness.

An audit hook (PEP 578) sees every name lookup and connect in the process and refuses AWS's public hosts, so
a handler that hard-codes ``endpoint_url="https://s3.amazonaws.com"`` or a library that ignores
AWS_ENDPOINT_URL fails loudly instead of talking to a real account. Only the AWS backend turns it off.
Audit hooks cannot be removed, so the hook stays and ``allow_real_aws(True)`` disarms it.
"""

from __future__ import annotations

import sys
from typing import Any

AWS_SUFFIXES = (".amazonaws.com", ".amazonaws.com.cn", ".aws.amazon.com", ".api.aws", ".aws")
_state = {"installed": False, "armed": True}


class RealAwsRefused(PermissionError):
    pass


def is_real_aws_host(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode(errors="ignore")
    if not isinstance(host, str):
        return False
    name = host.lower().rstrip(".")
    return name in ("amazonaws.com", "aws.amazon.com") or name.endswith(AWS_SUFFIXES)


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if not _state["armed"]:
        return
    host: object = None
    if event == "socket.getaddrinfo" and args:
        host = args[0]
    elif event == "socket.connect" and len(args) > 1 and isinstance(args[1], tuple) and args[1]:
        host = args[1][0]
    if host is not None and is_real_aws_host(host):
        raise RealAwsRefused(
            f"pipemu refused a connection to {host}: real AWS is only reachable with the AWS backend "
            "(--backend aws). Use the AWS_ENDPOINT_URL pipemu sets instead of a hard-coded AWS endpoint."
        )


def install() -> None:
    """Arm the guard in this process (idempotent)."""
    if not _state["installed"]:
        sys.addaudithook(_hook)
        _state["installed"] = True
    _state["armed"] = True


def allow_real_aws(allowed: bool) -> None:
    _state["armed"] = not allowed
