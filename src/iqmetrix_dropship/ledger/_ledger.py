"""``OrderLedger``: the supplier's own record of its dropship orders, in one SQLite file.

The feed only tells what happened (traps.md 21-24); "it is up to the supplier's system to keep
track of the orders ... and their current status" (iQmetrix's Dropship Order Management Guide, step 2). The ledger is
that system's memory: it is a ``CheckpointStore``, so a follower hands it every entry, and it
commits the entry's effect on the order *and* the cursor in one transaction. After a crash at any
point an entry is either applied and passed, or neither: applied exactly once.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID, uuid4

from .._pg import is_dsn, refuse_other_dsn
from .._pg.lease import DEFAULT_LEASE_SECONDS, default_holder
from .._protocol.catalog import DEFAULT_CHUNK_SIZE, PushResult
from ..follow._checkpoint import Cursor
from ..models import (
    FeedEntry,
    ItemStatus,
    ItemStatusUpdate,
    OrderCreated,
    OrderStatus,
    OrderStatusUpdate,
    OrderStatusUpdated,
    ProductAvailability,
    ShippingAddress,
    ShippingCustomer,
    UnknownEvent,
)
from . import _stock
from ._apply import ItemState, OrderState, Shipment, apply_event, apply_update, canonical_order_id, order_id_of
from ._backend import Backend, PostgresBackend, Session, SQLiteBackend
from ._claims import DEFAULT_CLAIM_TIMEOUT, ClaimOpener, ClaimSession
from ._models import LedgerEvent, LedgerItem, LedgerOrder, LedgerShipment

if TYPE_CHECKING:
    from .._sync.client import DropshipClient

__all__ = ["OrderLedger"]

_E = TypeVar("_E", bound=Enum)

_ORDER_COLUMNS = (
    "order_id, status, has_created_event, supplier_id, company_id, location_id, po_reference, printable_id, "
    "ship_to_store, shipping_method, shipping_address, shipping_customer, created_at, updated_at"
)
_ITEM_COLUMNS = (
    "order_id, line, sku, catalog_id, description, quantity, selling_price, status, reported_status, "
    "shipped_quantity, shipments, tracking_info, shipping_provider, message, info, updated_at"
)
_EVENT_COLUMNS = "entry_id, order_id, kind, source, title, published, updated, page_id, payload, recorded_at"


def _upsert(table: str, columns: str, key: str) -> str:
    names = [name.strip() for name in columns.split(",")]
    keys = {name.strip() for name in key.split(",")}
    updates = ", ".join(f"{name} = excluded.{name}" for name in names if name not in keys)
    marks = ", ".join("?" for _ in names)
    return f"INSERT INTO {table} ({columns}) VALUES ({marks}) ON CONFLICT ({key}) DO UPDATE SET {updates}"  # noqa: S608


# Fixed statements, so that sqlite3's statement cache prepares each once on a long backfill.
_UPSERT_ORDER = _upsert("dropship_orders", _ORDER_COLUMNS, "order_id")
_UPSERT_ITEM = _upsert("dropship_items", _ITEM_COLUMNS, "order_id, line")
_INSERT_EVENT = (
    f"INSERT INTO dropship_events ({_EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "  # noqa: S608
    "ON CONFLICT (entry_id) DO NOTHING"
)
# PostgreSQL's events also record the leader's term (its lease token) that applied them.
_INSERT_FENCED_EVENT = (
    f"INSERT INTO dropship_events ({_EVENT_COLUMNS}, lease_token) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "  # noqa: S608
    "ON CONFLICT (entry_id) DO NOTHING"
)
_SAVE_CURSOR = (
    "INSERT INTO dropship_cursor (name, entry_id, page_id, updated_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (name) DO UPDATE SET entry_id = excluded.entry_id, page_id = excluded.page_id, "
    "updated_at = excluded.updated_at"
)
_SELECT_ORDER = f"SELECT {_ORDER_COLUMNS} FROM dropship_orders WHERE order_id = ?"  # noqa: S608
_SELECT_ITEMS = f"SELECT {_ITEM_COLUMNS} FROM dropship_items WHERE order_id = ? ORDER BY line"  # noqa: S608
_SELECT_EVENTS = f"SELECT {_EVENT_COLUMNS} FROM dropship_events WHERE order_id = ? ORDER BY seq"  # noqa: S608
# Oldest order first, stubs (no creation time) after the others.
_ORDER_BY = "ORDER BY created_at IS NULL, created_at, order_id"
_BATCH = 500  # bound parameters per IN (...) list, well under SQLite's limit


class OrderLedger:
    """The local order ledger: orders, items, their current statuses and every event, in SQLite.

    ::

        with OrderLedger("orders.db") as ledger, DropshipClient.from_env() as client:
            for entry in client.follow(checkpoint=ledger).poll():
                ...                          # applied by the ledger once the loop moves on
            echo = client.update_order_status(order_id, "Shipped", tracking_info="1Z9", shipping_provider="UPS")
            ledger.record_update(echo)       # our side now, before the feed echoes it (traps.md 23)
            late = ledger.waiting_on_supplier(timedelta(hours=24))

    It is a ``CheckpointStore``: ``advance(cursor, entry)`` records the entry in the history, applies
    it to its order and stores the cursor, in one transaction. An entry already recorded is not
    applied again, so advancing twice over one entry is harmless.

    One connection (stdlib ``sqlite3``, WAL, ``synchronous=NORMAL``, see ``_sqlite.py``)
    guarded by a lock: an instance may be shared between threads. Several followers can share one
    file under different ``name``\\s, each with its own cursor (orders and history are shared).
    ``":memory:"`` works for tests.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        name: str = "default",
        schema: str = "dropship",
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        holder: str | None = None,
    ) -> None:
        self.name = name
        self._backend: Backend
        refuse_other_dsn(path)
        if is_dsn(path):
            self._backend = PostgresBackend(
                str(path), schema=schema, lease_name=f"ledger:{name}", lease_seconds=lease_seconds, holder=holder
            )
        else:
            self._backend = SQLiteBackend(path)
        self.path = path if not is_dsn(path) else self._backend.where  # never a DSN's password

    @property
    def _remote(self) -> bool:
        """On PostgreSQL: the async follower calls it on a worker thread."""
        return isinstance(self._backend, PostgresBackend)

    @property
    def _db(self) -> Any:
        """The SQLite connection (a SQLite ledger only): for tests and for EXPLAIN."""
        return getattr(self._backend, "connection", None)

    # -- CheckpointStore ----------------------------------------------------------------------

    def load(self) -> Cursor | None:
        """The cursor of this ledger's ``name``, or ``None`` if it never followed the feed."""
        with self._backend.reading() as db:
            row = db.execute("SELECT entry_id, page_id FROM dropship_cursor WHERE name = ?", (self.name,)).fetchone()
        return None if row is None else Cursor(row[0], row[1])

    def save(self, cursor: Cursor) -> None:
        """Record a position without an entry (the follower's ``start="latest"``)."""
        with self._backend.writing(fenced=True) as db:
            self._save_cursor(db, cursor)

    def advance(self, cursor: Cursor, entry: FeedEntry) -> None:
        """Record ``entry``, apply it to its order and store ``cursor``, all in one transaction.

        An entry id already in the history is neither applied nor recorded again; the cursor is
        still stored. Entry ids are opaque strings (traps.md 18). On PostgreSQL, when this replica
        leads, the transaction is fenced by its lease (``LeaseLostError`` if the term ended).
        """
        event = entry.event
        at = entry.updated if entry.updated is not None else entry.published
        if isinstance(event, OrderCreated):
            # The order was placed when its entry was published; updated is a fallback only.
            at = entry.published if entry.published is not None else entry.updated
        order_id = order_id_of(event)
        row = (
            entry.id,
            order_id,
            _feed_kind(entry),
            "feed",
            entry.title,
            _text(entry.published),
            _text(entry.updated),
            cursor.page_id,
            _json(event.model_dump(mode="json")),
            _text(_now()),
        )
        applies = order_id is not None and not isinstance(event, UnknownEvent)
        with self._backend.writing(fenced=True) as db:
            # Sent together, read together (one round trip on PostgreSQL): the insert, and the
            # order as it stands, needed only if the entry is new.
            inserted = self._insert_event(db, row)
            state = self._load_state(db, order_id) if applies and order_id is not None else None
            if applies and inserted.rowcount == 1:
                self._store_state(db, state, apply_event(state, event, None if at is None else _utc(at)))
            self._save_cursor(db, cursor)

    @property
    def lease_seconds(self) -> float | None:
        """The lease of the replicas of a PostgreSQL ledger (``None`` for SQLite: no lease)."""
        lease = getattr(self._backend, "lease", None)
        return None if lease is None else float(lease.seconds)

    @property
    def lease_token(self) -> int | None:
        """This replica's term (its fencing token) while it leads a PostgreSQL ledger's followers,
        else ``None``."""
        lease = getattr(self._backend, "lease", None)
        return None if lease is None else lease.token

    def lead(self) -> bool:
        """Whether this replica leads the followers of this ledger now (acquiring or renewing the
        lease, on PostgreSQL; always, on SQLite). A follower calls it before each poll."""
        return self._backend.lead()

    # -- our own updates ------------------------------------------------------------------------

    def record_update(self, update: OrderStatusUpdate | ItemStatusUpdate, *, at: datetime | None = None) -> LedgerEvent:
        """Record and apply one of our own updates (best: the echo the client returned).

        The feed later echoes it as an ``order-status-updated`` entry (traps.md 23), which is
        applied again with the same values, so recording here only makes the ledger current sooner.
        A shipment reported twice under one tracking number counts once (see docs/ledger.md).
        ``at`` defaults to now; a naive ``at`` is UTC (traps.md 28).
        """
        with self._backend.writing() as db:
            return self._record(db, update, at)

    def _record(self, db: Session, update: OrderStatusUpdate | ItemStatusUpdate, at: datetime | None) -> LedgerEvent:
        when = _utc(at) if at is not None else _now()
        order_id = canonical_order_id(update.id)
        kind = "local-order-status-update" if isinstance(update, OrderStatusUpdate) else "local-item-status-update"
        payload = _update_payload(update)
        entry_id = f"local:{uuid4()}"
        recorded = _now()
        row = (entry_id, order_id, kind, "local", None, _text(when), _text(when), None, _json(payload), _text(recorded))
        self._insert_event(db, row)
        state = self._load_state(db, order_id)
        self._store_state(db, state, apply_update(state, update, when))
        return LedgerEvent(
            entry_id=entry_id,
            order_id=UUID(order_id),
            kind=kind,
            source="local",
            published=when,
            updated=when,
            payload=payload,
            recorded_at=recorded,
        )

    # -- availability: push only what changed ----------------------------------------------------

    def availability_changes(
        self, products: Iterable[ProductAvailability | Mapping[str, Any]], *, complete: bool = False
    ) -> list[ProductAvailability]:
        """The products whose availability differs from what iQmetrix last accepted (new SKUs too).

        With ``complete=True``, ``products`` is the whole catalogue: a SKU accepted before and
        missing now comes back as unavailable, quantity 0. Checked like ``push_availability``.
        """
        with self._backend.reading() as db:
            return _stock.changes(db, products, complete=complete)

    def record_availability(self, products: Iterable[ProductAvailability], *, at: datetime | None = None) -> int:
        """Remember products as accepted by iQmetrix (a ``PushResult``'s ``accepted``)."""
        with self._backend.writing() as db:
            return _stock.record(db, products, at)

    def pushed_availability(self) -> dict[str, ProductAvailability]:
        """What iQmetrix last accepted, per SKU, as this ledger recorded it."""
        with self._backend.reading() as db:
            return _stock.pushed(db)

    def push_availability(
        self,
        client: DropshipClient,
        products: Iterable[ProductAvailability | Mapping[str, Any]],
        *,
        complete: bool = False,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> PushResult[ProductAvailability]:
        """Send only what changed since the last accepted push, and remember what was accepted.

        ::

            result = ledger.push_availability(client, stock)   # a second call with the same stock sends nothing

        A failed chunk is not recorded: its products differ next time too, and are sent again.
        With an ``AsyncDropshipClient``: ``changes = ledger.availability_changes(stock)``, then
        ``result = await client.push_availability(changes)``, then ``ledger.record_availability(result.accepted)``.
        """
        if inspect.iscoroutinefunction(getattr(client, "push_availability", None)):
            raise TypeError(
                "ledger.push_availability takes a DropshipClient; with an AsyncDropshipClient, call "
                "availability_changes, then await client.push_availability, then record_availability"
            )
        changed = self.availability_changes(products, complete=complete)
        if not changed:
            return PushResult()
        result = client.push_availability(changed, chunk_size=chunk_size)
        self.record_availability(result.accepted)
        return result

    # -- queries ----------------------------------------------------------------------------

    def order(self, order_id: UUID | str) -> LedgerOrder | None:
        """One order with its items and its history (oldest first), or ``None``."""
        with self._backend.reading() as db:
            return self._read_order(db, canonical_order_id(order_id))

    def _read_order(self, db: Session, key: str) -> LedgerOrder | None:
        row = db.execute(_SELECT_ORDER, (key,)).fetchone()
        if row is None:
            return None
        items = db.execute(_SELECT_ITEMS, (key,)).fetchall()
        events = db.execute(_SELECT_EVENTS, (key,)).fetchall()
        return _order(row, items, [_event(event) for event in events])

    # -- workers (PostgreSQL) -----------------------------------------------------------------------

    def claim(
        self,
        status: OrderStatus | str,
        *,
        limit: int = 10,
        worker: str | None = None,
        timeout: float = DEFAULT_CLAIM_TIMEOUT,
    ) -> ClaimOpener:
        """Orders in ``status`` that no other worker holds, for one worker: ``with`` it (or
        ``async with`` it) and send their updates through it. ::

            with ledger.claim(OrderStatus.PENDING_SUPPLIER, limit=10) as orders:
                for order in orders:
                    orders.update_order_status(client, order.order_id, OrderStatus.ORDERED)

        Up to ``limit`` orders, oldest first, locked until the block ends (or the worker dies, or
        stays idle ``timeout`` seconds); an order with an unfinished update is not claimed for a
        new one (see ``unfinished``). Needs the PostgreSQL ledger; see docs/guides/production.md.
        """
        return ClaimOpener(self._claim_session(worker, timeout), str(OrderStatus.parse(status)), limit)

    def unfinished(
        self, *, limit: int = 100, worker: str | None = None, timeout: float = DEFAULT_CLAIM_TIMEOUT
    ) -> ClaimOpener:
        """The orders whose update a dead worker sent (or was about to send) but never recorded:
        claim them and ``resend(client)`` that same update. ::

            with ledger.unfinished() as orders:
                orders.resend(client)
        """
        return ClaimOpener(self._claim_session(worker, timeout), None, limit)

    def _claim_session(self, worker: str | None, timeout: float) -> ClaimSession:
        return ClaimSession(
            self._backend,
            record=self._record,
            read=self._read_order,
            worker=worker or default_holder(),
            timeout=timeout,
        )

    def orders(self, status: OrderStatus | str | None = None, *, limit: int | None = None) -> list[LedgerOrder]:
        """Orders (oldest first, stubs last), all or those with ``status``; without history."""
        if status is None:
            return self._select_orders("", (), limit)
        return self._select_orders("WHERE status = ?", (str(status),), limit)

    def open_orders(self) -> list[LedgerOrder]:
        """Orders neither ``Shipped`` nor ``Cancelled`` (stubs included), oldest first."""
        return self._select_orders(
            "WHERE status NOT IN (?, ?)", (OrderStatus.SHIPPED.value, OrderStatus.CANCELLED.value), None
        )

    def waiting_on_supplier(self, older_than: timedelta | float, *, now: datetime | None = None) -> list[LedgerOrder]:
        """``PendingSupplier`` orders placed longer than ``older_than`` (a timedelta, or hours) ago.

        An order is ``PendingSupplier`` while one of its items has not been touched by the supplier
        and nothing ranks lower (docs/ledger.md). Stubs have no creation time and are never listed.
        """
        age = older_than if isinstance(older_than, timedelta) else timedelta(hours=older_than)
        cutoff = (_utc(now) if now is not None else _now()) - age
        return self._select_orders(
            "WHERE status = ? AND created_at < ?", (OrderStatus.PENDING_SUPPLIER.value, _text(cutoff)), None
        )

    def history(self, order_id: UUID | str) -> list[LedgerEvent]:
        """Every event recorded about an order, in the order applied."""
        with self._backend.reading() as db:
            rows = db.execute(_SELECT_EVENTS, (canonical_order_id(order_id),)).fetchall()
        return [_event(row) for row in rows]

    def counts(self) -> dict[str, int]:
        """How many orders have each status."""
        with self._backend.reading() as db:
            rows = db.execute("SELECT status, COUNT(*) FROM dropship_orders GROUP BY status").fetchall()
        return {status: count for status, count in rows}

    def event_count(self, source: str | None = None) -> int:
        """History rows: all of them, or those of one ``source`` (``"feed"`` or ``"local"``)."""
        with self._backend.reading() as db:
            if source is None:
                row = db.execute("SELECT COUNT(*) FROM dropship_events").fetchone()
            else:
                row = db.execute("SELECT COUNT(*) FROM dropship_events WHERE source = ?", (source,)).fetchone()
        return int(row[0])

    def entry_ids(self) -> list[str]:
        """The feed entry ids recorded, in the order they were applied."""
        with self._backend.reading() as db:
            rows = db.execute("SELECT entry_id FROM dropship_events WHERE source = 'feed' ORDER BY seq").fetchall()
        return [row[0] for row in rows]

    def ping(self) -> None:
        """One trivial query; raises ``StoreUnavailableError`` (or ``CheckpointError``) when the
        database does not answer. For a readiness check: ``dropship run``'s ``/readyz``."""
        with self._backend.reading() as db:
            db.execute("SELECT 1").fetchone()

    @property
    def schema_version(self) -> int:
        """The schema version (SQLite: ``PRAGMA user_version``; PostgreSQL: the last step logged)."""
        return self._backend.schema_version()

    # -- lifecycle ------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection; on PostgreSQL, step down if this replica leads."""
        self._backend.close()

    def __enter__(self) -> OrderLedger:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"OrderLedger({str(self.path)!r}, name={self.name!r})"

    # -- storage ------------------------------------------------------------------------------

    def _insert_event(self, db: Session, row: tuple[object, ...]) -> Any:
        """The insert's cursor: its ``rowcount`` is 1 if the entry was new, 0 if already there."""
        if db.lease_token is not None:  # a leader's write: the term that applied it, for the record
            return db.execute(_INSERT_FENCED_EVENT, (*row, db.lease_token))
        return db.execute(_INSERT_EVENT, row)

    def _save_cursor(self, db: Session, cursor: Cursor) -> None:
        db.execute(_SAVE_CURSOR, (self.name, cursor.entry_id, cursor.page_id, _text(_now())))

    def _load_state(self, db: Session, order_id: str) -> OrderState | None:
        # Locked on PostgreSQL: a worker's claim or another writer changing the order meanwhile
        # would otherwise be overwritten with what was read before it committed.
        order = db.execute(_SELECT_ORDER + db.for_update, (order_id,))
        items = db.execute(_SELECT_ITEMS, (order_id,))
        row, item_rows = order.fetchone(), items.fetchall()  # both sent before either is read
        return None if row is None else _order_state(row, item_rows)

    def _store_state(self, db: Session, before: OrderState | None, after: OrderState | None) -> None:
        if after is None or after == before:
            return
        db.execute(_UPSERT_ORDER, _order_row(after))
        unchanged = set(before.items) if before is not None else set()
        changed = [_item_row(after.order_id, item) for item in after.items if item not in unchanged]
        if changed:
            db.executemany(_UPSERT_ITEM, changed)

    def _select_orders(self, where: str, params: Sequence[object], limit: int | None) -> list[LedgerOrder]:
        sql = f"SELECT {_ORDER_COLUMNS} FROM dropship_orders {where} {_ORDER_BY}"  # noqa: S608
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._backend.reading() as db:
            rows = db.execute(sql, params).fetchall()
            items: dict[str, list[tuple[Any, ...]]] = {row[0]: [] for row in rows}
            keys = list(items)
            for start in range(0, len(keys), _BATCH):
                batch = keys[start : start + _BATCH]
                marks = ", ".join("?" for _ in batch)
                for item in db.execute(
                    f"SELECT {_ITEM_COLUMNS} FROM dropship_items WHERE order_id IN ({marks}) ORDER BY order_id, line",  # noqa: S608
                    batch,
                ).fetchall():
                    items[item[0]].append(item)
        return [_order(row, items[row[0]], []) for row in rows]


# -- rows <-> values ----------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _utc(value: datetime) -> datetime:
    # traps.md 28: a timestamp without an offset is UTC.
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _text(value: datetime | None) -> str | None:
    # One fixed width (UTC, microseconds) so that text order is time order in SQL comparisons.
    return None if value is None else _utc(value).isoformat(timespec="microseconds")


def _datetime(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _known(enum: type[_E], value: str) -> _E | str:
    # A status the enums do not know stays its string (API.md: nothing from the server breaks us).
    try:
        return enum(value)
    except ValueError:
        return value


def _update_payload(update: OrderStatusUpdate | ItemStatusUpdate) -> dict[str, Any]:
    # snake_case like the feed rows. ItemStatusUpdate's serializer writes its items with the wire's
    # PascalCase keys (it builds the request body), so its items are dumped one by one here.
    if isinstance(update, OrderStatusUpdate):
        return update.model_dump(mode="json")
    return {
        "id": str(update.id),
        "item_information": [item.model_dump(mode="json") for item in update.item_information],
    }


def _feed_kind(entry: FeedEntry) -> str:
    event = entry.event
    if isinstance(event, OrderCreated | OrderStatusUpdated):
        return event.event_type
    return event.name


def _order_row(order: OrderState) -> tuple[object, ...]:
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
        None if order.shipping_address is None else order.shipping_address.model_dump_json(),
        None if order.shipping_customer is None else order.shipping_customer.model_dump_json(),
        _text(order.created_at),
        _text(order.updated_at),
    )


def _item_row(order_id: str, item: ItemState) -> tuple[object, ...]:
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
        _json(shipments),
        item.tracking_info,
        item.shipping_provider,
        item.message,
        item.info,
        _text(item.updated_at),
    )


