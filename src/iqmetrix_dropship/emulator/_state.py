"""The emulator's pure state: orders, the event log, and how the log is cut into feed pages.

Paging (traps.md 21): events are stored oldest first; page ``k`` holds events
``[50k, 50k + 50)``. With ``N`` events the current page is page ``(N - 1) // 50``: it holds the
1..50 newest, and every older page is an archive. When the current page holds 50 events and
one more arrives, it becomes an archive under the same page id and a new current page starts
with that one event. Archive pages never change again, so their rendered bytes are cached.

Page ids are derived from the seed (UUID 5), so a persisted emulator keeps them across restarts.

Not thread-safe: :class:`~iqmetrix_dropship.emulator.Emulator` holds a lock around every use.
"""

from __future__ import annotations

import random
import uuid
from typing import Protocol

from ._config import PAGE_SIZE
from ._limits import check_entry_size
from ._records import HISTORY_START, Event, ItemInfo, Order, OrderCreatedEvent, StatusUpdatedEvent, guid
from ._xml import render_page

__all__ = ["DropshipState", "StateListener", "order_items"]

_MALFORMED_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


class StateListener(Protocol):
    """Told about every change, e.g. to write it through to SQLite."""

    def event_added(self, event: Event, sequence: int) -> None: ...

    def order_added(self, order: Order) -> None: ...

    def statuses_changed(self, order: Order) -> None: ...


def order_items(
    order: Order,
    *,
    status: str,
    tracking_info: str | None,
    shipping_provider: str | None,
    message: str | None,
    info: str | None,
) -> tuple[ItemInfo, ...]:
    """The ``item-information`` list an order-level update reports: every item of the order."""
    return tuple(
        ItemInfo(
            catalog_id=line.catalog_id,
            info=info,
            message=message,
            quantity=line.quantity,
            shipping_provider=shipping_provider,
            sku=line.sku,
            status=status,
            tracking_info=tracking_info,
        )
        for line in order.items
    )


_PARTIALLY_SHIPPED = "PartiallyShipped"


