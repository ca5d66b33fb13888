"""A page of feed entries written at once: their history rows, the orders they touch read once and
written once, in one transaction (``OrderLedger.flush``; the effects themselves are applied in
memory by ``_apply.py``).

SQLite runs a statement per row (``executemany``: a function call each, no round trip); PostgreSQL
takes each table's rows as one statement over column arrays (``unnest``), parsed and planned
once, so that a page costs a handful of statements, not a few per entry. On PostgreSQL the
statements are pipelined (``_backend.py``): ``insert_events`` and ``load_states`` send theirs, and
the client waits once, where the first answer is read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from ._apply import OrderState
from ._backend import Session
from ._rows import (
    EVENT_COLUMNS,
    INSERT_EVENT,
    INSERT_FENCED_EVENT,
    ITEM_COLUMNS,
    ORDER_COLUMNS,
    UPSERT_ITEM,
    UPSERT_ORDER,
    item_row,
    order_row,
    order_state,
    upsert_updates,
)

__all__ = ["insert_events", "load_states", "store_states"]

_BATCH = 500  # bound parameters per IN (...) list, well under SQLite's limit


def _unnest(types: str) -> str:
    return "unnest(" + ", ".join(f"?::{kind}[]" for kind in types.split()) + ")"


_EVENT_TYPES = "text text text text text text text text text text"
_ORDER_TYPES = "text text integer bigint bigint bigint text text integer text text text text text"
_ITEM_TYPES = "text integer text text text bigint text text text bigint text text text text text text"

# PostgreSQL: one statement per table and page. The rows go in the arrays' order, so that the
# history's seq numbers follow the feed.
_PG_INSERT_EVENTS = (
    f"INSERT INTO dropship_events ({EVENT_COLUMNS}, lease_token) "  # noqa: S608
    f"SELECT *, ?::bigint FROM {_unnest(_EVENT_TYPES)} ON CONFLICT (entry_id) DO NOTHING RETURNING entry_id"
)
_PG_UPSERT_ORDERS = (
    f"INSERT INTO dropship_orders ({ORDER_COLUMNS}) SELECT * FROM {_unnest(_ORDER_TYPES)} "  # noqa: S608
    f"ON CONFLICT (order_id) DO UPDATE SET {upsert_updates(ORDER_COLUMNS, 'order_id')}"
)
_PG_UPSERT_ITEMS = (
    f"INSERT INTO dropship_items ({ITEM_COLUMNS}) SELECT * FROM {_unnest(_ITEM_TYPES)} "  # noqa: S608
    f"ON CONFLICT (order_id, line) DO UPDATE SET {upsert_updates(ITEM_COLUMNS, 'order_id, line')}"
)
# Sorted, so that two writers lock the orders they share in the same order (no deadlock).
_PG_SELECT_ORDERS = f"SELECT {ORDER_COLUMNS} FROM dropship_orders WHERE order_id = ANY(?) ORDER BY order_id"  # noqa: S608
_PG_SELECT_ITEMS = f"SELECT {ITEM_COLUMNS} FROM dropship_items WHERE order_id = ANY(?) ORDER BY order_id, line"  # noqa: S608


def insert_events(db: Session, rows: Sequence[tuple[object, ...]]) -> Callable[[], set[str]]:
    """Record the history rows whose entry id is not recorded yet (``rows`` hold distinct ids).

    Returns the read of the outcome: the entry ids that were new, the only ones to apply. On
    PostgreSQL the insert itself tells (``RETURNING``: a row another writer recorded meanwhile, a
    follower of another name on the same schema, is waited for and then skipped); on SQLite the
    write transaction holds the file, so the ids found before the insert are all there is."""
    if db.arrays:
        inserted = db.execute(_PG_INSERT_EVENTS, (db.lease_token, *_columns(rows)), binary=True)
        return lambda: {row[0] for row in inserted.fetchall()}
    known: set[str] = set()
    for chunk in _chunks([str(row[0]) for row in rows]):
        marks = ", ".join("?" for _ in chunk)
        found = db.execute(f"SELECT entry_id FROM dropship_events WHERE entry_id IN ({marks})", chunk)  # noqa: S608
        known.update(entry_id for (entry_id,) in found.fetchall())
    new = [row for row in rows if row[0] not in known]
    if db.lease_token is None:
        db.executemany(INSERT_EVENT, new)
    else:
        db.executemany(INSERT_FENCED_EVENT, [(*row, db.lease_token) for row in new])
    new_ids = {str(row[0]) for row in new}
    return lambda: new_ids


def load_states(db: Session, order_ids: Iterable[str]) -> Callable[[], dict[str, OrderState]]:
    """The orders as they stand (those that exist), locked on PostgreSQL (``db.for_update``): a
    worker's claim or another writer changing one meanwhile would otherwise be overwritten with
    what was read before it committed. Returns the read of the answer."""
    keys = sorted(order_ids)
    if not keys:
        return dict
    if db.arrays:
        orders = db.execute(_PG_SELECT_ORDERS + db.for_update, (keys,), binary=True)
        items = db.execute(_PG_SELECT_ITEMS, (keys,), binary=True)
        return lambda: _states(orders.fetchall(), items.fetchall())
    order_rows: list[Any] = []
    item_rows: list[Any] = []
    for chunk in _chunks(keys):
        marks = ", ".join("?" for _ in chunk)
        order_rows += db.execute(f"SELECT {ORDER_COLUMNS} FROM dropship_orders WHERE order_id IN ({marks})", chunk)  # noqa: S608
        item_rows += db.execute(
            f"SELECT {ITEM_COLUMNS} FROM dropship_items WHERE order_id IN ({marks}) ORDER BY order_id, line",  # noqa: S608
            chunk,
        )
    states = _states(order_rows, item_rows)
    return lambda: states


def store_states(db: Session, before: dict[str, OrderState], after: dict[str, OrderState]) -> None:
    """Write each order that changed once, and of its items those that changed."""
    orders: list[tuple[object, ...]] = []
    items: list[tuple[object, ...]] = []
    for key, state in after.items():
        old = before.get(key)
        if state is old or state == old:
            continue
        orders.append(order_row(state))
        unchanged = {id(item) for item in old.items} if old is not None else set()  # items the events left alone
        items += [item_row(key, item) for item in state.items if id(item) not in unchanged]
    # Orders first: an item refers to its order.
    _write(db, _PG_UPSERT_ORDERS, UPSERT_ORDER, orders)
    _write(db, _PG_UPSERT_ITEMS, UPSERT_ITEM, items)


def _write(db: Session, as_arrays: str, per_row: str, rows: list[tuple[object, ...]]) -> None:
    if not rows:
        return
    if db.arrays:
        db.execute(as_arrays, _columns(rows), binary=True)
    else:
        db.executemany(per_row, rows)


def _states(order_rows: Sequence[Sequence[Any]], item_rows: Sequence[Sequence[Any]]) -> dict[str, OrderState]:
    items: dict[str, list[Sequence[Any]]] = {row[0]: [] for row in order_rows}
    for item in item_rows:
        bucket = items.get(item[0])
        if bucket is not None:  # an item without its order is never written
            bucket.append(item)
    return {row[0]: order_state(row, items[row[0]]) for row in order_rows}


def _columns(rows: Sequence[Sequence[object]]) -> list[list[object]]:
    """Rows turned into column lists: PostgreSQL takes each as one array parameter."""
    return [list(column) for column in zip(*rows, strict=True)]


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), _BATCH):
        yield values[start : start + _BATCH]
