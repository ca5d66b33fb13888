"""The feed follower: every entry not yet handled, oldest first, none skipped, across restarts.

It drives the plan of one poll (``_protocol/follow.py``) with a send function and the client's
configuration, not the client itself: the retries, tokens and timeouts are the send function's.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any, TypeVar

from .. import _telemetry as telemetry
from .._concurrency import (
    AsyncEvent,
    async_blocking,
    async_call_handler,
    async_shield,
    async_stop_on_signals,
    async_wait_events,
)
from .._exceptions import APIError, LeaseLostError
from .._protocol.config import ClientConfig
from .._protocol.feed import read_scan
from .._protocol.follow import Deliver, ReadAhead, ReadPage, SavePosition, ScanPage, poll_plan
from .._protocol.http import AsyncSend
from ..feed import PageScan
from ..follow._checkpoint import CheckpointStore
from ..follow._read_ahead import DEFAULT_KEEP_BYTES, AsyncPrefetcher
from ..follow._shared import TRANSIENT_ERRORS, AsyncHandler, FollowerBase, log_handler_failure, logger
from ..models import FeedEntry

__all__ = ["AsyncFeedFollower"]

T = TypeVar("T")


class AsyncFeedFollower(FollowerBase):
    """Follows the feed; made by ``client.follow(checkpoint=...)``. Use it from one thread or task
    at a time (the client behind it may be shared).

    ::

        follower = client.follow(checkpoint="dropship-state.db")
        async for entry in follower.poll():  # every entry not yet handled, oldest first
            handle(entry)  # the cursor moves past it when the loop asks for the next one

    A poll walks back from the current page to the cursor's, then reads forward, oldest first.
    The forward read takes the pages the walk fetched from memory (or, past 8 MiB, from an
    unlinked temporary file), up to ``keep_pages_bytes`` (256 MiB; 0 fetches each page again),
    parsed already when the network was slower than the parse (each page is parsed while the
    walk's next request travels), and ``read_ahead`` pages (4 by default; 0 turns it off) are
    read and parsed ahead of the caller: by worker threads in the sync follower, in batches in
    the async one (see ``follow/_read_ahead.py``); the entries still come one by one, in order,
    to the caller. The checkpoint store is called directly when it is local (SQLite commits are short), and on a
    worker thread when it talks to a server (PostgreSQL: round trips, a lock to wait for), so
    that the async follower never holds up its event loop on the database.
    """

    def __init__(
        self,
        send: AsyncSend,
        config: ClientConfig,
        checkpoint: CheckpointStore | str | os.PathLike[str],
        *,
        start: str = "earliest",
        read_ahead: int = 4,
    ) -> None:
        super().__init__(checkpoint, start)
        self._send = send
        self._config = config
        self.read_ahead = read_ahead
        self.keep_pages_bytes = DEFAULT_KEEP_BYTES
        self._wakeup: AsyncEvent | None = None
        self._wake_asked = False

    def wake(self) -> None:
        """Poll now: ends ``run``'s wait before the next poll (a webhook's wake-up call). Several
        calls before that poll starts make one poll. The sync follower's may be called from any
        thread; the async one's from its event loop (from another thread, through
        ``anyio.from_thread.run_sync``)."""
        self._wake_asked = True
        if self._wakeup is not None:
            self._wakeup.set()

    async def poll(self) -> AsyncIterator[FeedEntry]:
        """Entries not yet handled, oldest first, across archive pages.

        An entry is committed (with the cursor) when the loop asks for the next one, or when the
        loop ends: an exception or ``break`` in the loop body leaves it to be delivered again.
        With a store shared by replicas (PostgreSQL), a replica that does not lead delivers
        nothing, and one whose lease is taken over mid-poll raises ``LeaseLostError``.
        """
        async with contextlib.aclosing(self._deliveries()) as steps:
            async for step in steps:
                yield step.entry
                await self._advance(step)
                self.handled(step.entry)

    async def run(self, handler: AsyncHandler, *, interval: float = 30.0, stop: AsyncEvent | None = None) -> None:
        """Poll forever, calling ``handler`` for each new entry, until ``stop`` is set or the process
        gets SIGINT / SIGTERM (main thread); the entry in hand is finished and committed first.

        A handler that raises is logged and its entry delivered again at the next poll; a
        transient failure (no answer, 429, 5xx, the checkpoint's database away) is logged and the
        poll retried after ``interval``. With a store shared by replicas (PostgreSQL), a replica
        that does not lead stands by and tries again every third of a lease, and one whose lease
        was taken over steps down (``LeaseLostError``) and stands by. Anything else
        (``CursorLostError``, ``FeedParseError``, ``TokenError``, an unusable checkpoint, ...)
        needs a person: it is raised. So are ``KeyboardInterrupt``, ``SystemExit`` and a
        cancellation, as themselves; the entry in hand is then not committed and comes again.
        """
        stop = stop or AsyncEvent()
        async with async_stop_on_signals(stop):
            while not stop.is_set():
                self._wakeup = AsyncEvent()
                self._wake_asked = False  # a wake-up from here on asks for the poll after this one
                try:
                    async with contextlib.aclosing(self._deliveries()) as steps:
                        async for step in steps:
                            try:
                                await async_call_handler(handler, step.entry)
                            except Exception:
                                log_handler_failure(step.entry)
                                break  # the entry stays unhandled: delivered again at the next poll
                            await self._advance(step)
                            self.handled(step.entry)
                            if stop.is_set():
                                return
                except TRANSIENT_ERRORS as error:
                    logger.warning("poll failed, retrying in %.0f s: %s", interval, error)
                except LeaseLostError as error:
                    self.leading = False
                    logger.warning("%s", error)
                if not self._wake_asked:
                    await async_wait_events(
                        stop, self._wakeup, interval if self.leading else self.standby_wait(interval)
                    )

    async def _store(self, call: Callable[..., T], *args: Any) -> T:
        """A call to the checkpoint store: on a worker thread if the store talks to a server."""
        if self.store_is_remote:
            return await async_blocking(call, *args)
        return call(*args)

    async def _scan(self, step: ScanPage, ahead: AsyncPrefetcher) -> PageScan:
        """A page of the walk back, read cheaply, and kept for the forward read."""
        started = time.perf_counter()
        # Once the request is out, the page kept last is parsed while the answer travels.
        response = await self._send(dataclasses.replace(step.request, on_sent=ahead.waiting))
        fetch_seconds = time.perf_counter() - started
        scan = read_scan(response, entry_ids=step.entry_ids)
        if scan.page_id is not None:
            ahead.keep(scan.page_id, response, fetch_seconds)
        return scan

    async def _deliveries(self) -> AsyncGenerator[Deliver, None]:
        poll = telemetry.poll_span(self.gauges.name)
        outcome = "failed"
        try:
            if not await self._store(self.lead):
                outcome = "standby"
                return  # another replica leads: it delivers, this one stands by
            async with AsyncPrefetcher(self._send, self.read_ahead, self.keep_pages_bytes) as ahead:
                plan = poll_plan(self._config, await self._store(self.checkpoint.load), self.start)
                answer: Any = None
                failure: APIError | None = None
                while True:
                    try:
                        step = plan.send(answer) if failure is None else plan.throw(failure)
                    except StopIteration:
                        outcome = "ok"
                        self.caught_up()
                        return
                    answer = failure = None
                    try:
                        if isinstance(step, ScanPage):
                            poll.pages += 1
                            answer = await self._scan(step, ahead)
                        elif isinstance(step, ReadAhead):
                            ahead.plan(step.requests, step.page_ids)
                        elif isinstance(step, ReadPage):
                            poll.pages += 1
                            answer = await ahead.take(step.request, step.page_id)
                        elif isinstance(step, SavePosition):
                            await self._store(self.checkpoint.save, step.cursor)
                        else:
                            poll.entries += 1
                            self.delivering(step.entry)
                            yield step
                    except APIError as error:
                        failure = error  # the plan says what it means (a lost cursor, or itself)
        except GeneratorExit:
            outcome = "stopped"  # the caller stopped early (break, a handler that raised)
            raise
        except Exception as error:
            poll.end(outcome, error)
            poll = telemetry.NO_POLL  # ended
            raise
        finally:
            poll.end(outcome)
            await self._finish_poll()

    async def _advance(self, step: Deliver) -> None:
        """Commit ``step``'s entry with its cursor. A store that holds entries back to write them
        together (``OrderLedger``: a page per transaction) says when taking one writes
        (``flush_due``): only that write goes to a worker thread, not every entry it takes."""
        due = getattr(self.checkpoint, "flush_due", None)
        if self.store_is_remote and callable(due):
            if due(step.cursor):
                await async_blocking(self.checkpoint.flush)  # type: ignore[attr-defined] # with flush_due
            self.checkpoint.advance(step.cursor, step.entry)  # only taken now: no wait on the database
        else:
            await self._store(self.checkpoint.advance, step.cursor, step.entry)

    async def _finish_poll(self) -> None:
        """When a poll ends, however it ends: what the store holds back (``OrderLedger``: a page
        per transaction) is written, on a worker thread when the store talks to a server; then
        ``end_poll``."""
        try:
            if self.store_is_remote:
                with async_shield():  # a cancelled poll still writes what its loop moved past
                    await self._store(self.flush_checkpoint)
        finally:
            self.end_poll()