def _order_state(row: Sequence[Any], items: Sequence[Sequence[Any]]) -> OrderState:
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
        shipping_address=None if row[10] is None else ShippingAddress.model_validate_json(row[10]),
        shipping_customer=None if row[11] is None else ShippingCustomer.model_validate_json(row[11]),
        created_at=_datetime(row[12]),
        updated_at=_datetime(row[13]),
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
        shipments=tuple(
            Shipment(s["tracking_info"], s["shipping_provider"], s["quantity"]) for s in json.loads(row[10])
        ),
        tracking_info=row[11],
        shipping_provider=row[12],
        message=row[13],
        info=row[14],
        updated_at=_datetime(row[15]),
    )


def _order(row: Sequence[Any], items: Sequence[Sequence[Any]], history: list[LedgerEvent]) -> LedgerOrder:
    state = _order_state(row, items)
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
        shipping_address=state.shipping_address,
        shipping_customer=state.shipping_customer,
        created_at=state.created_at,
        updated_at=state.updated_at,
        items=[_item(item) for item in state.items],
        history=history,
    )


def _item(item: ItemState) -> LedgerItem:
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


def _event(row: Sequence[Any]) -> LedgerEvent:
    return LedgerEvent(
        entry_id=row[0],
        order_id=None if row[1] is None else UUID(row[1]),
        kind=row[2],
        source=row[3],
        title=row[4],
        published=_datetime(row[5]),
        updated=_datetime(row[6]),
        page_id=row[7],
        payload=json.loads(row[8]),
        recorded_at=_datetime(row[9]),
    )
