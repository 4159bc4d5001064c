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


def test_sfn_cloudformation_seam_picks_the_api_backend_even_when_moto_imported_the_view(monkeypatch) -> None:
    import moto.stepfunctions.models as sfn_models
    import moto.stepfunctions.responses as sfn_responses
    from moto.core.config import default_user_config
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    from emulator.backends.moto_seams import sfn_cloudformation

    assert "stepfunctions_backends[account_id][region_name]" in inspect.getsource(
        sfn_models.StateMachine.create_from_cloudformation_json)
    running = sfn_cloudformation._original is not None  # an embedded backend of this session installed it
    sfn_cloudformation.install()
    original = sfn_cloudformation._original
    try:
        # moto.stepfunctions.responses imported after install() holds the view itself
        monkeypatch.setattr(sfn_responses, "stepfunctions_backends", sfn_models.stepfunctions_backends)
        section = default_user_config.setdefault("stepfunctions", {})
        monkeypatch.setitem(section, "execute_state_machine", False)
        plain = sfn_responses.get_backend("123456789012", "us-east-1")
        assert plain is original["123456789012"]["us-east-1"]
        monkeypatch.setitem(section, "execute_state_machine", True)
        assert isinstance(sfn_models.stepfunctions_backends["123456789012"]["us-east-1"], StepFunctionsParserBackend)
    finally:
        if not running:
            sfn_cloudformation.uninstall()
    if not running:
        assert sfn_models.stepfunctions_backends is original
