"""The PostgreSQL store's tables, in a schema of their own, and the steps that bring any older
schema up to them: versioned and migrated like the SQLite ledger (``ledger/_schema.py``).

Every table lives in the configured schema (``dropship`` by default), so the store can share a
database with the supplier's own tables. The version is the highest step logged in
``dropship_migrations``. ``migrate`` runs the missing steps in one transaction, under an advisory
lock on the schema's name: several replicas starting at once migrate it once. A schema newer than
this code is refused, naming its version, and left as it is.

The tables, one set for the ledger and the bare checkpoint alike:

====================  ==============================================================================
table                 what
====================  ==============================================================================
dropship_orders       the ledger's orders, items and history, as in SQLite (docs/ledger.md), plus
dropship_items        ``lease_token`` on each event: the term of the leader that applied it
dropship_events
dropship_cursor       the ledger's cursor, by follower name
dropship_checkpoints  a bare checkpoint's cursor, by name: apart from the ledger's, so that neither
                      can move the other
dropship_leases       one row per lease: its holder, its fencing token, when it expires
dropship_lease_terms  every term: token, holder, when it began (what "one leader at a time" is
                      checked against)
dropship_outbox       an update a worker is about to send, written before the PUT and deleted with the
                      ledger's record of it: one still there after a crash is sent again, identically
dropship_resent       every update sent again that way: what accounts for a PUT sent twice (``outcome``:
                      recorded, or the status with which the server refused it)
dropship_availability the availability iQmetrix last accepted, per SKU (version 2)
====================  ==============================================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .._exceptions import LedgerSchemaError
from .._version import __version__

__all__ = ["CURRENT_VERSION", "MIGRATIONS", "migrate", "schema_version"]


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]


_V1 = (
    """
    CREATE TABLE dropship_orders (
        order_id          TEXT PRIMARY KEY,
        status            TEXT NOT NULL,
        has_created_event INTEGER NOT NULL,
        supplier_id       BIGINT,
        company_id        BIGINT,
        location_id       BIGINT,
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
        quantity          BIGINT,
        selling_price     TEXT,
        status            TEXT NOT NULL,
        reported_status   TEXT,
        shipped_quantity  BIGINT NOT NULL,
        shipments         TEXT NOT NULL,
        tracking_info     TEXT,
        shipping_provider TEXT,
        message           TEXT,
        info              TEXT,
        updated_at        TEXT,
        PRIMARY KEY (order_id, line)
    )
    """,
    """
    CREATE TABLE dropship_events (
        seq         BIGSERIAL PRIMARY KEY,
        entry_id    TEXT NOT NULL UNIQUE,
        order_id    TEXT,
        kind        TEXT NOT NULL,
        source      TEXT NOT NULL CHECK (source IN ('feed', 'local')),
        title       TEXT,
        published   TEXT,
        updated     TEXT,
        page_id     TEXT,
        payload     TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        lease_token BIGINT
    )
    """,
    "CREATE INDEX dropship_events_order ON dropship_events (order_id, seq)",
    """
    CREATE TABLE dropship_cursor (
        name       TEXT PRIMARY KEY,
        entry_id   TEXT,
        page_id    TEXT,
        updated_at TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE dropship_checkpoints (
        name       TEXT PRIMARY KEY,
        entry_id   TEXT,
        page_id    TEXT,
        updated_at TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE dropship_leases (
        name        TEXT PRIMARY KEY,
        holder      TEXT NOT NULL,
        token       BIGINT NOT NULL,
        expires_at  TIMESTAMPTZ NOT NULL,
        acquired_at TIMESTAMPTZ NOT NULL,
        renewed_at  TIMESTAMPTZ NOT NULL
    )
    """,
    """
    CREATE TABLE dropship_lease_terms (
        name        TEXT NOT NULL,
        token       BIGINT NOT NULL,
        holder      TEXT NOT NULL,
        began_at    TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (name, token)
    )
    """,
    """
    CREATE TABLE dropship_outbox (
        id         BIGSERIAL PRIMARY KEY,
        order_id   TEXT NOT NULL,
        kind       TEXT NOT NULL,
        body       TEXT NOT NULL,
        worker     TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL
    )
    """,
    "CREATE INDEX dropship_outbox_order ON dropship_outbox (order_id, id)",
    """
    CREATE TABLE dropship_resent (
        id          BIGSERIAL PRIMARY KEY,
        order_id    TEXT NOT NULL,
        kind        TEXT NOT NULL,
        body        TEXT NOT NULL,
        worker      TEXT NOT NULL,
        intended_at TIMESTAMPTZ NOT NULL,
        resent_by   TEXT NOT NULL,
        resent_at   TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
        outcome     TEXT NOT NULL DEFAULT 'recorded'
    )
    """,
)

_V2 = (
    """
    CREATE TABLE dropship_availability (
        sku          TEXT PRIMARY KEY,
        is_available INTEGER NOT NULL,
        quantity     INTEGER NOT NULL,
        pushed_at    TEXT NOT NULL
    )
    """,
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "orders, items, events, cursors, leases and the outbox", _V1),
    Migration(2, "the availability last pushed, per SKU", _V2),
)
CURRENT_VERSION = MIGRATIONS[-1].version

_LOG = """
CREATE TABLE IF NOT EXISTS dropship_migrations (
    version     INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    sdk_version TEXT NOT NULL,
    applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""


def schema_version(connection: Any) -> int:
    """The schema's version: the highest step logged (0 for an empty schema)."""
    exists = connection.execute("SELECT to_regclass('dropship_migrations') IS NOT NULL").fetchone()[0]
    if not exists:
        return 0
    row = connection.execute("SELECT COALESCE(MAX(version), 0) FROM dropship_migrations").fetchone()
    return int(row[0])


def migrate(connection: Any, schema: str, where: str, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Bring ``schema`` up to the last of ``migrations``, in one transaction; its version after.

    ``connection`` is in autocommit mode with ``search_path`` set to ``schema``; ``where`` names
    the store in errors. Raises ``LedgerSchemaError`` for a schema newer than this code, changing
    nothing."""
    target = migrations[-1].version if migrations else 0
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"iqmetrix_dropship:{schema}",))
        connection.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")  # a checked identifier
        version = schema_version(connection)
        if version > target:
            raise LedgerSchemaError.of(
                where,
                f"the schema {schema!r} is version {version}, newer than this SDK ({__version__}) knows "
                f"(up to {target}); upgrade iqmetrix-dropship to use it",
            )
        pending = [step for step in migrations if step.version > version]
        if pending:
            connection.execute(_LOG)
        for step in pending:
            for statement in step.statements:
                connection.execute(statement)
            connection.execute(
                "INSERT INTO dropship_migrations (version, description, sdk_version) VALUES (%s, %s, %s)",
                (step.version, step.description, __version__),
            )
    return max(version, target)
