"""What the HTTP app asks of the emulator: the one interface between ``_app.py`` and the rest.

As moto's layers (``responses.py`` calls the model's public methods, never the other way): the app
parses HTTP and writes answers; every decision about the world (is this token valid, what does
this page hold, may this update be applied) is the service's. The app knows this interface and
nothing else of the emulator, so the two modules import one way: ``_emulator.py`` (which
implements it, ``EmulatorService``) imports ``_app.py``, never the reverse.

Every method takes the emulator's lock and does no I/O, except ``place_order`` and
``place_orders`` with a shipping-options server configured: they call it (holding no lock while
they wait), so the app runs them in a worker thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from ._faults import FaultDecision, RateLimitResult
from ._records import Order

__all__ = ["DropshipService", "HasService"]


class DropshipService(Protocol):
    """The emulator as the HTTP app sees it."""

    @property
    def supplier_id(self) -> int: ...

    @property
    def latency(self) -> float:
        """Seconds added before every ``/v1`` answer (an injected fault)."""
        ...

    def record_request(self, kind: str, method: str, path: str, status: int) -> None:
        """Count and log one request (``kind``: ``token``, ``api`` or ``other``)."""
        ...

    # -- the accounts host and the gate in front of the API ------------------------------------

    def grant_token(self, form: Mapping[str, str]) -> dict[str, object]:
        """The token answer for a form; raises ``TokenRefusedError``."""
        ...

    def token_is_valid(self, token: str) -> bool: ...

    def decide_fault(self) -> FaultDecision:
        """Whether this API request meets an injected 500 or 503."""
        ...

    def rate_limit(self, token: str) -> RateLimitResult | None:
        """This request counted against the rate limit (``None``: no limit configured)."""
        ...

    # -- the supplier API ----------------------------------------------------------------------

    def feed_page(self, page_id: str | None) -> bytes | None:
        """A page of the feed as Atom (the current one for ``None``); ``None`` if there is no such page."""
        ...

    def find_order(self, order_id: str) -> Order | None: ...

    def update_order(self, order: Order, body: object) -> dict[str, Any]:
        """Apply an ``OrderStatusUpdate`` body; the echo. Raises ``InvalidRequestError``,
        ``EntryTooLargeError``."""
        ...

    def update_items(self, order: Order, body: object) -> dict[str, Any]:
        """Apply an ``ItemStatusUpdate`` body; the echo. Raises as ``update_order``."""
        ...

    # -- the supplier's catalog: availability, costs, the product feed, the health check ---------

    @property
    def product_feed_id(self) -> int: ...

    def ping(self) -> dict[str, str]:
        """``{"ApplicationVersion", "DbVersion"}``."""
        ...

    def push_availability(self, body: object) -> dict[str, Any]:
        """Store an ``Availability`` body; the echo with its ``Id``. Raises ``InvalidFieldError``
        (nothing changed) or ``RequestTooLargeError``."""
        ...

    def supplier_skus(self) -> list[dict[str, Any]]: ...

    def push_costs(self, body: object) -> dict[str, Any]:
        """Store a ``Cost`` body (its numbers read as ``Decimal``); the echo. Raises as ``push_availability``."""
        ...

    def add_products(self, body: object) -> list[dict[str, Any]]:
        """Add one product (or an array); the stored ones. Raises as ``push_availability``."""
        ...

    def products(self) -> list[dict[str, Any]]: ...

    def product_feed(self) -> dict[str, Any]: ...

    def remove_product(self, product_id: int) -> bool:
        """``False`` when the feed has no such product."""
        ...

    # -- the admin endpoints (``/_emulator/...``) ------------------------------------------------

    def summary(self) -> dict[str, Any]: ...

    def place_order(self, **fields: Any) -> str:
        """A retailer places an order; its id. Raises ``ValueError`` naming a bad field, and
        ``OrderNotPlaced`` when a shipping-options server does not take it. May block on that
        server: the app calls it in a worker thread."""
        ...

    def place_orders(self, count: int, fields: Mapping[str, Any]) -> list[str]:
        """``count`` orders of ``fields``; raises as ``place_order`` (with ``placed_order_ids``)."""
        ...

    def stored_availability(self) -> list[dict[str, Any]]: ...

    def stored_costs(self) -> list[dict[str, Any]]: ...

    def shipping_log(self) -> list[dict[str, Any]]: ...

    def order(self, order_id: str) -> dict[str, Any]:
        """An order and its statuses; raises ``KeyError`` for an unknown id."""
        ...

    def entry_ids(self) -> list[str]: ...

    def page_ids(self) -> list[str]: ...

    def reset_faults(self) -> None: ...

    def change_faults(
        self, given: Mapping[str, object], *, reset: bool, expire_tokens: bool
    ) -> tuple[dict[str, float | int], int]:
        """All of it or, on a bad value (``ValueError`` naming it), none of it: the faults now, and
        how many access tokens were expired."""
        ...

    def advance_clock(self, seconds: object, field: str) -> None:
        """Move the clock; ``ValueError`` naming ``field`` for what is no finite number of seconds."""
        ...

    def now(self) -> float: ...


class HasService(Protocol):
    """Something that offers a service (an ``Emulator``): what ``create_app`` also accepts."""

    @property
    def service(self) -> DropshipService: ...
