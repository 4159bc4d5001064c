"""A mapping whose stream disappears (deleted, or moto reset under it) reports it and waits; the emulator keeps
serving, and the mapping reads again once a stream of that name is back."""

from __future__ import annotations

import json
import urllib.request

from test_embedded_backend import create_function
from test_kinesis_poller import RECORDER, calls
from waiting import wait_for

from emulator.esm.streams.kinesis_source import STREAM_GONE_RESULT


def _setup(pipemu) -> tuple[str, str]:
    pipemu.client("s3").create_bucket(Bucket="calls")
    create_function(pipemu, "rec", RECORDER)
    kinesis = pipemu.client("kinesis")
    kinesis.create_stream(StreamName="s", ShardCount=1)
    arn = str(kinesis.describe_stream_summary(StreamName="s")["StreamDescriptionSummary"]["StreamARN"])
    uuid = pipemu.client("lambda").create_event_source_mapping(
        EventSourceArn=arn, FunctionName="rec", StartingPosition="TRIM_HORIZON"
    )["UUID"]
    pipemu.backend.esm.wait_synced()
    return arn, str(uuid)


def _put(pipemu, n: int) -> None:
    pipemu.client("kinesis").put_record(StreamName="s", Data=json.dumps({"n": n}).encode(), PartitionKey="k")


def test_a_deleted_stream_puts_the_mapping_in_a_problem_state_and_a_new_one_is_read(pipemu) -> None:
    _, uuid = _setup(pipemu)
    _put(pipemu, 1)
    wait_for("the first record delivered", lambda: calls(pipemu), lambda c: len(c) == 1)
    kinesis, lam = pipemu.client("kinesis"), pipemu.client("lambda")
    kinesis.delete_stream(StreamName="s")
    wait_for("the mapping to report its stream missing",
             lambda: lam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"],
             lambda r: r == STREAM_GONE_RESULT)
    pipemu.backend.check_alive()  # no poller error: a vanished source is not an emulator failure
    assert lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled"
    kinesis.create_stream(StreamName="s", ShardCount=1)
    _put(pipemu, 2)
    # the new stream numbers its records from 1 again, so the recorder's object for it replaces the first one
    wait_for("the record put into the new stream", lambda: calls(pipemu),
             lambda c: [x["data"][0]["n"] for x in c] == [2])
    assert lam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"] == "OK"
    pipemu.backend.check_alive()


def test_moto_reset_under_a_live_mapping_leaves_the_emulator_serving(pipemu) -> None:
    _setup(pipemu)
    _put(pipemu, 1)
    wait_for("the first record delivered", lambda: calls(pipemu), lambda c: len(c) == 1)
    request = urllib.request.Request(f"{pipemu.backend.endpoint_url}/moto-api/reset", method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    pipemu.backend.esm.wait_synced()
    assert pipemu.client("lambda").list_event_source_mappings()["EventSourceMappings"] == []
    wait_for("the manager to drop the vanished mapping's poller",
             lambda: pipemu.backend.esm.poller_errors(), lambda e: e == [], timeout=10)
    pipemu.backend.check_alive()
    _setup(pipemu)  # the same names again, as moto's own tests do after every reset
    _put(pipemu, 2)
    seen = wait_for("the record delivered after the reset", lambda: calls(pipemu), lambda c: len(c) == 1)
    assert seen[0]["data"][0]["n"] == 2
