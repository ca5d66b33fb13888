"""``OrderLedger``: the supplier's own record of its dropship orders, in one SQLite file.

The feed only tells what happened (traps.md 21-24); "it is up to the supplier's system to keep
track of the orders ... and their current status" (iQmetrix's Dropship Order Management Guide, step 2). The ledger is
that system's memory: it is a ``CheckpointStore``, so a follower hands it every entry, and it
commits the entries' effects on their orders *and* the cursor in one transaction, a page of the
feed at a time. After a crash at any point an entry is either applied and passed, or neither (and
then delivered again): applied exactly once.
"""

from __future__ import annotations

import inspect
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from .._exceptions import ArgumentTypeError, CheckpointError, DropshipError, LeaseLostError, StoreUnavailableError
from .._pg import is_dsn, refuse_other_dsn
from .._pg.lease import DEFAULT_LEASE_SECONDS, default_holder
from .._protocol.catalog import DEFAULT_CHUNK_SIZE, PushResult
from ..follow._checkpoint import Cursor
from ..models import (
    FeedEntry,
    ItemStatusUpdate,
    OrderStatus,
    OrderStatusUpdate,
    ProductAvailability,
    UnknownEvent,
)
from . import _stock
from ._apply import OrderState, apply_event, apply_update, canonical_order_id
from ._backend import Backend, PostgresBackend, Session, SQLiteBackend
from ._batch import insert_events, load_states, store_states
from ._claims import DEFAULT_CLAIM_TIMEOUT, ClaimOpener, ClaimSession
from ._models import LedgerEvent, LedgerOrder
from ._rows import (
    INSERT_EVENT,
    INSERT_FENCED_EVENT,
    ITEM_COLUMNS,
    ORDER_COLUMNS,
    SAVE_CURSOR,
    SELECT_EVENTS,
    SELECT_ITEMS,
    SELECT_ORDER,
    UPSERT_ITEM,
    UPSERT_ORDER,
    feed_row,
    item_row,
    json_text,
    ledger_event,
    ledger_order,
    order_row,
    order_state,
    time_text,
    update_payload,
    utc,
    utc_now,
)

if TYPE_CHECKING:
    from .._sync.client import DropshipClient

__all__ = ["OrderLedger"]

_LOAD_CURSOR = "SELECT entry_id, page_id FROM dropship_cursor WHERE name = ?"
# Oldest order first, stubs (no creation time) after the others.
_ORDER_BY = "ORDER BY created_at IS NULL, created_at, order_id"
_BATCH = 500  # bound parameters per IN (...) list, well under SQLite's limit

# When the entries ``advance`` took are written, besides at the end of their page and before any
# other use of the ledger: once this many wait (a hostile page of thousands of entries), or once
# the oldest has waited this long (a slow loop body must not hold handled entries back).
_FLUSH_ENTRIES = 500
_FLUSH_SECONDS = 0.5
_clock = time.monotonic  # tests replace it: no test waits for real


