"""The client: a driver that carries out what ``_protocol`` decides, one retry loop, one 401
replay, one token fetch at a time."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import datetime
from functools import partial
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from tenacity import AsyncRetrying

from .. import _telemetry as telemetry
from .._base import ClientBase
from .._concurrency import AsyncCondition, async_shield, async_sleep
from .._exceptions import (
    APIConnectionError,
    APIError,
    DropshipError,
    NotFoundError,
    TokenError,
    UnexpectedResponseError,
)
from .._protocol import rules
from .._protocol.catalog import (
    DEFAULT_CHUNK_SIZE,
    FailedChunk,
    PushResult,
    ServiceStatus,
    availability_requests,
    check_chunk_size,
    checked_availability,
    checked_costs,
    checked_product,
    cost_requests,
    echo_id,
    ping_requests,
    product_requests,
    push_answer,
    read_ping,
    read_product_feed,
    read_products,
    read_supplier_skus,
    refused_everything,
    supplier_skus_request,
    unreachable,
)
from .._protocol.deadline import Deadline
from .._protocol.feed import archive_request, notifications_request, read_feed
from .._protocol.http import Request, Response, logger
from .._protocol.redact import scrub_chain
from .._protocol.retry import note_retries
from .._protocol.tokens import FetchFailed, FetchToken, UseToken, Wait, refused
from .._protocol.updates import (
    ShipmentEcho,
    checked,
    item_status_request,
    order_status_request,
    read_item_echo,
    read_order_echo,
    shipped_items,
)
from .._protocol.walk import PageWalk
from ..models import OrderStatus
from .transport import AsyncTransport

if TYPE_CHECKING:
    import httpx

    from ..follow import CheckpointStore
    from ..models import (
        FeedEntry,
        FeedPage,
        ItemStatusUpdate,
        ItemUpdate,
        OrderStatusUpdate,
        Product,
        ProductAvailability,
        ProductCost,
        ProductFeed,
        SupplierSku,
    )
    from .follower import AsyncFeedFollower

__all__ = ["AsyncDropshipClient"]

T = TypeVar("T")


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
        self._products = product_requests(self._config)

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

    # -- the order-handling rules of the dropship guides ------------------------------------------

    async def acknowledge_order(
        self, order_id: UUID | str, *, message: str | None = None, timeout: Any = None, max_retries: int | None = None
    ) -> OrderStatusUpdate:
        """The guide's first step: an order received is set to ``Ordered``."""
        return await self.update_order_status(
            order_id, OrderStatus.ORDERED, message=message, timeout=timeout, max_retries=max_retries
        )

    async def ship_order(
        self,
        order_id: UUID | str,
        tracking_numbers: str | int | Iterable[str | int],
        shipping_provider: str,
        *,
        message: str | None = None,
        timeout: Any = None,
        max_retries: int | None = None,
    ) -> OrderStatusUpdate:
        """The whole order shipped, in one or several parcels: their tracking numbers are sent
        joined with commas (a number holding a comma is refused before anything is sent)."""
        tracking = checked(partial(rules.tracking_numbers, tracking_numbers))
        return await self.update_order_status(
            order_id,
            OrderStatus.SHIPPED,
            tracking_info=tracking,
            shipping_provider=shipping_provider,
            message=message,
            timeout=timeout,
            max_retries=max_retries,
        )

    async def ship_items(
        self,
        order_id: UUID | str,
        items: Iterable[str] | Mapping[str, int],
        *,
        tracking_numbers: str | int | Iterable[str | int],
        shipping_provider: str,
        complete: bool,
        message: str | None = None,
        timeout: Any = None,
        max_retries: int | None = None,
    ) -> ShipmentEcho:
        """One parcel of a split shipment: its items (SKUs, or SKU to quantity) are set ``Shipped``
        with the parcel's tracking, then the order ``PartiallyShipped``, or ``Shipped`` when
        ``complete`` (this parcel holds the last items). Both echoes are returned.

        Validated whole before the first request; if the order update fails after the items were
        sent, sending the same call again is safe (both updates set a state).
        """
        tracking = checked(partial(rules.tracking_numbers, tracking_numbers))
        updates = shipped_items(items, tracking, shipping_provider, message)
        order_status = OrderStatus.SHIPPED if complete else OrderStatus.PARTIALLY_SHIPPED
        order_request, order_sent = order_status_request(
            self._config,
            order_id,
            order_status,
            tracking_info=tracking,
            shipping_provider=shipping_provider,
            message=message,
        )
        item_echo = await self.update_item_status(order_id, updates, timeout=timeout, max_retries=max_retries)
        order_echo = read_order_echo(order_request, await self._send(order_request, timeout, max_retries), order_sent)
        return ShipmentEcho(items=item_echo, order=order_echo)

    # -- availability and cost -------------------------------------------------------------

    async def push_availability(
        self,
        products: Iterable[ProductAvailability | Mapping[str, Any]],
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        timeout: Any = None,
        max_retries: int | None = None,
    ) -> PushResult[ProductAvailability]:
        """Tell iQmetrix what is in stock: ``POST .../Availability``, ``chunk_size`` products a request.

        Every product is checked before the first request (``InvalidRequestError`` naming the
        field and its index; a SKU given twice is refused). ``IsAvailable`` and ``Quantity`` are
        always sent. Each chunk is retried on its own; the result says which products were
        accepted and which failed, with why (``result.raise_for_failures()`` raises for those).
        """
        checked = checked_availability(products)
        requests = availability_requests(self._config, checked, check_chunk_size(chunk_size))
        return await self._push(requests, timeout, max_retries)

    async def get_availability(self, *, timeout: Any = None, max_retries: int | None = None) -> list[SupplierSku]:
        """What iQmetrix holds of your availability now (``GET .../SupplierSkus``, on the availability host)."""
        request = supplier_skus_request(self._config)
        return read_supplier_skus(request, await self._send(request, timeout, max_retries))

    async def push_costs(
        self,
        products: Iterable[ProductCost | Mapping[str, Any]],
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        timeout: Any = None,
        max_retries: int | None = None,
    ) -> PushResult[ProductCost]:
        """Send wholesale costs: ``POST .../Cost``, ``chunk_size`` products a request.

        Checked whole before the first request: a ``Decimal`` cost of at most 2 decimals, never
        negative, at least one company id, and one cost per product per company. Chunks as
        ``push_availability``.
        """
        checked = checked_costs(products)
        requests = cost_requests(self._config, checked, check_chunk_size(chunk_size))
        return await self._push(requests, timeout, max_retries)

    async def _push(
        self, requests: list[tuple[Request, tuple[T, ...]]], timeout: Any, max_retries: int | None
    ) -> PushResult[T]:
        accepted: list[T] = []
        failed: list[FailedChunk[T]] = []
        ids: list[str] = []
        kind = requests[0][0].url.rsplit("/", 1)[-1].lower() if requests else ""  # availability, cost
        for n, (request, chunk) in enumerate(requests):
            try:
                response = push_answer(request, await self._send(request, timeout, max_retries))
            except (APIError, APIConnectionError, TokenError, UnexpectedResponseError) as error:
                logger.warning("%s %s: %d products not accepted: %s", request.method, request.url, len(chunk), error)
                telemetry.add("dropship.catalog.rows.pushed", len(chunk), {"dropship.kind": kind, "outcome": "failed"})
                failed.append(FailedChunk(chunk, error))
                if refused_everything(error):
                    # The credentials or the supplier id are wrong: the other chunks would fail alike.
                    failed.extend(FailedChunk(rest, error) for _, rest in requests[n + 1 :])
                    break
                continue
            accepted.extend(chunk)
            telemetry.add("dropship.catalog.rows.pushed", len(chunk), {"dropship.kind": kind, "outcome": "accepted"})
            echo = echo_id(response)
            if echo is not None:
                ids.append(echo)
        return PushResult(accepted=tuple(accepted), failed=tuple(failed), ids=tuple(ids))

    # -- the product feed ------------------------------------------------------------------

    async def add_product(
        self, feed_id: int, product: Product | Mapping[str, Any], *, timeout: Any = None, max_retries: int | None = None
    ) -> Product:
        """Add a product to a product feed; returns it as stored (with its ``id``).

        Adding is not idempotent: it is retried only when the server surely did not take it
        (429, or no connection made).
        """
        request = self._products.add(feed_id, checked_product(product))
        stored = read_products(request, await self._send(request, timeout, max_retries))
        if not stored:
            raise UnexpectedResponseError(
                f"{request.method} {request.url} answered with no product",
                status_code=200,
                method=request.method,
                url=request.url,
            )
        return stored[0]

    async def list_products(
        self, feed_id: int, *, timeout: Any = None, max_retries: int | None = None
    ) -> list[Product]:
        """Every product of a product feed."""
        request = self._products.list(feed_id)
        return read_products(request, await self._send(request, timeout, max_retries))

    async def get_product_feed(
        self, feed_id: int, *, timeout: Any = None, max_retries: int | None = None
    ) -> ProductFeed:
        """A product feed: its provider, version, last update and products."""
        request = self._products.feed(feed_id)
        return read_product_feed(request, await self._send(request, timeout, max_retries))

    async def remove_product(
        self, feed_id: int, product_id: int, *, timeout: Any = None, max_retries: int | None = None
    ) -> None:
        """Remove a product from a product feed (``NotFoundError`` if the feed or product is unknown).

        A ``404`` to a retry, after an attempt that failed without an answer or with a ``5xx``, means
        that attempt removed it: the call succeeds.
        """
        try:
            await self._send(self._products.remove(feed_id, product_id), timeout, max_retries)
        except NotFoundError as error:
            if not error.retries:
                raise
            logger.info("product %s of feed %s was already gone on a retry: removed", product_id, feed_id)

    async def replace_product(
        self,
        feed_id: int,
        product_id: int,
        product: Product | Mapping[str, Any],
        *,
        timeout: Any = None,
        max_retries: int | None = None,
    ) -> Product:
        """Change a product the documented way: remove it, then add the new version; returns it as stored.

        The new version is checked before anything is removed. Should the add fail after the
        removal, the error says so: call ``add_product`` with the same product to finish.
        """
        checked = checked_product(product)
        add = self._products.add(feed_id, checked)
        await self.remove_product(feed_id, product_id, timeout=timeout, max_retries=max_retries)
        try:
            stored = read_products(add, await self._send(add, timeout, max_retries))
        except DropshipError as error:
            logger.error(
                "product %s was removed from feed %s, but adding its new version failed (%s): "
                "call add_product with it to finish the replacement",
                product_id,
                feed_id,
                type(error).__name__,
            )
            raise
        if not stored:
            raise UnexpectedResponseError(
                f"{add.method} {add.url} answered with no product", status_code=200, method="POST", url=add.url
            )
        return stored[0]

    # -- health ----------------------------------------------------------------------------

    async def ping(self, *, timeout: Any = 10.0) -> dict[str, ServiceStatus]:
        """A health check of each configured service (dropship, accounts, availability, product
        library), without a token, one attempt each; never raises for a service that is down."""
        statuses: dict[str, ServiceStatus] = {}
        by_url: dict[str, ServiceStatus] = {}
        for service, request in ping_requests(self._config).items():
            if request.url in by_url:  # one host serving several services (an emulator, a proxy)
                statuses[service] = dataclasses.replace(by_url[request.url], service=service)
                continue
            try:
                response = await self._send(request, timeout, 0)
            except APIError as error:
                statuses[service] = ServiceStatus(
                    service, request.url, ok=False, status_code=error.status_code, error=error.message
                )
            except APIConnectionError as error:
                statuses[service] = unreachable(service, request, error)
            else:
                statuses[service] = read_ping(service, request, response)
            by_url[request.url] = statuses[service]
        return statuses

    # -- the I/O: one retry loop, one 401 replay, one token fetch at a time -------------------

    async def _send(self, request: Request, timeout: Any = None, max_retries: int | None = None) -> Response:
        deadline = self._deadline(timeout)
        timeout = self._timeout(timeout)
        attempt_number = 0
        call = telemetry.call_span(request.method, request.url)  # a span per call, one per attempt
        status: int | None = None
        failure: BaseException | None = None
        try:
            async for attempt in AsyncRetrying(sleep=self._sleep, **self._retrying(max_retries, deadline, request)):
                with attempt:
                    attempt_number = attempt.retry_state.attempt_number
                    with call.attempt(attempt_number) as current:
                        response = await self._attempt(request, timeout, deadline, call, current)
                    status = response.status_code
                    return response
        except BaseException as error:
            failure, status = error, getattr(error, "status_code", None)
            note_retries(error, attempt_number)
            scrub_chain(error)
            raise
        finally:
            call.end(status, failure)
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    async def _attempt(
        self, request: Request, timeout: Any, deadline: Deadline, call: Any = None, current: Any = None
    ) -> Response:
        token = await self._token(timeout, deadline) if request.authenticated else None
        response = await self._transport.send(request, token, timeout, deadline)
        if refused(response.status_code, token) and await self._can_replace(token):
            # The token was revoked or expired early: one fresh token, one replay.
            response = await self._transport.send(request, await self._token(timeout, deadline), timeout, deadline)
        if call is not None:
            call.answered(current, response)
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
            # The cache must learn the outcome, even if this call is cancelled: nothing here awaits
            # (async, the condition holds no lock: see AsyncCondition), and nothing can cancel it.
            with async_shield():
                async with self._token_lock:
                    try:
                        fresh = self._tokens.finish(action, self._clock(), outcome)
                    finally:
                        self._token_lock.notify_all()
            if fresh is not None:
                return fresh  # use it at once, even if its life is shorter than the refresh window

    async def _fetch_token(self, action: FetchToken, timeout: Any, deadline: Deadline) -> Response | BaseException:
        # One attempt: a failure propagates to the caller's own retry loop.
        grant = action.grant
        with telemetry.token_fetch(grant) as current:
            try:
                response = await self._transport.send(action.request, None, timeout, deadline)
                checked = self._check(action.request, response)
            except BaseException as error:  # handed to TokenCache.finish, which re-raises it
                telemetry.token_fetched(grant, error, current)
                return scrub_chain(error)
        telemetry.token_fetched(grant, None)
        return checked
