"""Optional SQLite persistence (``--db path``): orders, events and statuses survive a restart,
and so do the supplier's availability, costs and product feed.

The seed is stored too, so page ids (derived from it) come back the same. Tokens are not
stored: after a restart clients get new ones, as after any token expiry; nor are the faults, the
request log or the shipping-options log. Every change is written through as it happens; the
emulator's lock serialises all use of the connection.

Schema versions (``meta.schema``): 1, orders and events; 2 adds ``availability``, ``costs``,
``products`` and the product feed's counters in ``meta``. A version-1 file is upgraded in place
on opening (the new tables start empty); a file of a newer version is refused.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .._files import create_private
from ._records import (
    Address,
    Customer,
    Event,
    ItemInfo,
    Order,
    OrderCreatedEvent,
    OrderLine,
    Seller,
    StatusUpdatedEvent,
)

if TYPE_CHECKING:
    from ._catalog import SkuAvailability

__all__ = ["SCHEMA_VERSION", "SqliteStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orders (
    order_id TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    status TEXT NOT NULL,
    item_statuses TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    entry_id TEXT NOT NULL UNIQUE,
    timestamp INTEGER NOT NULL,
    order_id TEXT NOT NULL,
    data TEXT
);
-- Schema 2. Rows keep their rowid when updated (an upsert), so "ORDER BY rowid" is first seen first.
CREATE TABLE IF NOT EXISTS availability (
    sku TEXT PRIMARY KEY,
    is_available INTEGER NOT NULL,
    quantity INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS costs (
    sku TEXT NOT NULL,
    company_id INTEGER NOT NULL,
    cost TEXT NOT NULL,
    PRIMARY KEY (sku, company_id)
);
CREATE TABLE IF NOT EXISTS products (product_id INTEGER PRIMARY KEY, data TEXT NOT NULL);
"""

SCHEMA_VERSION = 2


def _order_row(order: Order) -> tuple[str, str, str, str]:
    data = {
        "supplier_id": order.supplier_id,
        "seller": list(order.seller),
        "ship_to_store": order.ship_to_store,
        "address": list(order.address),
        "customer": list(order.customer),
        "shipping_method": order.shipping_method,
        "items": [[*line[:3], str(line.selling_price), line.sku] for line in order.items],
    }
    return (
        order.order_id,
        json.dumps(data, ensure_ascii=False),
        order.status,
        json.dumps(order.item_statuses, ensure_ascii=False),
    )


def _order_from_row(order_id: str, data: str, status: str, item_statuses: str) -> Order:
    raw: dict[str, Any] = json.loads(data)
    return Order(
        order_id=order_id,
        supplier_id=raw["supplier_id"],
        seller=Seller(*raw["seller"]),
        ship_to_store=raw["ship_to_store"],
        address=Address(*raw["address"]),
        customer=Customer(*raw["customer"]),
        shipping_method=raw["shipping_method"],
        items=tuple(
            OrderLine(catalog_id, description, quantity, Decimal(price), sku)
            for catalog_id, description, quantity, price, sku in raw["items"]
        ),
        status=status,
        item_statuses=json.loads(item_statuses),
    )


def _event_row(event: Event, sequence: int) -> tuple[int, str, int, str, str | None]:
    if isinstance(event, OrderCreatedEvent):
        return (sequence, event.entry_id, event.timestamp, event.order.order_id, None)
    data = {
        "company_id": event.company_id,
        "supplier_id": event.supplier_id,
        "items": [list(item) for item in event.items],
    }
    return (
        sequence,
        event.entry_id,
        event.timestamp,
        event.order_id,
        json.dumps(data, ensure_ascii=False),
    )


