"""The async follower over a PostgreSQL store calls it on a worker thread: while the store waits
on the database (here, a renewal of the lease waiting for a row another session holds), the
event loop goes on."""

from __future__ import annotations

import threading
import time
from typing import Any

import anyio
import psycopg

from iqmetrix_dropship import FeedEntry, OrderLedger
from iqmetrix_dropship.emulator import Emulator

from ..conftest import PgStore
from ..support import async_client_for


def test_the_async_follower_waits_on_the_database_without_holding_up_its_event_loop(pg_store: PgStore) -> None:
    emulator = Emulator(events=5, seed=1)
    ledger = OrderLedger(pg_store.dsn, schema=pg_store.schema, lease_seconds=60)
    assert ledger.lead()
    holder = psycopg.connect(pg_store.dsn, autocommit=True)
    holder.execute(f"SET search_path TO {pg_store.schema}")
    holder.execute("BEGIN")
    holder.execute("SELECT 1 FROM dropship_leases FOR SHARE")  # the next renewal waits for this
    ticks = 0
    loop_went_on: list[bool] = []

    def watch() -> None:
        """Off the loop: once the renewal waits, see whether the loop still ticks; then let go."""
        try:
            with psycopg.connect(pg_store.dsn, autocommit=True) as db:
                deadline = time.monotonic() + 30
                while db.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'").fetchone() != (
                    1,
                ):
                    assert time.monotonic() < deadline, "the renewal never waited"
                    time.sleep(0.01)
            seen = ticks
            deadline = time.monotonic() + 5  # a bound for a failure only: a loop held up never ticks
            while ticks < seen + 3 and time.monotonic() < deadline:
                time.sleep(0.01)
            loop_went_on.append(ticks >= seen + 3)
        finally:
            holder.execute("ROLLBACK")
            holder.close()

    async def scenario() -> list[FeedEntry]:
        nonlocal ticks

        async def tick() -> None:
            nonlocal ticks
            while True:
                await anyio.sleep(0.005)
                ticks += 1

        async with async_client_for(emulator) as client, anyio.create_task_group() as tasks:
            tasks.start_soon(tick)
            entries = [entry async for entry in client.follow(checkpoint=ledger).poll()]
            tasks.cancel_scope.cancel()
        return entries

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        entries: Any = anyio.run(scenario)
    finally:
        watcher.join()
        ledger.close()
    assert loop_went_on == [True]
    assert [entry.id for entry in entries] == emulator.entry_ids()
