"""The feed follower: every entry not yet handled, oldest first, none skipped, across restarts.

Both followers drive the same plan (``_protocol/follow.py``); they differ only in how they wait.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import aclosing, closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from .._exceptions import APIConnectionError, APIError, RateLimitError, ServerError
from .._protocol.endpoints import read_feed, read_scan
from .._protocol.follow import Deliver, ReadAhead, ReadPage, SavePosition, ScanPage, Start, poll_plan
from .._protocol.http import Request, Response
from .._text import preview
from ..models import FeedEntry
from ._checkpoint import CheckpointStore, SQLiteCheckpoint

if TYPE_CHECKING:
    from .._async_client import AsyncDropshipClient
    from .._client import DropshipClient

__all__ = ["AsyncFeedFollower", "FeedFollower", "open_checkpoint"]

logger = logging.getLogger("iqmetrix_dropship.follow")

# Worth waiting out: the next poll may succeed. Anything else (a lost cursor, a hostile feed,
# refused credentials) needs a person, so run() stops and raises it.
TRANSIENT_ERRORS = (APIConnectionError, ServerError, RateLimitError)


def open_checkpoint(checkpoint: CheckpointStore | str | os.PathLike[str]) -> CheckpointStore:
    """A store from a path (SQLite) or a store object.

    Raises ``CheckpointError`` for a store that cannot be used, before anything is delivered: an
    order ledger's file given as a plain checkpoint is one (pass the ``OrderLedger`` instead)."""
    if isinstance(checkpoint, (str, os.PathLike)):
        store = SQLiteCheckpoint(Path(checkpoint))
        if store.is_ledger_file:
            store.close()
            store._refuse_ledger()
        return store
    if not isinstance(checkpoint, CheckpointStore):
        raise TypeError(f"checkpoint must be a path or a CheckpointStore, got {type(checkpoint).__name__}")
    if isinstance(checkpoint, SQLiteCheckpoint):
        checkpoint._refuse_ledger()
    return checkpoint


def _check_start(start: str) -> Start:
    if start not in ("earliest", "latest"):
        raise ValueError(f"start must be 'earliest' or 'latest', got {preview(start)}")
    return "earliest" if start == "earliest" else "latest"


def _log_handler_failure(entry: FeedEntry) -> None:
    logger.exception("the handler failed on entry %s; it will be delivered again", entry.id)


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT / SIGTERM set ``stop``: ``run`` ends after the entry in hand (main thread only).
    A second signal acts as usual (Ctrl-C twice aborts at once: still safe, every entry is
    committed whole)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, Any] = {}

    def ask_to_stop(signum: int, frame: object) -> None:
        logger.info("received %s: stopping after the entry in hand", signal.Signals(signum).name)
        stop.set()
        signal.signal(signum, previous[signum])  # a second signal acts as usual

    for signum in (signal.SIGINT.value, signal.SIGTERM.value):
        previous[signum] = signal.signal(signum, ask_to_stop)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


class _Follower:
    """What both followers share: the checkpoint, where to start, and closing what they opened."""

    def __init__(self, checkpoint: CheckpointStore | str | os.PathLike[str], start: str) -> None:
        self._owns_checkpoint = isinstance(checkpoint, (str, os.PathLike))
        self.checkpoint = open_checkpoint(checkpoint)
        self.start = _check_start(start)

    def close(self) -> None:
        """Close the checkpoint store if the follower opened it from a path (a store you passed
        in stays yours to close). Each poll also releases it when it ends: a follower made from
        a path holds no open file between polls."""
        close = getattr(self.checkpoint, "close", None)
        if self._owns_checkpoint and callable(close):
            close()

    def __enter__(self: _F) -> _F:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


_F = TypeVar("_F", bound=_Follower)


