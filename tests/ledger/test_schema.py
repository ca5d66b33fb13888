"""Schema versions in the file, and the migration runner that brings old files up to date."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from iqmetrix_dropship.follow._checkpoint import Cursor, SQLiteCheckpoint, connect
from iqmetrix_dropship.ledger import CURRENT_VERSION, LedgerSchemaError, OrderLedger
from iqmetrix_dropship.ledger._schema import MIGRATIONS, Migration, migrate, schema_version
from iqmetrix_dropship.models import OrderStatus

from .builders import ORDER_ID, created, cursor

TABLES = {"dropship_cursor", "dropship_orders", "dropship_items", "dropship_events", "dropship_ledger_migrations"}


def tables(db: sqlite3.Connection) -> set[str]:
    return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_a_fresh_file_gets_the_current_version(tmp_path: Path) -> None:
    path = tmp_path / "orders.db"
    with OrderLedger(path) as ledger:
        assert ledger.schema_version == CURRENT_VERSION == 2

    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == CURRENT_VERSION
        assert tables(db) >= TABLES
        log = db.execute("SELECT version, description FROM dropship_ledger_migrations").fetchall()
        assert log == [(step.version, step.description) for step in MIGRATIONS]
    finally:
        db.close()


def test_the_runner_upgrades_an_empty_version_0_file(tmp_path: Path) -> None:
    db = connect(tmp_path / "empty.db")
    try:
        assert schema_version(db) == 0

        assert migrate(db) == CURRENT_VERSION

        assert schema_version(db) == CURRENT_VERSION
        assert tables(db) >= TABLES
        assert not db.in_transaction
    finally:
        db.close()


def test_reopening_migrates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "orders.db"
    OrderLedger(path).close()
    OrderLedger(path).close()

    db = sqlite3.connect(path)
    try:
        assert db.execute("SELECT COUNT(*) FROM dropship_ledger_migrations").fetchone()[0] == len(MIGRATIONS)
    finally:
        db.close()


def test_a_later_step_upgrades_an_existing_ledger_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "orders.db"
    entry = created()
    with OrderLedger(path) as ledger:
        ledger.advance(cursor(entry), entry)

    def add_notes(db: sqlite3.Connection) -> None:
        db.execute("ALTER TABLE dropship_orders ADD COLUMN notes TEXT")
        db.execute("UPDATE dropship_orders SET notes = 'migrated'")

    db = connect(path)
    try:
        next_version = CURRENT_VERSION + 1
        assert migrate(db, [*MIGRATIONS, Migration(next_version, "order notes", add_notes)]) == next_version
        assert schema_version(db) == next_version
        assert db.execute("SELECT notes, status FROM dropship_orders").fetchall() == [("migrated", "PendingSupplier")]
    finally:
        db.close()


def test_a_version_1_ledger_is_upgraded_with_its_orders_kept(tmp_path: Path) -> None:
    path = tmp_path / "orders.db"
    entry = created()
    db = connect(path)
    try:
        migrate(db, MIGRATIONS[:1])  # a ledger written by the first release
        assert schema_version(db) == 1
    finally:
        db.close()
    with OrderLedger(path) as ledger:
        ledger.advance(cursor(entry), entry)
        assert ledger.schema_version == CURRENT_VERSION
        assert ledger.pushed_availability() == {}
        assert len(ledger.orders()) == 1


def test_a_failing_step_leaves_the_file_at_its_old_version(tmp_path: Path) -> None:
    path = tmp_path / "orders.db"
    OrderLedger(path).close()

    def broken(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("boom")

    db = connect(path)
    try:
        with pytest.raises(RuntimeError, match="boom"):
            migrate(db, [*MIGRATIONS, Migration(CURRENT_VERSION + 1, "broken", broken)])
        assert schema_version(db) == CURRENT_VERSION
        assert "half_done" not in tables(db)
        assert not db.in_transaction
    finally:
        db.close()


def test_a_file_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    OrderLedger(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {CURRENT_VERSION + 1}")
    db.close()

    newer = rf"version {CURRENT_VERSION + 1}, newer than this SDK .* knows \(up to {CURRENT_VERSION}\)"
    with pytest.raises(LedgerSchemaError, match=newer):
        OrderLedger(path)

    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == CURRENT_VERSION + 1  # untouched
    finally:
        db.close()


def test_steps_must_have_increasing_versions(tmp_path: Path) -> None:
    db = connect(tmp_path / "x.db")
    try:
        with pytest.raises(ValueError, match="must increase"):
            migrate(db, [*MIGRATIONS, Migration(1, "again", lambda db: None)])
    finally:
        db.close()


def test_a_checkpoint_file_becomes_a_ledger_and_keeps_its_cursor(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    checkpoint = SQLiteCheckpoint(path)
    checkpoint.save(Cursor("urn:uuid:last", "p-3"))
    checkpoint.close()

    with OrderLedger(path) as ledger:
        assert ledger.load() == Cursor("urn:uuid:last", "p-3")
        entry = created()
        ledger.advance(cursor(entry), entry)
        order = ledger.order(ORDER_ID)
        assert order is not None
        assert order.status is OrderStatus.PENDING_SUPPLIER


def test_the_indexes_serve_the_status_queries(tmp_path: Path) -> None:
    with OrderLedger(tmp_path / "orders.db") as ledger:
        db = ledger._db
        plan = db.execute(
            "EXPLAIN QUERY PLAN SELECT order_id FROM dropship_orders WHERE status = ? AND created_at < ?",
            ("PendingSupplier", "2020"),
        ).fetchall()
        assert "dropship_orders_status" in str(plan)
        plan = db.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM dropship_events WHERE order_id = ? ORDER BY seq", ("x",)
        ).fetchall()
        assert "dropship_events_order" in str(plan)
