"""Wait states and Retry intervals follow the backend's clock; task timeouts stay in wall time."""

from __future__ import annotations

import json
import time
from typing import Any

from sfn_support import Sfn

# Fails on the first two attempts: the task passes $$.State.RetryCount in.
FLAKY = (
    "def handler(event, context):\n"
    "    if event['attempt'] < 2:\n"
    "        raise RuntimeError(f\"attempt {event['attempt']} fails\")\n"
    "    return {'attempts': event['attempt'] + 1}\n"
)


def test_a_300s_wait_and_two_30s_retries_run_in_seconds(sfn: Sfn, scale: Any) -> None:
    scale(1000)
    fn = sfn.function(FLAKY)
    machine = sfn.state_machine({
        "StartAt": "Hold",
        "States": {
            "Hold": {"Type": "Wait", "Seconds": 300, "Next": "Flaky"},
            "Flaky": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": fn, "Payload": {"attempt.$": "$$.State.RetryCount"}},
                "Retry": [{"ErrorEquals": ["RuntimeError"], "IntervalSeconds": 30, "MaxAttempts": 2, "BackoffRate": 1}],
                "OutputPath": "$.Payload",
                "End": True,
            },
        },
    })
    started = time.monotonic()
    done = sfn.run(machine)
    wall = time.monotonic() - started
    assert done["status"] == "SUCCEEDED", done
    assert json.loads(done["output"]) == {"attempts": 3}
    assert wall < 5.0, f"360 s of AWS time took {wall:.2f} s of wall time at scale 1000"
    # 360 s at scale 1000 is 0.36 s of waiting: the execution cannot have been shorter
    assert (done["stopDate"] - done["startDate"]).total_seconds() >= 0.36


def test_the_scale_is_read_at_each_wait(sfn: Sfn, scale: Any) -> None:
    machine = sfn.state_machine({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 30, "End": True}}})
    scale(10_000)
    started = time.monotonic()
    assert sfn.run(machine)["status"] == "SUCCEEDED"
    assert time.monotonic() - started < 1.0


def test_timeout_seconds_is_wall_time_and_raises_states_timeout(sfn: Sfn, scale: Any) -> None:
    scale(1000)  # would make 1 s of TimeoutSeconds 1 ms if it were scaled: the handler takes longer than that
    fn = sfn.function("import time\n\ndef handler(event, context):\n    time.sleep(0.2)\n    return event\n")
    slow = sfn.function("import time\n\ndef handler(event, context):\n    time.sleep(3)\n    return event\n")
    quick_enough = sfn.state_machine(
        {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": fn, "TimeoutSeconds": 2, "End": True}}}
    )
    assert sfn.run(quick_enough, {"a": 1})["status"] == "SUCCEEDED"
    too_slow = sfn.state_machine(
        {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": slow, "TimeoutSeconds": 1, "End": True}}}
    )
    done = sfn.run(too_slow, {"a": 1})
    assert (done["status"], done["error"]) == ("FAILED", "States.Timeout")
