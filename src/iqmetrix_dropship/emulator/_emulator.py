"""The :class:`Emulator`: one supplier's Dropship world, shared by the HTTP app and Python callers."""

from __future__ import annotations

import calendar
import copy
import dataclasses
import gc
import random
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import httpx

from .._version import __version__
from ._app import create_app
from ._catalog import (
    SkuAvailability,
    SupplierCatalog,
    availability_echo,
    cost_echo,
    parse_availability,
    parse_costs,
)
from ._checks import InvalidFieldError, integer, number
from ._config import PAGE_SIZE, Credentials, EmulatorConfig
from ._faults import FaultDecision, FaultInjector, Faults, RateLimiter, RateLimitResult
from ._orders import MAX_ORDERS_PER_CALL, order_request
from ._products import ProductFeed, parse_products
from ._records import Order
from ._seed import Retailer, seed_history
from ._server import EmulatorServer
from ._shipping import (
    Chooser,
    OrderNotPlaced,
    OrderRefused,
    Quote,
    ShippingCall,
    ShippingOptionsClient,
    ShippingOptionsError,
    cheapest,
    named_skus,
    shipping_query,
)
from ._state import DropshipState
from ._store import SCHEMA_VERSION, SqliteStore
from ._tokens import TokenStore
from ._transport import EmulatorTransport
from ._updates import normalize_guid, parse_item_update, parse_order_update
from ._xml import format_timestamp

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["Emulator"]

