"""Every follower test runs against both followers.

``connect(emulator, **options)`` gives a ``DropshipClient``, or an ``AsyncDropshipClient`` behind a
facade that a test calls like the sync one: its coroutines run on an event loop in a portal
thread (one loop per test), ``poll()`` is a *lazy* iterator over the async generator (each ``next``
is one step of it, so "the cursor moves when the loop asks for the next entry" and ``break``
behave exactly as they do async), and ``run(handler, stop=threading.Event())`` sets the async
follower's own event when the test's is set.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import anyio
import anyio.from_thread
import httpx
import pytest

from iqmetrix_dropship import AsyncDropshipClient, AsyncFeedFollower
from iqmetrix_dropship.emulator import Emulator

from ..support import async_client_for, client_for


class LazyIterator:
    """A sync iterator over an async one, one step at a time, on the portal's loop."""

    def __init__(self, iterator: AsyncIterator[Any], portal: anyio.from_thread.BlockingPortal) -> None:
        self._iterator = iterator
        self._portal = portal

    def __iter__(self) -> LazyIterator:
        return self

    def __next__(self) -> Any:
        try:
            return self._portal.call(self._iterator.__anext__)
        except StopAsyncIteration:
            raise StopIteration from None

    def close(self) -> None:
        aclose = getattr(self._iterator, "aclose", None)
        if aclose is not None:
            self._portal.call(aclose)

    def __del__(self) -> None:
        # As a generator is closed when dropped (a `break`): the async one, on its own loop.
        with contextlib.suppress(Exception):  # the portal may be gone at the end of the test
            self.close()


class FollowerFacade:
    """An ``AsyncFeedFollower`` a test drives like a ``FeedFollower``."""

    def __init__(self, follower: AsyncFeedFollower, portal: anyio.from_thread.BlockingPortal) -> None:
        object.__setattr__(self, "inner", follower)
        object.__setattr__(self, "_portal", portal)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.inner, name, value)

    def poll(self) -> LazyIterator:
        return LazyIterator(self.inner.poll(), self._portal)

    def run(
        self, handler: Callable[[Any], object], *, interval: float = 30.0, stop: threading.Event | None = None
    ) -> None:
        async def scenario() -> None:
            stopped = anyio.Event()

            def handle(entry: Any) -> None:
                try:
                    handler(entry)
                finally:
                    if stop is not None and stop.is_set():
                        stopped.set()  # at once: the entry in hand is the last

            async def watch() -> None:  # between entries, or with none coming
                while stop is not None and not stop.is_set():  # noqa: ASYNC110 - a threading.Event
                    await anyio.sleep(0.01)
                stopped.set()

            failure: Exception | None = None
            async with anyio.create_task_group() as tasks:
                if stop is not None:
                    tasks.start_soon(watch)
                try:
                    await self.inner.run(handle, interval=interval, stop=stopped)
                except Exception as error:  # raised as itself, as the sync follower does, not in a group
                    failure = error
                tasks.cancel_scope.cancel()
            if failure is not None:
                raise failure

        self._portal.call(scenario)

    def __enter__(self) -> FollowerFacade:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.inner.close()


class ClientFacade:
    """An ``AsyncDropshipClient`` a test calls like a ``DropshipClient``."""

    def __init__(self, client: AsyncDropshipClient, portal: anyio.from_thread.BlockingPortal) -> None:
        self.inner = client
        self._portal = portal

    def follow(self, *args: Any, **kwargs: Any) -> FollowerFacade:
        return FollowerFacade(self.inner.follow(*args, **kwargs), self._portal)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if callable(attr) and name in ("get_notifications", "get_archive", "authenticate"):
            return lambda *a, **kw: self._portal.call(lambda: attr(*a, **kw))
        return attr


class Transport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """A transport over the emulator's in-process ones, for both clients: ``intercept(request)``
    may answer instead of the emulator (return a response) or let it answer (return None)."""

    def __init__(self, emulator: Emulator, intercept: Callable[[httpx.Request], httpx.Response | None]) -> None:
        self._sync = emulator.transport()
        self._async = emulator.async_transport()
        self._intercept = intercept

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._intercept(request) or self._sync.handle_request(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return self._intercept(request) or await self._async.handle_async_request(request)


Connect = Callable[..., AbstractContextManager[Any]]


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def connect(kind: str) -> Iterator[Connect]:
    """``with connect(emulator, transport=None, **options) as client``: a client of this test's kind."""
    with anyio.from_thread.start_blocking_portal() as portal:

        @contextmanager
        def make(emulator: Emulator, transport: Transport | None = None, **options: Any) -> Iterator[Any]:
            if kind == "sync":
                if transport is not None:
                    options["http_client"] = httpx.Client(transport=transport)
                with client_for(emulator, **options) as client:
                    yield client
                return
            if transport is not None:
                options["http_client"] = httpx.AsyncClient(transport=transport)

            async def build() -> AsyncDropshipClient:
                return async_client_for(emulator, **options)

            client = portal.call(build)
            try:
                yield ClientFacade(client, portal)
            finally:
                portal.call(client.aclose)

        yield make
