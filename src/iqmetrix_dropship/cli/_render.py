"""How things look on a terminal: rich tables for people, JSON for scripts.

Every string from the server or the ledger is passed as a ``Text``/plain string to a console
created with ``markup=False``: a message such as ``[urgent] call back`` prints as it is, never as
rich markup. Times are shown in UTC, to the second.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from ..ledger import LedgerEvent, LedgerOrder
from ..models import (
    FeedEntry,
    FeedPage,
    ItemStatusUpdate,
    OrderCreated,
    OrderStatusUpdate,
    OrderStatusUpdated,
    Product,
    ProductAvailability,
    ProductCost,
    ProductFeed,
    SupplierSku,
    UnknownEvent,
)

__all__ = [
    "MAX_LISTED",
    "availability_table",
    "costs_table",
    "echo_json",
    "err_console",
    "event_summary",
    "feed_fields",
    "feed_table",
    "fields_table",
    "history_table",
    "items_table",
    "listing",
    "order_fields",
    "orders_table",
    "out_console",
    "plural",
    "product_json",
    "products_table",
    "supplier_skus_table",
    "time_text",
    "update_fields",
    "update_items_table",
]

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def out_console() -> Console:
    """Standard output, looked up when printing (so that test runners can swap it)."""
    return Console(markup=False, highlight=False, emoji=False)


def err_console() -> Console:
    return Console(stderr=True, markup=False, highlight=False, emoji=False)


def echo_json(data: Any) -> None:
    """JSON on standard output: plain, never through rich (no wrapping, no colour)."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def time_text(value: datetime | None) -> str:
    if value is None:
        return "-"
    if value.tzinfo is None:  # traps.md 28: a naive time is UTC
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime(TIME_FORMAT)


def _text(value: object) -> str:
    return "-" if value is None or value == "" else str(value)


def _table(*columns: str, title: str | None = None, right: Iterable[str] = (), whole: Iterable[str] = ()) -> Table:
    """A plain table. Columns in ``whole`` (ids, times) never wrap; the others fold when narrow."""
    table = Table(
        box=box.SIMPLE_HEAD, title=title, title_justify="left", pad_edge=False, show_edge=False, padding=(0, 1, 0, 0)
    )
    aligned, unbroken = set(right), set(whole)
    for column in columns:
        table.add_column(
            column,
            justify="right" if column in aligned else "left",
            no_wrap=column in unbroken,
            overflow="ellipsis" if column in unbroken else "fold",
        )
    return table


