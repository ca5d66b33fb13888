"""Plain records of the emulator's world: orders as retailers placed them, and feed events.

Field names and order follow the feed's elements (iQmetrix's Supplier Orders API reference, "OrderCreated" and
"OrderStatusUpdated"), so that rendering is a walk over the fields. ``None`` renders as
``i:nil="true"`` (traps.md 19).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

__all__ = [
    "HISTORY_START",
    "NO_ADDRESS",
    "Address",
    "Customer",
    "Event",
    "ItemInfo",
    "Order",
    "OrderCreatedEvent",
    "OrderLine",
    "Seller",
    "StatusUpdatedEvent",
    "guid",
]

HISTORY_START = 1_672_531_200
"""2023-01-01T00:00:00Z: seeded history starts at a fixed time, so a seed fixes it entirely."""

NO_ADDRESS = "00000000-0000-0000-0000-000000000000"
"""An address id meaning "no address" (traps.md 18), seen on ship-to-store orders."""


def guid(rng: random.Random) -> str:
    """A random version-4 GUID string, lower case, as .NET writes them."""
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


class OrderLine(NamedTuple):
    """An ``order-item``."""

    catalog_id: str
    description: str
    quantity: int
    selling_price: Decimal
    sku: str


class Seller(NamedTuple):
    company_id: int
    location_id: int
    po_reference: str | None
    printable_id: str | None


class Address(NamedTuple):
    """A ``shipping-address``; elements in the serializer's (alphabetical) order."""

    address_id: str | None
    attention_to: str | None
    country: str | None
    country_code: str | None
    locality: str | None
    notes: str | None
    phone: str | None
    post_office_box_number: str | None
    postal_code: str | None
    region: str | None
    region_code: str | None
    street_address_1: str | None
    street_address_2: str | None
    type: str | None


class Customer(NamedTuple):
    """A ``shipping-customer``; elements in the serializer's (alphabetical) order."""

    alternate_name: str | None
    customer_id: str | None
    family_name: str | None
    middle_name: str | None
    notes: str | None
    primary_name: str | None
    title: str | None
    type: str | None


class ItemInfo(NamedTuple):
    """An ``item-information`` of an ``order-status-updated`` event (no product name: traps.md 27)."""

    catalog_id: str | None
    info: str | None
    message: str | None
    quantity: int | None
    shipping_provider: str | None
    sku: str
    status: str
    tracking_info: str | None


@dataclass(slots=True, eq=False)
class Order:
    """A dropship order: what the retailer placed (immutable) and where the supplier took it."""

    order_id: str
    supplier_id: int
    seller: Seller
    ship_to_store: bool
    address: Address
    customer: Customer
    shipping_method: str | None
    items: tuple[OrderLine, ...]
    status: str = "PendingSupplier"
    item_statuses: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for line in self.items:
            self.item_statuses.setdefault(line.sku, "PendingSupplier")

    def line(self, sku: str) -> OrderLine | None:
        for line in self.items:
            if line.sku == sku:
                return line
        return None


@dataclass(slots=True, frozen=True)
class OrderCreatedEvent:
    entry_id: str
    timestamp: int
    """Seconds since the epoch: the feed has one-second resolution (traps.md 22)."""
    order: Order


@dataclass(slots=True, frozen=True)
class StatusUpdatedEvent:
    entry_id: str
    timestamp: int
    order_id: str
    company_id: int
    supplier_id: int
    items: tuple[ItemInfo, ...]


Event = OrderCreatedEvent | StatusUpdatedEvent
