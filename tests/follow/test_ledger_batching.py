"""A follower into an order ledger, which writes a feed page's entries in one transaction: however
a poll ends (caught up, ``break``, a handler that raises, a lost lease, a database away, the
process killed) every entry is applied exactly once, and what was not written is delivered again.

The emulator's pages hold 50 entries: 120 events are pages of 50, 50 and 20.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from iqmetrix_dropship import Cursor, FeedEntry, LeaseLostError, OrderLedger
from iqmetrix_dropship.emulator import Emulator

from ..conftest import PgStore
from .conftest import Connect

PAGE = 50


def test_a_loop_that_breaks_mid_page_has_the_entries_before_it_applied_and_not_the_one_in_hand(
    connect: Connect, tmp_path: Path
) -> None:
    emulator = Emulator(events=120, seed=21)
    ids = emulator.entry_ids()
    with OrderLedger(tmp_path / "orders.db") as ledger, connect(emulator) as client:
        follower = client.follow(checkpoint=ledger)
        with contextlib.closing(follower.poll()) as entries:
            for n, entry in enumerate(entries, start=1):
                if n == 70:  # mid second page
                    in_hand = entry.id
                    break
        with OrderLedger(tmp_path / "orders.db") as other:  # another process's view: committed only
            assert other.entry_ids() == ids[:69]
            cursor = other.load()
        assert cursor is not None
        assert cursor.entry_id == ids[68]
        rest = [entry.id for entry in follower.poll()]
    assert in_hand == ids[69]
    assert rest == ids[69:]


def test_a_handler_that_fails_mid_page_leaves_the_entries_before_it_applied(
    connect: Connect, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    emulator = Emulator(events=120, seed=22)
    ids = emulator.entry_ids()
    stop = threading.Event()
    seen: list[str] = []

    def handle(entry: FeedEntry) -> None:
        seen.append(entry.id)
        if len(seen) == 70:
            stop.set()  # run returns once this poll has ended
            raise RuntimeError("warehouse down")

    caplog.set_level(logging.ERROR, logger="iqmetrix_dropship.follow")
    with OrderLedger(tmp_path / "orders.db") as ledger, connect(emulator) as client:
        client.follow(checkpoint=ledger).run(handle, interval=0.01, stop=stop)
        with OrderLedger(tmp_path / "orders.db") as other:
            assert other.entry_ids() == ids[:69]  # the failed one is delivered again at the next poll
        assert "warehouse down" in caplog.text
        assert [entry.id for entry in client.follow(checkpoint=ledger).poll()] == ids[69:]
    assert seen == ids[:70]


def test_the_loop_body_reads_through_the_ledger_every_entry_the_loop_moved_past(
    connect: Connect, tmp_path: Path
) -> None:
    emulator = Emulator(events=120, seed=23)
    ids = emulator.entry_ids()
    with OrderLedger(tmp_path / "orders.db") as ledger, connect(emulator) as client:
        for n, entry in enumerate(client.follow(checkpoint=ledger).poll()):
            if n in (1, 30, 50, 51, 99, 119):
                assert ledger.entry_ids() == ids[:n]  # not the one in hand: it is not handled yet
                assert entry.id == ids[n]
        assert ledger.entry_ids() == ids


# -- a process killed mid-page ---------------------------------------------------------------------

_CHILD = """
import sys
from iqmetrix_dropship import DropshipClient, OrderLedger
from iqmetrix_dropship.emulator._config import (
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_PASSWORD, DEFAULT_SUPPLIER_ID, DEFAULT_USERNAME,
)

base_url, path, stop_at = sys.argv[1], sys.argv[2], int(sys.argv[3])
with (
    DropshipClient(
        supplier_id=DEFAULT_SUPPLIER_ID, client_id=DEFAULT_CLIENT_ID, client_secret=DEFAULT_CLIENT_SECRET,
        username=DEFAULT_USERNAME, password=DEFAULT_PASSWORD, base_url=base_url, accounts_url=base_url,
    ) as client,
    OrderLedger(path) as ledger,
):
    for n, entry in enumerate(client.follow(checkpoint=ledger).poll(), start=1):
        print(entry.id, flush=True)
        if n == stop_at:
            print("WAITING", flush=True)
            sys.stdin.readline()  # the parent kills it here, entry in hand
