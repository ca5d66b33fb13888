"""asyncio's own cancellation (``task.cancel()``: ``asyncio.wait_for``, ``asyncio.timeout``) at the
token fetch's edges, against the emulator over real HTTP: the token cache always learns how a
fetch ended, and a cancelled call ends cancelled, never with another error.

The cancellation is delivered at an exact point by a transport that wraps httpx's own: it passes
every request through, and cancels a task once the token's answer is in hand.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from iqmetrix_dropship import AsyncDropshipClient
from iqmetrix_dropship._concurrency import AsyncCondition
from iqmetrix_dropship.emulator import Emulator, EmulatorServer


class CancelAtTheToken(httpx.AsyncBaseTransport):
    """httpx's transport; once, when the token's answer has been read, ``victim()`` is cancelled."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.victim: asyncio.Task[Any] | None = None
        self.armed = True

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if self.armed and request.url.path.endswith("/oauth2/token"):
            self.armed = False
            await response.aread()
            (self.victim or asyncio.current_task()).cancel()  # type: ignore[union-attr]
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


@pytest.fixture
def served() -> Iterator[tuple[Emulator, EmulatorServer]]:
    emulator = Emulator(orders=2, seed=3)
    with emulator.serve() as server:
        yield emulator, server


def _client(emulator: Emulator, server: EmulatorServer, http: httpx.AsyncClient) -> AsyncDropshipClient:
    return AsyncDropshipClient(
        **emulator.credentials.as_dict(),
        base_url=server.base_url,
        accounts_url=server.base_url,
        http_client=http,
        timeout=3,
        max_retries=0,
    )


def test_a_call_cancelled_as_its_token_arrives_leaves_the_token_to_the_next_call(
    served: tuple[Emulator, EmulatorServer],
) -> None:
    """Before: the cache stayed "fetching" for ever, and every later call waited out its timeout."""
    emulator, server = served

    async def scenario() -> None:
        transport = CancelAtTheToken()
        async with httpx.AsyncClient(transport=transport) as http, _client(emulator, server, http) as client:
            with pytest.raises(asyncio.CancelledError):
                await client.get_notifications()
            page = await client.get_notifications()  # the token the cancelled call fetched
            assert page.entries
            tokens = [path for method, path, _ in emulator.request_log() if path.endswith("/oauth2/token")]
            assert len(tokens) == 1  # not fetched again: the cache learnt the cancelled call's token

    asyncio.run(scenario())


def test_a_waiter_cancelled_as_the_token_arrives_ends_cancelled_and_the_rest_get_the_token(
    served: tuple[Emulator, EmulatorServer],
) -> None:
    """A cancelled waiter ends cancelled, nothing else; the fetch it waited for serves the rest.
    (The review's ``RuntimeError``, a waiter cancelled while it took a lock back, needs the
    cancellation to land inside that re-acquisition: the condition now holds no lock at all.)"""
    emulator, server = served

    async def scenario() -> None:
        transport = CancelAtTheToken()
        async with httpx.AsyncClient(transport=transport) as http, _client(emulator, server, http) as client:
            fetcher = asyncio.ensure_future(client.get_notifications())
            await asyncio.sleep(0)  # the fetcher starts the token fetch
            waiters = [asyncio.ensure_future(client.get_notifications()) for _ in range(5)]
            transport.victim = waiters[2]
            outcomes = await asyncio.gather(fetcher, *waiters, return_exceptions=True)
        assert isinstance(outcomes[3], asyncio.CancelledError), outcomes[3]
        others = outcomes[:3] + outcomes[4:]
        assert all(not isinstance(outcome, BaseException) for outcome in others), others

    asyncio.run(scenario())


def test_the_token_condition_serves_one_event_loop_after_another() -> None:
    """No event outlives its wait: one made in a loop cannot be awaited in the next."""
    condition = AsyncCondition()

    async def wait_in_vain() -> None:
        async with condition:
            await condition.wait(0.01)  # nobody notifies: it gives up

    asyncio.run(wait_in_vain())
    asyncio.run(wait_in_vain())  # a new loop

    async def notified() -> None:
        async with condition:
            waiter = asyncio.ensure_future(condition.wait(10))
            await asyncio.sleep(0)  # the waiter is waiting
            condition.notify_all()
            await asyncio.wait_for(waiter, 5)

    asyncio.run(notified())
