"""How one event changes one order: pure functions over plain values, no SQLite.

The ledger loads an order's state, calls one of these functions, and writes back what changed.
Keeping the rules here means they are tested without a database, and the storage code only
knows how to move an ``OrderState`` in and out of rows.

The rules, in the supplier's words:

- ``order-created`` gives the order and its items, each ``PendingSupplier``. An order already
  known (a stub made by an earlier status update, traps.md 24, or by our own update) is filled
  in: the created event brings the order's fields and the items' quantities and prices, and the
  statuses already reported are kept.
- An item report (a feed ``item-information``, or one item of our own ``ItemStatusUpdate``) finds
  its item by ``Sku`` (traps.md 12; by ``CatalogId`` only when it has no sku) and sets its status,
  tracking, carrier, message and info. A report for an item the order lacks adds the item, and a
  report for an order never seen makes a stub order: nothing the feed says is dropped.
- A ``Shipped`` report is also a *shipment*, identified by ``(sku, tracking_info)``. Reporting the
  same shipment again replaces it instead of adding to it: our own update and its echo from the
  feed (traps.md 23) must not ship the units twice. Distinct tracking numbers add up, which is how
  the guide's incremental partial shipments look ("the supplier must provide tracking numbers
  for each shipment").
- The order's status is derived from its items after every change (``derive_order_status``).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import MISSING, dataclass
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from ..models import (
    FeedEvent,
    ItemInformation,
    ItemStatus,
    ItemStatusUpdate,
    ItemUpdate,
    OrderCreated,
    OrderItem,
    OrderStatus,
    OrderStatusUpdate,
    OrderStatusUpdated,
    ShippingAddress,
    ShippingCustomer,
    UnknownEvent,
)

__all__ = [
    "ItemReport",
    "ItemState",
    "OrderState",
    "Shipment",
    "apply_event",
    "apply_update",
    "derive_order_status",
    "item_status",
    "order_id_of",
    "report_items",
]

_PENDING = ItemStatus.PENDING_SUPPLIER.value
_SHIPPED = ItemStatus.SHIPPED.value
_PARTIALLY_SHIPPED = ItemStatus.PARTIALLY_SHIPPED.value
_CANCELLED = ItemStatus.CANCELLED.value

# "Least advanced first": the status that holds the order back the most names the order.
# An error needs a human before anything else; an item that cannot be had at all blocks more
# than one that will come later; an item nobody has looked at blocks more than one in progress.
# A status the enums do not know (kept as its string) ranks after all of them.
_PRECEDENCE = {
    ItemStatus.ERROR.value: 0,
    ItemStatus.NOT_AVAILABLE.value: 1,
    ItemStatus.BACK_ORDERED.value: 2,
    ItemStatus.PENDING_SUPPLIER.value: 3,
    ItemStatus.ORDERED.value: 4,
    ItemStatus.OTHER.value: 5,
}
_UNKNOWN_RANK = len(_PRECEDENCE)

# An UnknownEvent is kept whole; if it names an order (``<order-id>`` under any prefix), its
# history row is filed under that order. It never changes the order: we do not know its meaning.
_ORDER_ID_ELEMENT = re.compile(r"<(?:[\w.-]+:)?order-id(?:\s[^>]*)?>\s*([0-9A-Fa-f-]{32,36})\s*</")


@dataclass(frozen=True)
class Shipment:
    """Units of one item sent under one tracking number (``None``: sent without one)."""

    tracking_info: str | None
    shipping_provider: str | None
    quantity: int | None
    """``None`` only when neither the report nor the order said how many (a stub's item)."""


@dataclass(frozen=True)
class ItemState:
    """One line of an order as the ledger knows it."""

    line: int
    """Position in the order, from 0; items have no line id of their own (traps.md 12)."""
    sku: str | None
    catalog_id: str | None = None
    description: str | None = None
    quantity: int | None = None
    """Units ordered; ``None`` for an item known only from a status report."""
    selling_price: str | None = None
    """The consumer MSRP of one unit as text, so that the Decimal stays exact (traps.md 26)."""
    status: str = _PENDING
    """The effective status: the reported one, except that a ``Shipped`` report covering fewer
    units than were ordered makes the item ``PartiallyShipped`` (see ``item_status``)."""
    reported_status: str | None = None
    """The status of the latest report, as the supplier sent it; ``None`` until the first."""
    shipments: tuple[Shipment, ...] = ()
    tracking_info: str | None = None
    shipping_provider: str | None = None
    message: str | None = None
    info: str | None = None
    updated_at: datetime | None = None

    @property
    def shipped_quantity(self) -> int:
        """Units shipped so far, at most the units ordered (and at most what a 64-bit column holds:
        shipments of absurd quantities for an order never seen must not wedge the ledger)."""
        if not self.shipments:
            return 0
        shipped = sum(s.quantity or 0 for s in self.shipments)
        return min(shipped, _INT64_MAX) if self.quantity is None else min(shipped, self.quantity)


_INT64_MAX = 2**63 - 1


@dataclass(frozen=True)
class OrderState:
    """One order as the ledger knows it."""

    order_id: str
    """The dropship order id as a canonical lowercase GUID."""
    status: str = OrderStatus.PENDING_SUPPLIER.value
    has_created_event: bool = False
    """``False`` for a stub: an order known only from status updates (traps.md 24)."""
    supplier_id: int | None = None
    company_id: int | None = None
    location_id: int | None = None
    po_reference: str | None = None
    printable_id: str | None = None
    ship_to_store: bool | None = None
    shipping_method: str | None = None
    shipping_address: str | None = None
    """The address as JSON, as its column holds it: the rules never look inside, so an order read
    to apply a status update is written back without parsing and dumping it again."""
    shipping_customer: str | None = None
    """The customer as JSON, likewise."""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    items: tuple[ItemState, ...] = ()


@dataclass(frozen=True)
class ItemReport:
    """What one status report says about one item, whichever way it came."""

    sku: str | None
    status: str | None
    catalog_id: str | None = None
    quantity: int | None = None
    tracking_info: str | None = None
    shipping_provider: str | None = None
    message: str | None = None
    info: str | None = None

    @classmethod
    def from_feed(cls, info: ItemInformation) -> ItemReport:
        return new(
            cls,
            sku=info.sku,
            status=None if info.status is None else str(info.status),
            catalog_id=info.catalog_id,
            quantity=info.quantity,
            tracking_info=info.tracking_info,
            shipping_provider=info.shipping_provider,
            message=info.message,
            info=info.info,
        )

    @classmethod
    def from_update(cls, item: ItemUpdate) -> ItemReport:
        return new(
            cls,
            sku=item.sku,
            status=str(item.status),
            catalog_id=item.catalog_id,
            quantity=item.quantity,
            tracking_info=item.tracking_info,
            shipping_provider=item.shipping_provider,
            message=item.message,
            info=item.info,
        )


@functools.lru_cache(maxsize=1024)  # a page's flush spells each of its orders' ids a few times
def canonical_order_id(order_id: UUID | str) -> str:
    """The canonical lowercase, hyphenated spelling; ``ValueError`` for anything not a GUID."""
    return str(order_id if isinstance(order_id, UUID) else UUID(str(order_id).strip()))


def order_id_of(event: FeedEvent | OrderStatusUpdate | ItemStatusUpdate) -> str | None:
    """The order an event is about, or ``None`` (an unknown event that names no order)."""
    if isinstance(event, OrderCreated | OrderStatusUpdated):
        return canonical_order_id(event.order_id)
    if isinstance(event, OrderStatusUpdate | ItemStatusUpdate):
        return canonical_order_id(event.id)
    match = _ORDER_ID_ELEMENT.search(event.xml)
    if match is None:
        return None
    try:
        return canonical_order_id(match.group(1))
    except ValueError:
        return None


# -- deriving statuses -----------------------------------------------------------------------


def item_status(item: ItemState) -> str:
    """The item's effective status from its latest report and its shipments.

    A ``Shipped`` report that leaves units unshipped is ``PartiallyShipped`` (ItemStatus 6: "this
    item has been shipped due to some quantity available"); when the ordered quantity is unknown
    (a stub's item) the report is trusted as it is. Any other report is the status.
    """
    reported = item.reported_status
    if reported is None:
        return item.status
    if reported == _SHIPPED and item.quantity is not None and item.shipped_quantity < item.quantity:
        return _PARTIALLY_SHIPPED
    return reported


def derive_order_status(items: Sequence[ItemState], fallback: str) -> str:
    """The order's status from its items' effective statuses.

    1. No items: ``fallback`` (the order's own status, e.g. set by an order-level update on a stub).
    2. Every item ``Cancelled``: ``Cancelled``.
    3. Every item that is not cancelled ``Shipped``: ``Shipped``.
    4. Some units shipped (an item ``Shipped`` or ``PartiallyShipped``, or with shipments) and some
       not: ``PartiallyShipped`` (OrderStatus 6: "some items have been shipped ..., and other items
       are pending availability").
    5. Otherwise the least advanced remaining item names the order, by the precedence
       ``Error > NotAvailable > BackOrdered > PendingSupplier > Ordered > Other > unknown strings``;
       an order whose least advanced item has a status the enums do not know takes that string.
    """
    if not items:
        return fallback
    least, least_rank = None, _UNKNOWN_RANK  # of the items not cancelled; the first of equals
    all_shipped, some_shipped = True, False
    for item in items:  # one pass: an order's status is derived at every event
        status = item.status
        if status == _CANCELLED:
            continue
        rank = _PRECEDENCE.get(status, _UNKNOWN_RANK)
        if least is None or rank < least_rank:
            least, least_rank = status, rank
        all_shipped = all_shipped and status == _SHIPPED
        some_shipped = some_shipped or status in (_SHIPPED, _PARTIALLY_SHIPPED) or item.shipped_quantity > 0
    if least is None:
        return OrderStatus.CANCELLED.value
    if all_shipped:
        return OrderStatus.SHIPPED.value
    if some_shipped:
        return OrderStatus.PARTIALLY_SHIPPED.value
    return least


def _settled(order: OrderState, items: Iterable[ItemState], at: datetime | None, **changes: Any) -> OrderState:
    """``order`` with ``items`` (and ``changes``), every status re-derived, and ``updated_at``
    moved to ``at``."""
    settled = tuple(_with_status(item) for item in items)
    return replace(
        order,
        items=settled,
        status=derive_order_status(settled, order.status),
        updated_at=at if at is not None else order.updated_at,
        **changes,
    )


# -- the effects ----------------------------------------------------------------------------


def create_order(state: OrderState | None, event: OrderCreated, at: datetime | None) -> OrderState:
    """``order-created``: the order and its items; a known order (a stub) is filled in."""
    if state is None:
        return _new_order(event, at)
    order = state
    known = list(order.items)
    claimed: set[int] = set()
    added: list[ItemState] = []
    for created in event.items:
        price = None if created.selling_price is None else str(created.selling_price)
        index = next((n for n in _find_all(known, created.sku, created.catalog_id) if n not in claimed), None)
        if index is None:
            added.append(_new_item(_next_line([*known, *added]), created))
            continue
        # Statuses reported before the order was seen stay; the order brings the rest.
        claimed.add(index)
        item = known[index]
        known[index] = replace(
            item,
            sku=created.sku if created.sku is not None else item.sku,
            catalog_id=created.catalog_id if created.catalog_id is not None else item.catalog_id,
            description=created.description,
            quantity=created.quantity,
            selling_price=price,
        )
    return _settled(
        order,
        [*known, *added],
        at,
        **_created_fields(event),
        # A repeated order-created (another entry id) does not make the order younger.
        created_at=order.created_at if order.created_at is not None else at,
    )


def _new_item(line: int, created: OrderItem) -> ItemState:
    """An item an order-created event brings that the ledger did not know: ``PendingSupplier``."""
    return new(
        ItemState,
        line=line,
        sku=created.sku,
        catalog_id=created.catalog_id,
        description=created.description,
        quantity=created.quantity,
        selling_price=None if created.selling_price is None else str(created.selling_price),
    )


def _created_fields(event: OrderCreated) -> dict[str, Any]:
    """What an order-created event says of its order."""
    seller = event.seller
    return {
        "has_created_event": True,
        "supplier_id": event.supplier_id,
        "company_id": seller.company_id,
        "location_id": seller.location_id,
        "po_reference": seller.po_reference,
        "printable_id": seller.printable_id,
        "ship_to_store": event.ship_to_store,
        "shipping_method": event.shipping_method,
        "shipping_address": _json_of(event.shipping_address),
        "shipping_customer": _json_of(event.shipping_customer),
    }


def _new_order(event: OrderCreated, at: datetime | None) -> OrderState:
    """``create_order`` of an order not known yet, made directly (the common case, once per order):
    every item is new, on the next line, and ``PendingSupplier``, so the order is too."""
    items = tuple(_new_item(line, created) for line, created in enumerate(event.items))
    return new(
        OrderState,
        order_id=canonical_order_id(event.order_id),
        **_created_fields(event),
        created_at=at,
        updated_at=at,
        items=items,
    )


def report_items(
    state: OrderState | None,
    order_id: str,
    reports: Iterable[ItemReport],
    at: datetime | None,
    *,
    supplier_id: int | None = None,
) -> OrderState:
    """Item reports (feed ``item-information`` or our ``ItemStatusUpdate``) applied to an order.

    An order never seen becomes a stub (traps.md 24); the company id of a report is not checked
    against the seller's, which may differ (traps.md 24).
    """
    order = state if state is not None else new(OrderState, order_id=order_id, supplier_id=supplier_id)
    items = list(order.items)
    for report in reports:
        if report.sku is None and report.catalog_id is None:
            continue  # names no item; the history row keeps it
        matched = _find_all(items, report.sku, report.catalog_id)
        if not matched:
            items.append(new(ItemState, line=_next_line(items), sku=report.sku, catalog_id=report.catalog_id))
            matched = [len(items) - 1]
        for index in matched:
            items[index] = _report_item(items[index], report, at)
    return _settled(order, tuple(items), at)


def update_order(state: OrderState | None, update: OrderStatusUpdate, at: datetime | None) -> OrderState:
    """Our ``OrderStatusUpdate``: its status and tracking go to every item of the order.

    The service does the same (the feed echoes one ``item-information`` per item, traps.md 23);
    an order without items (a stub) takes the status itself.
    """
    order_id = canonical_order_id(update.id)
    order = state if state is not None else OrderState(order_id=order_id)
    status = str(update.status)
    reports = [
        ItemReport(
            sku=item.sku,
            catalog_id=item.catalog_id,
            status=status,
            tracking_info=update.tracking_info,
            shipping_provider=update.shipping_provider,
            message=update.message,
            info=update.info,
        )
        for item in order.items
    ]
    if not order.items:
        order = replace(order, status=status)
    items = tuple(_report_item(item, report, at) for item, report in zip(order.items, reports, strict=True))
    return _settled(order, items, at)


def apply_event(state: OrderState | None, event: FeedEvent, at: datetime | None) -> OrderState | None:
    """A feed event's effect on its order; ``None`` for an event that changes no order."""
    if isinstance(event, OrderCreated):
        return create_order(state, event, at)
    if isinstance(event, OrderStatusUpdated):
        reports = [ItemReport.from_feed(info) for info in event.items]
        return report_items(state, canonical_order_id(event.order_id), reports, at, supplier_id=event.supplier_id)
    if isinstance(event, UnknownEvent):
        return None
    raise TypeError(f"not a feed event: {type(event).__name__}")  # pragma: no cover - exhaustive


def apply_update(
    state: OrderState | None, update: OrderStatusUpdate | ItemStatusUpdate, at: datetime | None
) -> OrderState:
    """The effect of one of our own updates (or its echo from the client)."""
    if isinstance(update, OrderStatusUpdate):
        return update_order(state, update, at)
    reports = [ItemReport.from_update(item) for item in update.item_information]
    return report_items(state, canonical_order_id(update.id), reports, at)


# -- helpers ----------------------------------------------------------------------------------

# A backfill applies every event of the feed, and each makes a few of the frozen values above. A
# frozen dataclass sets every field through object.__setattr__ (4 us for a state, on a slow core),
# so they are made here by filling the instance's __dict__: the same object, a tenth of the cost.
# Their fields have plain defaults (no factory), no init=False and no __post_init__ (checked).
_T = TypeVar("_T")
_LAYOUTS: dict[type, tuple[dict[str, Any], frozenset[str], frozenset[str]]] = {}


def new(cls: type[_T], **values: Any) -> _T:
    """``cls(**values)`` for the frozen dataclasses here; an unknown or missing field is refused
    as the constructor refuses it."""
    defaults, names, required = _LAYOUTS.get(cls) or _layout(cls)
    if not values.keys() <= names or not required <= values.keys():
        raise TypeError(f"{cls.__name__} takes {sorted(names)}, needs {sorted(required)}: got {sorted(values)}")
    made = object.__new__(cls)
    made.__dict__.update(defaults)
    made.__dict__.update(values)
    return made


def replace(state: _T, **changes: Any) -> _T:
    """``dataclasses.replace`` for the frozen dataclasses here (see ``new``)."""
    if not changes.keys() <= (_LAYOUTS.get(type(state)) or _layout(type(state)))[1]:
        raise TypeError(f"{type(state).__name__} has no field among {sorted(changes)}")
    copy = object.__new__(type(state))
    copy.__dict__.update(state.__dict__)
    copy.__dict__.update(changes)
    return copy


def _layout(cls: type) -> tuple[dict[str, Any], frozenset[str], frozenset[str]]:
    fields = dataclasses.fields(cls)
    if hasattr(cls, "__post_init__") or any(not f.init or f.default_factory is not MISSING for f in fields):
        raise TypeError(f"{cls.__name__} cannot be made by filling its __dict__")
    defaults = {f.name: f.default for f in fields if f.default is not MISSING}
    layout = _LAYOUTS[cls] = (
        defaults,
        frozenset(f.name for f in fields),
        frozenset(f.name for f in fields) - defaults.keys(),
    )
    return layout


def _json_of(model: ShippingAddress | ShippingCustomer | None) -> str | None:
    return None if model is None else model.model_dump_json()


def _with_status(item: ItemState) -> ItemState:
    status = item_status(item)
    return item if status == item.status else replace(item, status=status)


def _report_item(item: ItemState, report: ItemReport, at: datetime | None) -> ItemState:
    # A report without a status changes no status: the service fills in PendingSupplier when a
    # status is omitted (traps.md 7), so a missing one in the feed is noise, not an instruction.
    reported = report.status if report.status is not None else item.reported_status
    shipments = item.shipments
    if report.status == _SHIPPED:
        quantity = report.quantity if report.quantity is not None else item.quantity
        shipment = Shipment(report.tracking_info, report.shipping_provider, quantity)
        # The same tracking number is the same shipment: replace, never add (traps.md 23 echoes).
        others = tuple(s for s in shipments if s.tracking_info != report.tracking_info)
        shipments = (*others, shipment)
    return replace(
        item,
        catalog_id=item.catalog_id if item.catalog_id is not None else report.catalog_id,
        reported_status=reported,
        status=reported if reported is not None else item.status,
        shipments=shipments,
        tracking_info=report.tracking_info,
        shipping_provider=report.shipping_provider,
        message=report.message,
        info=report.info,
        updated_at=at if at is not None else item.updated_at,
    )


def _find_all(items: Sequence[ItemState], sku: str | None, catalog_id: str | None) -> list[int]:
    # traps.md 12: items are keyed by Sku; CatalogId identifies an item only when Sku is missing.
    # An order listing one sku on two lines gets the report on both.
    if sku is not None:
        return [n for n, item in enumerate(items) if item.sku == sku]
    if catalog_id is not None:
        wanted = catalog_id.lower()
        return [n for n, item in enumerate(items) if item.catalog_id is not None and item.catalog_id.lower() == wanted]
    return []


def _next_line(items: Sequence[ItemState]) -> int:
    return max((item.line for item in items), default=-1) + 1
