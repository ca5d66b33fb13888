"""The ledger's rows and the values they hold: the SQL of one row at a time, and the conversions
both ways (an ``OrderState`` to its rows and back, rows to the frozen snapshots queries return).

The schema is documented in docs/ledger.md; both back ends hold the same columns (``_schema.py``,
``_pg/schema.py``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar
from uuid import UUID

from ..follow._checkpoint import Cursor
from ..models import (
    FeedEntry,
    ItemStatus,
    ItemStatusUpdate,
    OrderCreated,
    OrderStatus,
    OrderStatusUpdate,
    OrderStatusUpdated,
    ShippingAddress,
    ShippingCustomer,
)
from ._apply import ItemState, OrderState, Shipment, canonical_order_id, order_id_of
from ._models import LedgerEvent, LedgerItem, LedgerOrder, LedgerShipment

__all__ = [
    "EVENT_COLUMNS",
    "INSERT_EVENT",
    "INSERT_FENCED_EVENT",
    "ITEM_COLUMNS",
    "ORDER_COLUMNS",
    "SAVE_CURSOR",
    "SELECT_EVENTS",
    "SELECT_ITEMS",
    "SELECT_ORDER",
    "UPSERT_ITEM",
    "UPSERT_ORDER",
    "FeedRow",
    "feed_row",
    "item_row",
    "json_text",
    "ledger_event",
    "ledger_order",
    "order_row",
    "order_state",
    "time_text",
    "update_payload",
    "utc",
    "utc_now",
]

_E = TypeVar("_E", bound=Enum)

ORDER_COLUMNS = (
    "order_id, status, has_created_event, supplier_id, company_id, location_id, po_reference, printable_id, "
    "ship_to_store, shipping_method, shipping_address, shipping_customer, created_at, updated_at"
)
ITEM_COLUMNS = (
    "order_id, line, sku, catalog_id, description, quantity, selling_price, status, reported_status, "
    "shipped_quantity, shipments, tracking_info, shipping_provider, message, info, updated_at"
)
EVENT_COLUMNS = "entry_id, order_id, kind, source, title, published, updated, page_id, payload, recorded_at"


def upsert_updates(columns: str, key: str) -> str:
    """``ON CONFLICT (key) DO UPDATE SET``'s list: every column but the key's, from ``excluded``."""
    keys = {name.strip() for name in key.split(",")}
    names = [name.strip() for name in columns.split(",")]
    return ", ".join(f"{name} = excluded.{name}" for name in names if name not in keys)


def _upsert(table: str, columns: str, key: str) -> str:
    marks = ", ".join("?" for _ in columns.split(","))
    return (
        f"INSERT INTO {table} ({columns}) VALUES ({marks}) "  # noqa: S608
        f"ON CONFLICT ({key}) DO UPDATE SET {upsert_updates(columns, key)}"
    )


# Fixed statements, so that sqlite3's statement cache (and psycopg's prepared statements) prepare
# each once on a long backfill.
UPSERT_ORDER = _upsert("dropship_orders", ORDER_COLUMNS, "order_id")
UPSERT_ITEM = _upsert("dropship_items", ITEM_COLUMNS, "order_id, line")
INSERT_EVENT = (
    f"INSERT INTO dropship_events ({EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "  # noqa: S608
    "ON CONFLICT (entry_id) DO NOTHING"
)
# PostgreSQL's events also record the leader's term (its lease token) that applied them.
INSERT_FENCED_EVENT = (
    f"INSERT INTO dropship_events ({EVENT_COLUMNS}, lease_token) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "  # noqa: S608
    "ON CONFLICT (entry_id) DO NOTHING"
)
SAVE_CURSOR = (
    "INSERT INTO dropship_cursor (name, entry_id, page_id, updated_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (name) DO UPDATE SET entry_id = excluded.entry_id, page_id = excluded.page_id, "
    "updated_at = excluded.updated_at"
)
SELECT_ORDER = f"SELECT {ORDER_COLUMNS} FROM dropship_orders WHERE order_id = ?"  # noqa: S608
SELECT_ITEMS = f"SELECT {ITEM_COLUMNS} FROM dropship_items WHERE order_id = ? ORDER BY line"  # noqa: S608
SELECT_EVENTS = f"SELECT {EVENT_COLUMNS} FROM dropship_events WHERE order_id = ? ORDER BY seq"  # noqa: S608


# -- times and JSON ------------------------------------------------------------------------------

_UTC = timezone.utc


def utc_now() -> datetime:
    return datetime.now(_UTC)


def utc(value: datetime) -> datetime:
    # traps.md 28: a timestamp without an offset is UTC.
    if value.tzinfo is _UTC:
        return value
    return value.replace(tzinfo=_UTC) if value.tzinfo is None else value.astimezone(_UTC)


_last_text: tuple[datetime | None, str | None] = (None, None)


def time_text(value: datetime | None) -> str | None:
    # One fixed width (UTC, microseconds) so that text order is time order in SQL comparisons.
    global _last_text  # noqa: PLW0603 - the last one: an event's time is written to its order and items
    if value is None:
        return None
    last, text = _last_text
    if value is not last:
        text = (value if value.tzinfo is _UTC else utc(value)).isoformat(timespec="microseconds")
        _last_text = (value, text)
    return text


def parse_time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def json_text(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _known(enum: type[_E], value: str) -> _E | str:
    # A status the enums do not know stays its string (API.md: nothing from the server breaks us).
    try:
        return enum(value)
    except ValueError:
        return value


# -- history rows ----------------------------------------------------------------------------------


FeedRow = tuple[tuple[object, ...], str | None, datetime | None]
"""A feed entry's history row (without the lease token), the order it is about, and the time its
effect happened (UTC), for ``apply_event``."""


def feed_row(cursor: Cursor, entry: FeedEntry, recorded: str) -> FeedRow:
    """The history row of a feed entry applied in a write recorded at ``recorded``.

    The payload is the event's JSON as pydantic writes it: the same text ``json.dumps`` made of
    ``model_dump(mode="json")`` before (compact, not ASCII-escaped), in one call to pydantic-core.
    """
    event = entry.event
    published, updated = entry.published, entry.updated
    if isinstance(event, OrderCreated):
        order_id: str | None = canonical_order_id(event.order_id)
        kind: str = event.event_type
        # The order was placed when its entry was published; updated is a fallback only.
        at = published if published is not None else updated
    else:
        if isinstance(event, OrderStatusUpdated):
            order_id, kind = canonical_order_id(event.order_id), event.event_type
        else:
            order_id, kind = order_id_of(event), event.name
        at = updated if updated is not None else published
    published_text = time_text(published)
    updated_text = published_text if updated is published else time_text(updated)
    row = (
        entry.id,
        order_id,
        kind,
        "feed",
        entry.title,
        published_text,
        updated_text,
        cursor.page_id,
        event.model_dump_json(),
        recorded,
    )
    return row, order_id, None if at is None else utc(at)


def update_payload(update: OrderStatusUpdate | ItemStatusUpdate) -> dict[str, Any]:
    # snake_case like the feed rows. ItemStatusUpdate's serializer writes its items with the wire's
    # PascalCase keys (it builds the request body), so its items are dumped one by one here.
    if isinstance(update, OrderStatusUpdate):
        return update.model_dump(mode="json")
    return {
        "id": str(update.id),
        "item_information": [item.model_dump(mode="json") for item in update.item_information],
    }


# -- orders and items ------------------------------------------------------------------------------


def order_row(order: OrderState) -> tuple[object, ...]:
    return (
        order.order_id,
        order.status,
        int(order.has_created_event),
        order.supplier_id,
        order.company_id,
        order.location_id,
        order.po_reference,
        order.printable_id,
        None if order.ship_to_store is None else int(order.ship_to_store),
        order.shipping_method,
        order.shipping_address,
        order.shipping_customer,
        time_text(order.created_at),
        time_text(order.updated_at),
    )


def item_row(order_id: str, item: ItemState) -> tuple[object, ...]:
    shipments = [
        {"tracking_info": s.tracking_info, "shipping_provider": s.shipping_provider, "quantity": s.quantity}
        for s in item.shipments
    ]
    return (
        order_id,
        item.line,
        item.sku,
        item.catalog_id,
        item.description,
        item.quantity,
        item.selling_price,
        item.status,
        item.reported_status,
        item.shipped_quantity,
        json_text(shipments) if shipments else "[]",
        item.tracking_info,
        item.shipping_provider,
        item.message,
        item.info,
        time_text(item.updated_at),
    )


def order_state(row: Sequence[Any], items: Sequence[Sequence[Any]]) -> OrderState:
    return OrderState(
        order_id=row[0],
        status=row[1],
        has_created_event=bool(row[2]),
        supplier_id=row[3],
        company_id=row[4],
        location_id=row[5],
        po_reference=row[6],
        printable_id=row[7],
        ship_to_store=None if row[8] is None else bool(row[8]),
        shipping_method=row[9],
        shipping_address=row[10],
        shipping_customer=row[11],
        created_at=parse_time(row[12]),
        updated_at=parse_time(row[13]),
        items=tuple(_item_state(item) for item in items),
    )


def _item_state(row: Sequence[Any]) -> ItemState:
    return ItemState(
        line=row[1],
        sku=row[2],
        catalog_id=row[3],
        description=row[4],
        quantity=row[5],
        selling_price=row[6],
        status=row[7],
        reported_status=row[8],
        shipments=()
        if row[10] == "[]"
        else tuple(Shipment(s["tracking_info"], s["shipping_provider"], s["quantity"]) for s in json.loads(row[10])),
        tracking_info=row[11],
        shipping_provider=row[12],
        message=row[13],
        info=row[14],
        updated_at=parse_time(row[15]),
    )


# -- snapshots ------------------------------------------------------------------------------------


def ledger_order(row: Sequence[Any], items: Sequence[Sequence[Any]], history: list[LedgerEvent]) -> LedgerOrder:
    state = order_state(row, items)
    return LedgerOrder(
        order_id=UUID(state.order_id),
        status=_known(OrderStatus, state.status),
        has_created_event=state.has_created_event,
        supplier_id=state.supplier_id,
        company_id=state.company_id,
        location_id=state.location_id,
        po_reference=state.po_reference,
        printable_id=state.printable_id,
        ship_to_store=state.ship_to_store,
        shipping_method=state.shipping_method,
        shipping_address=None
        if state.shipping_address is None
        else ShippingAddress.model_validate_json(state.shipping_address),
        shipping_customer=None
        if state.shipping_customer is None
        else ShippingCustomer.model_validate_json(state.shipping_customer),
        created_at=state.created_at,
        updated_at=state.updated_at,
        items=[_ledger_item(item) for item in state.items],
        history=history,
    )


def _ledger_item(item: ItemState) -> LedgerItem:
    return LedgerItem(
        line=item.line,
        sku=item.sku,
        catalog_id=item.catalog_id,
        description=item.description,
        quantity=item.quantity,
        selling_price=None if item.selling_price is None else Decimal(item.selling_price),
        status=_known(ItemStatus, item.status),
        reported_status=None if item.reported_status is None else _known(ItemStatus, item.reported_status),
        shipped_quantity=item.shipped_quantity,
        shipments=[
            LedgerShipment(tracking_info=s.tracking_info, shipping_provider=s.shipping_provider, quantity=s.quantity)
            for s in item.shipments
        ],
        tracking_info=item.tracking_info,
        shipping_provider=item.shipping_provider,
        message=item.message,
        info=item.info,
        updated_at=item.updated_at,
    )


def ledger_event(row: Sequence[Any]) -> LedgerEvent:
    return LedgerEvent(
        entry_id=row[0],
        order_id=None if row[1] is None else UUID(row[1]),
        kind=row[2],
        source=row[3],
        title=row[4],
        published=parse_time(row[5]),
        updated=parse_time(row[6]),
        page_id=row[7],
        payload=json.loads(row[8]),
        recorded_at=parse_time(row[9]),
    )