class FeedFollower(_Follower):
    """Follows the feed for ``DropshipClient.follow``. Use from one thread at a time.

    ::

        follower = client.follow(checkpoint="dropship-state.db")
        for entry in follower.poll():   # every entry not yet handled, oldest first
            handle(entry)               # the cursor moves past it when the loop asks for the next

    ``read_ahead`` pages (4 by default; 0 turns it off) of a forward read are fetched ahead on
    worker threads while the current one is parsed and handled: the entries still come one by
    one, in order, on the caller's thread.
    """

    def __init__(
        self,
        client: DropshipClient,
        checkpoint: CheckpointStore | str | os.PathLike[str],
        *,
        start: str = "earliest",
        read_ahead: int = 4,
    ) -> None:
        super().__init__(checkpoint, start)
        self._client = client
        self.read_ahead = read_ahead

    def poll(self) -> Iterator[FeedEntry]:
        """Entries not yet handled, oldest first, across archive pages.

        An entry is committed (with the cursor) when the loop asks for the next one, or when the
        loop ends: an exception or ``break`` in the loop body leaves it to be delivered again.
        """
        for step in self._deliveries():
            yield step.entry
            self.checkpoint.advance(step.cursor, step.entry)

    def run(
        self,
        handler: Callable[[FeedEntry], object],
        *,
        interval: float = 30.0,
        stop: threading.Event | None = None,
    ) -> None:
        """Poll forever, calling ``handler`` for each new entry, until ``stop`` is set or the
        process gets SIGINT / SIGTERM; the entry in hand is finished and committed first.

        A handler that raises is logged and its entry delivered again at the next poll; a
        transient API failure (no answer, 429, 5xx) is logged and the poll retried after
        ``interval``. Anything else (``CursorLostError``, ``FeedParseError``, ``TokenError``, ...)
        needs a person: it is raised.
        """
        stop = stop or threading.Event()
        with stop_on_signals(stop):
            while not stop.is_set():
                try:
                    for step in self._deliveries():
                        try:
                            handler(step.entry)
                        except Exception:
                            _log_handler_failure(step.entry)
                            break  # the entry stays unhandled: delivered again at the next poll
                        self.checkpoint.advance(step.cursor, step.entry)
                        if stop.is_set():
                            return
                except TRANSIENT_ERRORS as error:
                    logger.warning("poll failed, retrying in %.0f s: %s", interval, error)
                stop.wait(interval)

    def _deliveries(self) -> Iterator[Deliver]:
        plan = poll_plan(self._client.config, self.checkpoint.load(), self.start)
        answer: Any = None
        failure: APIError | None = None
        with _ReadAhead(self._client._send, window=self.read_ahead) as ahead, closing(self):
            while True:
                try:
                    step = plan.send(answer) if failure is None else plan.throw(failure)
                except StopIteration:
                    return
                answer = failure = None
                try:
                    if isinstance(step, ScanPage):
                        answer = read_scan(self._client._send(step.request))
                    elif isinstance(step, ReadAhead):
                        ahead.plan(step.requests)
                    elif isinstance(step, ReadPage):
                        answer = read_feed(ahead.take(step.request))
                    elif isinstance(step, SavePosition):
                        self.checkpoint.save(step.cursor)
                    else:
                        yield step
                except APIError as error:
                    failure = error  # the plan says what it means (a lost cursor, or itself)


class _ReadAhead:
    """Fetches up to ``window`` pages of the forward read ahead of the parse, on worker threads.

    Over the internet a page is mostly waiting (tens of ms) and parsing it is about 1.5 ms, so a
    backfill spends its time on the network unless the next pages are already on their way. The
    window bounds memory (a page is ~120 KB) and the load put on the API. The client is
    thread-safe; a fetch that fails raises when its page is taken, in the caller's thread.
    """

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

    def __enter__(self) -> _ReadAhead:
        return self

    def __exit__(self, *exc_info: object) -> None:
        # The consumer stopped (done, failed or broke out): drop what is queued; fetches already
        # on the wire end on their own, bounded by the client's timeout.
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


