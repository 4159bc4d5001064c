"""The embedded backend's HTTP server (emulator/backends/moto_seams/http_server.py) and the dispatch/model-loading
seams beside it: moto's answers over keep-alive connections, nothing left open at stop, and loud failures when
moto changes what they rely on."""

from __future__ import annotations

import http.client
import inspect
import json
import socket
import threading
from collections.abc import Iterator

import pytest
from moto.core import responses
from moto.core.base_backend import AccountSpecificBackend
from moto.moto_server import threaded_moto_server, werkzeug_app
from waiting import wait_for

from emulator.backends.base import make_client, shared_loader
from emulator.backends.embedded import free_port
from emulator.backends.moto_seams import http_server, server_dispatch, service_models

AUTH = "AWS4-HMAC-SHA256 Credential=testing/20261126/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=x"


# -- what the seams rely on in moto (fails loudly on a moto upgrade) ----------------------------------------------
def test_http_server_relies_on_moto_as_written() -> None:
    handler_source = inspect.getsource(werkzeug_app.MotoRequestHandler)
    assert "def make_environ(self)" in handler_source  # the header handling we inherit unchanged
    entry = inspect.getsource(threaded_moto_server.ThreadedMotoServer._server_entry)
    # what we replace: werkzeug's threaded server around the same app and handler
    assert "DomainDispatcherApplication(create_backend_app)" in entry
    assert "request_handler=MotoRequestHandler" in entry
    assert list(inspect.signature(werkzeug_app.create_backend_app).parameters) == ["service"]
    get_application = inspect.getsource(werkzeug_app.DomainDispatcherApplication.get_application)
    assert "self.create_app(backend)" in get_application  # built once per service, where the hooks run


def test_dispatch_and_model_seams_rely_on_moto_as_written() -> None:
    assert "method_names_from_class(self.__class__)" in inspect.getsource(responses.BaseResponse.call_action)
    from moto.core import utils

    assert "create_loader()" in inspect.getsource(utils._load_service_model)
    assert "get_session()" in inspect.getsource(AccountSpecificBackend._generate_regions)


def test_cached_method_names_equal_moto_s() -> None:
    from moto.kinesis.responses import KinesisResponse
    from moto.s3.responses import S3Response

    original = responses.method_names_from_class
    server_dispatch.install()
    try:
        for cls in (KinesisResponse, S3Response):
            assert responses.method_names_from_class(cls) == original(cls)
            assert responses.method_names_from_class(cls) is responses.method_names_from_class(cls)
    finally:
        server_dispatch.uninstall()
    assert responses.method_names_from_class is original


def test_moto_reads_service_models_with_one_loader() -> None:
    from moto.core import utils

    service_models.install()
    try:
        assert utils.create_loader() is utils.create_loader()
        assert AccountSpecificBackend.get_session()._session.get_component("data_loader") is shared_loader()
        assert utils.get_service_model("kinesis").service_name == "kinesis"
        from moto.core.loaders import create_loader

        own = create_loader().list_available_services("service-2")  # what moto's loader would list itself
        assert utils.create_loader().list_available_services("service-2") == own
    finally:
        service_models.uninstall()
    assert utils.create_loader() is not utils.create_loader()


# -- behaviour over real sockets -------------------------------------------------------------------------------
@pytest.fixture
def server() -> Iterator[http_server.MotoHttpServer]:
    hooked: list[str] = []
    srv = http_server.MotoHttpServer("127.0.0.1", free_port(), before_first={"sqs": lambda: hooked.append("sqs")})
    srv.hooked = hooked  # type: ignore[attr-defined]
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def _kinesis(conn: http.client.HTTPConnection, action: str, body: dict[str, object]) -> tuple[int, dict[str, str],
                                                                                            bytes]:
    conn.request(
        "POST", "/", body=json.dumps(body),
        headers={"X-Amz-Target": f"Kinesis_20131202.{action}", "Content-Type": "application/x-amz-json-1.1",
                 "Authorization": AUTH.format(service="kinesis")},
    )
    response = conn.getresponse()
    return response.status, dict(response.getheaders()), response.read()