class SqliteStore:
    """Write-through persistence of a :class:`DropshipState` (it is its ``listener``)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        create_private(self.path)  # made-up customers, but shaped like real ones: 0600 as the ledger
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One change (statuses and its event) is written whole or not at all."""
        self._db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- meta -----------------------------------------------------------------------------

    def meta(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT key, value FROM meta").fetchall())

    def is_empty(self) -> bool:
        return "seed" not in self.meta()

    def upgrade(self) -> None:
        """Bring a loaded file to ``SCHEMA_VERSION`` (the tables exist already: ``CREATE ... IF NOT
        EXISTS``), or refuse one written by a newer emulator."""
        version = int(self.meta().get("schema", "1"))
        if version > SCHEMA_VERSION:
            raise ValueError(f"{self.path} has schema version {version}; this emulator reads up to {SCHEMA_VERSION}")
        if version < SCHEMA_VERSION:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))

    # -- loading and bulk saving ----------------------------------------------------------

    def load(self) -> tuple[dict[str, Order], list[Event]]:
        orders = {
            row[0]: _order_from_row(*row)
            for row in self._db.execute("SELECT order_id, data, status, item_statuses FROM orders")
        }
        events: list[Event] = []
        rows = self._db.execute("SELECT entry_id, timestamp, order_id, data FROM events ORDER BY seq")
        for entry_id, timestamp, order_id, data in rows:
            if data is None:
                events.append(OrderCreatedEvent(entry_id, timestamp, orders[order_id]))
            else:
                raw = json.loads(data)
                events.append(
                    StatusUpdatedEvent(
                        entry_id=entry_id,
                        timestamp=timestamp,
                        order_id=order_id,
                        company_id=raw["company_id"],
                        supplier_id=raw["supplier_id"],
                        items=tuple(ItemInfo(*item) for item in raw["items"]),
                    )
                )
        return orders, events

    def save_all(self, meta: dict[str, str], orders: list[Order], events: list[Event]) -> None:
        """Write a freshly seeded state in one transaction."""
        db = self._db
        with self.transaction():
            db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", meta.items())
            db.executemany("INSERT INTO orders VALUES (?, ?, ?, ?)", map(_order_row, orders))
            db.executemany(
                "INSERT INTO events VALUES (?, ?, ?, ?, ?)",
                (_event_row(event, n) for n, event in enumerate(events)),
            )

    def load_catalog(self) -> tuple[list[tuple[str, bool, int]], list[tuple[str, int, Decimal]]]:
        """The availability (sku, is_available, quantity) and costs (sku, company, cost), first seen first."""
        availability = [
            (sku, bool(is_available), quantity)
            for sku, is_available, quantity in self._db.execute(
                "SELECT sku, is_available, quantity FROM availability ORDER BY rowid"
            )
        ]
        costs = [
            (sku, company_id, Decimal(cost))
            for sku, company_id, cost in self._db.execute("SELECT sku, company_id, cost FROM costs ORDER BY rowid")
        ]
        return availability, costs

    def load_products(self) -> tuple[list[dict[str, Any]], int, int, int | None]:
        """The feed's products and its counters: next product id, version, last change."""
        products = [json.loads(data) for (data,) in self._db.execute("SELECT data FROM products ORDER BY product_id")]
        meta = self.meta()
        updated = meta.get("product_feed_updated")
        return (
            products,
            int(meta.get("product_feed_next_id", "1")),
            int(meta.get("product_feed_version", "0")),
            None if updated is None else int(updated),
        )

    # -- CatalogListener and ProductListener ----------------------------------------------

    def availability_changed(self, records: Sequence[SkuAvailability]) -> None:
        self._db.executemany(
            "INSERT INTO availability VALUES (?, ?, ?) ON CONFLICT (sku) DO UPDATE"
            " SET is_available = excluded.is_available, quantity = excluded.quantity",
            ((record.sku, int(record.is_available), record.quantity) for record in records),
        )

    def costs_changed(self, costs: Sequence[tuple[str, int, Decimal]]) -> None:
        self._db.executemany(
            "INSERT INTO costs VALUES (?, ?, ?) ON CONFLICT (sku, company_id) DO UPDATE SET cost = excluded.cost",
            ((sku, company_id, str(cost)) for sku, company_id, cost in costs),
        )

    def product_added(self, product: dict[str, Any]) -> None:
        # ASCII JSON: a product's text may hold a lone surrogate, which UTF-8 (and so SQLite) cannot.
        self._db.execute("INSERT INTO products VALUES (?, ?)", (product["Id"], json.dumps(product, ensure_ascii=True)))

    def product_removed(self, product_id: int) -> None:
        self._db.execute("DELETE FROM products WHERE product_id = ?", (product_id,))

    def product_feed_changed(self, next_id: int, version: int, updated: int | None) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO meta VALUES (?, ?)",
            [
                ("product_feed_next_id", str(next_id)),
                ("product_feed_version", str(version)),
                *([] if updated is None else [("product_feed_updated", str(updated))]),
            ],
        )

    # -- StateListener --------------------------------------------------------------------

    def event_added(self, event: Event, sequence: int) -> None:
        self._db.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?)", _event_row(event, sequence))

    def order_added(self, order: Order) -> None:
        self._db.execute("INSERT INTO orders VALUES (?, ?, ?, ?)", _order_row(order))

    def statuses_changed(self, order: Order) -> None:
        self._db.execute(
            "UPDATE orders SET status = ?, item_statuses = ? WHERE order_id = ?",
            (order.status, json.dumps(order.item_statuses, ensure_ascii=False), order.order_id),
        )