class OrderLedger:
    """The local order ledger: orders, items, their current statuses and every event, in SQLite.

    ::

        with OrderLedger("orders.db") as ledger, DropshipClient.from_env() as client:
            for entry in client.follow(checkpoint=ledger).poll():
                ...                          # applied by the ledger once the loop moves on
            echo = client.update_order_status(order_id, "Shipped", tracking_info="1Z9", shipping_provider="UPS")
            ledger.record_update(echo)       # our side now, before the feed echoes it (traps.md 23)
            late = ledger.waiting_on_supplier(timedelta(hours=24))

    It is a ``CheckpointStore``: ``advance(cursor, entry)`` takes a handled entry, and the entries
    of one feed page are written together (``flush``), in one transaction: recorded in the history,
    applied to their orders, and the cursor stored. An entry already recorded is not applied again,
    so advancing twice over one entry is harmless. Every other call of the ledger writes what
    ``advance`` took first: what you read through it includes every entry the follower moved past;
    another process sees them once their page is committed.

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
        self._lock = threading.Lock()  # the entries taken, and their flush
        self._pending: list[tuple[Cursor, FeedEntry]] = []
        self._pending_since = 0.0
        self._dropped: tuple[BaseException, int] | None = None  # the failed flush, until load()
        self._closed = False

    @property
    def _remote(self) -> bool:
        """On PostgreSQL: the async follower calls it on a worker thread."""
        return isinstance(self._backend, PostgresBackend)

    @property
    def _db(self) -> Any:
        """The SQLite connection (a SQLite ledger only), every entry taken written: for tests and
        for EXPLAIN."""
        self.flush()
        return getattr(self._backend, "connection", None)

    # -- CheckpointStore ----------------------------------------------------------------------

    def load(self) -> Cursor | None:
        """The cursor of this ledger's ``name`` (past every entry taken), or ``None`` if it never
        followed the feed. Where a follower resumes: after a failed ``flush``, ``advance`` takes
        entries again once this has been read."""
        with self._lock:
            self._flush_pending()
            with self._backend.reading() as db:
                row = db.execute(_LOAD_CURSOR, (self.name,)).fetchone()
            self._dropped = None  # the caller resumes from here
        return None if row is None else Cursor(row[0], row[1])

    def save(self, cursor: Cursor) -> None:
        """Record a position without an entry (the follower's ``start="latest"``)."""
        with self._lock:
            self._flush_pending()
            with self._backend.writing(fenced=True) as db:
                self._save_cursor(db, cursor)
            self._dropped = None

    def advance(self, cursor: Cursor, entry: FeedEntry) -> None:
        """Take a handled ``entry``: it is recorded, applied to its order and ``cursor`` stored at
        the next ``flush``, in one transaction with the other entries of its page.

        That flush happens before an entry of another page is taken, once 500 entries wait or the
        oldest has waited half a second (checked here), and before any other call of the ledger
        reads or writes (``load``, ``order``, ``record_update``, ``close``, ...): a follower's
        poll ends with one too. Should it fail, the error is raised by the call that flushed;
        the entries it held are not recorded, and ``advance`` refuses new ones (raising an error
        of the same kind) until ``load`` says where to resume, as a follower's next poll does.

        An entry id already in the history is neither applied nor recorded again; the cursor is
        still stored. Entry ids are opaque strings (traps.md 18). On PostgreSQL, when this replica
        leads, the transaction is fenced by its lease (``LeaseLostError`` if the term ended: the
        entries are dropped, and the new leader delivers them again).
        """
        with self._lock:
            if self._dropped is not None or self._closed:
                raise self._refusal()
            pending = self._pending
            if pending and pending[-1][0].page_id != cursor.page_id:
                self._flush_pending()  # a transaction holds one page
                pending = self._pending
            if not pending:
                self._pending_since = _clock()
            pending.append((cursor, entry))
            if len(pending) >= _FLUSH_ENTRIES or _clock() - self._pending_since >= _FLUSH_SECONDS:
                self._flush_pending()

    def flush_due(self, cursor: Cursor) -> bool:
        """Whether ``advance(cursor, ...)`` would write (the entries taken are of another page, too
        many, or waited too long). For a caller that must not wait on the database (the async
        follower, on PostgreSQL): it calls ``flush`` on a worker thread first, and ``advance`` then
        only takes the entry."""
        with self._lock:
            pending = self._pending
            if not pending:
                return _FLUSH_ENTRIES <= 1
            return (
                pending[-1][0].page_id != cursor.page_id
                or len(pending) + 1 >= _FLUSH_ENTRIES
                or _clock() - self._pending_since >= _FLUSH_SECONDS
            )

    def flush(self) -> None:
        """Write the entries ``advance`` took and not yet written, with the last one's cursor, in
        one transaction (fenced on PostgreSQL); nothing to do if there are none.

        If it fails, the transaction is rolled back whole and the entries are dropped (their
        cursor was not stored: a follower delivers them again, and each is applied once)."""
        with self._lock:
            self._flush_pending()

    def _flush_pending(self) -> None:
        batch = self._pending
        if not batch:
            return
        self._pending = []
        try:
            with self._backend.writing(fenced=True) as db:
                self._write_page(db, batch)
        except BaseException as error:
            # Nothing after them may be applied before they are: that would skip them. A follower
            # in another thread (or a loop body that caught this) is stopped at its next advance.
            self._dropped = (error, len(batch))
            raise

    def _write_page(self, db: Session, batch: Sequence[tuple[Cursor, FeedEntry]]) -> None:
        """The entries' history rows, their effects on their orders (each order read once and
        written once) and the last cursor."""
        recorded = utc_now().isoformat(timespec="microseconds")
        rows: list[tuple[object, ...]] = []
        effects: list[tuple[str, str, Any, datetime | None]] = []  # entry id, order, event, when
        seen: set[str] = set()
        for cursor, entry in batch:
            if entry.id in seen:
                continue  # advanced twice before a flush: the first counts
            seen.add(entry.id)
            row, order_id, at = feed_row(cursor, entry, recorded)
            rows.append(row)
            if order_id is not None and not isinstance(entry.event, UnknownEvent):
                effects.append((entry.id, order_id, entry.event, at))
        # Sent together, read together (one round trip on PostgreSQL): the inserts, and the orders
        # as they stand, of which only those of new entries are changed.
        new_entries = insert_events(db, rows)
        states = load_states(db, {order_id for _, order_id, _, _ in effects})
        new, before = new_entries(), states()
        after = dict(before)
        for entry_id, order_id, event, at in effects:
            if entry_id in new:
                state = apply_event(after.get(order_id), event, at)
                if state is not None:
                    after[order_id] = state
        store_states(db, before, after)
        self._save_cursor(db, batch[-1][0])

    def _refusal(self) -> DropshipError:
        if self._closed:
            return CheckpointError.of(self.path, "the store is closed")
        assert self._dropped is not None
        error, count = self._dropped
        why = (
            f"{self.path}: the write of {count} entries handled before this one failed ({type(error).__name__}), "
            "so they were not recorded; load() the cursor and deliver them again (a follower does at its next poll)"
        )
        if isinstance(error, LeaseLostError):
            return LeaseLostError(why)
        if isinstance(error, StoreUnavailableError):
            return StoreUnavailableError(why)
        return CheckpointError(why, path=self.path, reason=why.removeprefix(f"{self.path}: "))

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
        self.flush()
        with self._backend.writing() as db:
            return self._record(db, update, at)

    def _record(self, db: Session, update: OrderStatusUpdate | ItemStatusUpdate, at: datetime | None) -> LedgerEvent:
        when = utc(at) if at is not None else utc_now()
        order_id = canonical_order_id(update.id)
        kind = "local-order-status-update" if isinstance(update, OrderStatusUpdate) else "local-item-status-update"
        payload = update_payload(update)
        entry_id = f"local:{uuid4()}"
        recorded = utc_now()
        text = time_text(when)
        row = (entry_id, order_id, kind, "local", None, text, text, None, json_text(payload), time_text(recorded))
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
        self.flush()
        with self._backend.reading() as db:
            return _stock.changes(db, products, complete=complete)

    def record_availability(self, products: Iterable[ProductAvailability], *, at: datetime | None = None) -> int:
        """Remember products as accepted by iQmetrix (a ``PushResult``'s ``accepted``)."""
        self.flush()
        with self._backend.writing() as db:
            return _stock.record(db, products, at)

    def pushed_availability(self) -> dict[str, ProductAvailability]:
        """What iQmetrix last accepted, per SKU, as this ledger recorded it."""
        self.flush()
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
            raise ArgumentTypeError(
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
        self.flush()
        with self._backend.reading() as db:
            return self._read_order(db, canonical_order_id(order_id))

    def _read_order(self, db: Session, key: str) -> LedgerOrder | None:
        row = db.execute(SELECT_ORDER, (key,)).fetchone()
        if row is None:
            return None
        items = db.execute(SELECT_ITEMS, (key,)).fetchall()
        events = db.execute(SELECT_EVENTS, (key,)).fetchall()
        return ledger_order(row, items, [ledger_event(event) for event in events])

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
        self.flush()  # the orders as far as the follower has read the feed
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
        cutoff = (utc(now) if now is not None else utc_now()) - age
        return self._select_orders(
            "WHERE status = ? AND created_at < ?", (OrderStatus.PENDING_SUPPLIER.value, time_text(cutoff)), None
        )

    def history(self, order_id: UUID | str) -> list[LedgerEvent]:
        """Every event recorded about an order, in the order applied."""
        self.flush()
        with self._backend.reading() as db:
            rows = db.execute(SELECT_EVENTS, (canonical_order_id(order_id),)).fetchall()
        return [ledger_event(row) for row in rows]

    def counts(self) -> dict[str, int]:
        """How many orders have each status."""
        self.flush()
        with self._backend.reading() as db:
            rows = db.execute("SELECT status, COUNT(*) FROM dropship_orders GROUP BY status").fetchall()
        return {status: count for status, count in rows}

    def event_count(self, source: str | None = None) -> int:
        """History rows: all of them, or those of one ``source`` (``"feed"`` or ``"local"``)."""
        self.flush()
        with self._backend.reading() as db:
            if source is None:
                row = db.execute("SELECT COUNT(*) FROM dropship_events").fetchone()
            else:
                row = db.execute("SELECT COUNT(*) FROM dropship_events WHERE source = ?", (source,)).fetchone()
        return int(row[0])

    def entry_ids(self) -> list[str]:
        """The feed entry ids recorded, in the order they were applied."""
        self.flush()
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
        """Write the entries taken (``flush``), then close the connection, also if that write
        failed (its error is raised then); on PostgreSQL, step down if this replica leads."""
        try:
            self.flush()
        finally:
            self._closed = True
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
            return db.execute(INSERT_FENCED_EVENT, (*row, db.lease_token))
        return db.execute(INSERT_EVENT, row)

    def _save_cursor(self, db: Session, cursor: Cursor) -> None:
        db.execute(SAVE_CURSOR, (self.name, cursor.entry_id, cursor.page_id, time_text(utc_now())))

    def _load_state(self, db: Session, order_id: str) -> OrderState | None:
        # Locked on PostgreSQL: a worker's claim or another writer changing the order meanwhile
        # would otherwise be overwritten with what was read before it committed.
        order = db.execute(SELECT_ORDER + db.for_update, (order_id,))
        items = db.execute(SELECT_ITEMS, (order_id,))
        row, item_rows = order.fetchone(), items.fetchall()  # both sent before either is read
        return None if row is None else order_state(row, item_rows)

    def _store_state(self, db: Session, before: OrderState | None, after: OrderState | None) -> None:
        if after is None or after == before:
            return
        db.execute(UPSERT_ORDER, order_row(after))
        unchanged = set(before.items) if before is not None else set()
        changed = [item_row(after.order_id, item) for item in after.items if item not in unchanged]
        if changed:
            db.executemany(UPSERT_ITEM, changed)

    def _select_orders(self, where: str, params: Sequence[object], limit: int | None) -> list[LedgerOrder]:
        sql = f"SELECT {ORDER_COLUMNS} FROM dropship_orders {where} {_ORDER_BY}"  # noqa: S608
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        self.flush()
        with self._backend.reading() as db:
            rows = db.execute(sql, params).fetchall()
            items: dict[str, list[tuple[Any, ...]]] = {row[0]: [] for row in rows}
            keys = list(items)
            for start in range(0, len(keys), _BATCH):
                batch = keys[start : start + _BATCH]
                marks = ", ".join("?" for _ in batch)
                for item in db.execute(
                    f"SELECT {ITEM_COLUMNS} FROM dropship_items WHERE order_id IN ({marks}) ORDER BY order_id, line",  # noqa: S608
                    batch,
                ).fetchall():
                    items[item[0]].append(item)
        return [ledger_order(row, items[row[0]], []) for row in rows]
