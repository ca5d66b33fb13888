"""A call's ``timeout`` bounds the whole call: token, connect, send, read and retries.

Against real sockets on 127.0.0.1 (``tests/scripted.py``): a host that accepts and never answers,
and one that sends a body one byte every 100 ms. Each read of the latter arrives in time, so only
a deadline over the whole call stops it. The bounds asserted are loose (several times the
timeout) and far below what the calls took before (seconds to minutes).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import anyio
import pytest

from iqmetrix_dropship import APITimeoutError, AsyncDropshipClient, ClientClosedError, DropshipClient

from ..scripted import ScriptedServer, read_request, stall, trickle
from .conftest import CREDENTIALS


def test_eight_threads_waiting_for_a_stalled_token_all_fail_after_about_one_timeout() -> None:
    with (
        ScriptedServer(stall) as accounts,
        DropshipClient(
            supplier_id=60455,
            **CREDENTIALS,
            base_url="http://127.0.0.1:9/v1",  # never reached: the token never comes
            accounts_url=f"{accounts.url}/v1",
            timeout=0.5,
            max_retries=0,
        ) as client,
    ):
        outcomes: list[tuple[float, BaseException | None]] = []
        lock = threading.Lock()

        def call() -> None:
            started = time.monotonic()
            error: BaseException | None = None
            try:
                client.get_notifications()
            except BaseException as caught:
                error = caught
            with lock:
                outcomes.append((time.monotonic() - started, error))

        threads = [threading.Thread(target=call) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    assert len(outcomes) == 8
    assert all(isinstance(error, APITimeoutError) for _, error in outcomes), outcomes
    # Before: 0.5, 1.0, ... 4.0 s, each waiter becoming the next fetcher once the previous one failed.
    assert max(elapsed for elapsed, _ in outcomes) < 2.0, sorted(elapsed for elapsed, _ in outcomes)
    assert accounts.connections <= 2  # the waiters share the one fetch's failure


def test_eight_tasks_waiting_for_a_stalled_token_all_fail_after_about_one_timeout() -> None:
    async def scenario(accounts_url: str) -> list[tuple[float, BaseException | None]]:
        outcomes: list[tuple[float, BaseException | None]] = []
        async with AsyncDropshipClient(
            supplier_id=60455,
            **CREDENTIALS,
            base_url="http://127.0.0.1:9/v1",
            accounts_url=accounts_url,
            timeout=0.5,
            max_retries=0,
        ) as client:

            async def call() -> None:
                started = time.monotonic()
                error: BaseException | None = None
                try:
                    await client.get_notifications()
                except Exception as caught:
                    error = caught
                outcomes.append((time.monotonic() - started, error))

            async with anyio.create_task_group() as group:
                for _ in range(8):
                    group.start_soon(call)
        return outcomes

    with ScriptedServer(stall) as accounts:
        outcomes = anyio.run(scenario, f"{accounts.url}/v1")
    assert len(outcomes) == 8
    assert all(isinstance(error, APITimeoutError) for _, error in outcomes), outcomes
    assert max(elapsed for elapsed, _ in outcomes) < 2.0, sorted(elapsed for elapsed, _ in outcomes)
    assert accounts.connections <= 2


def _timed(call: Callable[[], Any]) -> tuple[float, BaseException | None]:
    started = time.monotonic()
    try:
        call()
    except Exception as error:
        return time.monotonic() - started, error
    return time.monotonic() - started, None


@pytest.fixture(params=["sync", "async"])
def get_notifications(request: pytest.FixtureRequest) -> Callable[..., Callable[[], Any]]:
    """``get_notifications(base_url, **call_options)``: a call of this test's kind, ready to run."""

    def make(base_url: str, **options: Any) -> Callable[[], Any]:
        settings: dict[str, Any] = {"supplier_id": 60455, "access_token": "held-token", "base_url": base_url}
        if request.param == "sync":

            def sync_call() -> Any:
                with DropshipClient(**settings) as client:
                    return client.get_notifications(**options)

            return sync_call

        async def async_call() -> Any:
            async with AsyncDropshipClient(**settings) as client:
                return await client.get_notifications(**options)

        return lambda: anyio.run(async_call)

    return make


def test_a_body_trickling_one_byte_at_a_time_cannot_outlive_the_calls_timeout(
    get_notifications: Callable[..., Callable[[], Any]],
) -> None:
    with ScriptedServer(trickle(every=0.1)) as api:
        elapsed, error = _timed(get_notifications(f"{api.url}/v1", timeout=0.5, max_retries=0))
    assert isinstance(error, APITimeoutError), error
    assert "0.5 s timeout" in str(error)
    assert elapsed < 2.0  # before: until the server gave up, 10 s here (minutes for a real body)


