"""Chaos with real processes: 3 follower replicas and 4 workers (``dropship run``) on one PostgreSQL
database follow the emulator's feed while orders keep arriving; replicas and workers are killed
(SIGKILL) at random and started again, and the current leader is paused (SIGSTOP) past its lease,
then resumed. Afterwards:

- the ledger holds every feed entry exactly once, in the feed's order (ids checked against the
  emulator's);
- no order is lost or left unclaimed: every order ends as the emulator has it, none pending;
- no order was worked by two workers at once (each worker logs its handling on one clock);
- at most one leader wrote at any moment: the terms (fencing tokens) recorded on the events never
  go back, and every one is a term the lease granted;
- every order sent twice is accounted for by a crash between its PUT and its commit (a resend
  logged in ``dropship_resent``);
- after each SIGKILL of the leader, a standby polled (wrote the next entries) within two lease
  periods (measured).

The counts are printed (``pytest -s``). ``DROPSHIP_CHAOS_KILLS`` sets the number of kills (25).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest

from iqmetrix_dropship import OrderLedger
from iqmetrix_dropship.emulator import Emulator, EmulatorServer

from ..conftest import PgStore
from .chaos_handler import tracking

ROOT = Path(__file__).resolve().parents[2]
KILLS = int(os.environ.get("DROPSHIP_CHAOS_KILLS", "25"))
PAUSES = 3
LEASE = 1.5
REPLICAS, WORKERS = 3, 4
SETTLE = 180.0  # seconds for the set-up to catch up once the chaos stops


@dataclass
class Slot:
    """One process of the set-up, started again after each kill."""

    kind: str
    number: int
    process: subprocess.Popen[bytes] | None = None
    started: list[int] = field(default_factory=list)


@dataclass
class Chaos:
    """The set-up under test, and what happened to it."""

    server: EmulatorServer
    emulator: Emulator
    store: PgStore
    logs: Path
    slots: list[Slot] = field(default_factory=list)
    killed: dict[int, float] = field(default_factory=dict)  # pid: monotonic time of its SIGKILL
    failovers: list[float] = field(default_factory=list)  # seconds from a leader's SIGKILL to a new term
    first_writes: list[float] = field(default_factory=list)  # ... to that new leader's first entry written
    paused_leaders: list[tuple[str, int, int]] = field(default_factory=list)  # holder, term before, term after

    def env(self) -> dict[str, str]:
        credentials = self.emulator.credentials
        return {
            **os.environ,
            "IQMETRIX_SUPPLIER_ID": str(credentials.supplier_id),
            "IQMETRIX_CLIENT_ID": credentials.client_id,
            "IQMETRIX_CLIENT_SECRET": credentials.client_secret,
            "IQMETRIX_USERNAME": credentials.username,
            "IQMETRIX_PASSWORD": credentials.password,
            "IQMETRIX_BASE_URL": self.server.base_url,
            "IQMETRIX_ACCOUNTS_URL": self.server.base_url,
            "PYTHONPATH": str(ROOT),
            "DROPSHIP_CHAOS_LOG": str(self.logs / "work.log"),
        }

    def start(self, slot: Slot) -> None:
        command = [sys.executable, "-m", "iqmetrix_dropship.cli", "--max-retries", "5", "run"]
        command += ["--db", self.store.dsn, "--schema", self.store.schema, "--lease", str(LEASE), "--interval", "0.2"]
        if slot.kind == "worker":
            command += ["--no-follower", "--workers", "1", "--handler", "tests.follow.chaos_handler:ship"]
            command += ["--worker-interval", "0.2", "--claim-limit", "5"]
        with (self.logs / f"{slot.kind}-{slot.number}.log").open("ab") as log:  # the child keeps its own
            slot.process = subprocess.Popen(command, env=self.env(), stdout=log, stderr=log, cwd=ROOT)
        slot.started.append(slot.process.pid)

    def db(self) -> psycopg.Connection[Any]:
        connection = psycopg.connect(self.store.dsn, autocommit=True)
        connection.execute(f"SET search_path TO {self.store.schema}")
        return connection

    def leader(self) -> tuple[str, int] | None:
        with self.db() as db:
            row = db.execute(
                "SELECT holder, token FROM dropship_leases "
                "WHERE name = 'ledger:default' AND expires_at > clock_timestamp()"
            ).fetchone()
        return None if row is None else (str(row[0]), int(row[1]))

    def last_writer(self) -> int:
        """The term of the last entry written."""
        with self.db() as db:
            row = db.execute("SELECT lease_token FROM dropship_events WHERE source = 'feed' ORDER BY seq DESC LIMIT 1")
            found = row.fetchone()
        return 0 if found is None or found[0] is None else int(found[0])

    def slot_of(self, holder: str) -> Slot | None:
        pid = int(holder.split(":")[1])
        return next((slot for slot in self.slots if slot.process is not None and slot.process.pid == pid), None)

    def kill(self, slot: Slot) -> None:
        assert slot.process is not None
        self.killed[slot.process.pid] = time.monotonic()
        slot.process.kill()
        slot.process.wait()
        self.start(slot)

    def term_after(self, token: int, deadline: float) -> int | None:
        """The next term, once one began (polled until ``deadline``)."""
        while time.monotonic() < deadline:
            leader = self.leader()
            if leader is not None and leader[1] > token:
                return leader[1]
            time.sleep(0.05)
        return None


@pytest.fixture
def chaos(pg_store: PgStore, tmp_path: Path) -> Iterator[Chaos]:
    emulator = Emulator(events=4200, seed=77)
    OrderLedger(pg_store.dsn, schema=pg_store.schema).close()  # the schema, before anyone asks who leads
    with emulator.serve() as server:
        run = Chaos(server, emulator, pg_store, tmp_path)
        run.slots = [Slot("replica", n) for n in range(REPLICAS)] + [Slot("worker", n) for n in range(WORKERS)]
        try:
            yield run
        finally:
            for slot in run.slots:
                if slot.process is not None and slot.process.poll() is None:
                    slot.process.send_signal(signal.SIGCONT)
                    slot.process.kill()
                    slot.process.wait()


def _sell(emulator: Emulator, stop: threading.Event) -> None:
    while not stop.wait(0.05):
        emulator.place_order()


@pytest.mark.slow
def test_replicas_and_workers_killed_and_paused_at_random_lose_and_repeat_nothing(chaos: Chaos) -> None:
    rng = random.Random(int(os.environ.get("DROPSHIP_CHAOS_SEED", "1")))
    for slot in chaos.slots:
        chaos.start(slot)
    assert chaos.term_after(0, time.monotonic() + 30) is not None, "no replica ever led"

    selling = threading.Event()
    retailer = threading.Thread(target=_sell, args=(chaos.emulator, selling), daemon=True)
    retailer.start()
    pauses_at = set(rng.sample(range(max(0, min(4, KILLS - PAUSES)), KILLS), min(PAUSES, KILLS)))
    try:
        for step in range(KILLS):
            time.sleep(rng.uniform(0.3, 1.2))
            if step in pauses_at:
                _pause_the_leader(chaos)
            leader = chaos.leader()
            if step % 5 == 2 and leader is not None and (slot := chaos.slot_of(leader[0])) is not None:
                _kill_the_leader(chaos, slot, leader[1])  # failover, measured
            else:
                chaos.kill(rng.choice(chaos.slots))
    finally:
        selling.set()
        retailer.join()

    ledger = _settled(chaos)
    try:
        _check(chaos, ledger)
    finally:
        ledger.close()
    for slot in chaos.slots:
        assert slot.process is not None
        slot.process.send_signal(signal.SIGTERM)
    codes = [slot.process.wait(timeout=30) for slot in chaos.slots if slot.process is not None]
    assert codes == [0] * len(codes), f"exit codes on SIGTERM: {codes}"


def _kill_the_leader(chaos: Chaos, slot: Slot, token: int) -> None:
    """SIGKILL the leader; the fail-over is the time until a standby takes the lease (a newer
    term), and then until the new leader's first entry is written (orders keep arriving, so a
    leader that polls writes; the ledger writes a page at a time, or every half second)."""
    killed_at = time.monotonic()
    chaos.kill(slot)
    deadline = killed_at + 4 * LEASE
    taken = chaos.term_after(token, deadline)
    chaos.failovers.append(time.monotonic() - killed_at if taken is not None else float("inf"))
    while taken is not None and time.monotonic() < deadline:
        if chaos.last_writer() > token:
            chaos.first_writes.append(time.monotonic() - killed_at)
            return
        time.sleep(0.02)
    chaos.first_writes.append(float("inf"))


def _pause_the_leader(chaos: Chaos) -> None:
    leader = chaos.leader()
    if leader is None or (slot := chaos.slot_of(leader[0])) is None or slot.process is None:
        return
    slot.process.send_signal(signal.SIGSTOP)
    try:
        after = chaos.term_after(leader[1], time.monotonic() + 3 * LEASE)  # a standby takes over meanwhile
        time.sleep(0.5)
    finally:
        slot.process.send_signal(signal.SIGCONT)  # it wakes up believing it leads: it must write nothing
    chaos.paused_leaders.append((leader[0], leader[1], after or 0))


def _settled(chaos: Chaos) -> OrderLedger:
    """The ledger once every entry is in, no order is pending, and nothing is left in the outbox."""
    ledger = OrderLedger(chaos.store.dsn, schema=chaos.store.schema)
    deadline = time.monotonic() + SETTLE
    while time.monotonic() < deadline:
        with chaos.db() as db:
            outbox = db.execute("SELECT count(*) FROM dropship_outbox").fetchone()
        pending = ledger.counts().get("PendingSupplier", 0)
        if outbox == (0,) and pending == 0 and ledger.entry_ids() == chaos.emulator.entry_ids():
            return ledger
        time.sleep(0.5)
    ledger.close()
    raise AssertionError(f"not settled after {SETTLE:.0f} s; see the logs in {chaos.logs}")


def _check(chaos: Chaos, ledger: OrderLedger) -> None:
    emulator = chaos.emulator
    entry_ids = ledger.entry_ids()
    assert entry_ids == emulator.entry_ids()  # every entry, once, in order
    assert len(entry_ids) >= 5000

    orders = {str(order.order_id): order for order in ledger.orders()}
    assert set(orders) == set(emulator.order_ids())  # no order lost
    assert ledger.counts().get("PendingSupplier", 0) == 0  # none left unclaimed
    worked = _worked(chaos)
    for order_id in worked:  # what the workers shipped, the server and the ledger have as shipped
        assert emulator.order_status(order_id) == "Shipped", order_id
        assert str(orders[order_id].status) == "Shipped", order_id

    overlaps = _overlapping_work(chaos)
    assert overlaps == [], f"orders worked by two workers at once: {overlaps[:5]}"

    with chaos.db() as db:
        tokens = [
            row[0] for row in db.execute("SELECT lease_token FROM dropship_events WHERE source = 'feed' ORDER BY seq")
        ]
        terms = {row[0] for row in db.execute("SELECT token FROM dropship_lease_terms WHERE name = 'ledger:default'")}
        resent = defaultdict(int)
        for (order_id,) in db.execute("SELECT order_id FROM dropship_resent"):
            resent[order_id] += 1
        shipped_echoes = defaultdict(int)  # the server's echoes of the workers' PUTs
        for order_id, payload in db.execute(
            "SELECT order_id, payload FROM dropship_events WHERE source = 'feed' AND kind = 'order-status-updated'"
        ):
            if all(item["tracking_info"] == tracking(order_id) for item in json.loads(payload)["items"]):
                shipped_echoes[order_id] += 1
    assert None not in tokens  # every feed event was written by a leader, under a term
    assert tokens == sorted(tokens), "an older term wrote after a newer one"
    assert set(tokens) <= terms
    repeated = {order_id: n for order_id, n in shipped_echoes.items() if n > 1}
    unaccounted = {order_id: n for order_id, n in repeated.items() if resent[order_id] < n - 1}
    assert unaccounted == {}, f"PUTs repeated without a crash to account for them: {unaccounted}"

    lease = f"{LEASE:g} s"
    assert chaos.failovers, "the leader was never killed"
    assert max(chaos.failovers) <= 2 * LEASE, f"a standby took {max(chaos.failovers):.2f} s to lead (lease {lease})"
    # ... and then polled and wrote its first page (a write is infinite here if none came within
    # the test's deadline of four leases).
    assert max(chaos.first_writes) < 4 * LEASE, f"a new leader took {max(chaos.first_writes):.2f} s to write"
    taken_over = [after > before for _, before, after in chaos.paused_leaders]
    print(
        f"\nchaos: {len(entry_ids)} entries once each; {len(orders)} orders, none lost or pending "
        f"({len(worked)} shipped by the workers); "
        f"{len(chaos.killed)} SIGKILLs ({sum(s.kind == 'replica' for s in chaos.slots for _ in s.started[1:])} of "
        f"replicas, {sum(s.kind == 'worker' for s in chaos.slots for _ in s.started[1:])} of workers); "
        f"{len(chaos.paused_leaders)} leaders paused past their lease ({sum(taken_over)} taken over meanwhile); "
        f"{len(set(tokens))} terms wrote, in order; {len(repeated)} orders sent twice, each after a crash "
        f"({sum(resent.values())} resends); after killing the leader, a standby led in "
        + ", ".join(f"{t:.2f} s" for t in chaos.failovers)
        + f" (lease {lease}, at most {2 * LEASE:g} s) and wrote its first entries in "
        + ", ".join(f"{t:.2f} s" for t in chaos.first_writes)
    )
    assert len(chaos.killed) >= 25 or KILLS < 25
    assert len(chaos.paused_leaders) >= PAUSES


def _worked(chaos: Chaos) -> set[str]:
    path = chaos.logs / "work.log"
    lines = path.read_text().splitlines() if path.exists() else []
    return {parts[1] for parts in map(str.split, lines) if len(parts) == 4 and parts[0] == "end"}


def _overlapping_work(chaos: Chaos) -> list[str]:
    """Orders two workers held at overlapping times (a worker killed mid-order held it until its kill)."""
    spans: dict[str, list[tuple[float, float, int]]] = defaultdict(list)
    open_: dict[tuple[str, int], float] = {}
    path = chaos.logs / "work.log"
    for line in path.read_text().splitlines() if path.exists() else []:
        parts = line.split()
        if len(parts) != 4:
            continue  # a line cut by a SIGKILL
        what, order_id, pid, at = parts[0], parts[1], int(parts[2]), float(parts[3])
        if what == "start":
            open_[(order_id, pid)] = at
        elif (order_id, pid) in open_:
            spans[order_id].append((open_.pop((order_id, pid)), at, pid))
    for (order_id, pid), began in open_.items():
        spans[order_id].append((began, chaos.killed.get(pid, float("inf")), pid))
    overlapping = []
    for order_id, held in spans.items():
        held.sort()
        for (_, end, pid), (start, _, other) in itertools.pairwise(held):
            if other != pid and start < end:
                overlapping.append(order_id)
    return overlapping
