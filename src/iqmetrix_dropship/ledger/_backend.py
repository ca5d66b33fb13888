"""Where a ledger keeps its rows: a SQLite file, or a PostgreSQL schema. The ledger (``_ledger.py``)
writes its SQL once, with ``?`` placeholders, and runs it through a backend's sessions:

- ``writing(fenced=...)``: one write transaction. SQLite takes the file's write lock up front
  (``BEGIN IMMEDIATE``); PostgreSQL, when ``fenced`` and this replica leads, first checks its
  lease and holds it until the commit (``_pg/lease.py``): a write by a leader whose term ended
  raises ``LeaseLostError`` and changes nothing.
- ``reading()``: one consistent snapshot.

A backend may be shared between threads: one connection, guarded by a lock. A PostgreSQL
connection that drops is made again at the next use; the failure itself is a
``StoreUnavailableError``, which a follower's ``run`` waits out.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, Protocol

from .._exceptions import CheckpointError, LedgerSchemaError, StoreUnavailableError
from .._sqlite import open_database, use_wal
from ._schema import ledger_layout_problem, migrate, preflight_problem, schema_version

__all__ = ["Backend", "PostgresBackend", "SQLiteBackend", "Session"]


class Session(Protocol):
    """What the ledger's SQL runs on: ``execute`` returns a cursor (``fetchone``, ``fetchall``,
    ``rowcount``). ``lease_token`` is the fencing token of the write, if any. ``for_update`` ends
    a SELECT whose rows the transaction goes on to write: ``" FOR UPDATE"`` on PostgreSQL, where
    other sessions write concurrently (a worker's claim, the follower), and nothing on SQLite,
    whose write transactions hold the whole file. ``arrays``: many rows go best as one statement
    over column arrays (PostgreSQL, where each statement is a message each way and an executor
    run) rather than one per row (SQLite, where a prepared statement is a function call).
    ``binary`` sends the parameters in PostgreSQL's binary format (psycopg's ``%b``), which such
    arrays need: the text format escapes them character by character, in Python."""

    lease_token: int | None
    for_update: str
    arrays: bool

    def execute(self, sql: str, params: Sequence[object] = (), *, binary: bool = False) -> Any: ...

    def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None: ...


class Backend(Protocol):
    where: str
    """The file or the DSN (without its password): what messages and ``repr`` name."""

    def writing(self, *, fenced: bool = False) -> Any: ...

    def reading(self) -> Any: ...

    def schema_version(self) -> int: ...

    def lead(self) -> bool: ...

    def close(self) -> None: ...


# -- SQLite -----------------------------------------------------------------------------------------


class _SQLiteSession:
    lease_token: int | None = None
    for_update = ""
    arrays = False

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def execute(self, sql: str, params: Sequence[object] = (), *, binary: bool = False) -> Any:
        return self._connection.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        self._connection.executemany(sql, rows)


class SQLiteBackend:
    """One SQLite file (stdlib ``sqlite3``, WAL, ``synchronous=NORMAL``; see ``_sqlite.py``)."""

    def __init__(self, path: str | Path) -> None:
        self.where = str(path)
        self._lock = threading.Lock()
        try:
            self.connection = open_database(path)  # a new file is created 0600: it holds customers' addresses
        except sqlite3.OperationalError as error:  # no such folder, a directory, no permission
            raise CheckpointError.of(path, f"cannot open it: {error}") from None
        try:
            self._open()
        except BaseException:
            self.connection.close()
            raise
        self._session = _SQLiteSession(self.connection)

    def _open(self) -> None:
        """Check the file, then switch it to WAL, migrate it and check it again. Anything else than
        a ledger (a garbage or truncated file, tables of our names in another layout) raises
        ``LedgerSchemaError`` before anything is written to it."""
        try:
            problem = preflight_problem(self.connection)
            if problem is None:
                use_wal(self.connection)
                # A page of entries dirties a page of each index it touches (random UUID keys);
                # checkpointing every 4,000 pages (16 MiB of WAL) rather than SQLite's 1,000 copies
                # a page written by several transactions once: a fifth less time on a backfill.
                self.connection.execute("PRAGMA wal_autocheckpoint = 4000")
                migrate(self.connection)
                problem = ledger_layout_problem(self.connection)
        except sqlite3.DatabaseError as error:  # not a database, or truncated
            problem = str(error)
        if problem is not None:
            raise LedgerSchemaError.of(self.where, f"not an order ledger: {problem}")

    @contextmanager
    def writing(self, *, fenced: bool = False) -> Iterator[Session]:
        # IMMEDIATE takes the write lock up front: a second process waits (busy_timeout) at BEGIN
        # instead of failing half-way through an event.
        with self._lock:
            db = self.connection
            db.execute("BEGIN IMMEDIATE")
            try:
                yield self._session
            except BaseException:
                if db.in_transaction:  # SQLite may already have rolled back (disk full, I/O error)
                    db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    @contextmanager
    def reading(self) -> Iterator[Session]:
        # An order, its items and its history from one snapshot, even while another process writes.
        with self._lock:
            self.connection.execute("BEGIN")
            try:
                yield self._session
            finally:
                self.connection.execute("COMMIT")

    def schema_version(self) -> int:
        with self._lock:
            return schema_version(self.connection)

    def lead(self) -> bool:
        return True  # one file, one machine: SQLite's own lock keeps writers apart

    def close(self) -> None:
        with self._lock:
            self.connection.close()


# -- PostgreSQL -------------------------------------------------------------------------------------


class _PgResult:
    """A statement's cursor in a pipeline: ``fetch*`` wait for its result (psycopg syncs the
    pipeline for them); so does ``rowcount`` here, which psycopg leaves at -1 until then."""

    __slots__ = ("_cursor", "_pipeline")

    def __init__(self, cursor: Any, pipeline: Any) -> None:
        self._cursor = cursor
        self._pipeline = pipeline

    @property
    def rowcount(self) -> int:
        if self._cursor.rowcount == -1:
            self._pipeline.sync()
        return int(self._cursor.rowcount)

    def fetchone(self) -> Any:
        return self._cursor.fetchone()

    def fetchall(self) -> list[Any]:
        return list(self._cursor.fetchall())


class _PgSession:
    """The ledger's ``?`` placeholders as psycopg's ``%s``, translated once per statement.

    In a write transaction the statements go through a pipeline: they are sent without waiting,
    and the client waits only where it reads a result, so that applying a page of entries costs
    two round trips to the server instead of one per statement."""

    _translated: dict[tuple[str, bool], str] = {}  # noqa: RUF012 - a cache shared by every session, on purpose
    for_update = " FOR UPDATE"
    arrays = True

    def __init__(self, connection: Any, lease_token: int | None, pipeline: Any = None) -> None:
        self._connection = connection
        self.lease_token = lease_token
        self._pipeline = pipeline

    @classmethod
    def _sql(cls, sql: str, binary: bool = False) -> str:
        translated = cls._translated.get((sql, binary))
        if translated is None:
            translated = sql.replace("%", "%%").replace("?", "%b" if binary else "%s")
            cls._translated[sql, binary] = translated
        return translated

    def execute(self, sql: str, params: Sequence[object] = (), *, binary: bool = False) -> Any:
        cursor = self._connection.execute(self._sql(sql, binary), params, prepare=True)
        return cursor if self._pipeline is None else _PgResult(cursor, self._pipeline)

    def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        with self._connection.cursor() as cursor:
            cursor.executemany(self._sql(sql), list(rows))


class PostgresBackend:
    """A schema of a PostgreSQL database (psycopg 3; the ``postgres`` extra). Its writes as the
    follower are fenced by ``lease`` once ``lead`` has made this replica the leader."""

    def __init__(self, dsn: str, *, schema: str, lease_name: str, lease_seconds: float, holder: str | None) -> None:
        from .._pg.connect import check_dsn, check_schema_name, redact_dsn  # noqa: PLC0415 - the postgres extra
        from .._pg.lease import Lease  # noqa: PLC0415

        self._dsn = check_dsn(dsn)
        self.schema = check_schema_name(schema)
        self.where = redact_dsn(dsn)
        self.lease = Lease(dsn, self.schema, lease_name, seconds=lease_seconds, holder=holder)
        self._lock = threading.Lock()
        self._connection: Any = None
        self._opened = False
        self._closed = False
        with self._lock:
            connection = self._connect()
            from .._pg.schema import migrate as migrate_schema  # noqa: PLC0415

            try:
                migrate_schema(connection, self.schema, self.where)
            except self._psycopg.Error as error:
                self._drop()
                raise self._failure(error, "cannot migrate the schema") from None
            except BaseException:  # a schema from a newer SDK, an interrupt: nothing left open
                self._drop()
                raise

    @property
    def _psycopg(self) -> Any:
        from .._pg.connect import psycopg_module  # noqa: PLC0415

        return psycopg_module()

    def _failure(self, error: BaseException, doing: str) -> CheckpointError:
        from .._pg.connect import failure  # noqa: PLC0415

        return failure(self._dsn, error, doing)

    def _connect(self) -> Any:
        if self._closed:
            raise CheckpointError.of(self.where, "the store is closed")
        if self._connection is None or self._connection.closed:
            from .._pg.connect import LEDGER_APPLICATION, connect  # noqa: PLC0415

            # The first connection's failure is the DSN's (CheckpointError); once open, a server
            # that does not answer is waited out (StoreUnavailableError). A leader paused
            # mid-write (SIGSTOP, a VM freeze) must not hold the lease row for ever: its session
            # ends once idle in a transaction for a lease, and the write is undone (paused in the
            # middle of a pipeline, it is a standby that ends it: see _pg/lease.py).
            self._connection = connect(
                self._dsn,
                schema=self.schema,
                application_name=LEDGER_APPLICATION,
                again=self._opened,
                settings={"idle_in_transaction_session_timeout": max(1000, int(self.lease.seconds * 1000))},
            )
            self._opened = True
        return self._connection

    @contextmanager
    def _transaction(self, fenced: bool, *, writing: bool) -> Iterator[Session]:
        from .._pg.connect import store_error  # noqa: PLC0415

        psycopg = self._psycopg
        failure: Exception | None = None
        with self._lock:
            connection = self._connect()
            try:
                with connection.pipeline() if writing else nullcontext() as pipeline, connection.transaction():
                    if not writing:  # one snapshot for every statement of a read (an order, its items)
                        connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    # A replica in the election writes only under its lease (a lost one raises
                    # LeaseLostError, before the commit); a ledger used without followers writes
                    # freely. The lease is checked with the transaction's first statements, and
                    # the check's answer read before it commits.
                    token, confirm = None, None
                    if fenced and self.lease.engaged:
                        token, confirm = self.lease.fence(connection)
                    yield _PgSession(connection, token, pipeline)
                    if confirm is not None:
                        confirm()
            except psycopg.Error as error:
                # Away (a server restarting, a session it ended): StoreUnavailableError, and the
                # connection made again at the next use; refused (a schema changed by hand, ...):
                # CheckpointError. Either way the transaction was rolled back whole.
                failure = store_error(self._dsn, error, "the transaction failed", connection)
                if isinstance(failure, StoreUnavailableError):
                    self._drop()
        if failure is not None:
            raise failure  # outside the except block: the driver's error is not its context

    def writing(self, *, fenced: bool = False) -> Any:
        return self._transaction(fenced, writing=True)

    def reading(self) -> Any:
        return self._transaction(False, writing=False)

    def schema_version(self) -> int:
        from .._pg.schema import schema_version as version_of  # noqa: PLC0415

        with self._lock:
            return version_of(self._connect())

    def lead(self) -> bool:
        return self.lease.lead()

    def claim_connection(self) -> Any:
        """A connection of its own (autocommit, in the schema): a claim holds a transaction on one,
        and writes the outbox on another."""
        from .._pg.connect import connect  # noqa: PLC0415

        if self._closed:
            raise CheckpointError.of(self.where, "the store is closed")
        return connect(self._dsn, schema=self.schema, application_name="iqmetrix-dropship worker", again=True)

    def _drop(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            finally:
                self._connection = None

    def close(self) -> None:
        self._closed = True  # used after this, it refuses rather than connecting again
        self.lease.close()
        with self._lock:
            self._drop()
