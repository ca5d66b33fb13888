"""The client: a driver that carries out what ``_protocol`` decides, one retry loop, one 401
replay, one token fetch at a time."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any
from uuid import UUID

from tenacity import AsyncRetrying

from .._base import ClientBase
from .._concurrency import AsyncCondition, async_shield, async_sleep
from .._protocol.deadline import Deadline
from .._protocol.feed import archive_request, notifications_request, read_feed
from .._protocol.http import Request, Response
from .._protocol.redact import scrub_chain
from .._protocol.retry import note_retries
from .._protocol.tokens import FetchFailed, FetchToken, UseToken, Wait, refused
from .._protocol.updates import item_status_request, order_status_request, read_item_echo, read_order_echo
from .._protocol.walk import PageWalk
from ..models import FeedEntry, FeedPage, ItemStatusUpdate, ItemUpdate, OrderStatus, OrderStatusUpdate
from .transport import AsyncTransport

if TYPE_CHECKING:
    import httpx

    from ..follow import CheckpointStore
    from .follower import AsyncFeedFollower

__all__ = ["AsyncDropshipClient"]


class AsyncDropshipClient(ClientBase["httpx.AsyncClient"]):
    """A client of the Dropship Supplier Orders API.

    ::

        async with AsyncDropshipClient(
            supplier_id=60455, client_id="...", client_secret="...", username="...", password="..."
        ) as client:
            async for entry in client.iter_entries():
                ...
            await client.update_order_status(
                order_id, OrderStatus.SHIPPED, tracking_info="1Z999", shipping_provider="UPS"
            )

    The sync and the async client take the same arguments and offer the same methods (the async
    one's as coroutines and async iterators, on asyncio or trio). One client holds one connection
    pool and one token: create it once and share it between the threads (sync) or the tasks of
    one event loop (async) that use it; when the token must be refreshed, exactly one of them
    refreshes it. ``get_notifications``, ``get_archive``, ``update_order_status`` and
    ``update_item_status`` take ``timeout=`` (seconds or ``httpx.Timeout``) and ``max_retries=``
    to override the client's defaults for that call; the timeout bounds the whole call, token and
    retries included (see the errors guide).
    """

    # A seam for tests: a sleep that records instead of waiting.
    _sleep = staticmethod(async_sleep)

    def _open_transport(self, http_client: httpx.AsyncClient | None) -> None:
        self._transport = AsyncTransport(http_client, self._config.timeout)
        self._token_lock = AsyncCondition()

    async def aclose(self) -> None:
        """Close the connection pool (unless it belongs to an ``http_client`` you passed in)."""
        await self._transport.aclose()

    async def __aenter__(self) -> AsyncDropshipClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def authenticate(self) -> datetime | None:
        """Obtain a token now, checking the credentials, and return when it expires (UTC).

        Raises ``TokenError`` if the accounts server refuses them. With a static ``access_token``
        nothing is checked and ``None`` is returned. The token itself is never returned.
        """
        if self._tokens.can_refresh:
            try:
                await self._token(self._timeout(None), self._deadline(None))
            except BaseException as error:
                scrub_chain(error)
                raise
        return self._token_expiry()

    # -- the feed --------------------------------------------------------------------------

    async def get_notifications(self, *, timeout: Any = None, max_retries: int | None = None) -> FeedPage:
        """The current page of the notification feed (up to 50 entries, newest first)."""
        return read_feed(await self._send(notifications_request(self._config), timeout, max_retries))

    async def get_archive(self, page: str | UUID, *, timeout: Any = None, max_retries: int | None = None) -> FeedPage:
        """An archive page, by its GUID or by a ``prev-archive``/``next-archive`` href.

        Only the ``Pages({guid})`` id is taken from an href; the URL is rebuilt on the
        configured base, so the token never goes to another host (traps.md 4).
        """
        return read_feed(await self._send(archive_request(self._config, page), timeout, max_retries))

    async def iter_pages(self, start: str | UUID | None = None) -> AsyncIterator[FeedPage]:
        """Pages lazily: the current page (or ``start``), then each ``prev-archive`` back to the oldest."""
        walk = PageWalk(start)
        while not walk.done:
            page = read_feed(await self._send(walk.next_request(self._config)))
            walk.receive(page)
            yield page

    async def iter_entries(self, start: str | UUID | None = None) -> AsyncIterator[FeedEntry]:
        """Every entry across those pages, newest first."""
        async for page in self.iter_pages(start):
            for entry in page.entries:
                yield entry

    def follow(
        self, checkpoint: CheckpointStore | str | os.PathLike[str], *, start: str = "earliest"
    ) -> AsyncFeedFollower:
        """A follower that delivers every entry not yet handled, oldest first, none skipped.

        At least once: an entry whose handling did not finish (a crash, an exception) comes again;
        one handled is never delivered again. Effects committed with the cursor (``OrderLedger``)
        happen exactly once. ``checkpoint`` is a path (a SQLite file, created if need be), an
        ``OrderLedger``, or any ``CheckpointStore``. On an empty checkpoint the first poll replays
        the whole feed (``start="earliest"``), or starts after the newest entry (``start="latest"``).
        """
        from .follower import AsyncFeedFollower  # noqa: PLC0415 - lazily: a client that never follows loads no SQLite

        return AsyncFeedFollower(self._send, self._config, checkpoint, start=start)

    # -- status updates --------------------------------------------------------------------

    async def update_order_status(
        self,
        order_id: UUID | str,
        status: OrderStatus | str,
        *,
        tracking_info: str | int | None = None,
        shipping_provider: str | None = None,
        message: str | None = None,
        info: str | None = None,
        require_tracking: bool = True,
        timeout: Any = None,
        max_retries: int | None = None,
    ) -> OrderStatusUpdate:
        """Set the status of a whole order; returns the server's echo.

        Validated before anything is sent (``InvalidRequestError``, a ``ValueError``): the status
        must be an ``OrderStatus`` or its exact wire name, ``order_id`` a GUID, and ``Shipped``
        needs ``tracking_info`` and ``shipping_provider`` unless ``require_tracking=False``.
        """
        request, sent = order_status_request(
            self._config,
            order_id,
            status,
            tracking_info=tracking_info,
            shipping_provider=shipping_provider,
            message=message,
            info=info,
            require_tracking=require_tracking,
        )
        return read_order_echo(request, await self._send(request, timeout, max_retries), sent)

    async def update_item_status(
        self,
        order_id: UUID | str,
        items: Iterable[ItemUpdate | Mapping[str, Any]],
        *,
        require_tracking: bool = True,
        timeout: Any = None,
        max_retries: int | None = None,
    ) -> ItemStatusUpdate:
        """Set the status of some items of an order (partial shipments, back-orders); returns the echo.

        Each item is keyed by its ``sku``; a ``Shipped`` item needs tracking and carrier unless
        ``require_tracking=False``; an empty list is refused.
        """
        request, sent = item_status_request(self._config, order_id, items, require_tracking=require_tracking)
        return read_item_echo(request, await self._send(request, timeout, max_retries), sent)

    # -- the I/O: one retry loop, one 401 replay, one token fetch at a time -------------------

    async def _send(self, request: Request, timeout: Any = None, max_retries: int | None = None) -> Response:
        deadline = self._deadline(timeout)
        timeout = self._timeout(timeout)
        attempt_number = 0
        try:
            async for attempt in AsyncRetrying(sleep=self._sleep, **self._retrying(max_retries, deadline)):
                with attempt:
                    attempt_number = attempt.retry_state.attempt_number
                    return await self._attempt(request, timeout, deadline)
        except BaseException as error:
            note_retries(error, attempt_number)
            scrub_chain(error)
            raise
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    async def _attempt(self, request: Request, timeout: Any, deadline: Deadline) -> Response:
        token = await self._token(timeout, deadline) if request.authenticated else None
        response = await self._transport.send(request, token, timeout, deadline)
        if refused(response.status_code, token) and await self._can_replace(token):
            # The token was revoked or expired early: one fresh token, one replay.
            response = await self._transport.send(request, await self._token(timeout, deadline), timeout, deadline)
        return self._check(request, response)

    async def _can_replace(self, token: str | None) -> bool:
        async with self._token_lock:
            return self._tokens.invalidate(token)

    async def _token(self, timeout: Any, deadline: Deadline) -> str:
        while True:
            async with self._token_lock:
                action = self._tokens.acquire(self._clock())
                while isinstance(action, Wait):
                    # Another caller fetches the token: wait for it, until this call's deadline.
                    if deadline.expired:
                        raise deadline.error(what="waiting for the token another call is fetching")
                    await self._token_lock.wait(deadline.remaining())
                    action = self._tokens.acquire(self._clock(), waited=action)
            if isinstance(action, UseToken):
                return action.token
            if isinstance(action, FetchFailed):
                raise action.error  # the fetch this call waited for failed: so does this call
            outcome = await self._fetch_token(action, timeout, deadline)  # outside the lock: waiters wait on it
            with async_shield():  # the cache must learn the outcome, even if this call is cancelled
                async with self._token_lock:
                    try:
                        fresh = self._tokens.finish(action, self._clock(), outcome)
                    finally:
                        self._token_lock.notify_all()
            if fresh is not None:
                return fresh  # use it at once, even if its life is shorter than the refresh window

    async def _fetch_token(self, action: FetchToken, timeout: Any, deadline: Deadline) -> Response | BaseException:
        # One attempt: a failure propagates to the caller's own retry loop.
        try:
            response = await self._transport.send(action.request, None, timeout, deadline)
            return self._check(action.request, response)
        except BaseException as error:  # handed to TokenCache.finish, which re-raises it
            return scrub_chain(error)
