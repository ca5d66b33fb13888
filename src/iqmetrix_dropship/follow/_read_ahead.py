"""Reading the pages of a forward read ahead of the parse: the one seam of the follower that differs
by more than a name between the async source and its sync twin.

Over the internet a page is mostly waiting (tens of ms) and parsing it is about 1.5 ms, so a
backfill spends its time on the network unless several pages are on their way at once. Both keep
at most ``window`` pages in flight (memory: a page is ~120 KB; and the load put on the API), take
them strictly in the order planned, and raise a fetch's failure when its page is taken, in order.

- ``Prefetcher`` (sync): worker threads fetch up to ``window`` pages while the caller parses and
  handles the current one, so the network overlaps everything else. Threads cannot be cancelled:
  fetches already on the wire when the consumer stops end on their own, bounded by the timeout.
- ``AsyncPrefetcher``: when the page asked for is not fetched yet, it and the next ``window - 1``
  pages are fetched at once, on tasks, and ``take`` returns when they are all in. No task outlives
  ``take`` (structured concurrency): a consumer that stops early, or is cancelled, leaves nothing
  running. The network waits of a batch overlap one another, not the handling of the entries.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor

import anyio

from .._protocol.http import Request, Response

__all__ = ["AsyncPrefetcher", "Prefetcher"]


class Prefetcher:
    def __init__(self, send: Callable[[Request], Response], window: int) -> None:
        self._send = send
        self._window = window
        self._queue: deque[Request] = deque()
        self._pending: dict[str, Future[Response]] = {}
        self._pool: ThreadPoolExecutor | None = None

    def plan(self, requests: tuple[Request, ...]) -> None:
        if self._window > 0:
            self._queue.extend(requests)
            self._fill()

    def _fill(self) -> None:
        while self._queue and len(self._pending) < self._window:
            request = self._queue.popleft()
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._window, thread_name_prefix="dropship-read-ahead")
            self._pending[request.url] = self._pool.submit(self._send, request)

    def take(self, request: Request) -> Response:
        future = self._pending.pop(request.url, None)
        response = future.result() if future is not None else self._send(request)
        self._fill()
        return response

    def __enter__(self) -> Prefetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        # The consumer stopped (done, failed or broke out): drop what is queued; fetches already
        # on the wire end on their own, bounded by the client's timeout.
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


class AsyncPrefetcher:
    def __init__(self, send: Callable[[Request], Awaitable[Response]], window: int) -> None:
        self._send = send
        self._window = window
        self._queue: deque[Request] = deque()
        self._fetched: dict[str, Response | Exception] = {}

    def plan(self, requests: tuple[Request, ...]) -> None:
        if self._window > 0:
            self._queue.extend(requests)

    async def take(self, request: Request) -> Response:
        if self._queue and self._queue[0].url == request.url:
            self._queue.popleft()  # taken in the order planned: the page asked for leads the queue
        if request.url not in self._fetched:
            batch = [request]
            while self._queue and len(batch) < self._window:
                queued = self._queue.popleft()
                if queued.url != request.url and queued.url not in self._fetched:
                    batch.append(queued)
            async with anyio.create_task_group() as group:
                for each in batch:
                    group.start_soon(self._fetch, each)
        outcome = self._fetched.pop(request.url)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def _fetch(self, request: Request) -> None:
        try:
            self._fetched[request.url] = await self._send(request)
        except Exception as error:  # kept for take(): raised when its page's turn comes, in order
            self._fetched[request.url] = error

    async def __aenter__(self) -> AsyncPrefetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._fetched.clear()  # nothing is running: only answers no one took are dropped
