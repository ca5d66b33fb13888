"""The forward read of a poll: pages kept from the walk back, read ahead and parsed off the
consumer's path. The one seam of the follower that differs by more than a name between the async
source and its sync twin.

A poll walks back from the current page to the cursor's, then reads the same pages forward
(``_protocol/follow.py``). Three things keep that forward read close to the network's own speed:

- **No page is fetched twice.** ``KeptPages`` keeps the bytes the walk back fetched, up to
  ``keep_bytes`` (the first ``IN_MEMORY_BYTES`` in memory, the rest in an unlinked temporary file
  readable by this user only, gone when the poll ends); the forward read takes each page from
  there, and fetches again only what did not fit (or could not be written: a full disk).
- **Pages are parsed in the walk's shadow** when the network is slower than the parse (a WAN):
  once the walk's next request is on the wire (``Request.on_sent``, from httpcore's trace), and
  not before (the parse would hold the GIL the request needs to go out), ``KeptPages`` parses the
  page it kept last, on a thread of its own, and keeps the parsed page pickled in place of its
  bytes (a third of their size for the usual pages; a page whose pickle would be larger, small
  events say, stays bytes, so the bounds below hold); the forward read then only unpickles it. Where a round trip is
  shorter than a parse (loopback) the parse would only hold up the walk's next answer, so a page
  is parsed only when the last round trip outlasted the last parse (asked again now and then). A
  page that fails to parse is kept as it came: the forward read parses it again and raises in its
  turn, as before.
- **Pages are parsed ahead**, on the workers that fetch them: lxml parses with the GIL released,
  so a page's parse overlaps the building of another's models and the consumer's handling.
- **At most ``window`` pages are ahead** (memory: a parsed page of 50 entries is about 1 MB),
  taken strictly in the order planned; a page's failure (a fetch or a parse) is raised when its
  turn comes, in order, never earlier nor later.

- ``Prefetcher`` (sync): worker threads read up to ``window`` pages ahead while the caller handles
  the current one. Threads cannot be cancelled: reads already running when the consumer stops end
  on their own, bounded by the timeout.
- ``AsyncPrefetcher``: when the page asked for is not read yet, it and the next ``window - 1``
  pages are read at once, on tasks (parsed on worker threads), and ``take`` returns when they are
  all in. No task outlives ``take`` (structured concurrency): a consumer that stops early, or is
  cancelled, leaves nothing running.

Peak memory of a poll, whatever its length: ``IN_MEMORY_BYTES`` of kept pages, plus ``window + 1``
parsed pages and their bytes (about 1.2 MB a page of 50 entries), plus the one page being parsed
in the walk's shadow.
"""

from __future__ import annotations

import contextlib
import pickle
import tempfile
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import IO, TYPE_CHECKING

from .._concurrency import async_blocking
from .._protocol.feed import parse_page
from .._protocol.http import Request, Response

if TYPE_CHECKING:
    from ..models import FeedPage

__all__ = ["DEFAULT_KEEP_BYTES", "IN_MEMORY_BYTES", "AsyncPrefetcher", "KeptPages", "Prefetcher"]

DEFAULT_KEEP_BYTES = 256 << 20
"""Bytes of walked pages a poll keeps for its forward read: 256 MiB, some 100,000 events. (Where
``TMPDIR`` is a tmpfs, the file's part is memory too: lower it, or point ``TMPDIR`` at a disk.)"""
IN_MEMORY_BYTES = 8 << 20
"""The part of them kept in memory (about 60 pages: every poll but a backfill); the rest goes to
a temporary file."""


