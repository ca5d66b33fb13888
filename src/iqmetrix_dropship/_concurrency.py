"""The seams between the async source and its generated sync twin: what differs by nature.

The async client, transport and follower (``_async/``) are written once; ``scripts/unasync.py``
generates the sync ones (``_sync/``) by renaming, among other tokens, each ``async_*`` /
``Async*`` name below to its plain twin. So each seam is a pair defined here, side by side:

======================  ===========================  ========================================
seam                    async (anyio)                sync
======================  ===========================  ========================================
the token condition     ``AsyncCondition``           ``Condition`` (``threading``)
a section that must     ``async_shield()``           ``shield()``: nothing can cancel it
finish when cancelled
a sleep                 ``async_sleep``              ``sleep``
one exchange's time     ``async_within``             ``within``: on a daemon worker thread,
limit                   (cancels at the deadline)    the caller stops waiting at the deadline
stopping a follower     ``AsyncEvent``,              ``Event``, ``wait_event``
                        ``async_wait_event``
SIGINT / SIGTERM        ``async_stop_on_signals``    ``stop_on_signals``
calling a handler       ``async_call_handler``       ``call_handler``
                        (awaits a coroutine)
a blocking call (the    ``async_blocking`` (on a     ``blocking``: a plain call
database driver)        worker thread)
======================  ===========================  ========================================

Reading ahead differs more (tasks in batches vs worker threads): it has its own module,
``follow/_read_ahead.py``.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import queue
import signal
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent import futures
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import anyio
    from anyio import Event as AsyncEvent

__all__ = [
    "AsyncClosing",
    "AsyncCondition",
    "AsyncEvent",
    "Closed",
    "Closing",
    "Condition",
    "Event",
    "async_blocking",
    "async_call_handler",
    "async_shield",
    "async_sleep",
    "async_stop_on_signals",
    "async_wait_event",
    "async_wait_events",
    "async_within",
    "blocking",
    "call_handler",
    "shield",
    "sleep",
    "stop_on_signals",
    "wait_event",
    "wait_events",
    "within",
]

logger = logging.getLogger("iqmetrix_dropship.follow")
T = TypeVar("T")

# -- conditions, shields, sleeps -------------------------------------------------------------------


class AsyncCondition:
    """The async twin of ``threading.Condition`` for the token cache, with no lock to hold.

    An event loop runs one task at a time, and a task is only interrupted where it awaits: the
    code between two awaits is atomic already, so entering and leaving do nothing. Holding a real
    lock was the danger: asyncio's own ``task.cancel()`` (``asyncio.wait_for``, ``asyncio.timeout``)
    goes through anyio's shields, so a cancellation could cut the lock's re-acquisition after a
    wait (and leaving then released a lock the task did not hold), or the acquisition before the
    token cache learnt a fetch's outcome (and every later call then waited for a fetch that would
    never end). ``wait`` waits for the next ``notify_all``, or ``timeout`` seconds, on an event of
    its own, registered when it is called, before it first suspends: a notification between the
    caller's check and its wait is never lost, and no event outlives its wait (an event belongs to
    the loop that made it; a client may be used by one ``asyncio.run`` after another). (anyio, and
    the rest of the async seams, load with the first async object: importing the sync client does
    not import anyio.)"""

    def __init__(self) -> None:
        self._waiting: list[anyio.Event] = []

    async def __aenter__(self) -> AsyncCondition:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None

    async def wait(self, timeout: float | None = None) -> None:
        import anyio  # noqa: PLC0415 - see the class docstring

        notified = anyio.Event()
        self._waiting.append(notified)
        try:
            with anyio.move_on_after(math.inf if timeout is None else timeout):
                await notified.wait()
        finally:
            with contextlib.suppress(ValueError):  # already taken by notify_all
                self._waiting.remove(notified)

    def notify_all(self) -> None:
        waiting, self._waiting = self._waiting, []
        for notified in waiting:
            notified.set()


Condition = threading.Condition


def async_shield() -> anyio.CancelScope:
    import anyio  # noqa: PLC0415 - loads with the first async call (see AsyncCondition)

    return anyio.CancelScope(shield=True)


shield = contextlib.nullcontext


async def async_sleep(delay: float) -> None:
    import anyio  # noqa: PLC0415 - loads with the first async call (see AsyncCondition)

    await anyio.sleep(delay)


sleep = time.sleep


class Closed(Exception):  # noqa: N818 - a signal between two modules, never seen outside
    """``within`` stopped waiting because its transport was closed."""


class Closing:
    """Set when a sync transport closes: calls waiting in ``within`` stop waiting at once (httpx's
    ``close()`` does not wake a thread blocked reading a socket)."""

    def __init__(self) -> None:
        self.future: futures.Future[None] = futures.Future()

    def set(self) -> None:
        with contextlib.suppress(futures.InvalidStateError):
            self.future.set_result(None)


class AsyncClosing:
    """The async twin of ``Closing``: nothing to do, closing an ``httpx.AsyncClient`` ends the
    requests in flight itself."""

    def set(self) -> None:
        return None


async def async_within(
    seconds: float | None,
    abort: Callable[[], None],
    call: Callable[[], Awaitable[T]],
    closing: AsyncClosing | None = None,
) -> T:
    """``await call()``, cancelled after ``seconds``: then ``TimeoutError``. (Cancelling is the
    abort: ``abort`` and ``closing`` are the sync twin's.)"""
    import anyio  # noqa: PLC0415 - loads with the first async call (see AsyncCondition)

    with anyio.move_on_after(math.inf if seconds is None else seconds):
        return await call()
    raise TimeoutError


def within(
    seconds: float | None, abort: Callable[[], None], call: Callable[[], T], closing: Closing | None = None
) -> T:
    """``call()``, waited for at most ``seconds``: then ``abort()`` and ``TimeoutError``; or until
    ``closing`` is set: then ``abort()`` and ``Closed``.

    A thread cannot be cancelled, and httpx's timeouts are per read: a server that trickles its
    headers one byte at a time would hold a call for as long as it likes. So the call runs on one
    of ``_WORKERS``' daemon threads and the caller stops waiting at its deadline; ``abort`` cuts
    the exchange short where it can (it shuts the socket once the response has one), and the
    worker ends on its own otherwise (each read is bounded by the call's timeout).
    """
    if seconds is None:
        return call()
    future = _WORKERS.submit(call)
    waited: list[futures.Future[Any]] = [future] if closing is None else [future, closing.future]
    done, _ = futures.wait(waited, timeout=seconds, return_when=futures.FIRST_COMPLETED)
    if future in done:
        return future.result()
    future.cancel()
    abort()
    if closing is not None and closing.future.done():
        raise Closed
    raise TimeoutError


class _DaemonWorkers:
    """Daemon threads for ``within``: a call stuck on a server after its caller gave up never keeps
    the process from exiting (``ThreadPoolExecutor`` joins its threads at exit). Idle threads wait
    for the next call; one is started when none is idle, so callers never queue behind each other.
    Past ``MAX_IDLE`` idle threads, a thread whose call is done ends: a burst of concurrent calls
    does not leave as many threads behind it."""

    MAX_IDLE = 8

    def __init__(self) -> None:
        self._calls: queue.SimpleQueue[tuple[Callable[[], Any], futures.Future[Any]]] = queue.SimpleQueue()
        self._idle = 0
        self._lock = threading.Lock()

    def submit(self, call: Callable[[], T]) -> futures.Future[T]:
        future: futures.Future[T] = futures.Future()
        with self._lock:
            start = self._idle == 0
            if not start:
                self._idle -= 1  # an idle thread will take this call
        if start:
            threading.Thread(target=self._work, name="dropship-http", daemon=True).start()
        self._calls.put((call, future))
        return future

    def _work(self) -> None:
        while True:
            call, future = self._calls.get()
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(call())
                except BaseException as error:  # handed to the caller, who raises it
                    future.set_exception(error)
            del call, future  # nothing of the last call is kept alive while idle
            with self._lock:
                if self._idle >= self.MAX_IDLE:
                    return  # enough threads wait already; submit() never counted on this one
                self._idle += 1


_WORKERS = _DaemonWorkers()


# -- stopping a follower -----------------------------------------------------------------------


Event = threading.Event


def __getattr__(name: str) -> Any:
    if name == "AsyncEvent":  # lazily, as the other async seams: anyio loads with the async side
        import anyio  # noqa: PLC0415 - loads with the first async call (see AsyncCondition)

        return anyio.Event
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), "AsyncEvent"})