_LATEST_CLOCK = calendar.timegm((9999, 1, 1, 0, 0, 0, 0, 0, 0))
"""The clock goes no further: feed timestamps have four-digit years (9999-12-31 is .NET's
``DateTime.MaxValue``), and a year's margin keeps a page's ``<updated>`` (a few seconds past its
newest entry) in year 9999 too."""


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Seeding makes ~10 objects per event and frees none: the cyclic GC would only rescan
    them (it doubles the time of a 100,000-event seed)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class Emulator:
    """A local twin of the supplier side of iQmetrix's Dropship program: the Supplier Orders API
    and its accounts token endpoint, supplier availability, the cost feed, the product feed, the
    health check, and (as a caller) the supplier's own shipping-options server.

    ::

        emulator = Emulator(orders=120, seed=7)      # or Emulator(EmulatorConfig(...))
        with emulator.serve() as server:             # uvicorn on 127.0.0.1, a free port
            client_base = server.base_url            # "http://127.0.0.1:54321/v1": every host's base
            order_id = emulator.place_order()        # a retailer places an order
            ...
            emulator.order_status(order_id)          # where the supplier's updates took it
            emulator.availability()                  # what the supplier's pushes left, per SKU
            emulator.costs(), emulator.products()

    With a shipping-options server configured (``EmulatorConfig.shipping_options_url``), a new
    order is placed only if that server quotes it (``place_order``); ``shipping_log()`` lists
    every call. The seeded history never calls it: it is the past.

    The state is shared by the server thread and the caller's: every method takes the
    emulator's lock (and none holds it across a call to the shipping-options server), so an
    instance may be used from any thread.
    """

    def __init__(self, config: EmulatorConfig | None = None, /, **overrides: Any) -> None:
        config = config or EmulatorConfig()
        if overrides:
            config = dataclasses.replace(config, **overrides)
        self.config = config
        self._lock = threading.RLock()
        self._clock_offset = 0.0
        self._store = SqliteStore(config.db) if config.db is not None else None
        try:
            self._build()
        except BaseException:
            if self._store is not None:
                self._store.close()
            raise
        self._tokens = TokenStore(
            client_id=config.client_id,
            client_secret=config.client_secret,
            username=config.username,
            password=config.password,
            lifetime=config.token_lifetime,
            refresh_lifetime=config.refresh_token_lifetime,
        )
        self._faults = FaultInjector(Faults(latency=config.latency, error_rate=config.error_rate), self.seed)
        self._limiter = (
            RateLimiter(config.rate_limit, config.rate_limit_window) if config.rate_limit is not None else None
        )
        self._requests: Counter[str] = Counter()
        self._request_log: deque[tuple[str, str, int]] = deque(maxlen=10_000)
        endpoint = config.shipping_endpoint
        self._shipping = ShippingOptionsClient(endpoint) if endpoint is not None else None
        self._shipping_log: deque[ShippingCall] = deque(maxlen=10_000)
        self._pending_orders: set[str] = set()
        """Order ids drawn and waiting for the shipping-options server's answer."""

    def _build(self) -> None:
        """Load the state from SQLite, or seed it (and save it, when persistent)."""
        config, store = self.config, self._store
        self.seed = config.seed
        loading = store is not None and not store.is_empty()
        if store is not None and loading:
            meta = store.meta()
            self.seed = int(meta["seed"])  # the file's seed: page ids derive from it
            if int(meta["supplier_id"]) != config.supplier_id:
                raise ValueError(f"{config.db} holds supplier {meta['supplier_id']}, not {config.supplier_id}")
            store.upgrade()
        rng = random.Random(self.seed)  # noqa: S311 - synthetic data must be reproducible
        self._retailer = Retailer(rng, config.supplier_id)
        self._state = state = DropshipState(
            supplier_id=config.supplier_id,
            seed=self.seed,
            public_host=config.public_host,
            malformed_entry_id_rate=config.malformed_entry_id_rate,
            rng=rng,
        )
        with _gc_paused():
            self._fill(rng, state, loading)
        state.listener = store
        state.limit_entries = True  # from here on, every change comes from outside
        self._catalog = SupplierCatalog(config.supplier_id)
        self._feed = ProductFeed(config.product_feed_id, f"Dropship emulator (supplier {config.supplier_id})")
        if store is not None and loading:
            availability, costs = store.load_catalog()
            self._catalog.record_availability(availability)
            self._catalog.costs.update(((sku, company), cost) for sku, company, cost in costs)
            self._feed.load(*store.load_products())
        self._catalog.listener = store
        self._feed.listener = store

    def _fill(self, rng: random.Random, state: DropshipState, loading: bool) -> None:
        config, store = self.config, self._store
        if store is not None and loading:
            orders, events = store.load()
            state.orders.update(orders)
            for event in events:
                state.append(event)
            # Continue the random stream deterministically after a restart.
            rng.seed(f"{self.seed}:{len(events)}")
            return
        seed_history(
            state,
            self._retailer,
            orders=config.orders,
            events=config.events,
            history_rate=config.history_rate,
        )
        if store is not None:
            meta = {"seed": str(self.seed), "supplier_id": str(config.supplier_id), "schema": str(SCHEMA_VERSION)}
            store.save_all(meta, list(state.orders.values()), state.events)

    def __repr__(self) -> str:
        with self._lock:
            return (
                f"<Emulator supplier_id={self.config.supplier_id} seed={self.seed} "
                f"orders={len(self._state.orders)} events={len(self._state.events)}>"
            )

    # -- life cycle -----------------------------------------------------------------------

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> EmulatorServer:
        """Start serving in a background thread; use the result as a context manager."""
        return EmulatorServer(create_app(self.service), host=host, port=port)

    def transport(self) -> httpx.BaseTransport:
        """An in-process transport for ``httpx.Client(transport=...)``: no socket, no thread."""
        return EmulatorTransport(create_app(self.service))

    def async_transport(self) -> httpx.AsyncBaseTransport:
        """The same for ``httpx.AsyncClient(transport=...)``."""
        return httpx.ASGITransport(app=create_app(self.service))

    def close(self) -> None:
        """Close the SQLite file, if any, and the connections to the shipping-options server.
        The in-memory state stays readable."""
        with self._lock:
            if self._store is not None:
                self._state.listener = None
                self._catalog.listener = None
                self._feed.listener = None
                self._store.close()
                self._store = None
        if self._shipping is not None:
            self._shipping.close()

    def __enter__(self) -> Emulator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- facts ----------------------------------------------------------------------------

    @property
    def credentials(self) -> Credentials:
        return self.config.credentials

    @property
    def supplier_id(self) -> int:
        return self.config.supplier_id

    def now(self) -> float:
        """The emulator's clock: wall time plus whatever :meth:`advance_clock` added."""
        return time.time() + self._clock_offset

    def advance_clock(self, seconds: float) -> None:
        """Move the clock forward, e.g. past a token's or a rate-limit window's end.

        ``seconds`` is a finite number >= 0 that keeps the clock before the year 9999; anything
        else is a ``ValueError`` and the clock does not move.
        """
        self._advance_clock(seconds, "seconds")

    def _advance_clock(self, seconds: object, field: str) -> None:
        checked = number(seconds, field, minimum=0.0, maximum=float(_LATEST_CLOCK))
        with self._lock:
            if self.now() + checked > _LATEST_CLOCK:
                raise InvalidFieldError(field, f"would move the clock past {format_timestamp(_LATEST_CLOCK)}")
            self._clock_offset += checked

    @property
    def event_count(self) -> int:
        with self._lock:
            return len(self._state.events)

    def entry_ids(self) -> list[str]:
        """Every entry id in the feed, oldest first."""
        with self._lock:
            return [event.entry_id for event in self._state.events]

    def page_ids(self) -> list[str]:
        """Every page id, oldest first; the last is the current page."""
        with self._lock:
            return self._state.page_ids()

    @property
    def current_page_id(self) -> str:
        with self._lock:
            return self._state.page_id(self._state.current_page)

    def page(self, page_id: str | None = None) -> bytes:
        """The Atom bytes the API serves for a page (the current page by default)."""
        with self._lock:
            index = self._state.current_page if page_id is None else self._state.find_page(page_id)
            if index is None:
                raise KeyError(f"no page {page_id}")
            return self._state.render(index)

    def prerender(self) -> int:
        """Render every archive page not rendered yet (e.g. before a benchmark); returns how many."""
        with self._lock:
            state, rendered = self._state, 0
            for index in range(state.current_page):
                rendered += state.prerender(index)
            return rendered

    def order_ids(self) -> list[str]:
        """Every order id, oldest first."""
        with self._lock:
            return list(self._state.orders)

    def _order(self, order_id: str) -> Order:
        order = self._state.orders.get(normalize_guid(str(order_id)) or str(order_id))
        if order is None:
            raise KeyError(f"no order {order_id}")
        return order

    def order_status(self, order_id: str) -> str:
        """The order's status as the supplier last set it (``PendingSupplier`` at first)."""
        with self._lock:
            return self._order(order_id).status

    def item_statuses(self, order_id: str) -> dict[str, str]:
        """``{sku: status}`` for every item of the order."""
        with self._lock:
            return dict(self._order(order_id).item_statuses)

    def order(self, order_id: str) -> dict[str, Any]:
        """A JSON-friendly snapshot of an order: what was placed and its current statuses."""
        with self._lock:
            order = self._order(order_id)
            return {
                "order_id": order.order_id,
                "status": order.status,
                "item_statuses": dict(order.item_statuses),
                "company_id": order.seller.company_id,
                "location_id": order.seller.location_id,
                "ship_to_store": order.ship_to_store,
                "shipping_method": order.shipping_method,
                "country_code": order.address.country_code,
                "postal_code": order.address.postal_code,
                "items": [
                    {
                        "sku": line.sku,
                        "catalog_id": line.catalog_id,
                        "description": line.description,
                        "quantity": line.quantity,
                        "selling_price": str(line.selling_price),
                    }
                    for line in order.items
                ],
            }

    def summary(self) -> dict[str, Any]:
        """Counts of everything, as ``GET /_emulator/state`` answers them."""
        with self._lock:
            state = self._state
            statuses = Counter(order.status for order in state.orders.values())
            return {
                "supplier_id": self.config.supplier_id,
                "seed": self.seed,
                "orders": len(state.orders),
                "events": len(state.events),
                "pages": state.current_page + 1,
                "archive_pages": state.current_page,
                "current_page_id": state.page_id(state.current_page),
                "current_page_entries": len(state.events) - state.current_page * PAGE_SIZE,
                "order_statuses": dict(sorted(statuses.items())),
                "active_access_tokens": self._tokens.active(self.now()),
                "tokens_issued": self._tokens.issued,
                "requests": dict(sorted(self._requests.items())),
                "faults": self._faults.faults.as_dict(),
                "rate_limit": self.config.rate_limit,
                "persistent": self._store is not None,
                "availability_skus": len(self._catalog.availability),
                "costs": len(self._catalog.costs),
                "product_feed_id": self._feed.feed_id,
                "products": len(self._feed.products),
                "shipping_options": None if self._shipping is None else self._shipping.endpoint.shown_url,
                "shipping_calls": len(self._shipping_log),
            }

    def request_log(self) -> list[tuple[str, str, int]]:
        """``(method, path, status)`` of the last 10,000 requests, oldest first."""
        with self._lock:
            return list(self._request_log)

    # -- the retailer side ----------------------------------------------------------------

    def place_order(
        self,
        *,
        order_id: str | None = None,
        items: Sequence[Mapping[str, Any]] | None = None,
        ship_to_store: bool | None = None,
        country_code: str | None = None,
        company_id: int | None = None,
        location_id: int | None = None,
        shipping_method: str | None = None,
        postal_code: str | None = None,
        choose: Chooser | None = None,
    ) -> str:
        """A retailer places an order: an ``order-created`` event appears. Returns the order id.

        Fields not given are drawn at random. ``items`` (1 to 50) are mappings with any of
        ``sku``, ``description``, ``quantity``, ``selling_price``, ``catalog_id``. ``postal_code``
        (``A1A1A1``, ``A1A 1A1``, ``08540``, ``02139-4301``) is the shipping address's, and gives
        the order its country. A value the feed could not carry is a ``ValueError`` naming the
        field, and nothing changes.

        With a shipping-options server configured, the order is first quoted by it
        (``_shipping.py``), outside the emulator's lock: the option ``choose`` picks (by default
        :func:`~iqmetrix_dropship.emulator._shipping.cheapest`: the lowest cost, the first of
        equals) becomes the order's ``shipping-method``, so ``shipping_method`` may not be given
        (``ValueError``). When the server answers ``400`` (out of stock) nothing is placed and
        :class:`OrderRefused` is raised, with the skus its answer names; any other failure
        (credentials refused, another status, invalid options, no connection, timeout) raises
        :class:`ShippingOptionsError`. Both are recorded in :meth:`shipping_log`; the order id
        they carry is the one the order would have had.
        """
        request = order_request(
            order_id=order_id,
            items=items,
            ship_to_store=ship_to_store,
            country_code=country_code,
            company_id=company_id,
            location_id=location_id,
            shipping_method=shipping_method,
            postal_code=postal_code,
        )
        shipping = self._shipping
        if shipping is not None and request.shipping_method is not None:
            raise InvalidFieldError(
                "shipping_method",
                "is chosen from the options of the supplier's shipping-options server (shipping_options_url "
                "is set): leave it out",
            )
        if choose is not None and (shipping is None or not callable(choose)):
            raise InvalidFieldError("choose", "is a function choosing among the options of a shipping-options server")
        with self._lock:
            if request.order_id is not None and (
                request.order_id in self._state.orders or request.order_id in self._pending_orders
            ):
                # Checked before the retailer draws anything: a refused order leaves the random stream as it was.
                raise InvalidFieldError("order_id", f"order {request.order_id} already exists")
            order = self._retailer.order(request)
            if shipping is None:
                with self._transaction():
                    self._state.record_order_created(order, self._state.next_timestamp(self.now()))
                return order.order_id
            self._pending_orders.add(order.order_id)
        try:
            # The draws are made: an order the supplier does not take still used its random values.
            return self._place_quoted(order, shipping, choose or cheapest)
        finally:
            with self._lock:
                self._pending_orders.discard(order.order_id)

    def _place_quoted(self, order: Order, shipping: ShippingOptionsClient, choose: Chooser) -> str:
        query = shipping_query(order)
        quote = shipping.quote(query)  # the HTTP call: no lock is held across it
        chosen = choose(quote.options) if quote.outcome == "quoted" else None
        if chosen is not None and chosen not in quote.options:
            quote = Quote("failed", quote.status, quote.options, problem="choose returned no option the server offered")
            chosen = None
        call = ShippingCall(
            at=self.now(),
            order_id=order.order_id,
            query=query,
            status=quote.status,
            options=quote.options,
            chosen=None if chosen is None else chosen.id,
            outcome="refused" if quote.outcome == "refused" else "failed" if chosen is None else "placed",
            problem=quote.problem,
            body=quote.body,
            skus=named_skus(quote.body, order) if quote.outcome == "refused" else (),
        )
        with self._lock:
            if chosen is not None:
                placed = dataclasses.replace(order, shipping_method=chosen.id)
                try:
                    with self._transaction():
                        self._state.record_order_created(placed, self._state.next_timestamp(self.now()))
                except ValueError as error:  # e.g. EntryTooLargeError: recorded as what it is
                    self._shipping_log.append(dataclasses.replace(call, outcome="failed", problem=str(error)))
                    raise
            self._shipping_log.append(call)
        if call.outcome == "refused":
            named = f": {', '.join(call.skus)}" if call.skus else ""
            raise OrderRefused(
                f"the supplier's shipping-options server refused order {order.order_id}: out of stock (400){named}",
                order_id=order.order_id,
                status=call.status,
                body=call.body,
                skus=call.skus,
            )
        if call.outcome == "failed":
            raise ShippingOptionsError(
                f"{call.problem}; order {order.order_id} was not placed",
                order_id=order.order_id,
                status=call.status,
                body=call.body,
            )
        return order.order_id

    def place_orders(self, count: int) -> list[str]:
        """``count`` random orders (0 to 10,000), placed one after the other.

        With a shipping-options server, the first order it does not take stops the batch: its
        :class:`OrderNotPlaced` carries the ids placed before it (``placed_order_ids``).
        """
        integer(count, "count", minimum=0, maximum=MAX_ORDERS_PER_CALL)
        return self._place_many(count, {})

    def _place_many(self, count: int, fields: Mapping[str, Any]) -> list[str]:
        placed: list[str] = []
        # Without a shipping-options server the batch holds the lock, so its orders are consecutive;
        # with one it cannot: no lock is held across a call to the server.
        with self._lock if self._shipping is None else nullcontext():
            try:
                for _ in range(count):
                    placed.append(self.place_order(**fields))
            except OrderNotPlaced as error:
                error.placed_order_ids = placed
                raise
        return placed

    def shipping_log(self) -> list[ShippingCall]:
        """Every call to the shipping-options server (the last 10,000), oldest first: the query
        sent, the status, the options received, the option chosen, and what came of it."""
        with self._lock:
            return list(self._shipping_log)

    # -- the supplier's catalog -----------------------------------------------------------

    @property
    def product_feed_id(self) -> int:
        return self.config.product_feed_id

    def availability(self) -> dict[str, SkuAvailability]:
        """What the supplier's ``Availability`` pushes left, per SKU (first seen first)."""
        with self._lock:
            return dict(self._catalog.availability)

    def costs(self) -> dict[tuple[str, int], Decimal]:
        """What the supplier's ``Cost`` pushes left, per (SKU, company id)."""
        with self._lock:
            return dict(self._catalog.costs)

    def products(self) -> list[dict[str, Any]]:
        """The product feed's products as ``GET /ProductFeeds({id})/Products`` answers them (a copy)."""
        with self._lock:
            return copy.deepcopy(list(self._feed.products.values()))

    def product_feed(self) -> dict[str, Any]:
        """The feed as ``GET /ProductFeeds({id})`` answers it (a copy)."""
        with self._lock:
            return copy.deepcopy(self._feed.as_json())

    # -- faults ---------------------------------------------------------------------------

    def set_faults(
        self,
        *,
        latency: float | None = None,
        error_rate: float | None = None,
        unavailable: int | None = None,
        retry_after: int | None = None,
        throttled: int | None = None,
    ) -> dict[str, float | int]:
        """Change some faults (see ``_faults``); the others stay. Returns them all.

        A bad value (NaN, out of range, of the wrong type) is a ``ValueError`` naming it, and no
        fault changes.
        """
        with self._lock:
            return self._change_faults(
                {
                    "latency": latency,
                    "error_rate": error_rate,
                    "unavailable": unavailable,
                    "throttled": throttled,
                    "retry_after": retry_after,
                }
            )

    def _change_faults(self, given: Mapping[str, object], *, reset: bool = False) -> dict[str, float | int]:
        """Check everything first, then apply: a refused change leaves the faults as they were."""
        current = Faults() if reset else self._faults.faults
        merged: dict[str, object] = dict(current.as_dict())
        merged.update({name: value for name, value in given.items() if value is not None})
        changed = Faults.checked(**merged)
        self._faults.faults = changed
        return changed.as_dict()

    def reset_faults(self) -> None:
        """No latency, no errors, no outage (the configured ones included)."""
        with self._lock:
            self._faults.faults = Faults()

    def expire_tokens(self) -> int:
        """Every access token issued so far is invalid from now on (refresh tokens still work)."""
        with self._lock:
            return self._tokens.expire_access_tokens(self.now())

    def _transaction(self) -> AbstractContextManager[None]:
        return self._store.transaction() if self._store is not None else nullcontext()

    @property
    def service(self) -> EmulatorService:
        """The emulator as its HTTP app sees it (``_service.DropshipService``): what ``create_app``
        serves."""
        return EmulatorService(self)