def test_requests_share_one_connection_and_get_moto_s_answers(server: http_server.MotoHttpServer) -> None:
    host, port = server.get_host_and_port()
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        status, _, _ = _kinesis(conn, "CreateStream", {"StreamName": "ka", "ShardCount": 1})
        assert status == 200
        sock = conn.sock
        for i in range(3):
            status, headers, body = _kinesis(
                conn, "PutRecord", {"StreamName": "ka", "Data": "aGk=", "PartitionKey": f"k{i}"}
            )
            assert status == 200, body
            assert json.loads(body)["ShardId"] == "shardId-000000000000"
            assert int(headers["Content-Length"]) == len(body)
            assert headers.get("Connection") != "close"
        assert conn.sock is sock  # the same TCP connection served every request
        status, _, body = _kinesis(conn, "DescribeStream", {"StreamName": "missing"})
        assert status == 400 and b"ResourceNotFoundException" in body  # moto's error, on the same connection
        assert conn.sock is sock
    finally:
        conn.close()


def test_an_unread_body_does_not_corrupt_the_next_request(server: http_server.MotoHttpServer) -> None:
    host, port = server.get_host_and_port()
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.request("POST", "/moto-api/does-not-exist", body=b"x" * 70_000)  # moto never reads this body
        first = conn.getresponse()
        first.read()
        assert first.status == 404
        sock = conn.sock
        conn.request("GET", "/moto-api/data.json")
        second = conn.getresponse()
        assert second.status == 200
        assert isinstance(json.loads(second.read()), dict)
        assert conn.sock is sock
    finally:
        conn.close()


def test_expect_100_continue_and_boto3_end_to_end(server: http_server.MotoHttpServer) -> None:
    host, port = server.get_host_and_port()
    s3 = make_client("s3", endpoint_url=f"http://{host}:{port}", region="us-east-1")
    s3.create_bucket(Bucket="keepalive-bucket")
    s3.put_object(Bucket="keepalive-bucket", Key="k", Body=b"payload" * 1000)  # botocore sends Expect
    head = s3.head_object(Bucket="keepalive-bucket", Key="k")
    assert head["ContentLength"] == 7000  # HEAD: moto's length header, no body on the wire
    assert s3.get_object(Bucket="keepalive-bucket", Key="k")["Body"].read() == b"payload" * 1000


def test_before_first_hook_runs_once_before_that_service(server: http_server.MotoHttpServer) -> None:
    host, port = server.get_host_and_port()
    sqs = make_client("sqs", endpoint_url=f"http://{host}:{port}", region="us-east-1")
    assert server.hooked == []  # type: ignore[attr-defined]
    sqs.create_queue(QueueName="hooked")
    sqs.list_queues()
    assert server.hooked == ["sqs"]  # type: ignore[attr-defined]


def test_stop_closes_open_keep_alive_connections() -> None:
    srv = http_server.MotoHttpServer("127.0.0.1", free_port())
    srv.start()
    host, port = srv.get_host_and_port()
    conn = http.client.HTTPConnection(host, port, timeout=10)

    def handler_threads() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if "process_request_thread" in t.name and t.is_alive()]

    try:
        before = set(handler_threads())
        conn.request("GET", "/moto-api/data.json")
        conn.getresponse().read()
        serving = wait_for("a handler thread holding the open connection", lambda: set(handler_threads()) - before,
                           bool, timeout=5)
        srv.stop()
        for thread in serving:
            thread.join(timeout=5)
            assert not thread.is_alive(), "a handler thread outlived the server"
        with pytest.raises(OSError):
            socket.create_connection((host, port), timeout=1).close()
    finally:
        conn.close()
        srv.stop()


