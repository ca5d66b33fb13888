"""Ledger benchmark: the order ledger's own cost of applying the feed, without fetching or parsing it.

The emulator's feed (``--events``, 100,000 by default, seed 1) is rendered and parsed once, before
anything is measured; then each store is handed every entry as a follower hands them
(``advance(cursor, entry)`` in feed order, a ``flush()`` at the end, as a poll's end does):

- ``sqlite``: an ``OrderLedger`` in a new SQLite file (a page of entries per transaction);
- ``sqlite/entry``: the same, flushed after every entry (one transaction per entry, as the ledger
  did before it wrote a page at a time), on the first ``--per-entry`` entries only;
- ``postgres``: the PostgreSQL ``OrderLedger`` as the leader (its writes fenced by the lease), on a
  throwaway local server (``tests/postgres.py``: Debian's PostgreSQL, fsync on as in production)
  or on ``--postgres DSN``; skipped, said, when there is no server.

Prints a table, then as its last line one JSON object of named figures (events/s and µs per entry,
wall and CPU). Usage: ``python bench/ledger.py [--events 100000] [--per-entry 5000] [--postgres DSN]``.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parent))
from backfill import postgres_server  # noqa: E402 - the same throwaway server as the backfill's


def feed_entries(events: int) -> list[tuple[Any, Any]]:
    """Every entry of the emulator's feed with the cursor a follower hands the store, oldest first."""
    from iqmetrix_dropship.emulator import Emulator
    from iqmetrix_dropship.feed import parse_feed
    from iqmetrix_dropship.follow import Cursor

    emulator = Emulator(events=events, seed=1)
    entries = []
    for page_id in emulator.page_ids():
        page = parse_feed(emulator.page(page_id))
        entries += [(Cursor(entry.id, page_id), entry) for entry in reversed(page.entries)]  # oldest first
    assert [cursor.entry_id for cursor, _ in entries] == emulator.entry_ids()
    return entries


def measure(ledger: Any, entries: list[tuple[Any, Any]], *, per_entry: bool = False) -> dict[str, float]:
    ledger.lead()  # on PostgreSQL: the lease, outside the measurement
    started, cpu = time.perf_counter(), time.process_time()
    for cursor, entry in entries:
        ledger.advance(cursor, entry)
        if per_entry:
            ledger.flush()
    ledger.flush()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert ledger.event_count() == len(entries)
    return {"entries": len(entries), "wall_s": wall, "cpu_s": cpu}


def main() -> None:
    from iqmetrix_dropship import OrderLedger

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--per-entry", type=int, default=5_000, help="entries measured one transaction each")
    parser.add_argument("--postgres", metavar="DSN", help="a PostgreSQL server to use (else a throwaway one)")
    args = parser.parse_args()

    started = time.perf_counter()
    entries = feed_entries(args.events)
    print(f"{len(entries):,} entries rendered and parsed in {time.perf_counter() - started:.1f} s (not measured)")
    # The whole parsed feed stays in memory here, where a follower holds a few pages: frozen, so that
    # the garbage collector's full passes do not walk it and charge the ledger for it.
    gc.collect()
    gc.freeze()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        with OrderLedger(Path(tmp) / "orders.db") as ledger:
            results["sqlite"] = measure(ledger, entries)
        with OrderLedger(Path(tmp) / "per-entry.db") as ledger:
            results["sqlite/entry"] = measure(ledger, entries[: args.per_entry], per_entry=True)
    with contextlib.ExitStack() as stack:
        dsn = args.postgres or postgres_server(stack)
        if dsn is not None:
            with OrderLedger(dsn, schema=f"bench_{os.getpid()}") as ledger:
                results["postgres"] = measure(ledger, entries)

    print(f"{'store':<14}{'entries':>9}{'wall s':>9}{'cpu s':>9}{'events/s':>10}{'us/entry':>10}{'cpu us':>9}")
    for store, result in results.items():
        n = result["entries"]
        print(
            f"{store:<14}{n:>9,.0f}{result['wall_s']:>9.2f}{result['cpu_s']:>9.2f}{n / result['wall_s']:>10,.0f}"
            f"{result['wall_s'] / n * 1e6:>10.1f}{result['cpu_s'] / n * 1e6:>9.1f}"
        )
    figures: dict[str, float] = {"events": len(entries)}
    for store, name in (("sqlite", "sqlite"), ("sqlite/entry", "sqlite_per_entry"), ("postgres", "pg")):
        if store in results:
            result = results[store]
            n = result["entries"]
            figures[f"{name}_apply_per_s"] = round(n / result["wall_s"])
            figures[f"{name}_us_per_entry"] = round(result["wall_s"] / n * 1e6, 1)
            figures[f"{name}_cpu_us_per_entry"] = round(result["cpu_s"] / n * 1e6, 1)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
