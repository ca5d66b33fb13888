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

import functools
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .. import _telemetry as telemetry
from .._concurrency import async_blocking
from .._exceptions import CheckpointError, ConfigurationError, StoreUnavailableError
from ..models import ItemStatusUpdate, OrderStatusUpdate
from ._models import LedgerEvent, LedgerOrder
from ._outbox import Intent

if TYPE_CHECKING:
    from .._async.claim import AsyncClaim
    from .._sync.claim import Claim

__all__ = ["ClaimOpener", "ClaimSession"]

DEFAULT_CLAIM_TIMEOUT = 600.0
"""A claim held idle this long (a hung worker) is ended by the server, and its orders released."""
MAX_CLAIM_TIMEOUT = 86_400.0  # a day: a claim idle that long is a hung worker


_SELECT_BY_STATUS = """
SELECT order_id FROM dropship_orders AS o
WHERE status = %s AND NOT EXISTS (SELECT 1 FROM dropship_outbox AS b WHERE b.order_id = o.order_id)
ORDER BY created_at IS NULL, created_at, order_id
LIMIT %s
FOR UPDATE SKIP LOCKED
"""
_SELECT_UNFINISHED = """
SELECT o.order_id FROM dropship_orders AS o
WHERE EXISTS (SELECT 1 FROM dropship_outbox AS b WHERE b.order_id = o.order_id)
ORDER BY (SELECT min(b.id) FROM dropship_outbox AS b WHERE b.order_id = o.order_id)
LIMIT %s
FOR UPDATE OF o SKIP LOCKED
"""
_INTENTS = "SELECT id, order_id, kind, body, worker, created_at FROM dropship_outbox WHERE order_id = %s ORDER BY id"
_WRITE_INTENT = (
    "INSERT INTO dropship_outbox (order_id, kind, body, worker, created_at) "
    "VALUES (%s, %s, %s, %s, clock_timestamp()) RETURNING id"
)
_DROP_INTENT = "DELETE FROM dropship_outbox WHERE id = %s"
_RESENT = (
    "INSERT INTO dropship_resent (order_id, kind, body, worker, intended_at, resent_by, outcome) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s)"
)
# Still held by this claim? On a session the server ended (the claim's timeout, a lost
# connection) this fails, before anything is sent; NOWAIT: a lock held by another is not waited for.
_STILL_HELD = "SELECT 1 FROM dropship_orders WHERE order_id = %s FOR UPDATE NOWAIT"


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
        number = isinstance(timeout, (int, float)) and not isinstance(timeout, bool)
        if not number or not 0.1 <= timeout <= MAX_CLAIM_TIMEOUT:
            # Below 0.1 s a claim ends before its first PUT; 0 would be "never" to the server.
            raise ConfigurationError(
                f"timeout must be seconds from 0.1 to {MAX_CLAIM_TIMEOUT:g}, got {timeout!r}"[:200]
            )
        self._record_in = record
        self._read = read
        self._backend: Any = backend
        self.worker = worker
        self._timeout = timeout
        self._claim: Any = None
        self._outbox: Any = None

    def open(self, status: str | None, limit: int) -> list[tuple[LedgerOrder, list[Intent]]]:
        """Begin the claim: up to ``limit`` orders in ``status`` that no one holds and that have no
        update in the outbox; or (``status=None``) orders whose updates a dead worker left there."""
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
                    held.append((order, self._intents(order_id) if status is None else []))
        return held

    def write_intent(self, order_id: str, kind: str, body: dict[str, Any]) -> int:
        """Committed before the PUT: the update about to be sent, for a resend should we crash; its id.

        First checks that the claim still holds the order: a claim the server ended (its
        ``timeout``, a lost connection) raises here, before anything is sent, so that a worker
        cut off never sends an update another worker may be sending differently."""
        with self._errors("the claim no longer holds the order; nothing was sent"):
            self._claim.execute(_STILL_HELD, (order_id,)).fetchone()
        with self._errors("cannot write the outbox; nothing was sent"):
            row = self._outbox.execute(_WRITE_INTENT, (order_id, kind, json.dumps(body), self.worker)).fetchone()
        return int(row[0])

    def drop_intent(self, intent_id: int, *, refused: Intent | None = None, status: int | None = None) -> None:
        """The server answered that it refused the update (``4xx``): it was not applied, nothing
        is left to send. A refused resend is logged as such in ``dropship_resent``."""
        with self._errors("cannot write the outbox"):
            self._outbox.execute(_DROP_INTENT, (intent_id,))
            if refused is not None:
                self._outbox.execute(_RESENT, (*self._resent_row(refused), f"refused: {status}"))

    def record(
        self, update: OrderStatusUpdate | ItemStatusUpdate, intent_id: int | None = None, resent: Intent | None = None
    ) -> LedgerEvent:
        """In the claim's transaction: the update applied to its order and its history, its outbox
        row gone (and, for a resend, the resend logged)."""
        with self._errors("cannot record the update"):
            event = self._record_in(self._session(), update, None)
            if intent_id is not None:
                self._claim.execute(_DROP_INTENT, (intent_id,))
            if resent is not None:
                self._claim.execute(_RESENT, (*self._resent_row(resent), "recorded"))
            return event

    def finish(self, commit: bool = True, *, failing: bool = False) -> None:
        """End the claim: commit what was recorded (facts, whatever ended the block), release the
        orders, close the connections. A claim whose session the server ended meanwhile (its
        ``timeout``, a lost connection) kept nothing: ``StoreUnavailableError``, unless the block
        is already failing (its own error then says what happened)."""
        try:
            if self._claim is not None and self._claim.closed:
                if commit and not failing:
                    raise StoreUnavailableError(
                        f"{self._backend.where}: the claim's session was ended (its timeout, a lost "
                        "connection): nothing recorded in it was kept, and its orders are free again"
                    )
            elif self._claim is not None:
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

    def _intents(self, order_id: str) -> list[Intent]:
        rows = self._claim.execute(_INTENTS, (order_id,)).fetchall()
        return [Intent(row[0], row[1], row[2], _body(row[3]), row[4], row[5]) for row in rows]

    def _resent_row(self, intent: Intent) -> tuple[object, ...]:
        return (intent.order_id, intent.kind, json.dumps(intent.body), intent.worker, intent.created_at, self.worker)

    def _errors(self, doing: str) -> Any:
        return _Errors(self._backend, doing)


