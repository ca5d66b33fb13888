"""A bare checkpoint in PostgreSQL: the cursor only, for a follower whose handler keeps its effects
elsewhere, shared by any number of replicas of which one leads at a time (``_pg/lease.py``).

Its cursor lives in ``dropship_checkpoints``, apart from an order ledger's (``dropship_cursor``),
so that a bare checkpoint and a ledger in one schema can never move each other's place.
"""

from __future__ import annotations

from datetime import datetime, timezone

from .._pg.lease import DEFAULT_LEASE_SECONDS
from .._protocol.follow import Cursor
from ..ledger._backend import PostgresBackend
from ..models import FeedEntry

__all__ = ["PostgresCheckpoint"]

_SAVE = (
    "INSERT INTO dropship_checkpoints (name, entry_id, page_id, updated_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (name) DO UPDATE SET entry_id = excluded.entry_id, page_id = excluded.page_id, "
    "updated_at = excluded.updated_at"
)


class PostgresCheckpoint:
    """The cursor in a PostgreSQL schema (``schema``, ``dropship`` by default), under ``name``.

    ::

        follower = client.follow(checkpoint="postgresql://app@db/shop")   # or PostgresCheckpoint(dsn)

    Each poll first makes this replica the leader (``lead``), or finds another one leading and
    delivers nothing; every write is fenced by the lease. Thread-safe.
    """

    _remote = True  # the async follower calls it on a worker thread

    def __init__(
        self,
        dsn: str,
        *,
        name: str = "default",
        schema: str = "dropship",
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        holder: str | None = None,
    ) -> None:
        self.name = name
        self._backend = PostgresBackend(
            dsn, schema=schema, lease_name=f"checkpoint:{name}", lease_seconds=lease_seconds, holder=holder
        )
        self.path = self._backend.where  # the DSN without its password

    def load(self) -> Cursor | None:
        with self._backend.reading() as db:
            row = db.execute(
                "SELECT entry_id, page_id FROM dropship_checkpoints WHERE name = ?", (self.name,)
            ).fetchone()
        return None if row is None else Cursor(row[0], row[1])

    def save(self, cursor: Cursor) -> None:
        with self._backend.writing(fenced=True) as db:
            db.execute(_SAVE, (self.name, cursor.entry_id, cursor.page_id, datetime.now(timezone.utc).isoformat()))

    def advance(self, cursor: Cursor, entry: FeedEntry) -> None:
        self.save(cursor)  # one fenced statement: atomic by itself

    def lead(self) -> bool:
        """Whether this replica leads now (acquiring or renewing the lease)."""
        return self._backend.lead()

    @property
    def lease_seconds(self) -> float:
        return self._backend.lease.seconds

    @property
    def lease_token(self) -> int | None:
        """This replica's term while it leads, else ``None``."""
        return self._backend.lease.token

    def close(self) -> None:
        """Step down if leading, and close the connections."""
        self._backend.close()

    def __enter__(self) -> PostgresCheckpoint:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PostgresCheckpoint({self.path!r}, name={self.name!r})"
