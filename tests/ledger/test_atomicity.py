"""An entry's effect and the cursor commit together, or not at all."""

from __future__ import annotations

from typing import NoReturn

import pytest

from iqmetrix_dropship.follow._checkpoint import CheckpointStore, Cursor
from iqmetrix_dropship.ledger import OrderLedger, _ledger
from iqmetrix_dropship.models import ItemStatus, OrderStatus

from .builders import ORDER_ID, SKU_1, created, cursor, info, updated
from .conftest import OpenLedger


class CrashError(Exception):
    pass


def simulated_crash(*args: object) -> NoReturn:
    raise CrashError


def test_the_ledger_is_a_checkpoint_store(ledger: OrderLedger) -> None:
    assert isinstance(ledger, CheckpointStore)


def test_failure_while_applying_leaves_neither_history_nor_cursor(
    ledger: OrderLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = created()
    ledger.advance(cursor(first), first)
    ledger.flush()  # its page is written
    second = updated(info(SKU_1, "Cancelled"))
    # The history row is inserted before the effect is computed: fail right there.
    monkeypatch.setattr(_ledger, "apply_event", simulated_crash)

    ledger.advance(cursor(second, page="p-2"), second)  # taken: written with its page
    with pytest.raises(CrashError):
        ledger.flush()

    assert ledger.entry_ids() == [first.id]
    assert ledger.load() == cursor(first)
    order = ledger.order(ORDER_ID)
    assert order is not None
    assert order.status is OrderStatus.PENDING_SUPPLIER


def test_an_entry_that_failed_is_applied_when_delivered_again(
    ledger: OrderLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = created()
    with monkeypatch.context() as patch:
        patch.setattr(_ledger, "apply_event", simulated_crash)
        ledger.advance(cursor(entry), entry)  # taken: written with its page
        with pytest.raises(CrashError):
            ledger.flush()

    assert ledger.load() is None  # the follower's next poll resumes where the cursor is
    ledger.advance(cursor(entry), entry)  # at-least-once delivery: the follower tries again

    assert ledger.entry_ids() == [entry.id]
    assert ledger.load() == cursor(entry)
    assert ledger.order(ORDER_ID) is not None


def test_failure_while_storing_the_cursor_rolls_back_the_effect(
    ledger: OrderLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = created()
    ledger.advance(cursor(first), first)
    ledger.flush()
    second = updated(info(SKU_1, "Cancelled"))
    monkeypatch.setattr(OrderLedger, "_save_cursor", simulated_crash)

    ledger.advance(cursor(second), second)  # taken: written with its page
    with pytest.raises(CrashError):
        ledger.flush()

    monkeypatch.undo()
    order = ledger.order(ORDER_ID)
    assert order is not None
    assert order.items[0].status is ItemStatus.PENDING_SUPPLIER
    assert ledger.entry_ids() == [first.id]
    assert ledger.load() == cursor(first)


def test_a_rolled_back_advance_leaves_the_file_consistent_after_reopen(
    open_ledger: OpenLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = created(), updated(info(SKU_1, "Ordered"))
    with open_ledger() as ledger:
        ledger.advance(cursor(first), first)
        ledger.flush()
        monkeypatch.setattr(_ledger, "apply_event", simulated_crash)
        ledger.advance(cursor(second), second)  # taken: written with its page
        with pytest.raises(CrashError):
            ledger.flush()

    with open_ledger() as reopened:
        assert reopened.entry_ids() == [first.id]
        assert reopened.load() == cursor(first)


def test_save_records_a_position_without_an_entry(ledger: OrderLedger) -> None:
    ledger.save(Cursor(None, None))
    assert ledger.load() == Cursor(None, None)

    ledger.save(Cursor("urn:uuid:newest", "p-9"))

    assert ledger.load() == Cursor("urn:uuid:newest", "p-9")
    assert ledger.event_count() == 0
