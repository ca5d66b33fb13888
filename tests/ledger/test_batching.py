"""The ledger writes a feed page's entries together: what ``advance`` took is written in one
transaction when the page ends, when too many wait or the oldest has waited too long, before any
other use of the ledger, and by ``flush`` and ``close``. What it has not written yet, another
ledger (another process) does not see; a call through the same ledger always does."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, NoReturn
from uuid import UUID, uuid4

import pytest

from iqmetrix_dropship import CheckpointError
from iqmetrix_dropship.emulator import Emulator
from iqmetrix_dropship.feed import parse_feed
from iqmetrix_dropship.follow._checkpoint import Cursor
from iqmetrix_dropship.ledger import OrderLedger, _ledger
from iqmetrix_dropship.ledger._apply import OrderState, canonical_order_id, create_order
from iqmetrix_dropship.models import FeedEntry, OrderCreated, OrderStatusUpdate, ProductAvailability

from .builders import SKU_1, T0, created, info, updated
from .conftest import OpenLedger


class CrashError(Exception):
    pass


def crash(*args: object) -> NoReturn:
    raise CrashError


def orders(count: int) -> list[FeedEntry]:
    return [created(uuid4()) for _ in range(count)]


def take(ledger: OrderLedger, entries: list[FeedEntry], page: str) -> None:
    for entry in entries:
        ledger.advance(Cursor(entry.id, page), entry)


def ids(entries: list[FeedEntry]) -> list[str]:
    return [entry.id for entry in entries]


def test_a_pages_entries_are_written_together_when_the_next_page_begins(open_ledger: OpenLedger) -> None:
    writer, other = open_ledger(), open_ledger()  # two connections: another process's view
    first, second = orders(3), orders(2)

    take(writer, first, "p-1")
    assert other.event_count() == 0  # the page in hand: nothing of it is committed
    assert other.load() is None

    take(writer, second[:1], "p-2")
    assert other.entry_ids() == ids(first)  # the whole first page, with its cursor
    assert other.load() == Cursor(first[-1].id, "p-1")

    take(writer, second[1:], "p-2")
    writer.flush()
    assert other.entry_ids() == ids(first + second)
    assert other.load() == Cursor(second[-1].id, "p-2")


def test_sqlite_commits_once_per_page(tmp_path: Path) -> None:
    with OrderLedger(tmp_path / "orders.db") as ledger:
        statements: list[str] = []
        ledger._db.set_trace_callback(statements.append)
        for page in ("p-1", "p-2", "p-3"):
            take(ledger, orders(5), page)
        ledger.flush()
        ledger._db.set_trace_callback(None)
    assert statements.count("BEGIN IMMEDIATE") == 3
    assert statements.count("COMMIT") == 3


def test_a_page_is_applied_as_its_entries_one_by_one(ledger: OrderLedger) -> None:
    placed = created()
    take(ledger, [placed, updated(info(SKU_1, "Ordered")), updated(info(SKU_1, "Cancelled"))], "p-1")
    order = ledger.order(placed.event.order_id)  # type: ignore[union-attr]
    assert order is not None
    assert [event.kind for event in order.history] == ["order-created", "order-status-updated", "order-status-updated"]
    assert str(order.items[0].status) == "Cancelled"


def test_an_entry_taken_twice_before_a_write_is_applied_once(ledger: OrderLedger) -> None:
    placed = created()
    shipped = updated(info(SKU_1, "Shipped", quantity=1, tracking_info="1Z1"))
    take(ledger, [placed, shipped, shipped], "p-1")
    assert ledger.entry_ids() == ids([placed, shipped])
    order = ledger.order(placed.event.order_id)  # type: ignore[union-attr]
    assert order is not None
    assert order.items[0].shipped_quantity == 1


def test_an_entry_recorded_by_an_earlier_page_is_not_applied_again(ledger: OrderLedger) -> None:
    placed, cancelled = created(), updated(info(SKU_1, "Cancelled"))
    take(ledger, [placed, cancelled], "p-1")
    ledger.flush()
    ordered = updated(info(SKU_1, "Ordered"))
    take(ledger, [cancelled, ordered, cancelled], "p-2")  # delivered again, around a newer one
    assert ledger.entry_ids() == ids([placed, cancelled, ordered])
    order = ledger.order(placed.event.order_id)  # type: ignore[union-attr]
    assert order is not None
    assert str(order.items[0].status) == "Ordered"


READS: dict[str, Callable[[OrderLedger], object]] = {
    "load": lambda ledger: ledger.load(),
    "order": lambda ledger: ledger.order(uuid4()),
    "orders": lambda ledger: ledger.orders(),
    "open_orders": lambda ledger: ledger.open_orders(),
    "waiting_on_supplier": lambda ledger: ledger.waiting_on_supplier(timedelta(hours=1)),
    "history": lambda ledger: ledger.history(uuid4()),
    "counts": lambda ledger: ledger.counts(),
    "event_count": lambda ledger: ledger.event_count(),
    "entry_ids": lambda ledger: ledger.entry_ids(),
    "availability_changes": lambda ledger: ledger.availability_changes([]),
    "pushed_availability": lambda ledger: ledger.pushed_availability(),
    "record_availability": lambda ledger: ledger.record_availability(
        [ProductAvailability(sku=SKU_1, is_available=True, quantity=1)]
    ),
    "record_update": lambda ledger: ledger.record_update(OrderStatusUpdate(id=uuid4(), status="Ordered")),
    "save": lambda ledger: ledger.save(Cursor("urn:uuid:elsewhere", "p-9")),
    "flush": lambda ledger: ledger.flush(),
}


@pytest.mark.parametrize("call", READS.values(), ids=READS.keys())
def test_every_other_use_of_the_ledger_writes_what_it_took_first(
    open_ledger: OpenLedger, call: Callable[[OrderLedger], object]
) -> None:
    ledger, other = open_ledger(), open_ledger()
    taken = orders(2)
    take(ledger, taken, "p-1")
    call(ledger)
    assert other.entry_ids() == ids(taken)


def test_the_sqlite_connection_given_to_tests_has_every_entry_taken(tmp_path: Path) -> None:
    with OrderLedger(tmp_path / "orders.db") as ledger:
        taken = orders(2)
        take(ledger, taken, "p-1")
        rows = ledger._db.execute("SELECT entry_id FROM dropship_events ORDER BY seq").fetchall()
    assert [row[0] for row in rows] == ids(taken)


def test_reads_through_the_ledger_see_every_entry_it_took(ledger: OrderLedger) -> None:
    placed = created()
    take(ledger, [placed, updated(info(SKU_1, "Ordered"))], "p-1")
    order = ledger.order(placed.event.order_id)  # type: ignore[union-attr]
    assert order is not None
    assert str(order.items[0].status) == "Ordered"
    assert len(order.history) == 2


def test_a_page_too_long_is_written_in_parts(open_ledger: OpenLedger, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_ledger, "_FLUSH_ENTRIES", 3)  # 500 for real: a hostile page
    writer, other = open_ledger(), open_ledger()
    taken = orders(4)
    take(writer, taken[:2], "p-1")
    assert other.event_count() == 0
    take(writer, taken[2:3], "p-1")
    assert other.entry_ids() == ids(taken[:3])
    assert other.load() == Cursor(taken[2].id, "p-1")
    take(writer, taken[3:], "p-1")
    assert other.event_count() == 3


def test_entries_that_waited_half_a_second_are_written_with_the_next_one(
    open_ledger: OpenLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [100.0]
    monkeypatch.setattr(_ledger, "_clock", lambda: now[0])
    writer, other = open_ledger(), open_ledger()
    taken = orders(4)
    take(writer, taken[:1], "p-1")
    now[0] += 0.4
    take(writer, taken[1:2], "p-1")
    assert other.event_count() == 0  # the oldest waited 0.4 s
    now[0] += 0.1
    take(writer, taken[2:3], "p-1")  # a slow loop body: the oldest has waited 0.5 s
    assert other.entry_ids() == ids(taken[:3])
    take(writer, taken[3:], "p-1")  # the clock starts again with the next one
    assert other.event_count() == 3


def test_a_failed_write_drops_the_page_and_takes_entries_again_once_the_cursor_is_read(
    ledger: OrderLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = orders(2), orders(3)
    take(ledger, first, "p-1")
    ledger.flush()
    take(ledger, second[:2], "p-2")
    with monkeypatch.context() as patch:
        patch.setattr(_ledger, "apply_event", crash)
        with pytest.raises(CrashError):
            ledger.counts()  # whichever call writes the page gets the error

    # Taking the next entry would skip the two dropped: refused, until the follower reloads.
    with pytest.raises(CheckpointError, match=r"2 entries .* not recorded; load\(\) the cursor"):
        take(ledger, second[2:], "p-2")
    assert ledger.load() == Cursor(first[-1].id, "p-1")
    take(ledger, second, "p-2")  # delivered again, from the cursor
    assert ledger.entry_ids() == ids(first + second)


def test_close_writes_what_was_taken(open_ledger: OpenLedger) -> None:
    taken = orders(2)
    with open_ledger() as ledger:
        take(ledger, taken, "p-1")
    with open_ledger() as reopened:
        assert reopened.entry_ids() == ids(taken)
        assert reopened.load() == Cursor(taken[-1].id, "p-1")


def test_a_close_whose_write_fails_still_closes_and_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ledger = OrderLedger(tmp_path / "orders.db")
    take(ledger, orders(2), "p-1")
    monkeypatch.setattr(_ledger, "apply_event", crash)
    with pytest.raises(CrashError):
        ledger.close()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        ledger.orders()
    with pytest.raises(CheckpointError, match="closed"):
        take(ledger, orders(1), "p-1")
    with OrderLedger(tmp_path / "orders.db") as reopened:
        assert reopened.event_count() == 0
        assert reopened.load() is None


def _feed(events: int, seed: int) -> list[tuple[Cursor, FeedEntry]]:
    emulator = Emulator(events=events, seed=seed)
    entries = []
    for page_id in emulator.page_ids():
        entries += [
            (Cursor(entry.id, page_id), entry) for entry in reversed(parse_feed(emulator.page(page_id)).entries)
        ]
    assert [cursor.entry_id for cursor, _ in entries] == emulator.entry_ids()
    return entries


def _without_recording_time(ledger: OrderLedger, order_id: UUID) -> Any:
    order = ledger.order(order_id)
    assert order is not None
    return order.model_copy(
        update={"history": [event.model_copy(update={"recorded_at": None}) for event in order.history]}
    )


def test_a_feed_written_a_page_at_a_time_ends_as_written_an_entry_at_a_time(open_ledger: OpenLedger) -> None:
    feed = _feed(400, seed=11)  # 8 pages: orders created, updated on their page and on later ones
    with OrderLedger(":memory:") as one_by_one:
        for cursor, entry in feed:
            one_by_one.advance(cursor, entry)
            one_by_one.flush()
        paged = open_ledger()
        for cursor, entry in feed:
            paged.advance(cursor, entry)
        assert paged.entry_ids() == one_by_one.entry_ids()
        assert paged.orders() == one_by_one.orders()
        assert paged.load() == one_by_one.load()
        updated_later = {entry.event.order_id for _, entry in feed[200:] if not isinstance(entry.event, OrderCreated)}
        for order_id in list(updated_later)[:20]:
            assert _without_recording_time(paged, order_id) == _without_recording_time(one_by_one, order_id)


def test_an_order_created_directly_is_the_order_the_general_rule_makes() -> None:
    events = [entry.event for _, entry in _feed(100, seed=12) if isinstance(entry.event, OrderCreated)]
    events.append(created(items=[]).event)  # type: ignore[arg-type]
    for event in events:
        assert isinstance(event, OrderCreated)
        stub = OrderState(order_id=canonical_order_id(event.order_id))  # known, nothing else: the general path
        assert create_order(None, event, T0) == create_order(stub, event, T0)


def test_flush_due_says_when_advance_would_write(open_ledger: OpenLedger, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr(_ledger, "_clock", lambda: now[0])
    monkeypatch.setattr(_ledger, "_FLUSH_ENTRIES", 3)
    writer, other = open_ledger(), open_ledger()
    a, b, c, d = orders(4)
    assert not writer.flush_due(Cursor(a.id, "p-1"))  # nothing taken
    take(writer, [a], "p-1")
    assert not writer.flush_due(Cursor(b.id, "p-1"))
    assert writer.flush_due(Cursor(b.id, "p-2"))  # another page
    take(writer, [b], "p-1")
    assert writer.flush_due(Cursor(c.id, "p-1"))  # it would fill the batch
    writer.flush()  # what the async follower does then, on a worker thread
    take(writer, [c], "p-1")  # and advance only takes the entry
    assert other.entry_ids() == ids([a, b])
    now[0] += 0.5
    assert writer.flush_due(Cursor(d.id, "p-1"))  # the oldest waited half a second
