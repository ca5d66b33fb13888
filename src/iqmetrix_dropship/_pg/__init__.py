"""PostgreSQL for the checkpoint store and the order ledger (the ``postgres`` extra, psycopg 3).

Nothing here is imported until a DSN is given (``OrderLedger("postgresql://...")``,
``client.follow(checkpoint="postgresql://...")``), so the SDK's core install never needs psycopg.

- ``connect``: connections, DSNs (never shown with their password), errors as the SDK's own
- ``schema``: the tables, in a schema of their own, versioned and migrated like the SQLite ledger
- ``lease``: one leader among the replicas, its writes fenced by a token
"""

from __future__ import annotations

import os
import re

from .._exceptions import ConfigurationError

__all__ = ["is_dsn", "refuse_other_dsn"]

# What a connection string that is not a postgresql:// URL looks like: another URL scheme
# (postgresql+psycopg://, a typo) or libpq's key=value form ("host=db password=...").
_OTHER_DSN = re.compile(r"^[a-z][a-z0-9+.-]*://|(^|\s)(host|hostaddr|dbname|user|password|port|service)\s*=", re.I)


def is_dsn(target: object) -> bool:
    """Whether ``target`` names a PostgreSQL database rather than a SQLite file."""
    if isinstance(target, os.PathLike):
        return False
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def refuse_other_dsn(target: object) -> None:
    """A string that looks like a connection string but is not a ``postgresql://`` URL would
    otherwise become a SQLite file's name (a password in a file name): ``ConfigurationError``,
    which does not repeat it."""
    if isinstance(target, str) and not is_dsn(target) and _OTHER_DSN.search(target):
        raise ConfigurationError(
            "this looks like a database connection string, not a file: a PostgreSQL store takes a "
            "postgresql://user:password@host:port/dbname URL"
        )
