"""One leader among any number of follower replicas: a lease row with a fencing token.

As Oban's leader row or Marten's daemon lock, on the database everyone already shares (no clock of
a replica is trusted: every time is PostgreSQL's):

- **Acquire**: a replica takes the lease when there is none or it has expired; each new holder
  gets the next fencing token (a new *term*, logged in ``dropship_lease_terms``).
- **Renew**: the holder extends the expiry every third of the lease, on a heartbeat thread with a
  connection of its own, well before it lapses; a renewal that finds the lease gone (expired, or
  taken) ends the term.
- **Fence**: every write of the leader checks, in its own transaction, that the lease still has
  this holder and token and has not expired, and holds the lease row (``FOR KEY SHARE``) until it
  commits: a replica taking over (which locks the row ``FOR UPDATE``) waits for a write in flight,
  and a leader that was paused past its lease (SIGSTOP, a long GC, a VM freeze) and wakes up
  writes nothing (``LeaseLostError``). The renewal, a plain ``UPDATE`` of the expiry, does not
  conflict with that lock: a leader whose write waits (on an order a worker holds) still renews.
  A paused leader cannot hold the row for long: its session is ended once it has been idle in a
  transaction for a lease (``idle_in_transaction_session_timeout``), or, paused in the middle of
  a pipelined write (which the server sees as busy, not idle), by the replica taking over, once
  the lease has run out (``_END_BLOCKERS``).
- **Step down**: ``release`` ends the term at once, so that a standby takes over without waiting
  for the lease to expire (a clean stop, SIGTERM).

A standby takes over within one lease of the leader's death plus its own interval between tries
(``lead`` is called at every poll; ``FeedFollower.run`` tries every third of a lease while it
stands by): within two lease periods.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any, NoReturn

from .._exceptions import CheckpointError, ConfigurationError, DropshipError, LeaseLostError
from .connect import LEDGER_APPLICATION, connect, psycopg_module, redact_dsn, store_error

__all__ = ["DEFAULT_LEASE_SECONDS", "MAX_LEASE_SECONDS", "Lease", "default_holder"]

logger = logging.getLogger("iqmetrix_dropship.follow")

DEFAULT_LEASE_SECONDS = 15.0

# Taking the lease: a look without a lock (a standby never waits on a live leader), then, if it
# has run out, the row locked FOR UPDATE (which waits for the old leader's fenced writes in flight)
# and looked at again. The expiry is computed when the row is written, not when the statement
# began: a taker that waited for the row must not write an expiry already past, which would let
# the next waiter take the lease too.
_RAN_OUT = "SELECT expires_at <= clock_timestamp(), token FROM dropship_leases WHERE name = %s"
_LOCK = "SELECT expires_at <= clock_timestamp(), token FROM dropship_leases WHERE name = %s FOR UPDATE"
# The first term follows the last one logged (a lease row deleted by hand does not start over).
_FIRST = """
INSERT INTO dropship_leases (name, holder, token, expires_at, acquired_at, renewed_at)
SELECT %(name)s, %(holder)s, coalesce(max(token), 0) + 1, clock_timestamp() + %(ttl)s, clock_timestamp(),
       clock_timestamp()
FROM dropship_lease_terms WHERE name = %(name)s
ON CONFLICT (name) DO NOTHING
RETURNING token
"""
_TAKE = """
UPDATE dropship_leases
SET holder = %(holder)s, token = %(token)s, expires_at = clock_timestamp() + %(ttl)s,
    acquired_at = clock_timestamp(), renewed_at = clock_timestamp()
