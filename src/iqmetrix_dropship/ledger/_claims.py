"""Claims: orders a fulfilment worker holds, that no other worker gets, on PostgreSQL.

As procrastinate's and PgQueuer's job queues: a claim is a transaction that locks the orders' rows
``FOR UPDATE SKIP LOCKED``. Other workers skip them; the follower's writes to them wait for the
claim to end. A worker that dies releases its claims with its session (its transaction is rolled
back); one that hangs is cut off after ``idle_in_transaction_session_timeout`` (the claim's
``timeout``).

Sending an update and recording it are tied by an **outbox**. Before the PUT, the worker writes
the update it is about to send to ``dropship_outbox`` and commits it (on a connection of its own,
so that the claim's locks stay held); after the PUT, the claim's transaction records the echo and
deletes that row. A crash between the two leaves the row: no one claims the order for another
update while it is there, and ``ledger.unfinished()`` (what ``dropship run``'s workers call first)
sends that same update again, records it, and logs the resend in ``dropship_resent``. A PUT sets a
status, so sending the same one twice is harmless; a second, *different* update is what this
prevents.

``ClaimSession`` is the database side; the worker side (``Claim`` / ``AsyncClaim``) is written once
in ``_async/claim.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .._concurrency import async_blocking
from .._exceptions import CheckpointError
from ..models import ItemStatusUpdate, OrderStatusUpdate
from ._models import LedgerEvent, LedgerOrder
from ._outbox import Intent

if TYPE_CHECKING:
    from .._async.claim import AsyncClaim
    from .._sync.claim import Claim

__all__ = ["ClaimOpener", "ClaimSession"]

DEFAULT_CLAIM_TIMEOUT = 600.0
"""A claim held idle this long (a hung worker) is ended by the server, and its orders released."""


_SELECT_BY_STATUS = """
SELECT order_id FROM dropship_orders AS o
WHERE status = %s AND NOT EXISTS (SELECT 1 FROM dropship_outbox AS b WHERE b.order_id = o.order_id)
ORDER BY created_at IS NULL, created_at, order_id
LIMIT %s
FOR UPDATE SKIP LOCKED
"""
_SELECT_UNFINISHED = """
SELECT o.order_id FROM dropship_orders AS o JOIN dropship_outbox AS b ON b.order_id = o.order_id
ORDER BY b.created_at
LIMIT %s
FOR UPDATE OF o SKIP LOCKED
"""
_INTENT = "SELECT order_id, kind, body, worker, created_at FROM dropship_outbox WHERE order_id = %s"
_WRITE_INTENT = (
    "INSERT INTO dropship_outbox (order_id, kind, body, worker, created_at) VALUES (%s, %s, %s, %s, clock_timestamp())"
)
_DROP_INTENT = "DELETE FROM dropship_outbox WHERE order_id = %s AND worker = %s"
_RESENT = (
    "INSERT INTO dropship_resent (order_id, kind, body, worker, intended_at, resent_by) VALUES (%s, %s, %s, %s, %s, %s)"
)


class ClaimSession:
    """The database side of one claim: its transaction (the locks), and a second connection for the
    outbox. Used by one thread or task at a time."""

    def __init__(
        self,
        backend: Any,
        *,
        record: Callable[[Any, OrderStatusUpdate | ItemStatusUpdate, datetime | None], LedgerEvent],
        read: Callable[[Any, str], LedgerOrder | None],
        worker: str,
        timeout: float,
    ) -> None:
        if not hasattr(backend, "claim_connection"):
            raise CheckpointError.of(
                backend.where, "claims need the PostgreSQL ledger (several workers on one database)"
            )
        self._record_in = record
        self._read = read
        self._backend: Any = backend
        self.worker = worker
        self._timeout = timeout
        self._claim: Any = None
        self._outbox: Any = None

    def open(self, status: str | None, limit: int) -> list[tuple[LedgerOrder, Intent | None]]:
        """Begin the claim: up to ``limit`` orders in ``status`` that no one holds and that have no
        update in the outbox; or (``status=None``) orders whose update a dead worker left there."""
        self._claim = self._backend.claim_connection()
        self._outbox = self._backend.claim_connection()
        with self._errors("cannot claim orders"):
            self._claim.execute("BEGIN")
            self._claim.execute(f"SET LOCAL idle_in_transaction_session_timeout = {int(self._timeout * 1000)}")
            if status is None:
                rows = self._claim.execute(_SELECT_UNFINISHED, (limit,)).fetchall()
            else:
                rows = self._claim.execute(_SELECT_BY_STATUS, (status, limit)).fetchall()
            held = []
            for (order_id,) in rows:
                order = self._read(self._session(), order_id)
                if order is not None:
                    held.append((order, self._intent(order_id) if status is None else None))
        return held

    def write_intent(self, order_id: str, kind: str, body: dict[str, Any]) -> None:
        """Committed before the PUT: the update about to be sent, for a resend should we crash."""
        with self._errors("cannot write the outbox"):
            self._outbox.execute(_WRITE_INTENT, (order_id, kind, json.dumps(body), self.worker))

    def drop_intent(self, order_id: str) -> None:
        """The server answered that it refused the update: nothing to resend."""
        with self._errors("cannot write the outbox"):
            self._outbox.execute(_DROP_INTENT, (order_id, self.worker))

    def record(self, update: OrderStatusUpdate | ItemStatusUpdate, resent: Intent | None = None) -> LedgerEvent:
        """In the claim's transaction: the update applied to its order and its history, its outbox
        row gone (and, for a resend, the resend logged)."""
        with self._errors("cannot record the update"):
            event = self._record_in(self._session(), update, None)
            order_id = str(event.order_id)
            self._claim.execute("DELETE FROM dropship_outbox WHERE order_id = %s", (order_id,))
            if resent is not None:
                self._claim.execute(
                    _RESENT,
                    (order_id, resent.kind, json.dumps(resent.body), resent.worker, resent.created_at, self.worker),
                )
            return event

    def finish(self, commit: bool = True) -> None:
        """End the claim: commit what was recorded (facts, whatever ended the block), release the
        orders, close the connections."""
        try:
            if self._claim is not None and not self._claim.closed:
                with self._errors("cannot end the claim"):
                    self._claim.execute("COMMIT" if commit else "ROLLBACK")
        finally:
            for connection in (self._claim, self._outbox):
                if connection is not None:
                    connection.close()
            self._claim = self._outbox = None

    # -- inside ------------------------------------------------------------------------------

    def _session(self) -> Any:
        from ._backend import _PgSession  # noqa: PLC0415 - the ledger's SQL on the claim's connection

        return _PgSession(self._claim, None)

    def _intent(self, order_id: str) -> Intent | None:
        row = self._claim.execute(_INTENT, (order_id,)).fetchone()
        if row is None:
            return None
        return Intent(row[0], row[1], json.loads(row[2]), row[3], row[4])

    def _errors(self, doing: str) -> Any:
        return _Errors(self._backend, doing)


class _Errors:
    """A driver's error as the SDK's: the database away (``StoreUnavailableError``), else refused."""

    def __init__(self, backend: Any, doing: str) -> None:
        self._backend = backend
        self._doing = doing

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        from .._pg.connect import store_error  # noqa: PLC0415 - the postgres extra

        if isinstance(error, self._backend._psycopg.Error):
            raise store_error(self._backend._dsn, error, self._doing) from None


class ClaimOpener:
    """What ``ledger.claim(...)`` and ``ledger.unfinished()`` return: ``with`` it for a ``Claim``,
    ``async with`` it for an ``AsyncClaim`` (its database calls then run on a worker thread)."""

    def __init__(self, session: ClaimSession, status: str | None, limit: int) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit must be a whole number >= 1, got {limit!r}")
        self._session = session
        self._status = status
        self._limit = limit

    def __enter__(self) -> Claim:
        from .._sync.claim import Claim  # noqa: PLC0415 - the worker side, written once (_async/claim.py)

        try:
            return Claim(self._session, self._session.open(self._status, self._limit))
        except BaseException:
            self._session.finish(commit=False)
            raise

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._session.finish()

    async def __aenter__(self) -> AsyncClaim:
        from .._async.claim import AsyncClaim  # noqa: PLC0415

        try:
            return AsyncClaim(self._session, await async_blocking(self._session.open, self._status, self._limit))
        except BaseException:
            await async_blocking(self._session.finish, False)
            raise

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        await async_blocking(self._session.finish)
