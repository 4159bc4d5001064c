"""Seam: moto's WSGI app served over keep-alive HTTP/1.1 instead of one TCP connection per request.

moto's ``ThreadedMotoServer`` runs werkzeug's development server, which closes the connection after every
response ("Connection: close"; werkzeug gave up keep-alive because ``http.server`` cannot drain a request body
it did not read). Every boto3 call therefore pays a new TCP connection, a new server thread, and, after the
response, a wait of up to 10 ms in a drain loop on that thread. Measured on the embedded backend: a one-record
PutRecords took 2.5-4 ms of which the client's own CPU was 2 ms, and an S3 PutObject 6.4-7.8 ms of which moto's
app was 0.7 ms.

This server is werkzeug's threaded server with moto's request handler (same environ, same header handling,
same app: ``DomainDispatcherApplication(create_backend_app)``), changed in one place, ``run_wsgi``: the request
body is always read to its end (``Content-Length``), the response is written in one piece with a
``Content-Length``, and the connection stays open for the client's next request. A chunked request body, an
error in the app or a client asking to close ends the connection as before. When the accept loop ends (``stop``,
or a crash), every open connection is closed, so no handler thread outlives the server and a dead server is
seen as dead by every client, not only by new connections.

``before_first={service: hook}`` runs ``hook()`` before the first request for ``service`` builds its app
(moto builds each service's Flask app on first use, under the dispatcher's lock). ``fast_paths={X-Amz-Target:
answer}`` lets a seam answer a request itself (see ``kinesis_fast_put``); when it returns None the request goes
to moto's app with its body as sent. ``meter`` (an ``emulator.observe.api_meter.ApiMeter``) is told about every
request answered while it is active, for the cost model.
"""

from __future__ import annotations

import contextlib
import io
import logging
import socket
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import ThreadedWSGIServer
from werkzeug.wsgi import LimitedStream

TOUCHES = (
    "moto.moto_server.werkzeug_app.MotoRequestHandler (a werkzeug WSGIRequestHandler; make_environ, run_wsgi)",
    "moto.moto_server.werkzeug_app.DomainDispatcherApplication(create_app) and create_backend_app(service)",
    "moto.moto_server.threaded_moto_server.ThreadedMotoServer (what this replaces: same app, same handler)",
)

FastPath = Callable[[dict[str, Any], bytes], "tuple[str, list[tuple[str, str]], bytes] | None"]
"""``answer(environ, body)``: the (status, headers, body) moto would send, or None to let moto's app answer."""



class Meter(Protocol):
    active: bool

    def record(self, environ: dict[str, Any], body: bytes | None, request_bytes: int, response_bytes: int) -> None: ...


def _form_body(environ: dict[str, Any]) -> bool:  # query protocol: the operation is named in the body
    return not environ.get("HTTP_X_AMZ_TARGET") and "x-www-form-urlencoded" in str(environ.get("CONTENT_TYPE", ""))


IDLE_TIMEOUT_S = 120.0  # a connection idle this long is closed (boto3 reconnects transparently)
_NO_BODY = frozenset({204, 304})

log = logging.getLogger(__name__)