WHERE name = %(name)s
"""
_RENEW = """
UPDATE dropship_leases SET expires_at = clock_timestamp() + %(ttl)s, renewed_at = clock_timestamp()
WHERE name = %(name)s AND holder = %(holder)s AND token = %(token)s AND expires_at > clock_timestamp()
RETURNING token
"""
_FENCE = """
SELECT 1 FROM dropship_leases
WHERE name = %s AND holder = %s AND token = %s AND expires_at > clock_timestamp()
FOR KEY SHARE
"""
_RELEASE = """
UPDATE dropship_leases SET expires_at = clock_timestamp()
WHERE name = %(name)s AND holder = %(holder)s AND token = %(token)s
"""
_HOLDER = "SELECT holder, token, expires_at - clock_timestamp() FROM dropship_leases WHERE name = %s"
# A lease that ran out while its holder sat paused in the middle of a write (SIGSTOP, a frozen VM)
# holds the row locked for as long as the pause lasts: the server sees a session waiting for its
# client, not idle, so no timeout of its own ends it. A taker that found the row locked past
# ``lock_timeout`` sends a probe to wait for the row, asks the server which sessions block the
# probe, directly or through others queued before it (``pg_blocking_pids``, followed: exact, where
# the row's ``xmax`` may name a multixact), and ends those that are a ledger's or a checkpoint's
# sessions, if the lease is still the same term and has run out (checked in the same statement).
# Such a session holds the row only in a fenced write of the lease's old term, which cannot be
# kept: ending it rolls the write back, and the new leader delivers its entry again. Any other
# blocker (an operator's session, another taker) is left alone.
_END_BLOCKERS = """
WITH RECURSIVE blockers (pid, depth) AS (
    SELECT blocker, 1 FROM unnest(pg_blocking_pids(%(probe)s)) AS blocker
    UNION
    SELECT blocker, blockers.depth + 1
    FROM blockers CROSS JOIN LATERAL unnest(pg_blocking_pids(blockers.pid)) AS blocker
    WHERE blockers.depth < 8
)
SELECT CASE
    WHEN activity.application_name = %(writer)s
     AND EXISTS (
        SELECT 1 FROM dropship_leases
        WHERE name = %(name)s AND token = %(token)s AND expires_at <= clock_timestamp()
     )
    THEN pg_terminate_backend(blockers.pid)
    ELSE false
