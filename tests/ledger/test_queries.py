"""The ledger's queries, and what survives closing and reopening the file."""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from uuid import UUID

import pytest

from iqmetrix_dropship.follow._checkpoint import Cursor, SQLiteCheckpoint
from iqmetrix_dropship.ledger import LedgerOrder, OrderLedger
from iqmetrix_dropship.models import FeedEntry, ItemStatus, OrderStatus

from ..conftest import PgStore
from .builders import ORDER_ID, SKU_1, SKU_2, T0, created, cursor, info, updated
from .conftest import OpenLedger

IDS = [UUID(f"00000000-0000-4000-8000-{n:012d}") for n in range(6)]
NOW = T0 + timedelta(hours=48)


def feed(ledger: OrderLedger, *entries: FeedEntry) -> None:
    for entry in entries:
        ledger.advance(cursor(entry), entry)


@pytest.fixture
def shop(ledger: OrderLedger) -> OrderLedger:
    """Six orders, placed one hour apart, in every interesting state."""
    for n, order_id in enumerate(IDS):
        feed(ledger, created(order_id, at=T0 + timedelta(hours=n)))
    late = T0 + timedelta(hours=10)
    feed(
        ledger,
        updated(info(SKU_1, "Ordered"), info(SKU_2, "Ordered"), order_id=IDS[1], at=late),
        updated(
            info(SKU_1, "Shipped", tracking_info="T", shipping_provider="UPS"),
            info(SKU_2, "Shipped", tracking_info="T", shipping_provider="UPS"),
            order_id=IDS[2],
            at=late,
        ),
        updated(info(SKU_1, "Cancelled"), info(SKU_2, "Cancelled"), order_id=IDS[3], at=late),
        updated(info(SKU_1, "BackOrdered"), order_id=IDS[4], at=late),
        # IDS[0] and IDS[5] stay PendingSupplier; one stub, never created:
        updated(info("X", "Ordered"), order_id=ORDER_ID, at=late),
    )
    return ledger


def ids(orders: list[LedgerOrder]) -> list[UUID]:
    return [order.order_id for order in orders]


def test_order_returns_none_for_an_unknown_order(ledger: OrderLedger) -> None:
    assert ledger.order(ORDER_ID) is None
    assert ledger.history(ORDER_ID) == []


def test_order_accepts_any_spelling_of_the_guid(ledger: OrderLedger) -> None:
    feed(ledger, created())

    assert ledger.order(str(ORDER_ID).upper()) is not None
    assert ledger.order(f"{{{ORDER_ID}}}") is not None


def test_order_rejects_a_malformed_id(ledger: OrderLedger) -> None:
    with pytest.raises(ValueError, match="badly formed"):
        ledger.order("not-a-guid")


def test_order_has_its_history_oldest_first(shop: OrderLedger) -> None:
    order = shop.order(IDS[2])

    assert order is not None
    assert [e.kind for e in order.history] == ["order-created", "order-status-updated"]
    assert order.history == shop.history(IDS[2])


def test_lists_leave_history_out(shop: OrderLedger) -> None:
    assert all(order.history == [] for order in shop.orders())
    assert all(order.items for order in shop.orders())


def test_orders_lists_all_oldest_first_with_stubs_last(shop: OrderLedger) -> None:
    assert ids(shop.orders()) == [*IDS, ORDER_ID]


def test_orders_by_status(shop: OrderLedger) -> None:
    assert ids(shop.orders(OrderStatus.PENDING_SUPPLIER)) == [IDS[0], IDS[5]]
    assert ids(shop.orders("Ordered")) == [IDS[1], ORDER_ID]
    assert ids(shop.orders(OrderStatus.SHIPPED)) == [IDS[2]]
    assert ids(shop.orders(OrderStatus.CANCELLED)) == [IDS[3]]
    assert ids(shop.orders(OrderStatus.BACK_ORDERED)) == [IDS[4]]
    assert shop.orders(OrderStatus.ERROR) == []


def test_orders_limit(shop: OrderLedger) -> None:
    assert ids(shop.orders(limit=2)) == IDS[:2]
    assert ids(shop.orders(OrderStatus.PENDING_SUPPLIER, limit=1)) == [IDS[0]]


def test_orders_come_with_their_items(shop: OrderLedger) -> None:
    order = shop.orders(OrderStatus.BACK_ORDERED)[0]

    assert [(i.sku, i.status) for i in order.items] == [
        (SKU_1, ItemStatus.BACK_ORDERED),
        (SKU_2, ItemStatus.PENDING_SUPPLIER),
    ]


def test_open_orders_are_neither_shipped_nor_cancelled(shop: OrderLedger) -> None:
    assert ids(shop.open_orders()) == [IDS[0], IDS[1], IDS[4], IDS[5], ORDER_ID]


def test_waiting_on_supplier_lists_old_pending_orders(shop: OrderLedger) -> None:
    # IDS[0] was placed 48 h before NOW, IDS[5] 43 h before.
    assert ids(shop.waiting_on_supplier(timedelta(hours=44), now=NOW)) == [IDS[0]]
    assert ids(shop.waiting_on_supplier(40, now=NOW)) == [IDS[0], IDS[5]]
    assert ids(shop.waiting_on_supplier(48.5, now=NOW)) == []


