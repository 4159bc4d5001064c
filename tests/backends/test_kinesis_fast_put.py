"""The embedded server's own answer to PutRecord/PutRecords (emulator/backends/moto_seams/kinesis_fast_put.py)
is moto's answer: the same request sent to a server with the fast path and to one without gives the same status,
headers and body, and the same records stored. Fails loudly when moto changes what it reproduces."""

from __future__ import annotations

import base64
import http.client
import inspect
import json
from collections.abc import Iterator
from typing import Any

import pytest
from moto.core.responses import BaseResponse
from moto.kinesis.models import kinesis_backends
from moto.kinesis.responses import KinesisResponse

from emulator.backends.embedded import free_port
from emulator.backends.moto_seams import http_server, kinesis_fast_put, kinesis_store

ACCOUNT, REGION = "123456789012", "us-east-1"
AUTH = f"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261126/{REGION}/kinesis/aws4_request, SignedHeaders=host"
VOLATILE = {"date", "x-amzn-requestid"}  # differ between any two answers, moto's own included


ANSWERED: list[str] = []  # X-Amz-Target of each request the fast path answered itself


def _counting(environ: dict[str, Any], body: bytes) -> Any:
    answer = kinesis_fast_put.answer(environ, body)
    if answer is not None:
        ANSWERED.append(environ["HTTP_X_AMZ_TARGET"])
    return answer


@pytest.fixture
def servers() -> Iterator[tuple[http.client.HTTPConnection, http.client.HTTPConnection]]:
    was, previous = kinesis_store.installed(), kinesis_store.listener()
    kinesis_store.install(previous)
    ANSWERED.clear()
    fast_paths = dict.fromkeys(kinesis_fast_put.TARGETS, _counting)
    fast = http_server.MotoHttpServer("127.0.0.1", free_port(), fast_paths=fast_paths)
    plain = http_server.MotoHttpServer("127.0.0.1", free_port())
    fast.start()
    plain.start()
    connections = [http.client.HTTPConnection(*s.get_host_and_port(), timeout=10) for s in (fast, plain)]
    try:
        yield connections[0], connections[1]
    finally:
        for c in connections:
            c.close()
        fast.stop()
        plain.stop()
        if not was:
            kinesis_store.uninstall()


def _send(conn: http.client.HTTPConnection, action: str, body: Any, headers: dict[str, str] | None = None,
          ) -> tuple[int, dict[str, str], Any]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    conn.request("POST", "/", body=raw, headers={
        "X-Amz-Target": f"Kinesis_20131202.{action}", "Content-Type": "application/x-amz-json-1.1",
        "Authorization": AUTH, **(headers or {})})
    response = conn.getresponse()
    payload = response.read()
    names = {k.lower(): v for k, v in response.getheaders() if k.lower() not in VOLATILE}
    assert "x-amzn-requestid" in {k.lower() for k, _ in response.getheaders()}
    return response.status, names, json.loads(payload) if payload.startswith(b"{") else payload


