"""Serving an app with uvicorn in a background thread, for tests, examples and benchmarks.

The listening socket is bound before the thread starts, so the port is known at once (port 0
picks a free one) and no client can race the server's start-up.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import threading
from typing import TYPE_CHECKING

import uvicorn

if TYPE_CHECKING:
    from types import TracebackType

    from starlette.types import ASGIApp

__all__ = ["EmulatorServer"]

_START_TIMEOUT = 10.0
_STOP_TIMEOUT = 10.0


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()


def _url_host(host: str) -> str:
    """The host as a client should write it in a URL."""
    if host in ("0.0.0.0", ""):  # noqa: S104 - naming the wildcard, not binding it
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


class EmulatorServer:
    """A running server; :meth:`stop` (or leaving the ``with`` block) shuts it down cleanly.

    ``base_url`` is what a client takes as both its API base and its accounts base:
    ``http://127.0.0.1:{port}/v1``.
    """

    def __init__(self, app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM)
        try:
            if sys.platform != "win32":  # as asyncio does: rebinding a port in TIME_WAIT works
                self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            # Accepted connections inherit this (Linux, BSD): without it a small response, whose
            # headers and body uvicorn writes separately, waits ~40 ms for the client's delayed ACK.
            self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._socket.bind((host, port))
            self._socket.listen(128)
            self._socket.setblocking(False)
        except BaseException:
            self._socket.close()
            raise
        self.host = host
        self.port: int = self._socket.getsockname()[1]
        self.url = f"http://{_url_host(host)}:{self.port}"
        self.base_url = f"{self.url}/v1"
        config = uvicorn.Config(
            app,
            lifespan="off",
            log_config=None,  # a library must not reconfigure the process's logging
            log_level="warning",
            access_log=False,
            ws="none",
            timeout_graceful_shutdown=2,
        )
        self._server = _Server(config)
        self._thread = threading.Thread(target=self._run, name=f"dropship-emulator:{self.port}", daemon=True)
        self._error: BaseException | None = None
        self._thread.start()
        if not self._server.ready.wait(_START_TIMEOUT) or self._error is not None:
            self.stop()
            raise RuntimeError("the emulator's server did not start") from self._error

    def _run(self) -> None:
        try:
            asyncio.run(self._server.serve(sockets=[self._socket]))
        except BaseException as error:  # reported by __init__ or stop()
            self._error = error
            self._server.ready.set()
        finally:
            self._socket.close()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        """Stop serving and wait for the server thread to end; idempotent."""
        self._server.should_exit = True
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(_STOP_TIMEOUT)
            if self._thread.is_alive():
                self._server.force_exit = True
                self._thread.join(_STOP_TIMEOUT)
        self._socket.close()

    def __enter__(self) -> EmulatorServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<EmulatorServer {self.base_url} running={self.running}>"
