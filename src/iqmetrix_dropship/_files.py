"""Files the SDK creates: readable and writable by their owner only.

A checkpoint or an order ledger holds customers' names and addresses (and the emulator's store,
made-up ones shaped like them): created ``0600``, whatever the umask. An existing file keeps the
mode its owner gave it.
"""

from __future__ import annotations

import os
from urllib.parse import parse_qs, unquote

__all__ = ["create_private", "sqlite_file"]


def sqlite_file(name: str | os.PathLike[str]) -> str | None:
    """The file SQLite opens for ``name``, if it may create one: the name itself, or the path of a
    ``file:`` URI (which SQLite reads as a URI, being built with ``SQLITE_USE_URI``); ``None`` for
    an in-memory database and for a URI whose ``mode`` (``ro``, ``rw``) creates nothing."""
    text = os.fspath(name)
    if text in ("", ":memory:"):
        return None
    if not text.startswith("file:"):
        return text
    rest, _, query = text[len("file:") :].partition("#")[0].partition("?")
    if rest.startswith("//"):  # file://localhost/path or file:///path: the path starts at the slash
        rest = rest[2:]
        rest = rest[rest.find("/") :] if "/" in rest else ""
    modes = parse_qs(query).get("mode", ["rwc"])
    path = unquote(rest)
    if modes[-1] != "rwc" or path in ("", ":memory:"):
        return None
    return path


def create_private(path: str | os.PathLike[str]) -> None:
    """Create ``path`` (a file name, or a ``file:`` URI as SQLite reads it) empty and readable by
    its owner only (0600), unless it exists already.

    SQLite gives the ``-wal`` and ``-shm`` files it makes beside a database the database's own
    mode, so they are private too. An existing file keeps the mode its owner chose.
    """
    file = sqlite_file(path)
    if file is None:
        return
    try:
        descriptor = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError:
        return  # no such folder, no permission: sqlite3 reports it, with the path, when it opens
    os.close(descriptor)