print("DONE", flush=True)
"""


def _lines(process: subprocess.Popen[str]) -> queue.Queue[str]:
    """The child's lines, read on a thread of their own (a select on the pipe would not see the
    lines its reader already took in)."""
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.strip())
        lines.put("EXITED")

    threading.Thread(target=read, daemon=True).start()
    return lines


def test_a_process_killed_mid_page_leaves_the_previous_page_and_a_restart_applies_each_entry_once(
    tmp_path: Path,
) -> None:
    emulator = Emulator(events=120, seed=24)
    ids = emulator.entry_ids()
    path = tmp_path / "orders.db"
    with emulator.serve() as server:
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD, server.base_url, str(path), "75"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            lines, printed = _lines(child), []
            while (line := lines.get(timeout=60)) != "WAITING":
                assert line != "EXITED", child.stderr.read() if child.stderr else ""
                printed.append(line)
            assert printed == ids[:75]
            with OrderLedger(path) as ledger:  # what survives the kill: the first page, whole
                assert ledger.entry_ids() == ids[:PAGE]
                cursor = ledger.load()
            assert cursor is not None
            assert cursor.entry_id == ids[PAGE - 1]
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait(timeout=30)
            for stream in (child.stdin, child.stdout, child.stderr):
                if stream:
                    stream.close()
        again = subprocess.run(
            [sys.executable, "-c", _CHILD, server.base_url, str(path), "0"],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    assert again.stdout.split() == [*ids[PAGE:], "DONE"]  # the second page again, from its start
    with OrderLedger(path) as ledger:
        assert ledger.entry_ids() == ids  # each once, in order
        assert ledger.event_count() == len(ids)


# -- PostgreSQL: the lease, and a database that goes away ------------------------------------------


@pytest.fixture
def replicas(pg_store: PgStore) -> Iterator[Callable[[str], OrderLedger]]:
    opened: list[OrderLedger] = []

    def open_one(holder: str) -> OrderLedger:
        ledger = OrderLedger(pg_store.dsn, schema=pg_store.schema, holder=holder, lease_seconds=60)
        opened.append(ledger)
        return ledger

    yield open_one
    for ledger in opened:
        ledger.close()


def _expire(pg_store: PgStore) -> None:
    """What a pause past the lease does: the lease's time runs out while its holder sleeps."""
    with psycopg.connect(pg_store.dsn, autocommit=True) as db:
        db.execute(f"SET search_path TO {pg_store.schema}")
        db.execute("UPDATE dropship_leases SET expires_at = clock_timestamp() - interval '1 second'")


def _terms(pg_store: PgStore) -> list[int]:
    with psycopg.connect(pg_store.dsn, autocommit=True) as db:
        db.execute(f"SET search_path TO {pg_store.schema}")
        return [row[0] for row in db.execute("SELECT lease_token FROM dropship_events ORDER BY seq")]


def test_a_leader_that_lost_its_lease_mid_page_writes_none_of_it_and_the_new_one_delivers_it(
    replicas: Callable[[str], OrderLedger], connect: Connect, pg_store: PgStore
) -> None:
    emulator = Emulator(events=120, seed=25)
    ids = emulator.entry_ids()
    old, new = replicas("old"), replicas("new")
    delivered: list[FeedEntry] = []

    def follow() -> None:
        with contextlib.closing(client.follow(checkpoint=old).poll()) as entries:
            for entry in entries:
                delivered.append(entry)
                if len(delivered) == 60:  # mid second page: the first is written, under its term
                    _expire(pg_store)  # paused here, past its lease
                    assert new.lead()

    with connect(emulator) as client:
        with pytest.raises(LeaseLostError):
            follow()
        # It went on to the end of the page (nothing to write meanwhile): that write is refused.
        assert [entry.id for entry in delivered] == ids[: 2 * PAGE + 1]
        assert new.entry_ids() == ids[:PAGE]
        rest = [entry.id for entry in client.follow(checkpoint=new).poll()]
    assert rest == ids[PAGE:]  # the page it could not write, again, and the rest
    assert new.entry_ids() == ids  # every entry once
    terms = _terms(pg_store)
    assert terms == sorted(terms)
    assert len(set(terms)) == 2  # the first page by the old term, the rest by the new one
    with pytest.raises(LeaseLostError, match=r"load\(\) the cursor"):  # nor does the old one go on past them
        old.advance(Cursor(delivered[-1].id, "p"), delivered[-1])


def test_the_leader_writes_a_page_in_one_fenced_transaction(
    replicas: Callable[[str], OrderLedger], connect: Connect, pg_store: PgStore
) -> None:
    emulator = Emulator(events=120, seed=26)
    leader = replicas("leader")
    with connect(emulator) as client:
        follower = client.follow(checkpoint=leader)
        with contextlib.closing(follower.poll()) as entries:
            for n, _entry in enumerate(entries, start=1):
                if n == 60:
                    with OrderLedger(pg_store.dsn, schema=pg_store.schema) as reader:
                        assert reader.entry_ids() == emulator.entry_ids()[:PAGE]
                    break
    terms = _terms(pg_store)
    assert len(terms) == 59
    assert set(terms) == {leader.lease_token}