async def async_wait_event(event: anyio.Event, timeout: float) -> None:
    """Wait until ``event`` is set, or ``timeout`` seconds."""
    import anyio  # noqa: PLC0415 - loads with the first async call (see AsyncCondition)

    with anyio.move_on_after(timeout):
        await event.wait()


def wait_event(event: threading.Event, timeout: float) -> None:
    event.wait(timeout)


async def async_wait_events(first: anyio.Event, second: anyio.Event, timeout: float) -> None:
    """Wait until either event is set, or ``timeout`` seconds."""
    import anyio  # noqa: PLC0415 - loads with the first async call (see AsyncCondition)

    with anyio.move_on_after(timeout):
        async with anyio.create_task_group() as group:

            async def wait(event: anyio.Event) -> None:
                await event.wait()
                group.cancel_scope.cancel()

            group.start_soon(wait, first)
            group.start_soon(wait, second)


_WAKE_SLICE = 0.05  # seconds: how late a wake-up may be seen (threading has no wait on two events)


def wait_events(first: threading.Event, second: threading.Event, timeout: float) -> None:
    """Wait until either event is set, or ``timeout`` seconds: on ``first`` (at once when it is
    set), looking at ``second`` every ``_WAKE_SLICE``."""
    deadline = time.monotonic() + timeout
    while not second.is_set():
        remaining = deadline - time.monotonic()
        if remaining <= 0 or first.wait(min(remaining, _WAKE_SLICE)):
            return


