"""A WSGI app that routes by method and path, and a stdlib server that runs it on a daemon thread.

No web framework: the endpoints are four, their answers small, and ``dropship run`` must not pull a
dependency in for them. ``wsgiref``'s server speaks HTTP/1.0 and closes each connection after its
answer; the threading mix-in gives each request a thread of its own, so that a slow client (or a
readiness check waiting on the database) never holds up ``/healthz``.
"""

from __future__ import annotations

import json
import logging
import socket
import socketserver
import threading
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

    def log_message(self, format: str, *args: Any) -> None:
        # Not on stderr as wsgiref does; at DEBUG, and only the request line's method and path.
        logger.debug("ops request %s", self.command)


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True

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
            request.settimeout(1.0)
            left = _LINGER_BYTES
            while left > 0 and (chunk := request.recv(min(65536, left))):
                left -= len(chunk)
        except OSError:
            pass
        self.close_request(request)


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
