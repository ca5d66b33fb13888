"""The SQLite files the SDK keeps (a checkpoint, an order ledger): opening one, and checking that
its tables are the ones we expect before anything is written to it.

Opening is in two steps, so that a file that turns out not to be ours is left exactly as it was:
``open_database`` connects and touches nothing (a new file is created ``0600``, ``_files.py``);
the caller reads the layout (``table_layouts``), compares it with what it expects
(``layout_problem``), and only then calls ``use_wal`` and writes. A garbage or truncated file
fails the layout read with ``sqlite3.DatabaseError``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ._files import create_private

__all__ = ["Layout", "connect", "layout_of", "layout_problem", "open_database", "table_layouts", "use_wal"]


@dataclass(frozen=True)
class Layout:
    """What a statement of ours relies on in a table: its columns (name, declared type, NOT NULL,
    place in the primary key) and its unique indexes (``ON CONFLICT`` needs them)."""

    columns: frozenset[tuple[str, str, bool, int]]
    unique: frozenset[tuple[str, ...]]

    def describe(self) -> str:
        return ", ".join(name for name, *_ in sorted(self.columns, key=lambda column: column[0]))


def open_database(path: str | Path) -> sqlite3.Connection:
    """A connection to ``path`` (created 0600 if need be), in autocommit mode; nothing written."""
    create_private(path)
    connection = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA busy_timeout=5000")
    return connection


def use_wal(connection: sqlite3.Connection) -> None:
    """WAL mode for atomic commits that survive a crash: set once the file is known to be ours."""
    connection.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode: a commit survives the process being killed, and the file can never be
    # corrupted; only a power loss may roll back the last few commits, whole, effect and cursor
    # together. Those entries are then delivered again (at-least-once), never skipped. FULL would
    # add an fsync per entry, about halving backfill speed, to narrow that window.
    connection.execute("PRAGMA synchronous=NORMAL")


def connect(path: str | Path) -> sqlite3.Connection:
    """``open_database`` then ``use_wal``: for a file already known to be ours (or new)."""
    connection = open_database(path)
    try:
        use_wal(connection)
    except BaseException:
        connection.close()
        raise
    return connection


def table_layouts(db: sqlite3.Connection) -> dict[str, Layout]:
    """Every table of the database and its layout. Reading the schema is also the cheap check that
    the file is a database and not truncated (``sqlite3.DatabaseError`` otherwise)."""
    names = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    layouts = {}
    for name in names:
        columns = frozenset(
            (column, declared.upper(), bool(notnull), pk)
            for column, declared, notnull, pk in db.execute(
                'SELECT name, type, "notnull", pk FROM pragma_table_info(?)', (name,)
            )
        )
        unique = frozenset(
            tuple(row[0] for row in db.execute("SELECT name FROM pragma_index_info(?) ORDER BY seqno", (index,)))
            for index, is_unique in db.execute('SELECT name, "unique" FROM pragma_index_list(?)', (name,))
            if is_unique
        )
        layouts[name] = Layout(columns, unique)
    return layouts


def layout_of(statements: Iterable[str]) -> dict[str, Layout]:
    """The layout ``statements`` build, read from an in-memory database they built."""
    db = sqlite3.connect(":memory:", isolation_level=None)
    try:
        for statement in statements:
            db.execute(statement)
        return table_layouts(db)
    finally:
        db.close()


def layout_problem(found: Mapping[str, Layout], expected: Mapping[str, Layout], *, all_needed: bool) -> str | None:
    """Why the tables ``found`` are not the ``expected`` ones, or ``None``. A table of another name
    is no problem (a file may be shared); a missing one is, when ``all_needed``."""
    for name, layout in expected.items():
        there = found.get(name)
        if there is None:
            if all_needed:
                return f"it has no {name} table"
            continue
        if there != layout:
            return f"its {name} table ({there.describe()}) is not laid out as the SDK's"
    return None