class _KeepAliveHandler(MotoRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT_S
    server: _Server

    def log_request(self, *args: Any, **kwargs: Any) -> None:  # werkzeug logs every request at INFO otherwise
        pass

    def log_error(self, format: str, *args: Any) -> None:
        if format.startswith("Request timed out"):  # an idle keep-alive connection expiring is not an error
            return
        super().log_error(format, *args)

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, True)

    def finish(self) -> None:
        self.server.track(self.connection, False)
        super().finish()

    def run_wsgi(self) -> None:
        if self.headers.get("Expect", "").lower().strip() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        self.environ = environ = self.make_environ()
        fast = self.server.fast_paths.get(environ.get("HTTP_X_AMZ_TARGET", ""))
        if fast is not None and not environ.get("wsgi.input_terminated"):
            content = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                answer = fast(environ, content)
            except Exception:  # a bug in a fast path must not cost the request: moto's app answers it
                log.exception("fast path failed on %s; moto's app answers instead", environ.get("HTTP_X_AMZ_TARGET"))
                answer = None
            if answer is not None:
                self._meter(environ, None, len(content), len(answer[2]))  # counted before the client sees it
                self._respond(*answer)
                return
            environ["wsgi.input"] = io.BytesIO(content)  # moto's app reads the body we already took
            environ["wsgi.input_terminated"] = True
        meter = self.server.meter
        length = int(self.headers.get("Content-Length") or 0)
        form: bytes | None = None
        if meter is not None and meter.active and fast is None and _form_body(environ) \
                and not environ.get("wsgi.input_terminated"):
            form = self.rfile.read(length)
            environ["wsgi.input"] = io.BytesIO(form)
            environ["wsgi.input_terminated"] = True
        body: LimitedStream | None = None
        if environ.get("wsgi.input_terminated"):
            if fast is None and form is None:  # chunked request body: read as werkzeug does, then close
                self.close_connection = True
        else:
            rfile: Any = self.rfile
            body = LimitedStream(rfile, int(self.headers.get("Content-Length") or 0))
            environ["wsgi.input"] = body
        status = "500 INTERNAL SERVER ERROR"
        headers: list[tuple[str, str]] = []

        def start_response(status_: str, headers_: list[tuple[str, str]], exc_info: Any = None) -> Callable[..., Any]:
            nonlocal status, headers
            status, headers = status_, list(headers_)
            return self.wfile.write  # WSGI's legacy write(); moto never calls it

        try:
            result: Iterable[bytes] = self.server.app(environ, start_response)
            try:
                payload = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except Exception:
            log.exception("moto failed on %s %s", self.command, self.path)
            status, headers, payload = "500 INTERNAL SERVER ERROR", [("Content-Type", "text/plain")], b""
            self.close_connection = True
        if body is not None:
            body.exhaust()  # whatever the app did not read, so the next request starts at its request line
        self._meter(environ, form, length, len(payload))
        self._respond(status, headers, payload)

    def _meter(self, environ: dict[str, Any], form: bytes | None, request_bytes: int, response_bytes: int) -> None:
        meter = self.server.meter
        if meter is not None and meter.active:
            try:
                meter.record(environ, form, request_bytes, response_bytes)
            except Exception:  # counting for the cost model must never cost the request
                log.exception("API meter failed")

    def _respond(self, status: str, headers: list[tuple[str, str]], payload: bytes) -> None:
        code_str, _, message = status.partition(" ")
        code = int(code_str)
        self.send_response(code, message)  # buffers the status line plus Server and Date, like werkzeug
        names = set()
        for name, value in headers:
            self.send_header(name, value)
            names.add(name.lower())
        has_body = self.command != "HEAD" and code not in _NO_BODY and code >= 200
        if "content-length" not in names and has_body:
            self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        buffered: list[bytes] = getattr(self, "_headers_buffer")  # noqa: B009 - http.server's private buffer
        head = b"".join(buffered) + b"\r\n"
        buffered.clear()
        self.wfile.write(head + payload if has_body else head)  # one write: no Nagle/delayed-ACK stall


class _Server(ThreadedWSGIServer):
    def __init__(
        self, host: str, port: int, app: Any, fast_paths: Mapping[str, FastPath], meter: Meter | None = None
    ) -> None:
        self.fast_paths = dict(fast_paths)
        self.meter = meter
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(host, port, app, handler=_KeepAliveHandler)

    def track(self, connection: socket.socket, open_: bool) -> None:
        with self._connections_lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)  # the handler thread's read returns at once



class MotoHttpServer:
    """Drop-in for ``ThreadedMotoServer`` (``start``/``stop``/``get_host_and_port``/``_thread``)."""

    def __init__(
        self,
        ip_address: str,
        port: int,
        *,
        before_first: Mapping[str, Callable[[], None]] | None = None,
        fast_paths: Mapping[str, FastPath] | None = None,
        wrap: Callable[[Any], Any] | None = None,
        meter: Meter | None = None,
    ) -> None:
        """``wrap(app)`` returns the WSGI app to serve in front of moto's (pipemu's own endpoints)."""
        self._wrap = wrap
        self._ip_address = ip_address
        self._meter = meter
        self._fast_paths = dict(fast_paths or {})
        self._port = port
        self._hooks = dict(before_first or {})
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def _create_app(self, service: Any) -> Any:
        hook = self._hooks.get(str(service))
        if hook is not None:
            hook()
        return create_backend_app(service)

    def start(self) -> None:
        app: Any = DomainDispatcherApplication(self._create_app)
        if self._wrap is not None:
            app = self._wrap(app)
        try:
            self._server = _Server(self._ip_address, self._port, app, self._fast_paths, self._meter)
        except SystemExit as exc:  # werkzeug prints the bind error and exits; keep it an OSError for callers
            raise OSError(f"cannot listen on {self._ip_address}:{self._port}") from exc
        self._thread = threading.Thread(target=self._serve, args=(self._server,), name="pipemu-moto-http", daemon=True)
        self._thread.start()

    @staticmethod
    def _serve(server: _Server) -> None:
        try:
            server.serve_forever(poll_interval=0.1)
        finally:  # however the accept loop ended, the server is down: no open connection keeps being served
            server.close_connections()

    def get_host_and_port(self) -> tuple[str, int]:
        assert self._server is not None, "call start() first"
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
