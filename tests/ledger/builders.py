"""Feed entries and updates for the ledger tests, built directly with the SDK's models.

The order is the spec's own example (iQmetrix's Supplier Orders API reference, "GET the Order Feed"): two items,
``AB-JH0786-MI`` x1 at 100 and ``EM-JH073-MI`` x2 at 42.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

from iqmetrix_dropship.follow._checkpoint import Cursor
from iqmetrix_dropship.models import (
    FeedEntry,
    ItemInformation,
    ItemStatus,
    OrderCreated,
    OrderItem,
    OrderStatusUpdated,
    Seller,
    ShippingAddress,
    ShippingCustomer,
    UnknownEvent,
)

ORDER_ID = UUID("32cb2b46-fb26-48c8-9b8f-67ed759e2599")
OTHER_ORDER_ID = UUID("0b05f9fb-1210-4494-b654-d051948716b4")
SKU_1 = "AB-JH0786-MI"  # quantity 1
SKU_2 = "EM-JH073-MI"  # quantity 2
T0 = datetime(2015, 10, 23, 21, 37, 31, tzinfo=timezone.utc)
PAGE = "f1be4a74-508f-4159-b3f1-c6efe76c03e4"

_counter = 0


def _next_id(prefix: str) -> str:
    global _counter  # noqa: PLW0603 - unique ids across one test run are all we need
    _counter += 1
    return f"urn:uuid:{prefix}-{_counter}"


def order_item(sku: str, quantity: int, price: str) -> OrderItem:
    return OrderItem(
        catalog_id=f"cat-{sku}", description=f"item {sku}", quantity=quantity, selling_price=Decimal(price), sku=sku
    )


def created(
    order_id: UUID = ORDER_ID,
    *,
    entry_id: str | None = None,
    at: datetime = T0,
    items: list[OrderItem] | None = None,
) -> FeedEntry:
    event = OrderCreated(
        order_id=order_id,
        items=items if items is not None else [order_item(SKU_1, 1, "100"), order_item(SKU_2, 2, "42.50")],
        seller=Seller(company_id=33772, location_id=33773, po_reference="ABC123N1", printable_id="98764531"),
        ship_to_store=True,
        shipping_address=ShippingAddress(
            address_id="00000000-0000-0000-0000-000000000000", attention_to="Bob Eh", locality="Moosejaw"
        ),
        shipping_customer=ShippingCustomer(primary_name="Bob", family_name="Eh", type="Person"),
        shipping_method="123",
        supplier_id=60455,
    )
    return FeedEntry(
        id=entry_id or _next_id("created"), title="Dropship Order Created", published=at, updated=at, event=event
    )


def info(sku: str | None, status: ItemStatus | str | None, **fields: Any) -> ItemInformation:
    return ItemInformation(sku=sku, status=status, **fields)


def updated(
    *items: ItemInformation,
    order_id: UUID = ORDER_ID,
    entry_id: str | None = None,
    at: datetime = T0 + timedelta(hours=1),
    company_id: int = 33772,
) -> FeedEntry:
    event = OrderStatusUpdated(order_id=order_id, company_id=company_id, supplier_id=60455, items=list(items))
    return FeedEntry(
        id=entry_id or _next_id("updated"), title="Dropship Order Status Updated", published=at, updated=at, event=event
    )


def unknown(name: str = "order-cancelled", *, xml: str | None = None, entry_id: str | None = None) -> FeedEntry:
    body = xml if xml is not None else f'<{name} xmlns="urn:iQmetrix:dropship"><reason>x</reason></{name}>'
    event = UnknownEvent(name=name, namespace="urn:iQmetrix:dropship", xml=body)
    return FeedEntry(id=entry_id or _next_id("unknown"), published=T0, updated=T0, event=event)


def cursor(entry: FeedEntry, page: str = PAGE) -> Cursor:
    return Cursor(entry.id, page)