END
FROM (SELECT DISTINCT pid FROM blockers) AS blockers
LEFT JOIN pg_stat_activity AS activity ON activity.pid = blockers.pid
"""
_PROBE = b"SELECT 1 FROM dropship_leases WHERE name = $1 FOR UPDATE"
MAX_LEASE_SECONDS = 86_400.0
_TERM = "INSERT INTO dropship_lease_terms (name, token, holder, began_at) VALUES (%s, %s, %s, clock_timestamp())"


def default_holder() -> str:
    """``host:pid:random``: unique per replica, readable in the lease row and the logs."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Lease:
    """This replica's side of one lease (``name``). Thread-safe.

    ``lead()`` acquires or renews it and says whether this replica leads; ``fence(connection)``
    runs inside a write transaction; ``release()`` steps down.
    """

    def __init__(self, dsn: str, schema: str, name: str, *, seconds: float, holder: str | None = None) -> None:
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, (int, float))
            or not 0.1 <= seconds <= MAX_LEASE_SECONDS
        ):
            raise ConfigurationError(
                f"lease seconds must be a number from 0.1 to {MAX_LEASE_SECONDS:g}, got {seconds!r}"[:200]
            )
        self._dsn = dsn
        self._schema = schema
        self.name = name
        self.holder = holder or default_holder()
        self.seconds = float(seconds)
        self._lock = threading.Lock()
        self._connection: Any = None
        self._token: int | None = None
        self._heartbeat: threading.Thread | None = None
        self._stop = threading.Event()
        self._seen: tuple[str, int] | None = None  # the other leader last logged
        self._closed = False
        self.engaged = False
        """Whether this replica takes part in the election (``lead`` was called): from then on
        every fenced write needs the lease, also once it is lost."""

    @property
    def token(self) -> int | None:
        """The fencing token of this replica's term, or ``None`` when it does not lead."""
        return self._token

    def _params(self, token: int | None = None) -> dict[str, Any]:
        return {"name": self.name, "holder": self.holder, "ttl": timedelta(seconds=self.seconds), "token": token}

    def _db(self) -> Any:
        if self._closed:
            raise CheckpointError.of(redact_dsn(self._dsn), "the store is closed")
        if self._connection is None or self._connection.closed:
            self._connection = self._connect()
        return self._connection

    def _connect(self) -> Any:
        # Never wait on the row for long: a renewal or a take that finds it locked gives up
        # after a third of a lease (and a take then ends a stale holder, see _END_BLOCKERS).
        return connect(
            self._dsn,
            schema=self._schema,
            application_name="iqmetrix-dropship lease",
            again=True,
            # A replica paused inside its own take must not hold the row either.
            settings={"lock_timeout": self._third_ms, "idle_in_transaction_session_timeout": self._third_ms},
        )

    @property
    def _third_ms(self) -> int:
        return max(100, int(self.seconds * 1000 / 3))

    def lead(self) -> bool:
        """Acquire the lease, or renew it if this replica holds it: whether this replica leads now."""
        psycopg = _psycopg()
        self.engaged = True
        with self._lock:
            try:
                if self._token is not None:
                    if self._db().execute(_RENEW, self._params(self._token)).fetchone() is not None:
                        self._start_heartbeat()  # should it have died (the database restarted)
                        return True
                    self._lost("its lease was taken over or expired")
                token = self._take(psycopg)
                if token is None:
                    self._standby()
                    return False
                self._token = token
            except psycopg.errors.LockNotAvailable:
                return False  # the row stayed locked past lock_timeout: try again at the next poll
            except psycopg.Error as error:
                problem = store_error(self._dsn, error, "cannot reach the lease", self._connection)
                self._drop_connection()
                raise problem from None
        logger.info("%s leads %s now (term %d)", self.holder, self.name, self._token)
        self._start_heartbeat()
        return True

    def _take(self, psycopg: Any) -> int | None:
        """The token of a new term if this replica took the lease, else ``None`` (another leads)."""
        db = self._db()
        row = db.execute(_RAN_OUT, (self.name,)).fetchone()
        if row is None:  # the first replica ever, or one of several racing to be
            with db.transaction():
                first = db.execute(_FIRST, self._params()).fetchone()
                return None if first is None else self._term(db, first[0])
        ran_out, token = row
        if not ran_out:
            return None
        try:
            return self._take_over(db)
        except psycopg.errors.LockNotAvailable:
            if not self._end_blockers(psycopg, token):
                raise
            logger.warning(
                "%s ended the session of a holder of %s paused in the middle of a write past its lease",
                self.holder,
                self.name,
            )
            return self._take_over(db)

    def _take_over(self, db: Any) -> int | None:
        with db.transaction():
            row = db.execute(_LOCK, (self.name,)).fetchone()
            if row is None or not row[0]:
                return None  # renewed, or taken by another, while this one waited
            token = int(row[1]) + 1
            self._term(db, token)
            db.execute(_TAKE, self._params(token))  # last: the expiry counts from the very end
            return token

    def _term(self, db: Any, token: Any) -> int:
        db.execute(_TERM, (self.name, int(token), self.holder))
        return int(token)

    def _end_blockers(self, psycopg: Any, token: int) -> bool:
        """Whether a stale holder's session blocking the row was ended (see ``_END_BLOCKERS``)."""
        probe = self._connect()
        try:
            probe.pgconn.send_query_params(_PROBE, [self.name.encode()])
            while probe.pgconn.flush():  # psycopg's connections do not block: send it all now
                pass
            deadline = time.monotonic() + self.seconds / 3  # the probe's own lock_timeout
            while time.monotonic() < deadline:
                ended = (
                    self._db()
                    .execute(
                        _END_BLOCKERS,
                        {
                            "writer": LEDGER_APPLICATION,
                            "name": self.name,
                            "token": token,
                            "probe": probe.info.backend_pid,
                        },
                    )
                    .fetchall()
                )
                if ended:
                    return any(row[0] for row in ended)
                probe.pgconn.consume_input()
                if not probe.pgconn.is_busy():
                    return False  # the row came free: the next try takes it
                time.sleep(0.005)  # the probe is on its way to waiting for the row
            return False
        except psycopg.errors.InsufficientPrivilege:
            logger.warning("%s may not end the sessions holding %s (another role): waiting", self.holder, self.name)
            return False
        finally:
            with contextlib.suppress(psycopg.Error):
                probe.cancel_safe(timeout=1.0)  # out of the row's queue, before the real take
            probe.close()

    def fence(self, connection: Any) -> tuple[int, Callable[[], None]]:
        """Inside a write transaction on ``connection``: the term's token, and ``confirm``, to call
        before the commit, which raises ``LeaseLostError`` unless the lease was still this term's.

        The check is the transaction's first statement and holds the lease row until the
        transaction ends, so that no one takes over mid-write; its answer may be read later (the
        statements are pipelined), as long as it is read before the commit."""
        token = self._token
        if token is None:
            self._refuse(token)
        check = connection.execute(_FENCE, (self.name, self.holder, token))

        def confirm() -> None:
            if check.fetchone() is None:
                self._refuse(token)

        return token, confirm

    def _refuse(self, token: int | None) -> NoReturn:
        with self._lock:
            if self._token == token and token is not None:
                self._lost("its lease was taken over or expired before a write")
        term = f" (term {token})" if token is not None else ""
        raise LeaseLostError(
            f"{self.holder} no longer holds the lease {self.name!r}{term}: it stepped down, "
            "and wrote nothing; the new leader delivers the entry in hand again"
        )

    def release(self) -> None:
        """Step down now (the lease expires at once): a standby takes over without waiting. Never
        waits long: with a renewal stuck on a database that does not answer, the lease is left to
        run out on its own."""
        self._stop.set()
        if not self._lock.acquire(timeout=min(5.0, self.seconds)):
            logger.warning(
                "%s could not step down from %s (the database does not answer): the lease runs out on its own",
                self.holder,
                self.name,
            )
            self._token = None
            return
        try:
            token = self._token
            self._token = None
            if token is not None and self._connection is not None and not self._connection.closed:
                try:
                    self._connection.execute(_RELEASE, self._params(token))
                    logger.info("%s stepped down from %s (term %d)", self.holder, self.name, token)
                except _psycopg().Error:
                    pass  # the lease then expires on its own
            self._drop_connection()
        finally:
            self._lock.release()

    def close(self) -> None:
        """Step down, and refuse to be used again (a closed store does not reconnect)."""
        self._closed = True
        self.release()
        heartbeat = self._heartbeat
        if heartbeat is not None and heartbeat is not threading.current_thread():
            heartbeat.join(timeout=5)

    # -- inside ------------------------------------------------------------------------------

    def _lost(self, why: str) -> None:
        logger.warning("%s stepped down from %s (term %s): %s", self.holder, self.name, self._token, why)
        self._token = None
        self._stop.set()

    def _standby(self) -> None:
        row = self._db().execute(_HOLDER, (self.name,)).fetchone()
        if row is not None:
            holder, token, left = row
            level = logging.DEBUG if self._seen == (holder, token) else logging.INFO  # each new leader once
            self._seen = (holder, token)
            logger.log(
                level, "%s stands by: %s leads %s (term %d) for %s more", self.holder, holder, self.name, token, left
            )

    def _drop_connection(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            finally:
                self._connection = None

    def _start_heartbeat(self) -> None:
        if self._heartbeat is not None and self._heartbeat.is_alive() and not self._stop.is_set():
            return  # one that was told to stop may still be finishing: it does not count
        self._stop = threading.Event()
        self._heartbeat = threading.Thread(
            target=self._beat, args=(self._stop,), name=f"dropship-lease-{self.name}", daemon=True
        )
        self._heartbeat.start()

    def _beat(self, stop: threading.Event) -> None:
        # Renew every third of the lease: two renewals may fail (a blip) before it lapses.
        while not stop.wait(self.seconds / 3):
            try:
                with self._lock:
                    if self._token is None:
                        return
                    if self._db().execute(_RENEW, self._params(self._token)).fetchone() is None:
                        self._lost("a renewal found its lease taken over or expired")
                        return
            except (_psycopg().Error, DropshipError) as error:  # the database away: try at the next beat
                logger.warning("%s could not renew %s: %s", self.holder, self.name, type(error).__name__)
                with self._lock:
                    self._drop_connection()


def _psycopg() -> Any:
    return psycopg_module()
