"""The files a follower keeps its place in: refused when they cannot be used, before anything is
delivered and without being changed; created readable by their owner only."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from iqmetrix_dropship import CheckpointError, Cursor, DropshipClient, OrderLedger, SQLiteCheckpoint
from iqmetrix_dropship.emulator import Emulator

from .conftest import Connect


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(events=60, seed=5)


@pytest.fixture
def client(emulator: Emulator, connect: Connect) -> Iterator[DropshipClient]:
    """A client of this test's kind: both followers refuse the same files."""
    with connect(emulator) as sdk:
        yield sdk


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_plain_checkpoint_on_an_order_ledger_file_is_refused_and_moves_nothing(
    emulator: Emulator, client: DropshipClient, tmp_path: Path
) -> None:
    path = tmp_path / "orders.db"
    with OrderLedger(path) as ledger:
        for n, _ in enumerate(client.follow(checkpoint=ledger).poll()):
            if n == 9:
                break
        before = ledger.load()
        applied = ledger.event_count()

    with pytest.raises(CheckpointError, match=r"pass OrderLedger\(") as caught:
        client.follow(checkpoint=str(path))
    assert str(path) in str(caught.value)
    with pytest.raises(CheckpointError, match=r"pass OrderLedger\("):
        client.follow(checkpoint=path)

    with OrderLedger(path) as ledger:  # before: the ledger's cursor was moved to the end, unapplied
        assert ledger.load() == before
        assert ledger.event_count() == applied


def test_a_sqlite_checkpoint_object_on_a_ledger_file_can_read_but_never_move_its_cursor(
    client: DropshipClient, tmp_path: Path
) -> None:
    path = tmp_path / "orders.db"
    with OrderLedger(path) as ledger:
        ledger.save(Cursor("urn:uuid:e1", "p1"))
    with SQLiteCheckpoint(path) as checkpoint:
        assert checkpoint.load() == Cursor("urn:uuid:e1", "p1")
        with pytest.raises(CheckpointError, match="OrderLedger"):
            checkpoint.save(Cursor("urn:uuid:e9", "p9"))
        with pytest.raises(CheckpointError, match="OrderLedger"):
            client.follow(checkpoint=checkpoint)
    with OrderLedger(path) as ledger:
        assert ledger.load() == Cursor("urn:uuid:e1", "p1")


GARBAGE = b"this is not a database, it is a shopping list: milk, eggs\n" * 100


def _ledger_bytes(tmp_path: Path) -> bytes:
    path = tmp_path / "source.db"
    with OrderLedger(path) as ledger:
        ledger.save(Cursor("e", "p"))
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return path.read_bytes()


@pytest.mark.parametrize("content", ["garbage", "truncated"])
def test_a_garbage_or_truncated_checkpoint_file_is_refused_before_anything_is_delivered(
    client: DropshipClient, tmp_path: Path, content: str
) -> None:
    path = tmp_path / "state.db"
    data = GARBAGE if content == "garbage" else _ledger_bytes(tmp_path)[:5000]
    path.write_bytes(data)
    handled: list[str] = []
    with pytest.raises(CheckpointError) as caught:
        client.follow(checkpoint=path).run(lambda entry: handled.append(entry.id), interval=0)
    assert str(path) in str(caught.value)
    assert handled == []
    assert path.read_bytes() == data  # left as it was


@pytest.mark.parametrize("content", ["garbage", "truncated"])
def test_a_garbage_or_truncated_ledger_file_is_refused_with_a_clear_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "orders.db"
    data = GARBAGE if content == "garbage" else _ledger_bytes(tmp_path)[:5000]
    path.write_bytes(data)
    with pytest.raises(CheckpointError, match="not an order ledger"):
        OrderLedger(path)
    assert path.read_bytes() == data


