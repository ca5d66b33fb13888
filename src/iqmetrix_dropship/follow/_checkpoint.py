"""Where a feed follower keeps its place: the cursor, and the stores that hold it.

The cursor is the id of the last entry fully handled and the page it was on (traps.md 22: a
timestamp is not a safe cursor). A store commits the cursor *with* the entry's effect, in one
step, so that after a crash an entry is either handled and recorded, or neither.

A SQLite file is checked when it is opened, before anything is delivered: a file that is not a
SQLite database (or is truncated) and a ``dropship_cursor`` table of another layout are refused
with ``CheckpointError``, and the file is left as it was. An ``OrderLedger`` file can be read
(``load``: the two share the cursor table's layout) but never written: a plain checkpoint would
move the ledger's cursor without the ledger applying the events, so ``save``/``advance`` and a
follower built on it refuse, naming ``OrderLedger``. A file the SDK creates is readable and
writable by its owner only (0600): it may hold customer data.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol, runtime_checkable

from .._exceptions import CheckpointError
from .._protocol.follow import Cursor
from .._sqlite import Layout, connect, layout_of, layout_problem, open_database, table_layouts, use_wal
from ..models import FeedEntry

__all__ = ["CheckpointStore", "Cursor", "MemoryCheckpoint", "SQLiteCheckpoint", "connect"]


@runtime_checkable
class CheckpointStore(Protocol):
    """What a follower needs from a store. Implement it to keep the cursor elsewhere
    (Postgres, Redis, ...): ``advance`` must commit atomically.

    A store may also hold entries back and commit several at once: it then has a ``flush()``
    method, which commits what ``advance`` handed it (the entries' effects and the last cursor,
    atomically). ``flush`` is optional and not part of this protocol: a follower calls it, if the
    store has one, whenever a poll ends, however it ends; such a store must also commit before
    any of its own reads, and before an entry of another page (``OrderLedger`` does). Entries
    held back when the process dies were not committed: they are delivered again.
    """

    def load(self) -> Cursor | None:
        """The saved cursor, or ``None`` if the store has never been used."""
        ...

    def save(self, cursor: Cursor) -> None:
        """Record a position without an entry (``start="latest"``)."""
        ...

    def advance(self, cursor: Cursor, entry: FeedEntry) -> None:
        """``entry`` was handled: commit it (and whatever the store does with it) and ``cursor``
        together, atomically."""
        ...


class MemoryCheckpoint:
    """A cursor in memory: for tests, and for followers that need no durability."""

    def __init__(self, cursor: Cursor | None = None) -> None:
        self._cursor = cursor

    def load(self) -> Cursor | None:
        return self._cursor

    def save(self, cursor: Cursor) -> None:
        self._cursor = cursor

    def advance(self, cursor: Cursor, entry: FeedEntry) -> None:
        self._cursor = cursor

    def __repr__(self) -> str:
        return f"MemoryCheckpoint({self._cursor!r})"


_SCHEMA = """
CREATE TABLE IF NOT EXISTS dropship_cursor (
    name       TEXT PRIMARY KEY,
    entry_id   TEXT,
    page_id    TEXT,
    updated_at TEXT NOT NULL
)
"""


# Tables that only an OrderLedger creates.
_LEDGER_TABLES = frozenset({"dropship_orders", "dropship_items", "dropship_events", "dropship_ledger_migrations"})
_CURSOR_LAYOUT = layout_of([_SCHEMA])


def cursor_table_problem(tables: Mapping[str, Layout]) -> str | None:
    """Why the ``dropship_cursor`` table (if any) is not one a cursor can be kept in."""
    return layout_problem(tables, _CURSOR_LAYOUT, all_needed=False)


class SQLiteCheckpoint:
    """The cursor in a SQLite file (stdlib ``sqlite3``, WAL, one atomic commit per entry).

    Several followers may share one file under different ``name``\\s. Thread-safe. ``close()``
    releases the connection; the next call opens it again, so a follower that owns its checkpoint
    can release it between polls.
    """

    def __init__(self, path: str | Path, *, name: str = "default") -> None:
        self.path = Path(path)
        self.name = name
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._ledger_file = False
        with self._lock:
            self._connection()  # a bad path fails here, not at the first commit

    @property
    def is_ledger_file(self) -> bool:
        """The file is an ``OrderLedger``'s: its cursor can be read here, never moved."""
        return self._ledger_file

    def refuse_ledger(self) -> None:
        """``CheckpointError`` if the file is an order ledger's (see ``is_ledger_file``)."""
        if self._ledger_file:
            raise CheckpointError.of(
                self.path,
                f"an order ledger cannot be a plain checkpoint: pass OrderLedger({str(self.path)!r}) as the "
                "checkpoint, so that it applies each event with its cursor (a plain checkpoint would move the "
                "cursor alone, and the ledger would never get the events)",
            )

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = self._open()
        return self._db

    def _open(self) -> sqlite3.Connection:
        """The connection, once the file is known to be a checkpoint (or a ledger, read-only):
        nothing is written to a file that is refused, not even its journal mode."""
        try:
            db = open_database(self.path)
        except sqlite3.OperationalError as error:  # no such folder, a directory, no permission
            raise CheckpointError.of(self.path, f"cannot open it: {error}") from None
        try:
            tables = table_layouts(db)
            problem = cursor_table_problem(tables)
            self._ledger_file = bool(_LEDGER_TABLES & set(tables))
            if problem is None and not self._ledger_file:
                use_wal(db)
                db.execute(_SCHEMA)
        except sqlite3.DatabaseError as error:  # not a database, or truncated
            problem = str(error)
        if problem is not None:
            db.close()
            raise CheckpointError.of(self.path, f"not a checkpoint: {problem}")
        return db

    @property
    def is_open(self) -> bool:
        return self._db is not None

    def load(self) -> Cursor | None:
        with self._lock:
            row = (
                self._connection()
                .execute("SELECT entry_id, page_id FROM dropship_cursor WHERE name = ?", (self.name,))
                .fetchone()
            )
        return None if row is None else Cursor(row[0], row[1])

    def save(self, cursor: Cursor) -> None:
        with self._lock:
            db = self._connection()
            self.refuse_ledger()
            db.execute(
                "INSERT INTO dropship_cursor (name, entry_id, page_id, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET entry_id = excluded.entry_id, page_id = excluded.page_id, "
                "updated_at = excluded.updated_at",
                (self.name, cursor.entry_id, cursor.page_id, datetime.now(timezone.utc).isoformat()),
            )

    def advance(self, cursor: Cursor, entry: FeedEntry) -> None:
        self.save(cursor)  # one statement in autocommit mode: atomic by itself

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def __enter__(self) -> SQLiteCheckpoint:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SQLiteCheckpoint({str(self.path)!r}, name={self.name!r})"
