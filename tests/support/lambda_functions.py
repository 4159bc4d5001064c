"""Create Lambda functions from inline source through the API, as tests need them."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from botocore.exceptions import ClientError


def zipped(source: str, name: str = "app.py") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr(name, source)
    return buffer.getvalue()


def create_function(pipemu: Any, name: str, source: str, **kwargs: Any) -> str:
    iam = pipemu.client("iam")
    try:
        role = iam.get_role(RoleName="r")["Role"]["Arn"]
    except ClientError:
        role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    response = pipemu.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zipped(source)},
        **kwargs,
    )
    return str(response["FunctionArn"])