class KeptPages:
    """Pages by page id, kept from the walk back for the forward read: each is taken once, as the
    bytes fetched or, when it was parsed in the walk's shadow, as the parsed page.

    ``put`` is called by one thread (the walk), ``take`` by the read-ahead workers, the parse in
    the walk's shadow runs on a thread of its own (one page at a time: one parsed page in memory).
    """

    def __init__(self, max_bytes: int = DEFAULT_KEEP_BYTES, in_memory: int = IN_MEMORY_BYTES) -> None:
        self._max_bytes = max(0, max_bytes)
        self._in_memory = min(in_memory, self._max_bytes)
        self._lock = threading.Lock()
        # page id -> (what is kept, parsed): the bytes fetched, or the parsed page pickled
        self._memory: dict[str, tuple[bytes, bool]] = {}
        self._memory_used = 0
        self._spilled: dict[str, tuple[int, int, bool]] = {}  # page id -> (offset, length, parsed)
        self._file: IO[bytes] | None = None
        self._file_end = 0
        self._parser: ThreadPoolExecutor | None = None
        self._to_parse: str | None = None  # the page to parse once the walk's next request is out
        self._parsing = False
        self._parse_seconds = 0.0  # how long the last parse in the walk's shadow took
        self._closed = False

    def put(self, page_id: str, data: bytes, fetch_seconds: float | None = None) -> None:
        """Keep ``data`` if it fits; silently not, otherwise (the page is fetched again).

        ``fetch_seconds``, how long fetching it took, says whether parsing it while the walk waits
        for the next page (``waiting``) is worth it (``None``: never)."""
        if type(data) is not bytes:
            data = bytes(data)  # what take() returns is bytes or a parsed page, nothing else
        size = len(data)
        with self._lock:
            if self._closed or page_id in self._memory or page_id in self._spilled:
                return
            if self._memory_used + size <= self._in_memory:
                self._memory[page_id] = (data, False)
                self._memory_used += size
            elif self._memory_used + self._file_end + size > self._max_bytes or not self._spill(page_id, data):
                return
            if fetch_seconds is None or self._parsing:
                return
            if fetch_seconds <= self._parse_seconds:
                # Round trips shorter than a parse (loopback): parsing would only hold up the
                # walk. Asked again now and then, should the round trips grow longer.
                self._parse_seconds *= 0.9
                return
            self._to_parse = page_id

    def waiting(self) -> Future[None] | None:
        """The walk's next request is on the wire: parse the page kept last meanwhile, if worth it
        (its future: done when the parsed page is kept, or the page was left as it came)."""
        with self._lock:
            page_id, self._to_parse = self._to_parse, None
            if page_id is None or self._parsing or self._closed:
                return None
            try:
                if self._parser is None:
                    self._parser = ThreadPoolExecutor(1, thread_name_prefix="dropship-parse-kept")
                future = self._parser.submit(self._parse_kept, page_id)
            except RuntimeError:  # no thread to be had (the interpreter shutting down): the forward read parses it
                return None
            self._parsing = True
            return future

    def _parse_kept(self, page_id: str) -> None:
        """Parse a kept page while the walk waits for the next one, and keep the parsed page."""
        try:
            with self._lock:
                where = self._spilled.get(page_id)
            data = self._read(page_id, remove=False)
            if data is None or data[1]:
                return
            raw = data[0]
            started = time.perf_counter()
            try:
                blob = pickle.dumps(parse_page(raw), protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # kept as it came: the forward read parses it again and raises in its turn
                return
            self._parse_seconds = time.perf_counter() - started
            if len(blob) > len(raw):
                return  # small events, say: the bytes are smaller, and the bounds are the bytes'
            with self._lock:
                # In place of the very bytes it was parsed from (not taken, nor kept anew meanwhile):
                # in memory, or over them in the file, which does not grow.
                if self._closed:
                    return
                kept = self._memory.get(page_id)
                if kept is not None:
                    if kept[0] is raw:
                        self._memory[page_id] = (blob, True)
                        self._memory_used += len(blob) - len(raw)
                elif where is not None and self._spilled.get(page_id) == where:
                    if self._write(where[0], blob):
                        self._spilled[page_id] = (where[0], len(blob), True)
                    else:  # the bytes may be half overwritten: forgotten, the page is fetched again
                        del self._spilled[page_id]
        finally:
            self._parsing = False

    def _spill(self, page_id: str, data: bytes) -> bool:
        if self._file is None:
            try:
                # Unlinked at once where the system allows it (O_TMPFILE on Linux), mode 0600:
                # the pages hold customers' names and addresses.
                # Unbuffered: a write that fails (a full disk) fails here, whole, and nothing is
                # left in a buffer to fail again later.
                self._file = tempfile.TemporaryFile(prefix="dropship-pages-", buffering=0)  # noqa: SIM115
            except OSError:
                return False  # no temporary folder: the page is fetched again instead
        if not self._write(self._file_end, data):
            return False  # a full disk: the page is fetched again instead
        self._spilled[page_id] = (self._file_end, len(data), False)
        self._file_end += len(data)
        return True

    def _write(self, offset: int, data: bytes) -> bool:
        """``data`` written whole at ``offset`` of the file; ``False`` if not (a full disk)."""
        if self._file is None:
            return False
        try:
            self._file.seek(offset)
            written = 0
            while written < len(data):
                count = self._file.write(memoryview(data)[written:])
                if not count:
                    return False
                written += count
        except (OSError, ValueError):  # ValueError: closed meanwhile
            return False
        return True

    def take(self, page_id: str) -> bytes | FeedPage | None:
        """The page, forgotten here: its bytes, or the page parsed in the walk's shadow; ``None``
        if it was not kept."""
        kept = self._read(page_id, remove=True)
        if kept is None:
            return None
        data, parsed = kept
        # Pickled by this object, read back from this process's memory or from its own unlinked
        # file, mode 0600: only this user (who could as well attach a debugger) could write it.
        return pickle.loads(data) if parsed else data  # noqa: S301

    def parsed(self, page_id: str) -> bool:
        """Whether the page is kept parsed (taking it only unpickles it)."""
        with self._lock:
            kept = self._memory.get(page_id) or self._spilled.get(page_id)
            return kept is not None and kept[-1] is True

    def _read(self, page_id: str, *, remove: bool) -> tuple[bytes, bool] | None:
        with self._lock:
            if remove and self._to_parse == page_id:
                self._to_parse = None  # taken before the walk's next request went out
            kept = self._memory.get(page_id)
            if kept is not None:
                if remove:
                    del self._memory[page_id]
                    self._memory_used -= len(kept[0])
                return kept
            where = self._spilled.get(page_id)
            if where is None or self._file is None:
                return None
            if remove:
                del self._spilled[page_id]
            offset, length, parsed = where
            try:
                self._file.seek(offset)
                data = self._file.read(length)
            except (OSError, ValueError):  # ValueError: closed meanwhile (the poll ended)
                return None
        return (data, parsed) if len(data) == length else None

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._to_parse = None
            if self._parser is not None:
                # A parse running ends on its own (one page) and keeps nothing: closed.
                self._parser.shutdown(wait=False, cancel_futures=True)
            self._memory.clear()
            self._spilled.clear()
            self._memory_used = self._file_end = 0
            file, self._file = self._file, None
            if file is not None:
                with contextlib.suppress(OSError):
                    file.close()


class _Walked:
    """What both prefetchers do alike: keep the walk's pages, and hear when its next request is out."""

    def __init__(self, window: int, keep_bytes: int) -> None:
        self._window = window
        self._kept = KeptPages(keep_bytes, IN_MEMORY_BYTES)
        self._queue: deque[tuple[Request, str]] = deque()

    def keep(self, page_id: str, response: Response, fetch_seconds: float | None = None) -> None:
        """A page the walk back fetched (in ``fetch_seconds``), for the forward read to take
        instead of fetching it."""
        self._kept.put(page_id, response.content, fetch_seconds)

    def waiting(self) -> None:
        """The walk's next request is on the wire (``Request.on_sent``)."""
        self._kept.waiting()

    def plan(self, requests: tuple[Request, ...], page_ids: tuple[str, ...]) -> None:
        if self._window > 0:
            self._queue.extend(zip(requests, page_ids, strict=True))


class Prefetcher(_Walked):
    def __init__(self, send: Callable[[Request], Response], window: int, keep_bytes: int = DEFAULT_KEEP_BYTES) -> None:
        super().__init__(window, keep_bytes)
        self._send = send
        self._pending: dict[str, Future[FeedPage]] = {}
        self._pool: ThreadPoolExecutor | None = None

    def plan(self, requests: tuple[Request, ...], page_ids: tuple[str, ...]) -> None:
        super().plan(requests, page_ids)
        self._fill()

    def _fill(self) -> None:
        while self._queue and len(self._pending) < self._window:
            request, page_id = self._queue.popleft()
            if self._kept.parsed(page_id):
                continue  # only to unpickle: done by take(), a worker would only add a hand-over
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._window, thread_name_prefix="dropship-read-ahead")
            self._pending[page_id] = self._pool.submit(self._read, request, page_id)

    def _read(self, request: Request, page_id: str) -> FeedPage:
        kept = self._kept.take(page_id)
        if kept is None:
            kept = self._send(request).content
        return parse_page(kept) if isinstance(kept, bytes) else kept

    def take(self, request: Request, page_id: str) -> FeedPage:
        """The page, parsed: read ahead, or now. Raises what reading it raised."""
        future = self._pending.pop(page_id, None)
        try:
            return future.result() if future is not None else self._read(request, page_id)
        finally:
            self._fill()

    def __enter__(self) -> Prefetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        # The consumer stopped (done, failed or broke out): drop what is queued; reads already
        # running end on their own, bounded by the client's timeout.
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._kept.close()


