"""What only the PostgreSQL back end has: a DSN (and its password) to get wrong, a schema of its
own in a database shared with the supplier's tables, several replicas migrating at once, and a
schema written by a newer SDK."""

from __future__ import annotations

import socket
import sqlite3
import threading
import traceback
from pathlib import Path
from typing import Any

import psycopg
import pytest

from iqmetrix_dropship import (
    CheckpointError,
    ConfigurationError,
    DropshipClient,
    LedgerSchemaError,
    OrderLedger,
    PostgresCheckpoint,
)
from iqmetrix_dropship._pg.schema import CURRENT_VERSION

from ..conftest import PgStore
from ..postgres import PostgresServer

SECRET = "hunter2-pg-password"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens there once the socket is closed


def _db(store: PgStore) -> psycopg.Connection[Any]:
    connection = psycopg.connect(store.dsn, autocommit=True)
    connection.execute(f"SET search_path TO {store.schema}")
    return connection


def _everything_said(error: BaseException) -> str:
    links, seen = [], [error]
    while seen:
        link = seen.pop()
        links.append(f"{link}\n{link!r}\n{vars(link)!r}")
        seen += [e for e in (link.__cause__, link.__context__) if e is not None]
    return "\n".join(links) + "".join(traceback.format_exception(error))


@pytest.mark.parametrize("opener", [OrderLedger, PostgresCheckpoint])
def test_a_server_that_is_not_there_is_a_clear_error_without_the_password(opener: Any) -> None:
    dsn = f"postgresql://app:{SECRET}@127.0.0.1:{_closed_port()}/shop"
    with pytest.raises(CheckpointError, match="cannot connect") as caught:
        opener(dsn)
    said = _everything_said(caught.value)
    assert SECRET not in said
    assert "app:***@127.0.0.1" in str(caught.value)  # where it tried, as far as it is not secret


@pytest.mark.parametrize(
    ("dsn", "shown"),
    [
        (f"postgresql://app@127.0.0.1:{{port}}/shop?password={SECRET}", "password=***"),
        (f"postgresql://app@127.0.0.1:{{port}}/shop?sslmode=disable&sslpassword={SECRET}", "sslpassword=***"),
        (f"postgresql://app:{SECRET.replace('-', '%2D')}@127.0.0.1:{{port}}/shop", "app:***@"),
    ],
)
def test_a_password_anywhere_in_the_url_is_never_shown(dsn: str, shown: str) -> None:
    dsn = dsn.format(port=_closed_port())
    with pytest.raises(CheckpointError) as caught:
        OrderLedger(dsn)
    said = _everything_said(caught.value)
    assert SECRET not in said
    assert SECRET.replace("-", "%2D") not in said
    assert shown in str(caught.value)


@pytest.mark.parametrize("netloc", [f"app:se@{SECRET}@127.0.0.1", f"app:p@ss:{SECRET}@127.0.0.1"])
def test_an_at_sign_in_a_password_must_be_encoded_and_is_not_repeated(netloc: str) -> None:
    with pytest.raises(ConfigurationError, match="%40") as caught:
        OrderLedger(f"postgresql://{netloc}/shop")
    assert SECRET not in _everything_said(caught.value)


@pytest.mark.parametrize(
    "dsn",
    [
        f"postgresql://app:x#{SECRET}@127.0.0.1:{{port}}/shop",  # libpq reads it whole; a URL ends at '#'
        f"postgresql://app:x?{SECRET}@127.0.0.1:{{port}}/shop",
        f"postgresql://app:x/{SECRET}@127.0.0.1:{{port}}/shop",
        f"postgresql://app@127.0.0.1:{{port}}/shop?password=x#{SECRET}",
    ],
)
@pytest.mark.parametrize("kind", [OrderLedger, PostgresCheckpoint])
def test_a_password_a_url_parser_would_cut_short_is_refused_and_never_shown(dsn: str, kind: Any) -> None:
    from iqmetrix_dropship._pg.connect import redact_dsn  # noqa: PLC0415 - what every message names a DSN by

    dsn = dsn.format(port=_closed_port())
    with pytest.raises(ConfigurationError, match="must be percent-encoded") as caught:
        kind(dsn)
    assert SECRET not in _everything_said(caught.value)
    assert SECRET not in redact_dsn(dsn)


