"""Following the feed: a durable cursor, and a follower that never misses and never repeats an entry."""

from ._checkpoint import CheckpointStore, Cursor, MemoryCheckpoint, SQLiteCheckpoint
from ._follower import AsyncFeedFollower, FeedFollower

__all__ = ["AsyncFeedFollower", "CheckpointStore", "Cursor", "FeedFollower", "MemoryCheckpoint", "SQLiteCheckpoint"]
