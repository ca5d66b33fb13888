"""The ops server under a client that holds connections: a cap on how many it serves at once, and
a deadline on each, however slowly the client sends (slowloris)."""

from __future__ import annotations

import socket
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


def test_connections_past_the_cap_are_closed_and_the_server_serves_again_once_they_go(
    client: DropshipClient, ledger: OrderLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_server, "MAX_CONNECTIONS", 4)
    with serving(client, ledger) as url, ExitStack() as held:
        idle = [held.enter_context(connect(url)) for _ in range(4)]
        extra = connect(url)

        assert closed_by_server(extra)  # at once: no thread, no wait for it
        extra.close()
        for sock in idle:
            sock.close()
        assert get(f"{url}/healthz").status_code == 200


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