def test_a_database_that_does_not_exist_is_named(postgres: PostgresServer) -> None:
    with pytest.raises(CheckpointError, match='database "no_such_shop" does not exist'):
        OrderLedger(postgres.dsn_for("no_such_shop"))


def test_following_with_a_wrong_dsn_fails_before_anything_is_fetched() -> None:
    dsn = f"postgresql://app:{SECRET}@127.0.0.1:{_closed_port()}/shop"
    client = DropshipClient(supplier_id=1, client_id="c", client_secret="s", username="u", password="p")
    with client, pytest.raises(CheckpointError) as caught:
        client.follow(checkpoint=dsn)
    assert SECRET not in _everything_said(caught.value)


@pytest.mark.parametrize(
    "dsn",
    [
        f"host=db.internal user=app password={SECRET} dbname=shop",
        f"postgresql+psycopg://app:{SECRET}@db.internal/shop",
        f"postgress://app:{SECRET}@db.internal/shop",
    ],
)
def test_a_connection_string_that_is_not_a_postgresql_url_is_refused_not_made_a_file(
    dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    client = DropshipClient(supplier_id=1, client_id="c", client_secret="s", username="u", password="p")
    with client:
        for opener in (OrderLedger, lambda target: client.follow(checkpoint=target)):
            with pytest.raises(ConfigurationError, match="postgresql://") as caught:
                opener(dsn)
            assert SECRET not in _everything_said(caught.value)
    assert list(tmp_path.iterdir()) == []  # no file made


@pytest.mark.parametrize("schema", ["Dropship", "drop;ship", "1st", "", "x" * 64, "a b"])
def test_a_schema_name_that_is_not_a_plain_identifier_is_refused(schema: str) -> None:
    with pytest.raises(ConfigurationError, match="lower-case PostgreSQL identifier"):
        OrderLedger("postgresql://app@127.0.0.1:1/shop", schema=schema)


def test_a_schema_newer_than_the_sdk_is_refused_with_its_version_and_left_alone(pg_store: PgStore) -> None:
    OrderLedger(pg_store.dsn, schema=pg_store.schema).close()
    newer = CURRENT_VERSION + 1
    with _db(pg_store) as db:
        db.execute(
            "INSERT INTO dropship_migrations (version, description, sdk_version) VALUES (%s, 'from the future', '99')",
            (newer,),
        )
    said = rf"version {newer}, newer than this SDK .* \(up to {CURRENT_VERSION}\)"
    with pytest.raises(LedgerSchemaError, match=said):
        OrderLedger(pg_store.dsn, schema=pg_store.schema)
    with pytest.raises(LedgerSchemaError, match=rf"version {newer}"):
        PostgresCheckpoint(pg_store.dsn, schema=pg_store.schema)
    with _db(pg_store) as db:
        versions = db.execute("SELECT version FROM dropship_migrations ORDER BY version")
        assert [row[0] for row in versions] == [*range(1, CURRENT_VERSION + 1), newer]  # untouched


def test_replicas_starting_at_once_migrate_the_schema_once(pg_store: PgStore) -> None:
    barrier = threading.Barrier(6)
    failures: list[BaseException] = []

    def start() -> None:
        barrier.wait()
        try:
            OrderLedger(pg_store.dsn, schema=pg_store.schema).close()
        except BaseException as error:  # collected, asserted below
            failures.append(error)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with _db(pg_store) as db:
        rows = db.execute("SELECT version FROM dropship_migrations").fetchall()
    assert [row[0] for row in rows] == list(range(1, CURRENT_VERSION + 1))


def test_every_table_lives_in_the_configured_schema_beside_the_suppliers_own(pg_store: PgStore) -> None:
    with psycopg.connect(pg_store.dsn, autocommit=True) as db:
        db.execute(f"CREATE SCHEMA {pg_store.schema}")
        db.execute(f"CREATE TABLE {pg_store.schema}.orders (id int)")  # the supplier's, same schema
        OrderLedger(pg_store.dsn, schema=pg_store.schema).close()
        PostgresCheckpoint(pg_store.dsn, schema=pg_store.schema).close()
        tables = db.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_name LIKE 'dropship%%' "
            "OR table_name = 'orders'"
        ).fetchall()
    assert {schema for schema, _ in tables} == {pg_store.schema}
    assert ("public", "dropship_orders") not in tables
    assert (pg_store.schema, "orders") in tables  # untouched