class EmulatorService:
    """``DropshipService`` over an ``Emulator``: the one place, besides the facade itself, that
    reaches into the emulator's state. Every method takes the emulator's lock and does no I/O,
    but ``place_order`` and ``place_orders``, which call a configured shipping-options server
    (holding no lock while they wait)."""

    def __init__(self, emulator: Emulator) -> None:
        self._emulator = emulator

    @property
    def supplier_id(self) -> int:
        return self._emulator.supplier_id

    @property
    def latency(self) -> float:
        return self._emulator._faults.faults.latency

    def record_request(self, kind: str, method: str, path: str, status: int) -> None:
        emulator = self._emulator
        with emulator._lock:
            emulator._requests[kind] += 1
            emulator._request_log.append((method, path, status))

    def grant_token(self, form: Mapping[str, str]) -> dict[str, object]:
        emulator = self._emulator
        with emulator._lock:
            return emulator._tokens.grant(form, emulator.now())

    def token_is_valid(self, token: str) -> bool:
        emulator = self._emulator
        with emulator._lock:
            return emulator._tokens.is_valid(token, emulator.now())

    def decide_fault(self) -> FaultDecision:
        with self._emulator._lock:
            return self._emulator._faults.decide()

    def rate_limit(self, token: str) -> RateLimitResult | None:
        emulator = self._emulator
        with emulator._lock:
            if emulator._limiter is None:
                return None
            key = token if emulator.config.rate_limit_scope == "token" else "*"
            return emulator._limiter.hit(key, emulator.now())

    def feed_page(self, page_id: str | None) -> bytes | None:
        with self._emulator._lock:
            state = self._emulator._state
            index = state.current_page if page_id is None else state.find_page(page_id)
            return None if index is None else state.render(index)

    def find_order(self, order_id: str) -> Order | None:
        with self._emulator._lock:
            return self._emulator._state.orders.get(order_id)

    def update_order(self, order: Order, body: object) -> dict[str, Any]:
        """Validate, apply, append the event (traps.md 23); the echo. May raise InvalidRequest."""
        emulator = self._emulator
        with emulator._lock:
            request = parse_order_update(body, order)
            state = emulator._state
            with emulator._transaction():
                state.record_order_update(
                    order,
                    status=request.status,
                    tracking_info=request.tracking_info,
                    shipping_provider=request.shipping_provider,
                    message=request.message,
                    info=request.info,
                    timestamp=state.next_timestamp(emulator.now()),
                )
            return request.echo

    def update_items(self, order: Order, body: object) -> dict[str, Any]:
        emulator = self._emulator
        with emulator._lock:
            request = parse_item_update(body, order)
            if request.items:
                state = emulator._state
                with emulator._transaction():
                    state.record_item_update(order, request.items, state.next_timestamp(emulator.now()))
            return request.echo

    # -- the supplier's catalog: availability, costs, the product feed, the health check ---------

    @property
    def product_feed_id(self) -> int:
        return self._emulator.product_feed_id

    def ping(self) -> dict[str, str]:
        return {"ApplicationVersion": __version__, "DbVersion": str(SCHEMA_VERSION)}

    def push_availability(self, body: object) -> dict[str, Any]:
        emulator = self._emulator
        products = parse_availability(body)  # checked before the lock: it touches no state
        with emulator._lock, emulator._transaction():
            emulator._catalog.record_availability(products)
        return availability_echo(str(uuid.uuid4()), products)

    def supplier_skus(self) -> list[dict[str, Any]]:
        with self._emulator._lock:
            return self._emulator._catalog.supplier_skus()

    def push_costs(self, body: object) -> dict[str, Any]:
        emulator = self._emulator
        lines = parse_costs(body)
        with emulator._lock, emulator._transaction():
            emulator._catalog.record_costs(lines)
        return cost_echo(str(uuid.uuid4()), lines)

    def add_products(self, body: object) -> list[dict[str, Any]]:
        emulator = self._emulator
        products = parse_products(body)
        with emulator._lock, emulator._transaction():
            return emulator._feed.add(products, int(emulator.now()))

    def products(self) -> list[dict[str, Any]]:
        with self._emulator._lock:
            return list(self._emulator._feed.products.values())

    def product_feed(self) -> dict[str, Any]:
        with self._emulator._lock:
            return self._emulator._feed.as_json()

    def remove_product(self, product_id: int) -> bool:
        emulator = self._emulator
        with emulator._lock, emulator._transaction():
            return emulator._feed.remove(product_id, int(emulator.now()))

    # -- the admin endpoints ------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        return self._emulator.summary()

    def place_order(self, **fields: Any) -> str:
        return self._emulator.place_order(**fields)

    def place_orders(self, count: int, fields: Mapping[str, Any]) -> list[str]:
        return self._emulator._place_many(count, fields)

    def stored_availability(self) -> list[dict[str, Any]]:
        return [
            {"id": record.id, "sku": record.sku, "is_available": record.is_available, "quantity": record.quantity}
            for record in self._emulator.availability().values()
        ]

    def stored_costs(self) -> list[dict[str, Any]]:
        return [
            {"sku": sku, "company_id": company_id, "cost": str(cost)}
            for (sku, company_id), cost in self._emulator.costs().items()
        ]

    def shipping_log(self) -> list[dict[str, Any]]:
        return [call.as_dict() for call in self._emulator.shipping_log()]

    def order(self, order_id: str) -> dict[str, Any]:
        return self._emulator.order(order_id)

    def entry_ids(self) -> list[str]:
        return self._emulator.entry_ids()

    def page_ids(self) -> list[str]:
        return self._emulator.page_ids()

    def reset_faults(self) -> None:
        self._emulator.reset_faults()

    def change_faults(
        self, given: Mapping[str, object], *, reset: bool, expire_tokens: bool
    ) -> tuple[dict[str, float | int], int]:
        """``POST /_emulator/faults``: all of it, or (on a bad value) none of it."""
        emulator = self._emulator
        with emulator._lock:
            faults = emulator._change_faults(given, reset=reset)
            expired = emulator._tokens.expire_access_tokens(emulator.now()) if expire_tokens else 0
            return faults, expired

    def advance_clock(self, seconds: object, field: str) -> None:
        self._emulator._advance_clock(seconds, field)

    def now(self) -> float:
        return self._emulator.now()
