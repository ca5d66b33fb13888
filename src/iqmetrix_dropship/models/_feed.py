"""What the order notification feed tells us: pages, entries and the events inside them.

These models describe what we *receive*, so they are lenient (traps.md 18-28): unknown fields
are ignored, a status the enums do not know is kept as its string, and every id except the
order id is an opaque string. The feed parser (``iqmetrix_dropship.feed``) builds them.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from ._enums import ItemStatus
from ._links import page_id_from_href

__all__ = [
    "FeedEntry",
    "FeedEvent",
    "FeedLinks",
    "FeedPage",
    "ItemInformation",
    "OrderCreated",
    "OrderItem",
    "OrderStatusUpdated",
    "Seller",
    "ShippingAddress",
    "ShippingCustomer",
    "UnknownEvent",
    "page_id_from_href",
]


class _Received(BaseModel):
    # defer_build: the parser builds these without validation; the validator is made on first use.
    # Hence the empty defaults below come from model_construct: calling Seller() here would build
    # four validators (and load pydantic's plugin machinery) at import. Both are the same model.
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)


class OrderItem(_Received):
    """One line of an order as the retailer placed it."""

    catalog_id: str | None = None
    description: str | None = None
    quantity: int
    selling_price: Decimal | None = None
    """The consumer MSRP of one unit (traps.md 26)."""
    sku: str | None = None


class Seller(_Received):
    """The retailer's store that sold the order."""

    company_id: int | None = None
    location_id: int | None = None
    po_reference: str | None = None
    printable_id: str | None = None


class ShippingAddress(_Received):
    """Where the order goes. An ``address_id`` of all zeros means "no address" (traps.md 18)."""

    address_id: str | None = None
    attention_to: str | None = None
    country: str | None = None
    country_code: str | None = None
    locality: str | None = None
    notes: str | None = None
    phone: str | None = None
    post_office_box_number: str | None = None
    postal_code: str | None = None
    region: str | None = None
    region_code: str | None = None
    street_address_1: str | None = None
    street_address_2: str | None = None
    type: str | None = None


class ShippingCustomer(_Received):
    """Who receives the order."""

    alternate_name: str | None = None
    customer_id: str | None = None
    family_name: str | None = None
    middle_name: str | None = None
    notes: str | None = None
    primary_name: str | None = None
    title: str | None = None
    type: str | None = None


class OrderCreated(_Received):
    """``order-created``: a retailer placed a dropship order with this supplier."""

    event_type: Literal["order-created"] = "order-created"
    order_id: UUID
    items: list[OrderItem] = []
    seller: Seller = Seller.model_construct()
    ship_to_store: bool | None = None
    """Store delivery (``True``) or home delivery (``False``); trust this, not the address ``type`` (traps.md 25)."""
    shipping_address: ShippingAddress = ShippingAddress.model_construct()
    shipping_customer: ShippingCustomer = ShippingCustomer.model_construct()
    shipping_method: str | None = None
    supplier_id: int | None = None


class ItemInformation(_Received):
    """The status of one item, as reported in an ``order-status-updated`` event."""

    catalog_id: str | None = None
    info: str | None = None
    message: str | None = None
    product_name: str | None = None
    """Never in the feed (traps.md 27); kept for the update echo."""
    quantity: int | None = None
    status: ItemStatus | str | None = None
    """An ``ItemStatus``, or the raw string when the server sends a status we do not know."""
    sku: str | None = None
    shipping_provider: str | None = None
    tracking_info: str | None = None


class OrderStatusUpdated(_Received):
    """``order-status-updated``: an order's items changed status (often by our own update, traps.md 23)."""

    event_type: Literal["order-status-updated"] = "order-status-updated"
    order_id: UUID
    company_id: int | None = None
    """May differ from the order's seller (traps.md 24)."""
    supplier_id: int | None = None
    items: list[ItemInformation] = []


class UnknownEvent(_Received):
    """An event type this SDK does not know yet, kept whole so that nothing is lost."""

    event_type: Literal["unknown"] = "unknown"
    name: str
    """The content element's local name, e.g. ``order-cancelled``."""
    namespace: str | None = None
    xml: str
    """The content element, serialised as it was received."""


FeedEvent = OrderCreated | OrderStatusUpdated | UnknownEvent


class FeedEntry(_Received):
    """One event of the notification feed."""

    id: str
    """E.g. ``urn:uuid:...``: opaque, not necessarily a valid UUID (traps.md 18)."""
    title: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    event: FeedEvent


class FeedLinks(_Received):
    """The page's links. Hrefs are kept as received; use the ``*_page_id`` properties to follow them."""

    current: str | None = None
    self: str | None = None
    prev_archive: str | None = None
    next_archive: str | None = None

    @property
    def self_page_id(self) -> str | None:
        return page_id_from_href(self.self)

    @property
    def prev_archive_page_id(self) -> str | None:
        return page_id_from_href(self.prev_archive)

    @property
    def next_archive_page_id(self) -> str | None:
        return page_id_from_href(self.next_archive)


class FeedPage(_Received):
    """One page of the feed: up to 50 entries, newest first (traps.md 21)."""

    id: str
    title: str | None = None
    updated: datetime | None = None
    links: FeedLinks = FeedLinks.model_construct()
    entries: list[FeedEntry] = []

    @property
    def page_id(self) -> str | None:
        """This page's own id, from its ``self`` link (the current page has one too)."""
        return self.links.self_page_id

    @property
    def prev_archive_page_id(self) -> str | None:
        """The next older page, or ``None`` on the oldest page."""
        return self.links.prev_archive_page_id

    @property
    def next_archive_page_id(self) -> str | None:
        """The next newer page, or ``None`` on the current page."""
        return self.links.next_archive_page_id