def test_enrich_response_skips_the_request_id_scan_only_where_it_cannot_match() -> None:
    original = responses.BaseResponse._enrich_response
    server_dispatch.install()
    try:
        for body in ('{"a": 1}', b"<RequestId>x</RequestId>", "<X><RequestId>old</RequestId></X>", ""):
            ours_headers: dict[str, str] = {"status": 200}  # type: ignore[dict-item]
            moto_headers: dict[str, str] = {"status": 200}  # type: ignore[dict-item]
            _, ours = responses.BaseResponse._enrich_response(ours_headers, body)
            _, theirs = original(moto_headers, body)
            assert ours_headers.keys() == moto_headers.keys() and ours_headers["status"] == "200"
            if isinstance(body, str) and "<RequestId>" in body:
                assert ours == f"<X><RequestId>{ours_headers['x-amzn-requestid']}</RequestId></X>"
                assert theirs == f"<X><RequestId>{moto_headers['x-amzn-requestid']}</RequestId></X>"
            else:
                assert ours == theirs == body
    finally:
        server_dispatch.uninstall()
    assert responses.BaseResponse._enrich_response is original
    source = inspect.getsource(original)
    assert "re.sub(" in source and "gen_amzn_requestid_long(headers)" in source


def test_put_records_reads_moto_s_params_with_one_parse() -> None:
    from emulator.backends.moto_seams.kinesis_puts import _json_params

    source = inspect.getsource(responses.BaseResponse._get_param)
    assert source.index("self.querystring.get(param_name)") < source.index("json.loads(self.body)[param_name]")

    class Response:
        automated_parameter_parsing = False
        uri_match: dict[str, str] = {}

        def __init__(self, body: str, querystring: dict[str, list[str]]) -> None:
            self.body, self.querystring = body, querystring

        _get_param = responses.BaseResponse._get_param

    for body, query in (('{"StreamName": "s", "Records": [1]}', {}), ('{"StreamName": "s"}', {"StreamName": ["q"]}),
                        ("not json", {}), ("[1, 2]", {}), ('{"Records": null}', {})):
        for uri_match in ({}, {"StreamARN": "from-uri", "StreamName": "shadowed-by-body"}):
            r = Response(body, query)
            r.uri_match = uri_match
            names = ("StreamARN", "StreamName", "Records")
            assert _json_params(r, *names) == [r._get_param(n) for n in names]


def test_a_failing_fast_path_falls_back_to_moto() -> None:
    def broken(environ: dict[str, object], body: bytes) -> None:
        raise RuntimeError("bug in a fast path")

    srv = http_server.MotoHttpServer("127.0.0.1", free_port(), fast_paths={"Kinesis_20131202.ListStreams": broken})
    srv.start()
    conn = http.client.HTTPConnection(*srv.get_host_and_port(), timeout=10)
    try:
        status, _, body = _kinesis(conn, "ListStreams", {})
        assert status == 200 and "StreamNames" in json.loads(body)
    finally:
        conn.close()
        srv.stop()


def test_an_idle_connection_is_closed_quietly(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(http_server._KeepAliveHandler, "timeout", 0.2)
    srv = http_server.MotoHttpServer("127.0.0.1", free_port())
    srv.start()
    try:
        with socket.create_connection(srv.get_host_and_port(), timeout=10) as sock:
            sock.sendall(b"GET /moto-api/data.json HTTP/1.1\r\nHost: x\r\n\r\n")
            received = b""

            def closed() -> bool:
                nonlocal received
                chunk = sock.recv(65536)
                received += chunk
                return chunk == b""  # the server closed the idle connection

            wait_for("the server to close the idle connection", closed, bool, timeout=10)
        assert received.startswith(b"HTTP/1.1 200")
        assert "timed out" not in caplog.text
    finally:
        srv.stop()


def test_when_the_accept_loop_ends_open_connections_are_closed_too() -> None:
    srv = http_server.MotoHttpServer("127.0.0.1", free_port())
    srv.start()
    conn = http.client.HTTPConnection(*srv.get_host_and_port(), timeout=10)
    try:
        conn.request("GET", "/moto-api/data.json")
        conn.getresponse().read()
        assert srv._server is not None
        srv._server.shutdown()  # the accept loop stops, as if it had crashed
        assert srv._thread is not None
        srv._thread.join(5)
        with pytest.raises((http.client.HTTPException, OSError)):  # the kept-alive connection is gone too
            conn.request("GET", "/moto-api/data.json")
            conn.getresponse().read()
    finally:
        conn.close()
        srv.stop()