def _ask_to_stop(signum: int) -> None:
    logger.info("received %s: stopping after the entry in hand", signal.Signals(signum).name)


@contextlib.contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT / SIGTERM set ``stop``: ``run`` ends after the entry in hand (main thread only).
    A second signal acts as usual (Ctrl-C twice aborts at once: still safe, every entry is
    committed whole)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, Any] = {}

    def handler(signum: int, frame: object) -> None:
        _ask_to_stop(signum)
        stop.set()
        signal.signal(signum, previous[signum])  # a second signal acts as usual

    for signum in (signal.SIGINT.value, signal.SIGTERM.value):
        previous[signum] = signal.signal(signum, handler)
    try:
        yield
    finally:
        for signum, handler_before in previous.items():
            signal.signal(signum, handler_before)


@contextlib.asynccontextmanager
async def async_stop_on_signals(stop: anyio.Event) -> AsyncIterator[None]:
    """As ``stop_on_signals``, with a task that watches for the signals while the body runs.

    Whatever ends the body (an error, ``KeyboardInterrupt``, ``SystemExit``, a cancellation from
    outside) is raised as itself once the watcher is gone, never inside an exception group, which
    ``except KeyboardInterrupt`` would not catch.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    import anyio  # noqa: PLC0415 - loads with the first async call (see AsyncCondition)

    failure: BaseException | None = None
    async with anyio.create_task_group() as group:
        group.start_soon(_watch_signals, stop)
        try:
            yield
        except BaseException as error:
            failure = error
        group.cancel_scope.cancel()
    if failure is not None:
        raise failure


async def _watch_signals(stop: anyio.Event) -> None:
    import anyio  # noqa: PLC0415 - loads with the first async call (see AsyncCondition)

    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for signum in signals:
            _ask_to_stop(signum)
            stop.set()
            return


# -- blocking calls (a database driver that has no async side) ------------------------------------


async def async_blocking(call: Callable[..., T], *args: Any) -> T:
    """``call(*args)`` on a worker thread, so that the event loop goes on meanwhile."""
    import anyio  # noqa: PLC0415 - loads with the first async call (see AsyncCondition)

    return await anyio.to_thread.run_sync(functools.partial(call, *args))


def blocking(call: Callable[..., T], *args: Any) -> T:
    return call(*args)


# -- handlers ------------------------------------------------------------------------------------


async def async_call_handler(handler: Callable[[T], object] | Callable[[T], Awaitable[object]], item: T) -> None:
    """Call ``handler``; await what it returns if it is a coroutine function's."""
    result = handler(item)
    if isinstance(result, Awaitable):
        await result


def call_handler(handler: Callable[[T], object], item: T) -> None:
    handler(item)
