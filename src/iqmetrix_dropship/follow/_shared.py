"""What the async follower and its generated sync twin share: the checkpoint they keep, where a
first poll starts, which failures ``run`` waits out, and closing what they opened."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from .. import _telemetry as telemetry
from .._exceptions import (
    APIConnectionError,
    ArgumentTypeError,
    ConfigurationError,
    RateLimitError,
    ServerError,
    StoreUnavailableError,
)
from .._pg import is_dsn, refuse_other_dsn
from .._protocol.follow import Start
from .._text import preview
from ..models import FeedEntry
from ._checkpoint import CheckpointStore, SQLiteCheckpoint

__all__ = [
    "TRANSIENT_ERRORS",
    "AsyncHandler",
    "FollowerBase",
    "Handler",
    "check_start",
    "log_handler_failure",
    "logger",
    "open_checkpoint",
]

logger = logging.getLogger("iqmetrix_dropship.follow")

# Worth waiting out: the next poll may succeed (the API, or the checkpoint's database, is back).
# Anything else (a lost cursor, a hostile feed, refused credentials, an unusable checkpoint) needs
# a person, so run() stops and raises it.
TRANSIENT_ERRORS = (APIConnectionError, ServerError, RateLimitError, StoreUnavailableError)

Handler = Callable[[FeedEntry], object]
AsyncHandler = Callable[[FeedEntry], object] | Callable[[FeedEntry], Awaitable[object]]
"""A handler of the async follower may be a plain function or a coroutine function."""


def open_checkpoint(checkpoint: CheckpointStore | str | os.PathLike[str]) -> CheckpointStore:
    """A store from a path (SQLite), a DSN (``postgresql://...``: PostgreSQL), or a store object.

    Raises ``CheckpointError`` for a store that cannot be used, before anything is delivered: an
    order ledger's file given as a plain checkpoint is one (pass the ``OrderLedger`` instead)."""
    refuse_other_dsn(checkpoint)
    if is_dsn(checkpoint):
        from ._postgres import PostgresCheckpoint  # noqa: PLC0415 - only with the postgres extra

        return PostgresCheckpoint(str(checkpoint))
    if isinstance(checkpoint, (str, os.PathLike)):
        store = SQLiteCheckpoint(Path(checkpoint))
        if store.is_ledger_file:
            store.close()
            store.refuse_ledger()
        return store
    if not isinstance(checkpoint, CheckpointStore):
        raise ArgumentTypeError(f"checkpoint must be a path or a CheckpointStore, got {type(checkpoint).__name__}")
    if isinstance(checkpoint, SQLiteCheckpoint):
        checkpoint.refuse_ledger()
    return checkpoint


def check_start(start: str) -> Start:
    if start not in ("earliest", "latest"):
        raise ConfigurationError(f"start must be 'earliest' or 'latest', got {preview(start)}")
    return "earliest" if start == "earliest" else "latest"


def log_handler_failure(entry: FeedEntry) -> None:
    telemetry.add("dropship.follower.handler.failures")
    logger.exception(
        "the handler failed on entry %s; it will be delivered again",
        entry.id,
        extra={"dropship.entry_id": entry.id, "dropship.order_id": _order_id(entry)},
    )


def _order_id(entry: FeedEntry) -> str | None:
    order_id = getattr(entry.event, "order_id", None)
    return None if order_id is None else str(order_id)


_F = TypeVar("_F", bound="FollowerBase")


class FollowerBase:
    """The checkpoint, where to start, and closing what the follower opened."""

    def __init__(self, checkpoint: CheckpointStore | str | os.PathLike[str], start: str) -> None:
        self._owns_checkpoint = isinstance(checkpoint, (str, os.PathLike))  # a path or a DSN
        self.checkpoint = open_checkpoint(checkpoint)
        self.start = check_start(start)
        self.store_is_remote = bool(getattr(self.checkpoint, "_remote", False))
        """The store talks to a server (PostgreSQL): the async follower calls it on a thread."""
        self.gauges = telemetry.FollowerGauges(str(getattr(self.checkpoint, "name", "default")))

    leading = False
    """Whether this replica led the last poll (always, but for a store shared by replicas)."""

    last_poll_ok: float | None = None
    """When (``time.time()``) the last poll that read the feed to its end finished; ``None`` before
    the first. What a readiness check compares with its limit (``dropship run --metrics-port``)."""

    def lead(self) -> bool:
        """Whether this replica leads now: a store shared by replicas (PostgreSQL) elects one
        leader; the others stand by and deliver nothing. Any other store: always."""
        lead = getattr(self.checkpoint, "lead", None)
        self.leading = self.gauges.leading = bool(lead()) if callable(lead) else True
        return self.leading

    # -- what the metrics report (``_telemetry.py``) ----------------------------------------------

    def delivering(self, entry: FeedEntry) -> None:
        """An entry goes to the handler: entries come oldest first, so it is the oldest not handled."""
        telemetry.add("dropship.follower.entries.delivered")
        self.gauges.oldest_pending = entry.updated or entry.published

    def handled(self, entry: FeedEntry) -> None:
        """The entry is committed with the cursor."""
        self.gauges.newest_handled = entry.updated or entry.published
        self.gauges.committed_at = time.time()

    def caught_up(self) -> None:
        """The poll read the feed to its end: nothing is left unhandled."""
        self.gauges.oldest_pending = None
        self.last_poll_ok = time.time()

    def standby_wait(self, interval: float) -> float:
        """How long a replica that does not lead waits before it tries again: a third of the lease
        at most, so that it takes over within two lease periods of the leader's death."""
        lease = getattr(self.checkpoint, "lease_seconds", None)
        return min(interval, lease / 3) if isinstance(lease, (int, float)) else interval

    def close(self) -> None:
        """Close the checkpoint store if the follower opened it from a path or a DSN (a store you
        passed in stays yours to close); a PostgreSQL store steps down if it leads."""
        close = getattr(self.checkpoint, "close", None)
        if self._owns_checkpoint and callable(close):
            close()

    def flush_checkpoint(self) -> None:
        """Have the store write what ``advance`` handed it, if it holds entries back to write them
        together (``flush``, optional in the ``CheckpointStore`` protocol: ``OrderLedger`` writes a
        page of entries per transaction). Nothing to do when nothing waits."""
        flush = getattr(self.checkpoint, "flush", None)
        if callable(flush):
            flush()

    def end_poll(self) -> None:
        """When a poll ends, however it ends (caught up, ``break``, a handler or an API error): the
        entries handled are written (``flush_checkpoint``), then a SQLite file the follower opened
        from a path is released (opened again at the next poll), so that the follower holds no open
        file between polls. A PostgreSQL store stays open: closing it would give up the lease after
        every poll."""
        try:
            self.flush_checkpoint()
        finally:
            if self._owns_checkpoint and isinstance(self.checkpoint, SQLiteCheckpoint):
                self.checkpoint.close()

    def __enter__(self: _F) -> _F:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