class DropshipState:
    """One supplier's orders and notification feed."""

    def __init__(
        self,
        *,
        supplier_id: int,
        seed: int,
        public_host: str,
        malformed_entry_id_rate: float,
        rng: random.Random,
    ) -> None:
        self.supplier_id = supplier_id
        self.seed = seed
        self.rng = rng
        self.malformed_entry_id_rate = malformed_entry_id_rate
        self.feed_url = f"{public_host.rstrip('/')}/v1/Suppliers({supplier_id})/Notifications"
        self.orders: dict[str, Order] = {}
        self.events: list[Event] = []
        self.listener: StateListener | None = None
        self.limit_entries = False
        """Refuse a change whose entry would pass ``MAX_ENTRY_BYTES`` (``_limits.py``), before it
        changes anything. Off while seeding: seeded entries are small, and measuring each one
        would double the time of a large seed."""
        self._entry_ids: set[str] = set()
        self._page_namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"urn:iqmetrix-dropship-emulator:{seed}:{supplier_id}")
        self._page_ids: list[str] = []
        self._page_index: dict[str, int] = {}
        self._archives: dict[int, bytes] = {}
        self._current: tuple[int, bytes] | None = None

    # -- events ---------------------------------------------------------------------------

    def new_entry_id(self) -> str:
        """``urn:uuid:`` + a GUID, or now and then something that is no UUID (traps.md 18)."""
        rng = self.rng
        while True:
            if rng.random() < self.malformed_entry_id_rate:
                # Shaped like the spec's urn:uuid:gf456fd486-df4s56g-d45fdsf-f74ds8fds456fs
                chars = "".join(rng.choice(_MALFORMED_ALPHABET) for _ in range(38))
                body = f"g{chars[:9]}-{chars[9:16]}-{chars[16:23]}-{chars[23:]}"
            else:
                body = guid(rng)
            entry_id = f"urn:uuid:{body}"
            if entry_id not in self._entry_ids:
                return entry_id

    def next_timestamp(self, now: float) -> int:
        """Now, to the second, never before the newest event: the feed stays in time order."""
        last = self.events[-1].timestamp if self.events else HISTORY_START
        return max(int(now), last)

    def append(self, event: Event) -> None:
        self._entry_ids.add(event.entry_id)
        self.events.append(event)
        if self.listener is not None:
            self.listener.event_added(event, len(self.events) - 1)

    def add_order(self, order: Order) -> None:
        if order.order_id in self.orders:
            raise ValueError(f"order {order.order_id} already exists")
        self.orders[order.order_id] = order
        if self.listener is not None:
            self.listener.order_added(order)

    def record_order_created(self, order: Order, timestamp: int) -> OrderCreatedEvent:
        if order.order_id in self.orders:
            raise ValueError(f"order {order.order_id} already exists")
        if self.limit_entries:
            check_entry_size(OrderCreatedEvent("", timestamp, order))
        self.add_order(order)
        event = OrderCreatedEvent(self.new_entry_id(), timestamp, order)
        self.append(event)
        return event

    def record_order_update(
        self,
        order: Order,
        *,
        status: str,
        tracking_info: str | None,
        shipping_provider: str | None,
        message: str | None,
        info: str | None,
        timestamp: int,
    ) -> StatusUpdatedEvent:
        """An ``OrderStatusUpdate``: the order and every item take ``status`` (traps.md 23), except
        ``PartiallyShipped``, which describes the order only: each item keeps its own status (the
        guide's split shipment reports the items shipped, then the order partially shipped)."""
        items = order_items(
            order,
            status=status,
            tracking_info=tracking_info,
            shipping_provider=shipping_provider,
            message=message,
            info=info,
        )
        if status == _PARTIALLY_SHIPPED:
            items = tuple(item._replace(status=order.item_statuses.get(item.sku, item.status)) for item in items)
        return self._record_statuses(order, items, timestamp, order_status=status)

    def record_item_update(self, order: Order, items: tuple[ItemInfo, ...], timestamp: int) -> StatusUpdatedEvent:
        """An ``ItemStatusUpdate``: only the items given change; the order's status does not."""
        return self._record_statuses(order, items, timestamp, order_status=None)

    def _record_statuses(
        self, order: Order, items: tuple[ItemInfo, ...], timestamp: int, *, order_status: str | None
    ) -> StatusUpdatedEvent:
        if self.limit_entries:
            company_id, supplier_id = order.seller.company_id, self.supplier_id
            check_entry_size(StatusUpdatedEvent("", timestamp, order.order_id, company_id, supplier_id, items))
        if order_status is not None:
            order.status = order_status
        for item in items:
            order.item_statuses[item.sku] = item.status
        if self.listener is not None:
            self.listener.statuses_changed(order)
        event = StatusUpdatedEvent(
            entry_id=self.new_entry_id(),
            timestamp=timestamp,
            order_id=order.order_id,
            company_id=order.seller.company_id,
            supplier_id=self.supplier_id,
            items=items,
        )
        self.append(event)
        return event

    # -- pages ----------------------------------------------------------------------------

    @property
    def current_page(self) -> int:
        return (len(self.events) - 1) // PAGE_SIZE if self.events else 0

    def page_id(self, index: int) -> str:
        while len(self._page_ids) <= index:
            page_id = str(uuid.uuid5(self._page_namespace, str(len(self._page_ids))))
            self._page_index[page_id] = len(self._page_ids)
            self._page_ids.append(page_id)
        return self._page_ids[index]

    def page_ids(self) -> list[str]:
        """Every page id, oldest first; the last one is the current page."""
        self.page_id(self.current_page)
        return self._page_ids[: self.current_page + 1]

    def find_page(self, page_id: str) -> int | None:
        """The index of a page id (any GUID spelling), or ``None`` for no such page (yet)."""
        try:
            key = str(uuid.UUID(page_id))
        except ValueError:
            return None
        self.page_id(self.current_page)
        index = self._page_index.get(key)
        return index if index is not None and index <= self.current_page else None

    def render(self, index: int) -> bytes:
        """The page's Atom bytes; archives are rendered once and then served from cache."""
        current = self.current_page
        if index < current:
            cached = self._archives.get(index)
            if cached is None:
                cached = self._archives[index] = self._render(index, current)
            return cached
        if self._current is None or self._current[0] != len(self.events):
            self._current = (len(self.events), self._render(index, current))
        return self._current[1]

    def prerender(self, index: int) -> bool:
        """Render an archive page into the cache; ``False`` if it already was there."""
        if index in self._archives or index >= self.current_page:
            return False
        self.render(index)
        return True

    def _render(self, index: int, current: int) -> bytes:
        page_events = self.events[index * PAGE_SIZE : (index + 1) * PAGE_SIZE]
        page_events.reverse()  # newest first within a page
        if not page_events:
            updated = HISTORY_START
        elif index < current:
            updated = page_events[0].timestamp
        else:
            # traps.md 22: the current page's <updated> need not match its newest entry (in
            # the spec's example it is 3 s later). A deterministic lag reproduces that.
            updated = page_events[0].timestamp + len(self.events) % 4
        return render_page(
            feed_url=self.feed_url,
            page_id=self.page_id(index),
            updated=updated,
            prev_page_id=self.page_id(index - 1) if index > 0 else None,
            next_page_id=self.page_id(index + 1) if index < current else None,
            events_newest_first=page_events,
        )