def test_waiting_on_supplier_is_strictly_longer_than(shop: OrderLedger) -> None:
    assert ids(shop.waiting_on_supplier(timedelta(hours=43), now=NOW)) == [IDS[0]]


def test_waiting_on_supplier_compares_times_in_utc(shop: OrderLedger) -> None:
    plus_two = timezone(timedelta(hours=2))

    assert ids(shop.waiting_on_supplier(44, now=NOW.astimezone(plus_two))) == [IDS[0]]
    assert ids(shop.waiting_on_supplier(44, now=NOW.replace(tzinfo=None))) == [IDS[0]]


def test_waiting_on_supplier_defaults_to_now(shop: OrderLedger) -> None:
    assert ids(shop.waiting_on_supplier(1)) == [IDS[0], IDS[5]]  # 2015 is long ago


def test_an_order_with_some_items_ordered_is_still_waiting(ledger: OrderLedger) -> None:
    feed(ledger, created(), updated(info(SKU_1, "Ordered")))

    assert ids(ledger.waiting_on_supplier(1, now=NOW)) == [ORDER_ID]


def test_counts_orders_per_status(shop: OrderLedger) -> None:
    assert shop.counts() == {
        "PendingSupplier": 2,
        "Ordered": 2,
        "Shipped": 1,
        "Cancelled": 1,
        "BackOrdered": 1,
    }


def test_event_count_and_entry_ids_in_applied_order(shop: OrderLedger) -> None:
    assert shop.event_count() == 11
    assert shop.event_count("feed") == 11
    entry_ids = shop.entry_ids()
    assert len(entry_ids) == len(set(entry_ids)) == 11
    assert entry_ids[0].startswith("urn:uuid:created-")
    assert entry_ids[-1].startswith("urn:uuid:updated-")


def test_everything_persists_across_reopen(open_ledger: OpenLedger) -> None:
    first, second = created(), updated(info(SKU_2, "Shipped", quantity=1, tracking_info="T1", shipping_provider="UPS"))
    with open_ledger() as ledger:
        feed(ledger, first, second)
        before = ledger.order(ORDER_ID)

    with open_ledger() as reopened:
        assert reopened.order(ORDER_ID) == before
        assert reopened.entry_ids() == [first.id, second.id]
        assert reopened.load() == cursor(second)


def test_cursors_are_kept_per_name(open_ledger: OpenLedger) -> None:
    entry = created()
    with open_ledger(name="a") as a, open_ledger(name="b") as b:
        a.advance(cursor(entry), entry)
        a.flush()  # another ledger sees what this one committed

        assert b.load() is None
        assert b.order(ORDER_ID) is not None  # orders are shared


def test_the_cursor_table_is_the_checkpoints_own(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    entry = created()
    with OrderLedger(path) as ledger:
        ledger.advance(cursor(entry), entry)

    checkpoint = SQLiteCheckpoint(path)
    try:
        assert checkpoint.load() == cursor(entry)
    finally:
        checkpoint.close()


def test_concurrent_advances_from_threads_lose_nothing(open_ledger: OpenLedger) -> None:
    with open_ledger() as ledger:

        def work(n: int) -> None:
            for k in range(20):
                entry = created(UUID(f"00000000-0000-4000-8000-{n:06d}{k:06d}"))
                ledger.advance(Cursor(entry.id, "p"), entry)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert ledger.event_count() == 80
        assert len(ledger.orders()) == 80


def test_closed_ledger_refuses_work(tmp_path: Path) -> None:
    ledger = OrderLedger(tmp_path / "orders.db")
    ledger.close()

    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        ledger.orders()


def test_repr_names_the_file(tmp_path: Path) -> None:
    with OrderLedger(tmp_path / "x.db", name="main") as ledger:
        assert repr(ledger) == f"OrderLedger({str(tmp_path / 'x.db')!r}, name='main')"


def test_repr_names_the_database_without_its_password(pg_store: PgStore) -> None:
    dsn = pg_store.dsn.replace("dropship@", "dropship:s3cret-pw@")  # trust auth: any password is taken
    with OrderLedger(dsn, schema=pg_store.schema, name="main") as ledger:
        assert "s3cret-pw" not in repr(ledger)
        assert repr(ledger) == f"OrderLedger({pg_store.dsn.replace('dropship@', 'dropship:***@')!r}, name='main')"


def test_timestamps_come_back_aware(ledger: OrderLedger) -> None:
    feed(ledger, created(at=datetime(2015, 10, 23, 21, 37, 31)))  # naive: UTC (traps.md 28)

    order = ledger.order(ORDER_ID)
    assert order is not None
    assert order.created_at == datetime(2015, 10, 23, 21, 37, 31, tzinfo=timezone.utc)
    assert order.history[0].recorded_at.tzinfo is not None


def test_two_shipments_of_the_largest_quantity_are_stored(open_ledger: OpenLedger) -> None:
    biggest = 2**63 - 1
    with open_ledger() as ledger:
        for tracking in ("1Z1", "1Z2"):
            entry = updated(info(SKU_1, "Shipped", quantity=biggest, tracking_info=tracking))
            ledger.advance(cursor(entry), entry)  # before: OverflowError on the second, every time
        order = ledger.order(ORDER_ID)
    assert order is not None
    assert order.items[0].shipped_quantity == biggest