class AsyncPrefetcher(_Walked):
    def __init__(
        self, send: Callable[[Request], Awaitable[Response]], window: int, keep_bytes: int = DEFAULT_KEEP_BYTES
    ) -> None:
        super().__init__(window, keep_bytes)
        self._send = send
        self._read_pages: dict[str, FeedPage | Exception] = {}

    async def take(self, request: Request, page_id: str) -> FeedPage:
        """The page, parsed: read in this batch, or an earlier one. Raises what reading it raised."""
        if self._queue and self._queue[0][1] == page_id:
            self._queue.popleft()  # taken in the order planned: the page asked for leads the queue
        if page_id not in self._read_pages:
            batch = [(request, page_id)]
            while self._queue and len(batch) < self._window:
                queued = self._queue.popleft()
                if queued[1] != page_id and queued[1] not in self._read_pages:
                    batch.append(queued)
            import anyio  # noqa: PLC0415 - loaded with the async side only (see _concurrency.py)

            async with anyio.create_task_group() as group:
                for each in batch:
                    group.start_soon(self._read, *each)
        outcome = self._read_pages.pop(page_id)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def _read(self, request: Request, page_id: str) -> None:
        try:
            # Off the event loop: a page kept parsed is unpickled (about a millisecond), one kept in
            # the file is read from it.
            kept = await async_blocking(self._kept.take, page_id)
            if kept is None:
                kept = (await self._send(request)).content
            self._read_pages[page_id] = await async_blocking(parse_page, kept) if isinstance(kept, bytes) else kept
        except Exception as error:  # kept for take(): raised when its page's turn comes, in order
            self._read_pages[page_id] = error

    async def __aenter__(self) -> AsyncPrefetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._read_pages.clear()  # nothing is running: only pages no one took are dropped
        self._kept.close()