class AsyncFeedFollower(_Follower):
    """Follows the feed for ``AsyncDropshipClient.follow``; the async twin of ``FeedFollower``.

    The checkpoint store is called directly from the event loop: SQLite commits are local and short.
    """

    def __init__(
        self,
        client: AsyncDropshipClient,
        checkpoint: CheckpointStore | str | os.PathLike[str],
        *,
        start: str = "earliest",
    ) -> None:
        super().__init__(checkpoint, start)
        self._client = client

    async def poll(self) -> AsyncGenerator[FeedEntry, None]:
        """As ``FeedFollower.poll``, as an async iterator."""
        async with aclosing(self._deliveries()) as steps:
            async for step in steps:
                yield step.entry
                self.checkpoint.advance(step.cursor, step.entry)

    async def run(
        self,
        handler: Callable[[FeedEntry], object] | Callable[[FeedEntry], Awaitable[object]],
        *,
        interval: float = 30.0,
        stop: anyio.Event | None = None,
    ) -> None:
        """As ``FeedFollower.run``; ``handler`` may be a coroutine function. Stops on ``stop``,
        on SIGINT / SIGTERM (main thread) after the entry in hand. Cancelled, it stops at once:
        the entry in hand is not committed and comes again at the next poll."""
        stop = stop or anyio.Event()
        failure: BaseException | None = None
        async with anyio.create_task_group() as group:
            if threading.current_thread() is threading.main_thread():
                group.start_soon(_watch_signals, stop)
            try:
                await self._poll_until(stop, handler, interval)
            except BaseException as error:
                # Raised below, as itself: an error, KeyboardInterrupt, SystemExit or a cancellation
                # from outside leaving the task group would reach the caller as an ExceptionGroup,
                # which `except KeyboardInterrupt` does not catch.
                failure = error
            group.cancel_scope.cancel()
        if failure is not None:
            raise failure

    async def _poll_until(
        self,
        stop: anyio.Event,
        handler: Callable[[FeedEntry], object] | Callable[[FeedEntry], Awaitable[object]],
        interval: float,
    ) -> None:
        while not stop.is_set():
            try:
                async with aclosing(self._deliveries()) as steps:
                    async for step in steps:
                        try:
                            result = handler(step.entry)
                            if isinstance(result, Awaitable):
                                await result
                        except Exception:
                            _log_handler_failure(step.entry)
                            break  # the entry stays unhandled: delivered again at the next poll
                        self.checkpoint.advance(step.cursor, step.entry)
                        if stop.is_set():
                            return
            except TRANSIENT_ERRORS as error:
                logger.warning("poll failed, retrying in %.0f s: %s", interval, error)
            with anyio.move_on_after(interval):
                await stop.wait()

    async def _deliveries(self) -> AsyncGenerator[Deliver, None]:
        plan = poll_plan(self._client.config, self.checkpoint.load(), self.start)
        answer: Any = None
        failure: APIError | None = None
        with closing(self):
            while True:
                try:
                    step = plan.send(answer) if failure is None else plan.throw(failure)
                except StopIteration:
                    return
                answer = failure = None
                try:
                    if isinstance(step, ScanPage):
                        answer = read_scan(await self._client._send(step.request))
                    elif isinstance(step, ReadAhead):
                        pass  # sequential here; an async caller runs its own concurrency
                    elif isinstance(step, ReadPage):
                        answer = read_feed(await self._client._send(step.request))
                    elif isinstance(step, SavePosition):
                        self.checkpoint.save(step.cursor)
                    else:
                        yield step
                except APIError as error:
                    failure = error  # the plan says what it means (a lost cursor, or itself)


async def _watch_signals(stop: anyio.Event) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for signum in signals:
            logger.info("received %s: stopping after the entry in hand", signal.Signals(signum).name)
            stop.set()
            return
