"""Following the feed: a durable cursor, and a follower that never skips an entry and never delivers a
handled one again (at least once; exactly once for what the checkpoint commits with the cursor).

The checkpoint stores live here; the followers themselves are written once in ``_async/follower.py``
(``_sync/follower.py`` is generated from it) and load on first use, since they import this package's
modules.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._checkpoint import CheckpointStore, Cursor, MemoryCheckpoint, SQLiteCheckpoint

if TYPE_CHECKING:
    from .._async.follower import AsyncFeedFollower
    from .._sync.follower import FeedFollower
    from ._postgres import PostgresCheckpoint

__all__ = [
    "AsyncFeedFollower",
    "CheckpointStore",
    "Cursor",
    "FeedFollower",
    "MemoryCheckpoint",
    "PostgresCheckpoint",
    "SQLiteCheckpoint",
]

# Loaded on first use: the followers import this package's modules, and PostgresCheckpoint is
# only for those who use PostgreSQL.
_FOLLOWERS = {
    "AsyncFeedFollower": "iqmetrix_dropship._async.follower",
    "FeedFollower": "iqmetrix_dropship._sync.follower",
    "PostgresCheckpoint": "iqmetrix_dropship.follow._postgres",
}


def __getattr__(name: str) -> Any:
    module = _FOLLOWERS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