def test_a_checkpoint_table_of_another_layout_is_refused_before_the_handler_runs(
    client: DropshipClient, tmp_path: Path
) -> None:
    path = tmp_path / "state.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE dropship_cursor (id INTEGER PRIMARY KEY, position TEXT NOT NULL)")
    connection.commit()
    connection.close()
    handled: list[str] = []
    with pytest.raises(CheckpointError, match="dropship_cursor"):
        client.follow(checkpoint=path).run(lambda entry: handled.append(entry.id), interval=0)
    assert handled == []  # before: the handler ran, then the commit failed with IntegrityError


def test_ledger_tables_of_another_layout_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "orders.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE dropship_orders (id INTEGER PRIMARY KEY)")
    connection.commit()
    connection.close()
    with pytest.raises(CheckpointError, match="not an order ledger"):
        OrderLedger(path)


def test_a_checkpoint_in_a_folder_that_does_not_exist_names_the_path(client: DropshipClient, tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="cannot open"):
        client.follow(checkpoint=tmp_path / "no" / "such" / "state.db")


@pytest.mark.parametrize(
    "spelling",
    # A plain path, and a file: name, which this SQLite reads as a URI (file://... is refused).
    ["{path}", "file:{path}", "file:{path}?cache=private"],
    ids=["path", "uri", "uri-with-query"],
)
def test_files_the_follower_and_the_ledger_create_are_readable_by_their_owner_only(
    client: DropshipClient, tmp_path: Path, spelling: str
) -> None:
    previous = os.umask(0o022)  # the usual umask, under which a plain create is 0644
    try:
        state = (
            str(tmp_path / "state.db") if spelling == "{path}" else spelling.format(path=tmp_path / "state%20one.db")
        )
        list(client.follow(checkpoint=state).poll())
        with OrderLedger(spelling.format(path=tmp_path / "orders.db")) as ledger:
            for _ in client.follow(checkpoint=ledger).poll():
                pass
            made = [path for path in tmp_path.iterdir() if path.is_file()]
            state_name = "state.db" if spelling == "{path}" else "state one.db"  # %20 decoded, as SQLite does
            assert {path.name for path in made} >= {state_name, "orders.db", "orders.db-wal", "orders.db-shm"}
            assert {path.name: mode(path) for path in made} == {path.name: 0o600 for path in made}
    finally:
        os.umask(previous)


def test_an_existing_file_keeps_the_mode_its_owner_chose(tmp_path: Path) -> None:
    path = tmp_path / "orders.db"
    path.touch(mode=0o640)
    path.chmod(0o640)
    OrderLedger(path).close()
    assert mode(path) == 0o640


def test_a_cursor_table_with_the_right_columns_but_no_primary_key_is_refused(
    client: DropshipClient, tmp_path: Path
) -> None:
    path = tmp_path / "state.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE dropship_cursor (name TEXT, entry_id TEXT, page_id TEXT, updated_at TEXT)")
    connection.commit()
    connection.close()
    handled: list[str] = []
    with pytest.raises(CheckpointError, match="dropship_cursor"):  # before: delivered, then a raw OperationalError
        client.follow(checkpoint=path).run(lambda entry: handled.append(entry.id), interval=0)
    assert handled == []


def _file_state(path: Path) -> tuple[bytes, list[str]]:
    return path.read_bytes(), sorted(p.name for p in path.parent.iterdir())


def test_a_file_refused_as_a_ledger_or_a_checkpoint_is_left_exactly_as_it_was(
    client: DropshipClient, tmp_path: Path
) -> None:
    path = tmp_path / "theirs.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE dropship_cursor (id INTEGER PRIMARY KEY, something_else TEXT)")
    connection.commit()
    connection.close()
    before = _file_state(path)
    with pytest.raises(CheckpointError):
        OrderLedger(path)  # before: refused, but with four ledger tables, a version and WAL mode added
    assert _file_state(path) == before
    with pytest.raises(CheckpointError):
        client.follow(checkpoint=path)  # before: refused, but switched to WAL mode
    assert _file_state(path) == before
