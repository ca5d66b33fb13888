"""Over real HTTP: ``Emulator.serve()`` on 127.0.0.1, and ``python -m iqmetrix_dropship.emulator``."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from iqmetrix_dropship.emulator import Emulator, EmulatorServer

from .conftest import FEED, Page, page_id_of, parse_page, password_form


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Emulator, EmulatorServer]]:
    emulator = Emulator(events=120, seed=7)
    with emulator.serve() as server:
        yield emulator, server


def test_base_url_names_the_loopback_and_the_bound_port(served: tuple[Emulator, EmulatorServer]) -> None:
    _, server = served

    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", server.base_url)
    assert server.base_url.endswith(f":{server.port}/v1")
    assert server.running


def test_a_supplier_walks_the_feed_and_ships_over_http(served: tuple[Emulator, EmulatorServer]) -> None:
    emulator, server = served
    order_id = emulator.place_order()
    with httpx.Client(base_url=server.base_url, timeout=5) as client:
        token = client.post("/oauth2/token", data=password_form(emulator)).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        path = FEED.removeprefix("/v1")
        pages = [parse_page(client.get(path, headers=headers).content)]
        while (href := pages[-1].link("prev-archive")) is not None:
            # traps.md 4: the href names the production host; rebuild it on our base.
            pages.append(parse_page(client.get(f"{path}/Pages({page_id_of(href)})", headers=headers).content))
        seen = [entry_id for page in pages for entry_id in page.entry_ids]
        assert seen == list(reversed(emulator.entry_ids()))

        response = client.put(
            f"/Suppliers(60455)/Orders({order_id})/OrderStatusUpdate",
            json={"Id": order_id, "Status": "Shipped", "TrackingInfo": "1Z1", "ShippingProvider": "UPS"},
            headers=headers,
        )
        assert response.status_code == 202
        assert emulator.order_status(order_id) == "Shipped"
        newest = Page.content(parse_page(client.get(path, headers=headers).content).entries[0])
        assert newest.tag.endswith("order-status-updated")


def test_hrefs_never_name_the_listening_host(served: tuple[Emulator, EmulatorServer]) -> None:
    emulator, server = served
    with httpx.Client(timeout=5) as client:
        token = client.post(f"{server.base_url}/oauth2/token", data=password_form(emulator)).json()
        body = client.get(f"{server.url}{FEED}", headers={"Authorization": f"Bearer {token['access_token']}"}).content

    href = parse_page(body).link("prev-archive")
    assert href is not None
    # traps.md 4: a client that follows it blindly would leave the emulator (and leak its token).
    assert httpx.URL(href).host == "dropship.iqmetrix.net"
    assert f":{server.port}".encode() not in body


def test_serve_stops_cleanly() -> None:
    threads_before = set(threading.enumerate())
    server = Emulator(orders=2).serve()
    port = server.port
    with httpx.Client(timeout=5) as client:
        assert client.get(f"{server.url}/_emulator/state").status_code == 200

    server.stop()
    server.stop()  # idempotent

    assert not server.running
    assert set(threading.enumerate()) <= threads_before
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


class _Lines:
    """A process's stdout lines, pumped by a thread so that every wait can be bounded."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.seen: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line)
        self._queue.put("")  # end of output

    def wait_for(self, pattern: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=remaining)
            except queue.Empty:
                break
            if not line:
                break
            self.seen.append(line)
            if re.fullmatch(pattern, line.rstrip("\n")):
                return line.rstrip("\n")
        raise AssertionError(f"no line matching {pattern!r} within {timeout} s; output: {self.seen!r}")

    def close(self) -> None:
        """Once the process is gone: let the pump reach the end, then close the pipe."""
        self._thread.join(timeout=5)
        assert self.process.stdout is not None
        self.process.stdout.close()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is POSIX")
def test_the_command_line_prints_its_base_url_and_stops_on_sigterm() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "iqmetrix_dropship.emulator", "--port", "0", "--orders", "10"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    lines = _Lines(process)
    try:
        base_url = lines.wait_for(r"http://127\.0\.0\.1:\d+/v1", timeout=20)
        assert any("emulator-client" in line for line in lines.seen)  # the credentials are printed
        with httpx.Client(timeout=5) as client:
            state = client.get(base_url.removesuffix("/v1") + "/_emulator/state").json()
            assert state["orders"] == 10
            token = client.post(
                f"{base_url}/oauth2/token",
                data={
                    "grant_type": "password",
                    "client_id": "emulator-client",
                    "client_secret": "emulator-secret",
                    "username": "supplier@example.com",
                    "password": "emulator-password",
                },
            )
            assert token.status_code == 200

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        lines.wait_for("emulator stopped", timeout=5)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
        lines.close()
