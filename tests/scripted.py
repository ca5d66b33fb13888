"""A byte-level HTTP server on 127.0.0.1 that does what a test scripts: stall, trickle, answer.

For the behaviours that need a real socket (a host that accepts and never answers, a body sent one
byte at a time): what respx cannot fake, since the timeouts that matter are httpx's own.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from types import TracebackType

Script = Callable[[socket.socket, threading.Event], None]


def read_request(conn: socket.socket) -> bytes:
    """The request's head and whatever body arrived with it (enough for these scripts)."""
    conn.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def stall(conn: socket.socket, stop: threading.Event) -> None:
    """Read the request, never answer."""
    read_request(conn)
    stop.wait(30)


def trickle(body_bytes: int = 100_000, every: float = 0.1, for_at_most: float = 10.0) -> Script:
    """Answer 200 with a Content-Length, then send the body one byte every ``every`` seconds."""

    def script(conn: socket.socket, stop: threading.Event) -> None:
        read_request(conn)
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/atom+xml\r\n"
            + f"Content-Length: {body_bytes}\r\n\r\n".encode()
        )
        sent = 0
        while sent < body_bytes and sent * every < for_at_most and not stop.wait(every):
            try:
                conn.sendall(b" ")
            except OSError:
                return
            sent += 1

    return script


class ScriptedServer:
    """``with ScriptedServer(stall) as server: server.url`` (``http://127.0.0.1:PORT``).

    Every connection runs ``script`` in its own thread; ``connections`` counts them.
    """

    def __init__(self, script: Script) -> None:
        self.script = script
        self.connections = 0
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        host, port = self._listener.getsockname()[:2]
        return f"http://{host}:{port}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
            thread = threading.Thread(target=self._run, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _run(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            self.script(conn, self._stop)

    def __enter__(self) -> ScriptedServer:
        thread = threading.Thread(target=self._serve, daemon=True)
        self._threads.append(thread)
        thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() of the serving thread
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=5)
