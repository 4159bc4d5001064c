"""Fails loudly when moto reshapes what the seams behind `pipemu up` touch (logs, reset, health)."""

from __future__ import annotations

import inspect

from moto.awslambda.models import LambdaBackend
from moto.logs.models import LogGroup, LogsBackend, logs_backends


def params(fn: object) -> list[str]:
    return list(inspect.signature(fn).parameters)  # type: ignore[arg-type]


def test_lambda_logs_seam() -> None:
    assert params(LambdaBackend.create_function) == ["self", "spec"]
    assert params(LogsBackend.ensure_log_group) == ["self", "log_group_name"]
    assert params(LogsBackend.put_log_events) == ["self", "log_group_name", "log_stream_name", "log_events"]
    assert params(LogGroup.create_log_stream) == ["self", "log_stream_name"]
    assert "self.streams" in inspect.getsource(LogGroup.__init__)
    assert "self.groups" in inspect.getsource(LogsBackend.__init__)
    assert logs_backends["123456789012"]["us-east-1"].region_name == "us-east-1"


def test_docker_free_seam() -> None:
    from moto.moto_api._internal.responses import MotoAPIResponse
    from moto.utilities.docker_utilities import DockerModel

    assert isinstance(DockerModel.__dict__["docker_client"], property)
    # the dump skips attributes raising exactly these; the seam turns DockerException into AttributeError
    assert "except (TypeError, AttributeError, ValueError)" in inspect.getsource(MotoAPIResponse.model_data)
