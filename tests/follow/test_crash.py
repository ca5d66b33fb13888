"""Crash safety: a follower killed with SIGKILL at random moments, again and again, loses nothing
and applies nothing twice. The child process follows the emulator's feed (over HTTP on 127.0.0.1)
into an order ledger; the test kills it after a random number of entries, sometimes lets the
retailer sell more in between (so pages roll over), restarts it, and finally compares the ledger
with the emulator event by event.
"""

from __future__ import annotations

import os
import random
import selectors
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from iqmetrix_dropship import OrderLedger
from iqmetrix_dropship.emulator import Emulator

CHILD = Path(__file__).with_name("crash_child.py")
# The soak's length: DROPSHIP_CRASH_KILLS=200 for a long run; 24 in the suite (about 15 s).
KILLS = int(os.environ.get("DROPSHIP_CRASH_KILLS", "24"))
LINE_DEADLINE = 60.0  # seconds to wait for one line from the child before failing


def read_line(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout=LINE_DEADLINE):
            raise AssertionError("the child printed nothing for a minute")
    line = process.stdout.readline()
    if not line:
        stderr = process.stderr.read() if process.stderr else ""
        raise AssertionError(f"the child exited early (code {process.wait()}):\n{stderr}")
    return line.strip()


def start(base_url: str, ledger: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, str(CHILD), base_url, str(ledger)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def reap(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(timeout=30)
    for stream in (process.stdout, process.stderr):
        if stream:
            stream.close()


@pytest.mark.slow
def test_a_follower_killed_at_random_moments_applies_every_event_exactly_once(tmp_path: Path) -> None:
    rng = random.Random(20261123)
    emulator = Emulator(events=5_000, seed=42)
    ledger_path = tmp_path / "orders.db"
    kills = 0
    with emulator.serve() as server:
        while kills < KILLS:
            child = start(server.base_url, ledger_path)
            try:
                target = rng.randint(1, 450)
                handled = 0
                while handled < target:
                    if read_line(child) == "DONE":
                        break
                    handled += 1
                else:
                    # The child runs on while we decide: the kill lands wherever it happens to be,
                    # mid-request, mid-parse or mid-transaction.
                    child.send_signal(signal.SIGKILL)
                    kills += 1
            finally:
                reap(child)
            if rng.random() < 0.3:
                emulator.place_orders(rng.randint(1, 120))  # roll-overs between restarts

        final = start(server.base_url, ledger_path)
        try:
            while read_line(final) != "DONE":
                pass
        finally:
            reap(final)

    with OrderLedger(ledger_path) as ledger:
        applied = ledger.entry_ids()
        feed = emulator.entry_ids()
        assert kills >= 20
        assert len(applied) == len(set(applied)), "an event was applied twice"
        assert applied == feed, "the ledger must hold every feed event once, in feed order"
        assert ledger.event_count(source="feed") == emulator.event_count
        assert {str(order.order_id) for order in ledger.orders()} == set(emulator.order_ids()), "an order was lost"