def test_retries_against_a_stalled_host_stay_within_the_calls_timeout(
    get_notifications: Callable[..., Callable[[], Any]],
) -> None:
    with ScriptedServer(stall) as api:
        elapsed, error = _timed(get_notifications(f"{api.url}/v1", timeout=1.0, max_retries=3))
    assert isinstance(error, APITimeoutError), error
    # Before: 4 attempts of 1 s each, plus 0.5 + 1 + 2 s of backoff between them.
    assert elapsed < 3.0


def _headers_one_byte_at_a_time(conn: socket.socket, stop: threading.Event) -> None:
    read_request(conn)
    head = b"HTTP/1.1 200 OK\r\nX-Pad: " + b"a" * 60 + b"\r\nContent-Length: 0\r\n\r\n"
    for byte in head:
        if stop.wait(0.1):
            return
        conn.sendall(bytes([byte]))


def _headers_then_a_stall(conn: socket.socket, stop: threading.Event) -> None:
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/atom+xml\r\nContent-Length: 1000\r\n\r\n")
    if not stop.wait(0.9):
        conn.sendall(b"<")  # one byte just before the deadline, then nothing
    stop.wait(30)


@pytest.mark.parametrize("script", [_headers_one_byte_at_a_time, _headers_then_a_stall])
def test_a_server_trickling_its_headers_or_stalling_mid_body_cannot_outlive_the_calls_timeout(
    get_notifications: Callable[..., Callable[[], Any]], script: Any
) -> None:
    with ScriptedServer(script) as api:
        elapsed, error = _timed(get_notifications(f"{api.url}/v1", timeout=1.0, max_retries=0))
    assert isinstance(error, APITimeoutError), error
    assert elapsed < 1.6  # before (sync): 8 s for the headers; 1.9 s for the stall


def test_closing_a_sync_client_ends_its_calls_waiting_for_an_answer() -> None:
    """httpx's close() does not wake a thread blocked reading its socket: the client's own close
    does, at once, with a typed error (before: the call waited out its whole timeout)."""
    arrived = threading.Event()

    def answer_never(conn: socket.socket, stop: threading.Event) -> None:
        read_request(conn)
        arrived.set()
        stop.wait(30)

    outcome: list[BaseException | None] = []
    with ScriptedServer(answer_never) as server:
        client = DropshipClient(
            supplier_id=60455,
            access_token="static-token-value",
            base_url=f"{server.url}/v1",
            timeout=20,
            max_retries=0,
        )

        def call() -> None:
            try:
                client.get_notifications()
            except BaseException as error:
                outcome.append(error)
            else:
                outcome.append(None)

        caller = threading.Thread(target=call)
        caller.start()
        assert arrived.wait(10)
        closed_at = time.monotonic()
        client.close()
        caller.join(timeout=15)
        ended_after_close = time.monotonic() - closed_at

    (error,) = outcome
    assert isinstance(error, ClientClosedError), error
    assert "closed while waiting for the answer" in str(error)
    assert ended_after_close < 5.0, ended_after_close  # far below the call's 20 s timeout


def test_closing_an_async_client_ends_its_calls_waiting_for_an_answer_as_closed() -> None:
    arrived = threading.Event()

    def answer_never(conn: socket.socket, stop: threading.Event) -> None:
        read_request(conn)
        arrived.set()
        stop.wait(30)

    async def scenario(url: str) -> BaseException | None:
        client = AsyncDropshipClient(
            supplier_id=60455, access_token="static-token-value", base_url=f"{url}/v1", timeout=20, max_retries=0
        )
        async with anyio.create_task_group() as group:
            outcome: list[BaseException | None] = []

            async def call() -> None:
                try:
                    await client.get_notifications()
                except Exception as error:
                    outcome.append(error)
                else:
                    outcome.append(None)

            group.start_soon(call)
            assert await anyio.to_thread.run_sync(arrived.wait, 10)
            with anyio.fail_after(5):  # far below the call's 20 s timeout
                await client.aclose()
        return outcome[0]

    with ScriptedServer(answer_never) as server:
        error = anyio.run(scenario, server.url)
    assert isinstance(error, ClientClosedError), error
    assert "closed while waiting for the answer" in str(error)
