"""Files the SDK creates: readable and writable by their owner only.

A checkpoint or an order ledger holds customers' names and addresses (and the emulator's store,
made-up ones shaped like them): created ``0600``, whatever the umask. An existing file keeps the
mode its owner gave it.
"""

from __future__ import annotations

import os

__all__ = ["create_private"]


def create_private(path: str | os.PathLike[str]) -> None:
    """Create ``path`` empty and readable by its owner only (0600), unless it exists already.

    SQLite gives the ``-wal`` and ``-shm`` files it makes beside a database the database's own
    mode, so they are private too. An existing file keeps the mode its owner chose.
    """
    if str(path) == ":memory:" or str(path).startswith("file:"):
        return
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError:
        return  # no such folder, no permission: sqlite3 reports it, with the path, when it opens
    os.close(descriptor)