def test_both_back_ends_have_the_same_ledger_tables_and_columns(pg_store: PgStore, tmp_path: Path) -> None:
    # The two dialects of one schema (ledger/_schema.py, _pg/schema.py) must not drift apart.
    OrderLedger(tmp_path / "orders.db").close()
    OrderLedger(pg_store.dsn, schema=pg_store.schema).close()
    with sqlite3.connect(tmp_path / "orders.db") as lite:
        tables = [row[0] for row in lite.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        sqlite_columns = {
            table: [row[1] for row in lite.execute(f"PRAGMA table_info({table})")]
            for table in tables
            if table != "dropship_ledger_migrations"
        }
    with _db(pg_store) as db:
        pg_columns = {
            table: [
                row[0]
                for row in db.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
                    "ORDER BY ordinal_position",
                    (pg_store.schema, table),
                )
            ]
            for table in sqlite_columns
        }
    assert set(sqlite_columns) == {
        "dropship_orders",
        "dropship_items",
        "dropship_events",
        "dropship_cursor",
        "dropship_availability",
    }
    pg_columns["dropship_events"].remove("lease_token")  # PostgreSQL only: the term that wrote it
    assert pg_columns == sqlite_columns


@pytest.mark.parametrize("kind", [OrderLedger, PostgresCheckpoint])
def test_a_closed_store_refuses_to_be_used_rather_than_connecting_again(kind: Any, pg_store: PgStore) -> None:
    store = kind(pg_store.dsn, schema=pg_store.schema)
    store.close()
    with pytest.raises(CheckpointError, match="the store is closed"):
        store.load()
    with pytest.raises(CheckpointError, match="the store is closed"):
        store.lead()


def test_connections_find_a_vanished_server_by_tcp_keepalives_unless_the_dsn_says_otherwise(pg_store: PgStore) -> None:
    from iqmetrix_dropship._pg.connect import connect  # noqa: PLC0415 - what every store connects with

    with connect(pg_store.dsn, schema="public") as connection:
        given = connection.info.get_parameters()
    assert given["keepalives"] == "1"
    assert given["keepalives_idle"] == "10"
    assert given["tcp_user_timeout"] == "30000"
    with connect(f"{pg_store.dsn}?keepalives_idle=99", schema="public") as connection:
        assert connection.info.get_parameters()["keepalives_idle"] == "99"


def test_a_service_file_and_pgconnect_timeout_are_followed_as_they_are(
    postgres: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from iqmetrix_dropship._pg.connect import connect  # noqa: PLC0415 - what every store connects with

    services = tmp_path / "pg_service.conf"
    services.write_text(
        f"[shop]\nhost=127.0.0.1\nport={postgres.port}\nuser=dropship\ndbname=postgres\nkeepalives_idle=77\n"
    )
    monkeypatch.setenv("PGSERVICEFILE", str(services))
    monkeypatch.setenv("PGCONNECT_TIMEOUT", "60")
    with connect("postgresql://?service=shop", schema="public") as connection:
        assert connection.info.get_parameters()["keepalives_idle"] == "77"
    with connect(postgres.dsn, schema="public") as connection:
        given = connection.info.get_parameters()
    assert given["connect_timeout"] == "60"
    assert given["keepalives_idle"] == "10"
