"""Following the feed: a durable cursor, and a follower that never skips an entry and never delivers a
handled one again (at least once; exactly once for what the checkpoint commits with the cursor)."""

from .._async.follower import AsyncFeedFollower
from .._sync.follower import FeedFollower
from ._checkpoint import CheckpointStore, Cursor, MemoryCheckpoint, SQLiteCheckpoint

__all__ = ["AsyncFeedFollower", "CheckpointStore", "Cursor", "FeedFollower", "MemoryCheckpoint", "SQLiteCheckpoint"]
