"""The ledger's tables, and the steps that bring any older file up to them.

The schema version lives in the file itself (``PRAGMA user_version``, which SQLite changes inside
the enclosing transaction), and every step applied is logged in ``dropship_ledger_migrations``.
On open, ``migrate`` runs the steps above the file's version, all in one ``BEGIN IMMEDIATE``
transaction: a crash half-way leaves the file at its old version, and two processes opening the
same file at once migrate it once. A file newer than this code is refused, never downgraded.

To change the schema: append a ``Migration(n + 1, "what", _vn_plus_1)`` to ``MIGRATIONS``; never
edit a step that has shipped. docs/ledger.md documents every version.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cache

from .._exceptions import LedgerSchemaError
from .._sqlite import Layout, layout_problem, table_layouts
from .._version import __version__

__all__ = [
    "CURRENT_VERSION",
    "MIGRATIONS",
    "LedgerSchemaError",
    "Migration",
    "ledger_layout_problem",
    "migrate",
    "preflight_problem",
    "schema_version",
]


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[sqlite3.Connection], None]


def _v1(db: sqlite3.Connection) -> None:
    # IF NOT EXISTS on the cursor table only: a file that SQLiteCheckpoint already uses keeps its
    # cursor (same layout), so a follower switched to the ledger keeps its place.
    for statement in (
        """
        CREATE TABLE IF NOT EXISTS dropship_cursor (
            name       TEXT PRIMARY KEY,
            entry_id   TEXT,
            page_id    TEXT,
            updated_at TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE dropship_orders (
            order_id          TEXT PRIMARY KEY,
            status            TEXT NOT NULL,
            has_created_event INTEGER NOT NULL,
            supplier_id       INTEGER,
            company_id        INTEGER,
            location_id       INTEGER,
            po_reference      TEXT,
            printable_id      TEXT,
            ship_to_store     INTEGER,
            shipping_method   TEXT,
            shipping_address  TEXT,
            shipping_customer TEXT,
            created_at        TEXT,
            updated_at        TEXT
        )
        """,
        "CREATE INDEX dropship_orders_status ON dropship_orders (status, created_at)",
        "CREATE INDEX dropship_orders_created ON dropship_orders (created_at)",
        """
        CREATE TABLE dropship_items (
            order_id          TEXT NOT NULL REFERENCES dropship_orders (order_id),
            line              INTEGER NOT NULL,
            sku               TEXT,
            catalog_id        TEXT,
            description       TEXT,
            quantity          INTEGER,
            selling_price     TEXT,
            status            TEXT NOT NULL,
            reported_status   TEXT,
            shipped_quantity  INTEGER NOT NULL,
            shipments         TEXT NOT NULL,
            tracking_info     TEXT,
            shipping_provider TEXT,
            message           TEXT,
            info              TEXT,
            updated_at        TEXT,
            PRIMARY KEY (order_id, line)
        ) WITHOUT ROWID
        """,
        """
        CREATE TABLE dropship_events (
            seq         INTEGER PRIMARY KEY,
            entry_id    TEXT NOT NULL UNIQUE,
            order_id    TEXT,
            kind        TEXT NOT NULL,
            source      TEXT NOT NULL CHECK (source IN ('feed', 'local')),
            title       TEXT,
            published   TEXT,
            updated     TEXT,
            page_id     TEXT,
            payload     TEXT NOT NULL,
            recorded_at TEXT NOT NULL
        )
        """,
        "CREATE INDEX dropship_events_order ON dropship_events (order_id, seq)",
    ):
        db.execute(statement)


def _v2(db: sqlite3.Connection) -> None:
    # The availability last accepted by iQmetrix, per SKU: what "push only what changed" compares with.
    db.execute(
        """
        CREATE TABLE dropship_availability (
            sku          TEXT PRIMARY KEY,
            is_available INTEGER NOT NULL,
            quantity     INTEGER NOT NULL,
            pushed_at    TEXT NOT NULL
        ) WITHOUT ROWID
        """
    )


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "orders, items, events and the cursor", _v1),
    Migration(2, "the availability last pushed, per SKU", _v2),
)
CURRENT_VERSION = MIGRATIONS[-1].version

_LOG = """
CREATE TABLE IF NOT EXISTS dropship_ledger_migrations (
    version     INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    sdk_version TEXT NOT NULL,
    applied_at  TEXT NOT NULL
)
"""


def _file_of(db: sqlite3.Connection) -> str:
    row = db.execute("PRAGMA database_list").fetchone()
    return str(row[2]) if row is not None and row[2] else ":memory:"


def schema_version(db: sqlite3.Connection) -> int:
    version: int = db.execute("PRAGMA user_version").fetchone()[0]
    return version


def migrate(db: sqlite3.Connection, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Bring ``db`` (in autocommit mode) up to the last of ``migrations``; its version after.

    Raises ``LedgerSchemaError`` for a file newer than the last step, changing nothing.
    """
    target = migrations[-1].version if migrations else 0
    versions = [step.version for step in migrations]
    if versions != sorted(set(versions)):
        raise ValueError(f"migration versions must increase: {versions}")
    db.execute("BEGIN IMMEDIATE")
    try:
        version = schema_version(db)
        if version > target:
            raise LedgerSchemaError.of(
                _file_of(db),
                f"the ledger's schema is version {version}, newer than this SDK ({__version__}) knows "
                f"(up to {target}); upgrade iqmetrix-dropship to open it",
            )
        pending = [step for step in migrations if step.version > version]
        if pending:
            db.execute(_LOG)
        for step in pending:
            step.apply(db)
            db.execute(
                "INSERT INTO dropship_ledger_migrations (version, description, sdk_version, applied_at) "
                "VALUES (?, ?, ?, ?)",
                (step.version, step.description, __version__, datetime.now(timezone.utc).isoformat()),
            )
            # PRAGMA takes no parameters; the version is an int from our own table of steps.
            db.execute(f"PRAGMA user_version = {int(step.version)}")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return max(version, target)


@cache
def _expected_layout() -> dict[str, Layout]:
    # The layout the migrations build, read from a database they built: one source of truth.
    db = sqlite3.connect(":memory:", isolation_level=None)
    try:
        migrate(db)
        return table_layouts(db)
    finally:
        db.close()


_LEDGER_TABLES = ("dropship_orders", "dropship_items", "dropship_events", "dropship_ledger_migrations")


def preflight_problem(db: sqlite3.Connection) -> str | None:
    """Why the file, as found, is not a ledger (or an empty file, or a checkpoint's) that may be
    migrated; ``None`` if it may. Checked before anything is written to it: a file refused here
    is left exactly as it was. Raises ``sqlite3.DatabaseError`` for a file that is no database."""
    version = schema_version(db)
    tables = table_layouts(db)
    if version == 0:
        if any(name in tables for name in _LEDGER_TABLES):
            return "it has tables of the ledger's names but no ledger schema version"
        # A SQLiteCheckpoint's file becomes a ledger keeping its cursor: the cursor table must be one.
        return layout_problem(tables, {"dropship_cursor": _expected_layout()["dropship_cursor"]}, all_needed=False)
    if version == CURRENT_VERSION:
        return layout_problem(tables, _expected_layout(), all_needed=True)
    return None  # an older version is migrated, then checked whole; a newer one is refused by migrate


def ledger_layout_problem(db: sqlite3.Connection) -> str | None:
    """Why the (migrated) file's tables are not the ledger's, or ``None``. Tables of other names
    are left alone: a ledger may share its file with the supplier's own tables."""
    return layout_problem(table_layouts(db), _expected_layout(), all_needed=True)