def fields_table(rows: Sequence[tuple[str, object]]) -> Table:
    """Two columns, name and value, no header: the shape of ``login`` and ``order``."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for name, value in rows:
        table.add_row(name, _text(value))
    return table


# -- the feed ------------------------------------------------------------------------------------


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _item_line(item: Mapping[str, Any]) -> str:
    parts = [_text(item.get("sku")), _text(item.get("status"))]
    if item.get("quantity") is not None:
        parts.append(f"x{item['quantity']}")
    shipped_by = " ".join(str(item[key]) for key in ("shipping_provider", "tracking_info") if item.get(key))
    if shipped_by:
        parts.append(f"({shipped_by})")
    return " ".join(parts)


def event_summary(entry: FeedEntry) -> str:
    """What an entry says, in a line per item for a status update."""
    event = entry.event
    if isinstance(event, OrderCreated):
        units = sum(item.quantity for item in event.items)
        text = f"{plural(len(event.items), 'item')}, {plural(units, 'unit')}"
        return text + {True: ", to a store", False: ", to a home", None: ""}[event.ship_to_store]
    if isinstance(event, OrderStatusUpdated):
        return "\n".join(_item_line(item.model_dump()) for item in event.items) or "no items"
    return f"unknown event <{event.name}>"


def _event_type(entry: FeedEntry) -> str:
    event = entry.event
    return event.name if isinstance(event, UnknownEvent) else event.event_type


def _order_id(entry: FeedEntry) -> str:
    event = entry.event
    return str(event.order_id) if isinstance(event, OrderCreated | OrderStatusUpdated) else "-"


WIDE_FEED = 150
"""Columns from which the feed table also shows entry ids (45 characters each)."""


def feed_table(page: FeedPage, width: int) -> Table:
    """The entries of a page. The event type and its summary share a column, so that a
    100-column terminal still reads it; entry ids join on a wide one (and are always in --json)."""
    columns = ["time (UTC)", "order id", "event"] + (["entry id"] if width >= WIDE_FEED else [])
    title = f"Feed page {page.page_id or page.id}: {len(page.entries)} entries, newest first"
    table = _table(*columns, title=title, whole=("time (UTC)", "order id", "entry id"))
    for entry in page.entries:
        summary = event_summary(entry)
        joiner = "\n  " if "\n" in summary or _event_type(entry) == "order-status-updated" else ": "
        row = [
            time_text(entry.updated or entry.published),
            _order_id(entry),
            _event_type(entry) + joiner + summary.replace("\n", "\n  "),
        ]
        table.add_row(*row, *([entry.id] if width >= WIDE_FEED else []))
    return table


# -- the ledger ----------------------------------------------------------------------------------


def _delivery(order: LedgerOrder) -> str:
    return {True: "store", False: "home", None: "-"}[order.ship_to_store]


def orders_table(orders: Sequence[LedgerOrder], title: str) -> Table:
    table = _table(
        "order id", "status", "placed (UTC)", "items", "ship to", "PO",
        title=title, right=("items",), whole=("order id", "status", "placed (UTC)", "ship to"),
    )  # fmt: skip
    for order in orders:
        table.add_row(
            str(order.order_id),
            str(order.status),
            time_text(order.created_at)[:16],  # to the minute: the table fits 100 columns
            str(len(order.items)),
            _delivery(order),
            _text(order.po_reference),
        )
    return table


def order_fields(order: LedgerOrder) -> list[tuple[str, object]]:
    seller = ", ".join(
        part
        for part in (
            f"company {order.company_id}" if order.company_id is not None else "",
            f"location {order.location_id}" if order.location_id is not None else "",
            f"printable id {order.printable_id}" if order.printable_id else "",
        )
        if part
    )
    customer = order.shipping_customer
    address = order.shipping_address
    name = " ".join(p for p in (customer.primary_name, customer.family_name) if p) if customer else ""
    place = ", ".join(p for p in (address.locality, address.region_code, address.country_code) if p) if address else ""
    rows: list[tuple[str, object]] = [
        ("order", order.order_id),
        ("status", order.status),
        ("placed", f"{time_text(order.created_at)} UTC" if order.created_at else "unknown (no order-created event)"),
        ("updated", f"{time_text(order.updated_at)} UTC" if order.updated_at else None),
        ("seller", seller or None),
        ("PO", order.po_reference),
        ("delivery", _delivery(order) + (f", method {order.shipping_method}" if order.shipping_method else "")),
        ("ship to", ", ".join(p for p in (name, place) if p) or None),
    ]
    return rows


def items_table(order: LedgerOrder) -> Table:
    table = _table(
        "line",
        "sku",
        "description",
        "qty",
        "shipped",
        "status",
        "tracking",
        title="Items",
        right=("line", "qty", "shipped"),
        whole=("sku", "status"),
    )
    for item in order.items:
        tracking = " ".join(p for p in (item.shipping_provider, item.tracking_info) if p)
        table.add_row(
            str(item.line),
            _text(item.sku),
            _text(item.description),
            _text(item.quantity),
            str(item.shipped_quantity),
            str(item.status),
            tracking or "-",
        )
    return table


def _history_details(event: LedgerEvent) -> str:
    payload = event.payload
    if event.kind == "order-created":
        return f"{plural(len(payload.get('items') or []), 'item')} placed"
    if event.kind == "local-order-status-update":
        return _item_line({**payload, "sku": "order"})
    items = payload.get("items") or payload.get("item_information")
    if isinstance(items, list):
        return "; ".join(_item_line(item) for item in items if isinstance(item, dict)) or "no items"
    return f"unknown event <{event.kind}>"


def history_table(order: LedgerOrder) -> Table:
    table = _table("time (UTC)", "source", "event", "details", title="History", whole=("time (UTC)", "event"))
    for event in order.history:
        table.add_row(time_text(event.updated or event.published), event.source, event.kind, _history_details(event))
    return table


# -- our own updates -----------------------------------------------------------------------------


def update_fields(echo: OrderStatusUpdate) -> list[tuple[str, object]]:
    return [
        ("order", echo.id),
        ("status", echo.status),
        ("tracking", echo.tracking_info),
        ("carrier", echo.shipping_provider),
        ("message", echo.message),
        ("info", echo.info),
    ]


def update_items_table(echo: ItemStatusUpdate) -> Table:
    table = _table(
        "sku",
        "status",
        "qty",
        "tracking",
        "carrier",
        "message",
        right=("qty",),
        whole=("sku", "status"),
    )
    for item in echo.item_information:
        table.add_row(
            _text(item.sku),
            str(item.status),
            _text(item.quantity),
            _text(item.tracking_info),
            _text(item.shipping_provider),
            _text(item.message),
        )
    return table


# -- the catalogue: availability, costs, the product feed ----------------------------------------

MAX_LISTED = 20
"""Bad rows, failed SKUs, products of a dry run: a listing stops after this many (``--json`` has all)."""


def listing(lines: Sequence[str], *, limit: int = MAX_LISTED, more: str = "more") -> list[str]:
    """At most ``limit`` lines, then ``... and N more``."""
    shown = list(lines[:limit])
    if len(lines) > limit:
        shown.append(f"... and {len(lines) - limit} {more} (--json lists them all)")
    return shown


def supplier_skus_table(skus: Sequence[SupplierSku]) -> Table:
    table = _table(
        "sku", "available", "quantity", "entity id", "id",
        title=f"{plural(len(skus), 'SKU')} held by iQmetrix", right=("quantity", "entity id"), whole=("id",),
    )  # fmt: skip
    for sku in skus:
        table.add_row(
            sku.supplier_sku,
            "yes" if sku.is_available else "no",
            str(sku.quantity),
            _text(sku.supplier_entity_id),
            _text(sku.id),
        )
    return table


def availability_table(products: Sequence[ProductAvailability], title: str) -> Table:
    table = _table("sku", "available", "quantity", title=title, right=("quantity",))
    for product in products:
        table.add_row(product.sku, "yes" if product.is_available else "no", str(product.quantity))
    return table


def costs_table(products: Sequence[ProductCost], title: str) -> Table:
    table = _table("sku", "cost", "companies", title=title, right=("cost",))
    for product in products:
        table.add_row(product.sku, f"{product.cost:.2f}", " ".join(str(company) for company in product.company_ids))
    return table


def product_json(product: Product) -> dict[str, Any]:
    """A product in the wire's shape, its ``Id`` first: what ``dropship products add`` reads back."""
    return ({"Id": product.id} if product.id is not None else {}) | product.to_json_body()


def products_table(products: Sequence[Product], title: str) -> Table:
    table = _table(
        "id", "model", "manufacturer", "manufacturer sku", "upc", "vendor skus",
        title=title, right=("id",), whole=("id",),
    )  # fmt: skip
    for product in products:
        table.add_row(
            _text(product.id),
            product.model_name,
            _text(product.manufacturer),
            _text(product.manufacturer_sku),
            _text(product.upc),
            " ".join(sku.sku for sku in product.vendor_skus) or "-",
        )
    return table


def feed_fields(feed: ProductFeed) -> list[tuple[str, object]]:
    updated = feed.last_received_updates_from_provider_utc
    return [
        ("feed", feed.id),
        ("provider", feed.provider_name),
        ("version", feed.version),
        ("last update", f"{time_text(updated)} UTC" if updated else None),
        ("products", len(feed.products)),
    ]
