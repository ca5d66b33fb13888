"""A WSGI app that routes by method and path, and a stdlib server that runs it on a daemon thread.

No web framework: the endpoints are four, their answers small, and ``dropship run`` must not pull a
dependency in for them. ``wsgiref``'s server speaks HTTP/1.0 and closes each connection after its
answer; the threading mix-in gives each request a thread of its own, so that a slow client (or a
readiness check waiting on the database) never holds up ``/healthz``.

Connections are capped (``MAX_CONNECTIONS``), and a full server makes room rather than refusing:
a new connection closes the oldest one still sending its request (or a body), so that clients
that open connections and send nothing (slowloris) cannot keep a liveness probe out. Only a
``GET`` whose request has arrived is never closed for another: it is being answered.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

__all__ = ["Answer", "OpsApp", "OpsServer", "Route", "json_answer"]

logger = logging.getLogger("iqmetrix_dropship.ops")

Environ = Mapping[str, Any]
_LINGER_BYTES = 1 << 20
StartResponse = Callable[..., Any]


@dataclass(frozen=True)
class Answer:
    """What a route answers: a status, a body and its type, any other headers."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = field(default=())


Route = Callable[[Environ], Answer]


def json_answer(status: int, value: object, *headers: tuple[str, str]) -> Answer:
    return Answer(status, json.dumps(value, sort_keys=True).encode() + b"\n", headers=headers)


class OpsApp:
    """The WSGI app: one route per method and path; 404 for an unknown path, 405 (with ``Allow``)
    for a known path asked with another method, 500 (logged) for a route that raised."""

    def __init__(self) -> None:
        self._routes: dict[str, dict[str, Route]] = {}

    def route(self, method: str, path: str, route: Route) -> None:
        self._routes.setdefault(path, {})[method] = route

    @property
    def paths(self) -> list[str]:
        return sorted(self._routes)

    def answer(self, environ: Environ) -> Answer:
        methods = self._routes.get(environ.get("PATH_INFO") or "/")
        if methods is None:
            return json_answer(404, {"status": "not found"})
        route = methods.get(environ.get("REQUEST_METHOD", ""))
        if route is None:
            return json_answer(405, {"status": "method not allowed"}, ("Allow", ", ".join(sorted(methods))))
        try:
            return route(environ)
        except Exception:  # a bug in a route: answered, logged, and the server goes on
            logger.exception("the ops server failed to answer %s", environ.get("PATH_INFO"))
            return json_answer(500, {"status": "error"})

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        answer = self.answer(environ)
        headers = [
            ("Content-Type", answer.content_type),
            ("Content-Length", str(len(answer.body))),
            ("Cache-Control", "no-store"),
            *answer.headers,
        ]
        start_response(f"{answer.status} {HTTPStatus(answer.status).phrase}", headers)
        return [answer.body]


class _RequestHandler(WSGIRequestHandler):
    timeout = 10.0  # seconds a client may take to send its request: a stalled one frees its thread

    def parse_request(self) -> bool:
        parsed = super().parse_request()
        if parsed and self.command in ("GET", "HEAD"):
            self.server.answering(self.request)  # type: ignore[attr-defined]  # _ThreadingServer
        return parsed

    def log_message(self, format: str, *args: Any) -> None:
        # Not on stderr as wsgiref does; at DEBUG, and only the request line's method and path.
        logger.debug("ops request %s", self.command)


MAX_CONNECTIONS = 64
"""Connections served at once. One more closes the oldest still sending its request or body, or
is itself closed when every one is being answered. With ``REQUEST_DEADLINE`` it bounds what
clients trickling their requests byte by byte (slowloris) can hold: threads, descriptors."""
REQUEST_DEADLINE = 15.0
"""Seconds a connection may take in all, request and answer: past it, its socket is shut down."""
_LINGER_SECONDS = 2.0


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # the listen backlog: a burst of connects is queued, not refused

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Every connection open, oldest first: whether it is being answered (a GET whose request
        # has arrived), else it may be closed to make room.
        self._open: dict[Any, bool] = {}
        self._open_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            if len(self._open) >= MAX_CONNECTIONS:
                oldest = next((sock for sock, answering in self._open.items() if not answering), None)
                if oldest is None:
                    logger.warning("the ops server is answering %d requests: one more was closed", MAX_CONNECTIONS)
                    refused = True
                else:
                    logger.debug(
                        "the ops server has %d connections: the oldest still sending was closed", MAX_CONNECTIONS
                    )
                    del self._open[oldest]
                    _shut(oldest)  # its thread's read returns, and the thread ends
                    refused = False
            else:
                refused = False
            if not refused:
                self._open[request] = False
        if refused:  # closed at once: no lingering close on the thread that accepts
            _shut(request)
            self.close_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._forget(request)
            raise

    def answering(self, request: Any) -> None:
        """``request`` is being answered: never closed to make room for another."""
        with self._open_lock:
            if request in self._open:
                self._open[request] = True

    def _forget(self, request: Any) -> None:
        with self._open_lock:
            self._open.pop(request, None)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        # However slowly the client sends (each read has its own timeout), the whole connection
        # ends at the deadline: the socket is shut down, and the blocked read returns.
        watchdog = threading.Timer(REQUEST_DEADLINE, _shut, (request,))
        watchdog.daemon = True
        watchdog.start()
        try:
            super().process_request_thread(request, client_address)
        finally:
            watchdog.cancel()
            self._forget(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # socketserver prints a traceback on stderr (a client that stalled, a reset): that would
        # break one-event-a-line logs, and is the client's failure, not ours.
        logger.debug("an ops connection ended with an error", exc_info=True)

    def server_bind(self) -> None:
        # WSGIServer's server_bind asks DNS for the host's full name (socket.getfqdn): skipped.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])
        self.setup_environ()

    def shutdown_request(self, request: Any) -> None:
        # A "lingering close" (as Apache's): a request refused before its body was read (401,
        # 413) leaves that body unread, and a socket closed with unread data sends a reset that
        # may destroy the answer before the client reads it. So: say we are done, and read what
        # the client still sends, 1 MiB and a second of silence at most, before closing.
        try:
            request.shutdown(socket.SHUT_WR)
            ends = time.monotonic() + _LINGER_SECONDS
            left = _LINGER_BYTES
            while left > 0 and (remaining := ends - time.monotonic()) > 0:
                request.settimeout(remaining)
                chunk = request.recv(min(65536, left))
                if not chunk:
                    break
                left -= len(chunk)
        except OSError:
            pass
        self.close_request(request)


def _shut(request: Any) -> None:
    with contextlib.suppress(OSError):
        request.shutdown(socket.SHUT_RDWR)


class OpsServer:
    """Serves ``app`` on ``host:port`` (port 0: a free one, see ``port`` and ``url``) from a daemon
    thread, between ``__enter__`` and ``__exit__``.

    ::

        with OpsServer(app, "127.0.0.1", 0) as server:
            print(server.url)
    """

    def __init__(self, app: OpsApp, host: str = "127.0.0.1", port: int = 0) -> None:
        server_class = type(
            "_OpsServer",
            (_ThreadingServer,),
            {"address_family": socket.AF_INET6 if ":" in host else socket.AF_INET},
        )
        self._server: WSGIServer = server_class((host, port), _RequestHandler)
        self._server.set_app(app)
        self.host = host
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._serve, name=f"dropship-ops-{self.port}", daemon=True)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def _serve(self) -> None:
        self._server.serve_forever(poll_interval=0.2)

    def __enter__(self) -> OpsServer:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()
