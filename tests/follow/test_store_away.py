"""The PostgreSQL server goes away in the middle of a poll (it is stopped, as a crash or a restart
would), and comes back: the follower's ``run`` waits it out and resumes from its cursor. Nothing
of the entry in hand was written (its transaction never committed), nothing is lost or repeated
in the ledger, and the handler sees only that entry again."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import pytest

from iqmetrix_dropship import FeedEntry, OrderLedger, StoreUnavailableError
from iqmetrix_dropship.emulator import Emulator

from ..conftest import PgStore
from ..postgres import PostgresServer
from .conftest import Connect

AWAY_AT = 20


@pytest.mark.parametrize("mode", ["immediate", "fast"])
def test_a_database_that_goes_away_mid_poll_is_waited_out_and_nothing_is_lost(
    postgres: PostgresServer, pg_store: PgStore, connect: Connect, caplog: pytest.LogCaptureFixture, mode: str
) -> None:
    emulator = Emulator(events=60, seed=8)
    ids = emulator.entry_ids()
    ledger = OrderLedger(pg_store.dsn, schema=pg_store.schema, lease_seconds=60)
    seen: list[str] = []
    away, done, stop = threading.Event(), threading.Event(), threading.Event()

    def handle(entry: FeedEntry) -> None:
        seen.append(entry.id)
        if len(seen) == AWAY_AT:
            postgres.stop(mode)  # with this entry in hand: its transaction cannot commit
            away.set()
        if set(seen) == set(ids):
            done.set()

    caplog.set_level(logging.WARNING, logger="iqmetrix_dropship.follow")
    try:
        with connect(emulator) as client:
            follower = client.follow(checkpoint=ledger)
            runner = threading.Thread(target=follower.run, args=(handle,), kwargs={"interval": 0.05, "stop": stop})
            runner.start()
            try:
                try:
                    assert away.wait(30)
                    _until(lambda: caplog.text.count("poll failed") >= 3)  # it noticed, and keeps trying
                    assert runner.is_alive()
                finally:
                    postgres.start()
                assert done.wait(60), f"the follower did not resume: {len(seen)} entries seen"
            finally:
                stop.set()
                runner.join(timeout=30)
        assert not runner.is_alive()
    finally:
        if not postgres_running(postgres):
            postgres.start()
    # The ledger writes a page per transaction: the first page's write (when the first entry of
    # the next page is handled) found the server away, so that whole page, and the entry in hand,
    # come again; nothing else.
    assert seen == ids[:51] + ids
    assert ledger.entry_ids() == ids  # each entry once, in order: no gap, no half-applied entry
    assert "did not answer" in caplog.text
    ledger.close()


def test_a_ledger_whose_server_went_away_says_so_and_works_again_once_it_is_back(
    postgres: PostgresServer, pg_store: PgStore
) -> None:
    ledger = OrderLedger(pg_store.dsn, schema=pg_store.schema)
    assert ledger.counts() == {}
    postgres.stop("fast")
    try:
        with pytest.raises(StoreUnavailableError, match="did not answer"):
            ledger.counts()
        with pytest.raises(StoreUnavailableError, match="did not answer"):
            ledger.counts()  # connecting again fails the same way, while it is away
    finally:
        postgres.start()
    assert ledger.counts() == {}  # and the next use connects again
    ledger.close()


def postgres_running(postgres: PostgresServer) -> bool:
    return (postgres.datadir / "postmaster.pid").exists()


def _until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.01)
