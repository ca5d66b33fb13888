"""The ops server under a client that holds connections: a cap on how many it serves at once, and
a deadline on each, however slowly the client sends (slowloris)."""

from __future__ import annotations

import socket
import threading
from contextlib import ExitStack
from urllib.parse import urlsplit

import pytest

from iqmetrix_dropship import DropshipClient, OrderLedger
from iqmetrix_dropship.ops import _server

from .conftest import get, serving

WAIT = 20.0


def connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=WAIT)
    sock.sendall(b"G")  # a request begun, never finished
    return sock


def closed_by_server(sock: socket.socket) -> bool:
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True


def test_connections_that_send_nothing_never_keep_a_probe_out(
    client: DropshipClient, ledger: OrderLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cap reached by connections that never finish their request (from the probe's own
    address, as an attacker on the same host): each new connection closes the oldest of them."""
    monkeypatch.setattr(_server, "MAX_CONNECTIONS", 4)
    with serving(client, ledger) as url, ExitStack() as held:
        idle = [held.enter_context(connect(url)) for _ in range(4)]
        for _ in range(3):
            assert get(f"{url}/healthz").status_code == 200
        assert closed_by_server(idle[0])  # the oldest, to make room for the first probe
        assert get(f"{url}/readyz").status_code in (200, 503)
        more = [held.enter_context(connect(url)) for _ in range(8)]  # a new wave: still room
        assert get(f"{url}/healthz").status_code == 200
        assert closed_by_server(more[0])


def test_a_connection_past_the_cap_is_closed_when_every_one_is_being_answered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_server, "MAX_CONNECTIONS", 4)
    entered = threading.Semaphore(0)
    release = threading.Event()

    def slow(environ: object) -> _server.Answer:
        entered.release()
        release.wait(WAIT)
        return _server.json_answer(200, {"status": "ok"})

    app = _server.OpsApp()
    app.route("GET", "/slow", slow)
    with _server.OpsServer(app) as server, ExitStack() as held:
        busy = [
            held.enter_context(socket.create_connection(("127.0.0.1", server.port), timeout=WAIT)) for _ in range(4)
        ]
        for sock in busy:
            sock.sendall(b"GET /slow HTTP/1.0\r\n\r\n")
        for _ in busy:
            assert entered.acquire(timeout=WAIT)  # four GETs being answered
        extra = connect(server.url)
        assert closed_by_server(extra)  # at once: none of the four is closed for it
        extra.close()
        release.set()
        for sock in busy:
            assert sock.recv(1024).startswith(b"HTTP/1.0 200 OK")


def test_a_connection_trickling_its_request_is_ended_at_the_deadline(
    client: DropshipClient, ledger: OrderLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_server, "REQUEST_DEADLINE", 0.5)
    with serving(client, ledger) as url, connect(url) as slow:
        slow.settimeout(WAIT)
        # Each byte comes well within the per-read timeout; the whole request never does.
        closed = False
        for _ in range(200):
            try:
                slow.sendall(b"E")
            except OSError:
                closed = True
                break
            slow.settimeout(0.05)
            try:
                if slow.recv(1024) == b"":
                    closed = True
                    break
            except TimeoutError:
                pass
            except ConnectionResetError:
                closed = True
                break
        assert closed
        assert get(f"{url}/healthz").status_code == 200
