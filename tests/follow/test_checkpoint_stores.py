"""One suite for every durable checkpoint store: SQLite and PostgreSQL, bare or the order ledger.

What a follower relies on (``CheckpointStore``): an empty store loads ``None``; ``save`` and
``advance`` commit a cursor that a store reopened on the same file or schema loads again; cursors
are kept per name; a follower over the store replays, resumes and survives a restart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from iqmetrix_dropship import Cursor, OrderLedger, PostgresCheckpoint, SQLiteCheckpoint
from iqmetrix_dropship.emulator import Emulator

from ..conftest import PgStore
from .conftest import Connect

OpenStore = Callable[..., Any]


@pytest.fixture(params=["sqlite", "postgres", "sqlite-ledger", "postgres-ledger"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpenStore]:
    """``open_store(name=...)``: the test's store, opened (again) on the same file or schema."""
    opened: list[Any] = []
    kind = str(request.param)

    def open_it(**options: Any) -> Any:
        store: Any
        if kind.startswith("postgres"):
            pg: PgStore = request.getfixturevalue("pg_store")
            cls = OrderLedger if kind.endswith("ledger") else PostgresCheckpoint
            store = cls(pg.dsn, schema=pg.schema, **options)
        else:
            path = tmp_path / "state.db"
            store = OrderLedger(path, **options) if kind.endswith("ledger") else SQLiteCheckpoint(path, **options)
        opened.append(store)
        return store

    yield open_it
    for store in opened:
        store.close()


def test_an_empty_store_has_no_cursor(open_store: OpenStore) -> None:
    assert open_store().load() is None


def test_a_saved_cursor_is_loaded_again_after_a_reopen(open_store: OpenStore) -> None:
    store = open_store()
    store.save(Cursor(None, None))
    assert store.load() == Cursor(None, None)
    store.save(Cursor("urn:uuid:e1", "p1"))
    store.close()
    assert open_store().load() == Cursor("urn:uuid:e1", "p1")


def test_cursors_are_kept_per_name(open_store: OpenStore) -> None:
    a, b = open_store(name="a"), open_store(name="b")
    a.save(Cursor("urn:uuid:a", "p1"))
    assert b.load() is None
    b.save(Cursor("urn:uuid:b", "p2"))
    assert a.load() == Cursor("urn:uuid:a", "p1")


def test_a_follower_over_the_store_replays_resumes_and_survives_a_restart(
    open_store: OpenStore, connect: Connect
) -> None:
    emulator = Emulator(events=130, seed=11)  # two archive pages and a current page
    with connect(emulator) as client:
        before = open_store()
        first = [entry.id for entry in client.follow(checkpoint=before).poll()]
        before.close()  # the process stops (a replica steps down on close)
        emulator.place_orders(60)  # the current page rolls over
        restarted = open_store()
        second = [entry.id for entry in client.follow(checkpoint=restarted).poll()]
        assert [entry.id for entry in client.follow(checkpoint=restarted).poll()] == []
    assert first + second == emulator.entry_ids()


def test_a_follower_stops_where_the_handler_failed_and_resumes_there(open_store: OpenStore, connect: Connect) -> None:
    emulator = Emulator(events=70, seed=3)
    handled: list[str] = []

    def handle_until_the_warehouse_is_down(entries: Any) -> None:
        for entry in entries:
            if len(handled) == 25:
                raise RuntimeError("the warehouse is down")
            handled.append(entry.id)

    with connect(emulator) as client:
        crashed = open_store()
        with pytest.raises(RuntimeError):
            handle_until_the_warehouse_is_down(client.follow(checkpoint=crashed).poll())
        crashed.close()
        handled += [entry.id for entry in client.follow(checkpoint=open_store()).poll()]
    assert handled == emulator.entry_ids()
