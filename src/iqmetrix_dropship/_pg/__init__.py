"""PostgreSQL for the checkpoint store and the order ledger (the ``postgres`` extra, psycopg 3).

Nothing here is imported until a DSN is given (``OrderLedger("postgresql://...")``,
``client.follow(checkpoint="postgresql://...")``), so the SDK's core install never needs psycopg.

- ``connect``: connections, DSNs (never shown with their password), errors as the SDK's own
- ``schema``: the tables, in a schema of their own, versioned and migrated like the SQLite ledger
- ``lease``: one leader among the replicas, its writes fenced by a token
"""

from __future__ import annotations

import os

__all__ = ["is_dsn"]


def is_dsn(target: object) -> bool:
    """Whether ``target`` names a PostgreSQL database rather than a SQLite file."""
    if isinstance(target, os.PathLike):
        return False
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))
