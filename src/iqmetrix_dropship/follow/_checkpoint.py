"""Where a feed follower keeps its place: the cursor, and the stores that hold it.

The cursor is the id of the last entry fully handled and the page it was on (traps.md 22: a
timestamp is not a safe cursor). A store commits the cursor *with* the entry's effect, in one
step, so that after a crash an entry is either handled and recorded, or neither.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol, runtime_checkable

from .._protocol.follow import Cursor
from ..models import FeedEntry

__all__ = ["CheckpointStore", "Cursor", "MemoryCheckpoint", "SQLiteCheckpoint"]


@runtime_checkable
class CheckpointStore(Protocol):
    """What a follower needs from a store. Implement it to keep the cursor elsewhere
    (Postgres, Redis, ...): ``advance`` must commit atomically."""

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


def connect(path: str | Path) -> sqlite3.Connection:
    """A SQLite connection set up for atomic commits that survive a crash (WAL mode)."""
    connection = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode: a commit survives the process being killed, and the file can never be
    # corrupted; only a power loss may roll back the last few commits, whole, effect and cursor
    # together. Those entries are then delivered again (at-least-once), never skipped. FULL would
    # add an fsync per entry, about halving backfill speed, to narrow that window.
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("PRAGMA busy_timeout=5000")
    return connection


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
        with self._lock:
            self._connection()  # a bad path fails here, not at the first commit

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = connect(self.path)
            self._db.execute(_SCHEMA)
        return self._db

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
            self._connection().execute(
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
