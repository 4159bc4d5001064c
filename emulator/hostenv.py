"""The host's AWS profile settings, kept away from local backends.

moto (imported in-process by the embedded backend) builds botocore sessions at import time and when it
serialises errors; a host ``AWS_PROFILE`` naming a profile this machine lacks makes that fail. pipemu never
needs the host's profile except with the AWS backend, so it hides these variables first and gives them back
(``restore``) to the AWS backend.
"""

from __future__ import annotations

import os

PROFILE_VARS = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")
_hidden: dict[str, str] = {}


def hide_host_profile() -> None:
    for var in PROFILE_VARS:
        if var in os.environ:
            _hidden[var] = os.environ.pop(var)


def restore() -> None:
    os.environ.update(_hidden)
    _hidden.clear()