def _data(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _stored(stream: str) -> list[tuple[str, int, str, bytes]]:
    backend = kinesis_backends[ACCOUNT][REGION]
    found = backend.describe_stream(stream_arn=None, stream_name=stream)
    return [(shard_id, r.sequence_number, r.partition_key, base64.b64decode(r.data))
            for shard_id, shard in sorted(found.shards.items()) for r in shard.records.values()]


def _same(fast: http.client.HTTPConnection, plain: http.client.HTTPConnection, action: str,
          body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    """Send ``body`` naming stream ``f`` to the fast server and ``p`` to the plain one; both answers must match."""
    def named(prefix: str) -> Any:
        text = json.dumps(body).replace("$S", prefix)
        return json.loads(text)

    def unnamed(answer: Any, prefix: str) -> str:  # the stream's name appears in error messages
        return json.dumps(answer, default=repr).replace(f"{prefix}-", "$S-")

    answer_fast = _send(fast, action, named("f"), headers)
    answer_plain = _send(plain, action, named("p"), headers)
    assert unnamed(answer_fast, "f") == unnamed(answer_plain, "p")
    return answer_fast


@pytest.mark.parametrize("shards", [1, 3])
def test_puts_answer_and_store_as_moto_does(servers: Any, shards: int) -> None:
    fast, plain = servers
    for prefix in ("f", "p"):
        status, _, _ = _send(fast, "CreateStream", {"StreamName": f"{prefix}-{shards}", "ShardCount": shards})
        assert status == 200
    records = [{"Data": _data(f"event {i}"), "PartitionKey": f"user-{i % 7}"} for i in range(40)]
    status, headers, body = _same(fast, plain, "PutRecords", {"StreamName": f"$S-{shards}", "Records": records})
    assert status == 200 and body["FailedRecordCount"] == 0 and len(body["Records"]) == 40
    assert headers["content-type"] == "application/x-amz-json-1.1"
    status, _, body = _same(fast, plain, "PutRecord",
                            {"StreamName": f"$S-{shards}", "Data": _data("one more"), "PartitionKey": "solo"})
    assert status == 200 and list(body) == ["ShardId", "SequenceNumber"]
    arn = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/$S-{shards}"
    assert _same(fast, plain, "PutRecords", {"StreamARN": arn, "Records": records[:3]})[0] == 200
    assert _stored(f"f-{shards}") == _stored(f"p-{shards}")
    assert ANSWERED == ["Kinesis_20131202.PutRecords", "Kinesis_20131202.PutRecord", "Kinesis_20131202.PutRecords"]


def test_what_moto_refuses_or_treats_specially_is_moto_s_answer(servers: Any) -> None:
    fast, plain = servers
    for prefix in ("f", "p"):
        _send(fast, "CreateStream", {"StreamName": f"{prefix}-odd", "ShardCount": 2})
    good = {"Data": _data("x"), "PartitionKey": "k"}
    cases: list[tuple[str, dict[str, Any], dict[str, str] | None]] = [
        ("PutRecords", {"StreamName": "$S-missing", "Records": [good]}, None),
        ("PutRecords", {"StreamName": "$S-odd", "Records": [good] * 501}, None),
        ("PutRecords", {"StreamName": "$S-odd", "Records": [{"Data": _data("y" * 1_048_577), "PartitionKey": "k"}]},
         None),
        ("PutRecords", {"StreamName": "$S-odd", "Records": [good, {**good, "ExplicitHashKey": "1"}]}, None),
        ("PutRecords", {"StreamName": "$S-odd", "Records": [good, {**good, "PartitionKey": "é"}]}, None),
        ("PutRecord", {"StreamName": "$S-missing", "Data": _data("x"), "PartitionKey": "k"}, None),
        ("PutRecord", {"StreamName": "$S-odd", "Data": _data("x"), "PartitionKey": "k",
                       "ExplicitHashKey": str(2**127)}, None),
        ("PutRecords", {"StreamName": "$S-odd", "Records": [good]}, {"x-moto-account-id": "111111111111"}),
    ]
    for action, body, headers in cases:
        _same(fast, plain, action, body, headers)
    assert _stored("f-odd") == _stored("p-odd")
    assert ANSWERED == []  # every one of these went to moto's app


def test_the_fast_path_declines_rather_than_guesses() -> None:
    environ = {"HTTP_X_AMZ_TARGET": "Kinesis_20131202.PutRecords", "REQUEST_METHOD": "POST",
               "HTTP_AUTHORIZATION": AUTH, "HTTP_HOST": "127.0.0.1"}
    body = json.dumps({"StreamName": "s", "Records": [{"Data": "eA==", "PartitionKey": "k"}]}).encode()
    assert kinesis_fast_put.answer({**environ, "HTTP_CONTENT_ENCODING": "gzip"}, body) is None
    assert kinesis_fast_put.answer({**environ, "HTTP_X_AMZ_TARGET": "Kinesis_20131202.ListStreams"}, body) is None
    assert kinesis_fast_put.answer({**environ, "QUERY_STRING": "a=b"}, body) is None
    assert kinesis_fast_put.answer(environ, b"not json") is None


def test_fast_path_relies_on_moto_as_written() -> None:
    region = inspect.getsource(BaseResponse.get_region_from_url)
    for piece in ("self.region_regex.search(full_url)", "self.region_from_useragent_regex.search(",
                  '.split(",")[0].split("/")[2]', "self.default_region"):
        assert piece in region, piece
    account = inspect.getsource(BaseResponse.get_current_account)
    for piece in ('"MOTO_ACCOUNT_ID" in os.environ', '"x-moto-account-id" in self.headers', "get_account_id_from("):
        assert piece in account, piece
    assert '"AKIAEXAMPLE"' in inspect.getsource(BaseResponse.get_access_key)
    put_record = inspect.getsource(KinesisResponse.put_record)
    assert 'self._get_param("ExplicitHashKey")' in put_record and "ActionResult(" in put_record
    assert "_authenticate_and_authorize_normal_action" in inspect.getsource(BaseResponse.call_action)
