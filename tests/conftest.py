"""Fixtures for the whole suite: the expensive ones are built once per session.

``postgres`` is a throwaway PostgreSQL server (``tests/postgres.py``) for the tests that run the
checkpoint and the ledger on both back ends; ``pg_store`` gives each test a schema of its own in it.
"""

from __future__ import annotations

import gzip
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from .postgres import PostgresServer, running_server


@pytest.fixture(scope="session")
def gzip_bomb() -> bytes:
    """200 MB of XML in ~200 KB of gzip (compressing it takes a second: built once)."""
    head = b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><id>x</id><title>'
    return gzip.compress(head + b"A" * 200_000_000 + b"</title></feed>", compresslevel=9)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the session. Without one: a loud skip, or a failure where
    ``DROPSHIP_REQUIRE_POSTGRES=1`` (CI, ``./run test``) says these tests must run."""
    try:
        with running_server() as server:
            yield server
    except RuntimeError as error:
        message = f"NO POSTGRESQL SERVER: the PostgreSQL tests did not run ({error})"
        if os.environ.get("DROPSHIP_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)


@dataclass(frozen=True)
class PgStore:
    """A DSN and a schema of its own: ``OrderLedger(store.dsn, schema=store.schema)``."""

    dsn: str
    schema: str

    @property
    def options(self) -> dict[str, str]:
        return {"schema": self.schema}


@pytest.fixture
def pg_store(postgres: PostgresServer) -> Iterator[PgStore]:
    import psycopg  # noqa: PLC0415 - the postgres extra, a dev dependency

    store = PgStore(postgres.dsn, f"t_{uuid.uuid4().hex[:12]}")
    yield store
    with psycopg.connect(postgres.dsn, autocommit=True) as connection:
        connection.execute("SET lock_timeout = '5s'")
        try:
            connection.execute(f"DROP SCHEMA IF EXISTS {store.schema} CASCADE")
        except psycopg.errors.LockNotAvailable:
            # A failed test left a session holding a lock in the schema: end it, so that one
            # failure is reported as itself rather than as a suite that hangs.
            connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )
            connection.execute(f"DROP SCHEMA IF EXISTS {store.schema} CASCADE")


@pytest.fixture
def pg_database(postgres: PostgresServer) -> Iterator[str]:
    """The DSN of a database of the test's own, dropped after (for code that uses the default
    schema, as the docs' examples do)."""
    import psycopg  # noqa: PLC0415 - the postgres extra, a dev dependency

    name = f"db_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres.dsn, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    yield postgres.dsn_for(name)
    with psycopg.connect(postgres.dsn, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