def _body(text: str) -> dict[str, Any]:
    """An outbox row's body; ``{}`` for one that is not a JSON object (edited by hand), which
    ``Intent.update`` then refuses, naming the row."""
    try:
        body = json.loads(text)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


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
            raise ConfigurationError(f"limit must be a whole number >= 1, got {limit!r}"[:200])
        self._session = session
        self._status = status
        self._limit = limit
        self._held = 0

    def _holding(self, held: Sequence[Any]) -> Sequence[Any]:
        self._held = len(held)
        telemetry.add("dropship.worker.claims.held", self._held)
        return held

    def _released(self) -> None:
        telemetry.add("dropship.worker.claims.held", -self._held)
        self._held = 0

    def __enter__(self) -> Claim:
        from .._sync.claim import Claim  # noqa: PLC0415 - the worker side, written once (_async/claim.py)

        try:
            return Claim(self._session, self._holding(self._session.open(self._status, self._limit)))
        except BaseException:
            self._session.finish(commit=False)
            self._released()
            raise

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        try:
            self._session.finish(failing=error is not None)
        finally:
            self._released()

    async def __aenter__(self) -> AsyncClaim:
        from .._async.claim import AsyncClaim  # noqa: PLC0415

        try:
            held = await async_blocking(self._session.open, self._status, self._limit)
            return AsyncClaim(self._session, self._holding(held))
        except BaseException:
            await async_blocking(self._session.finish, False)
            self._released()
            raise

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            await async_blocking(functools.partial(self._session.finish, failing=error is not None))
        finally:
            self._released()
