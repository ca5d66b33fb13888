"""What the ledger's queries return: frozen snapshots, detached from the database."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from ..models import ItemStatus, OrderStatus, ShippingAddress, ShippingCustomer

__all__ = ["LedgerEvent", "LedgerItem", "LedgerOrder", "LedgerShipment"]


class _Snapshot(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)


class LedgerShipment(_Snapshot):
    """Units of one item sent under one tracking number (``None``: sent without one)."""

    tracking_info: str | None = None
    shipping_provider: str | None = None
    quantity: int | None = None


class LedgerItem(_Snapshot):
    """One line of an order and its current status."""

    line: int
    """Position in the order, from 0 (items have no id of their own, traps.md 12)."""
    sku: str | None = None
    catalog_id: str | None = None
    description: str | None = None
    quantity: int | None = None
    """Units ordered; ``None`` for an item known only from a status update."""
    selling_price: Decimal | None = None
    status: ItemStatus | str
    """Effective status: a ``Shipped`` report for fewer units than ordered reads ``PartiallyShipped``."""
    reported_status: ItemStatus | str | None = None
    """The status of the latest report, exactly as sent."""
    shipped_quantity: int = 0
    """Units shipped so far, summed over ``shipments`` and at most ``quantity``."""
    shipments: list[LedgerShipment] = []
    tracking_info: str | None = None
    shipping_provider: str | None = None
    message: str | None = None
    info: str | None = None
    updated_at: datetime | None = None


class LedgerEvent(_Snapshot):
    """One row of an order's history: a feed entry, or one of our own updates."""

    entry_id: str
    """The feed entry id (opaque, traps.md 18), or ``local:<uuid4>`` for our own update."""
    order_id: UUID | None = None
    kind: str
    """``order-created``, ``order-status-updated``, ``local-order-status-update``,
    ``local-item-status-update``, or the element name of an event type this SDK does not know."""
    source: Literal["feed", "local"]
    title: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    page_id: str | None = None
    """The feed page the entry was on when applied (from the follower's cursor)."""
    payload: dict[str, Any]
    """The event as JSON (``model_dump(mode="json")``); an unknown event keeps its raw ``xml``."""
    recorded_at: datetime


class LedgerOrder(_Snapshot):
    """One order as the ledger knows it. ``history`` is filled by ``OrderLedger.order()`` only."""

    order_id: UUID
    status: OrderStatus | str
    """Derived from the items after every change; see docs/ledger.md."""
    has_created_event: bool
    """``False`` for a stub: an order known only from status updates (traps.md 24)."""
    supplier_id: int | None = None
    company_id: int | None = None
    location_id: int | None = None
    po_reference: str | None = None
    printable_id: str | None = None
    ship_to_store: bool | None = None
    shipping_method: str | None = None
    shipping_address: ShippingAddress | None = None
    shipping_customer: ShippingCustomer | None = None
    created_at: datetime | None = None
    """When the order was placed (the ``order-created`` entry's ``published``); ``None`` for a stub."""
    updated_at: datetime | None = None
    """The time of the last event applied to it."""
    items: list[LedgerItem] = []
    history: list[LedgerEvent] = []
