"""The lease that elects one follower among replicas sharing a PostgreSQL store, and its fencing.

Replicas are real stores on a real server (``PostgresCheckpoint`` / ``OrderLedger`` on one schema);
a replica "paused past its lease" is made by ending its lease in the database, as the clock would
while it was stopped, so that nothing here waits on time.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest

from iqmetrix_dropship import ConfigurationError, Cursor, LeaseLostError, OrderLedger, OrderStatus, PostgresCheckpoint
from iqmetrix_dropship._pg.connect import LEDGER_APPLICATION
from iqmetrix_dropship.emulator import Emulator

from ..conftest import PgStore
from ..support import client_for
from .conftest import Connect

Open = Callable[..., Any]

pytestmark = pytest.mark.usefixtures("postgres")


@pytest.fixture
def replica(pg_store: PgStore) -> Iterator[Open]:
    """``replica(holder, **options)``: a ``PostgresCheckpoint`` on the test's schema, closed after."""
    opened: list[Any] = []

    def open_one(holder: str, *, kind: type = PostgresCheckpoint, **options: Any) -> Any:
        options.setdefault("lease_seconds", 60.0)  # no heartbeat ends a term here: the test does
        store = kind(pg_store.dsn, schema=pg_store.schema, holder=holder, **options)
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        store.close()


def _db(pg_store: PgStore, application_name: str = "test") -> psycopg.Connection[Any]:
    connection = psycopg.connect(pg_store.dsn, autocommit=True, application_name=application_name)
    connection.execute(f"SET search_path TO {pg_store.schema}")
    return connection


def _expire(pg_store: PgStore) -> None:
    """What a pause past the lease does: the lease's time runs out while its holder sleeps."""
    with _db(pg_store) as db:
        db.execute("UPDATE dropship_leases SET expires_at = clock_timestamp() - interval '1 second'")


def test_one_replica_leads_and_the_others_stand_by(replica: Open) -> None:
    a, b, c = replica("a"), replica("b"), replica("c")
    assert [a.lead(), b.lead(), c.lead()] == [True, False, False]
    assert a.lead() is True  # renewing
    assert a.lease_token is not None
    assert b.lease_token is None
    assert c.lease_token is None


def test_a_standby_takes_over_at_once_when_the_leader_steps_down(replica: Open) -> None:
    a, b = replica("a"), replica("b")
    assert a.lead()
    first = a.lease_token
    a.close()
    assert b.lead() is True
    assert b.lease_token is not None
    assert first is not None
    assert b.lease_token > first  # a new term, a higher fencing token


def test_a_write_after_the_lease_ran_out_is_refused(replica: Open, pg_store: PgStore) -> None:
    a, b = replica("a"), replica("b")
    assert a.lead()
    a.save(Cursor("urn:uuid:1", "p1"))
    _expire(pg_store)  # a was paused past its lease
    assert b.lead() is True
    with pytest.raises(LeaseLostError, match="wrote nothing"):
        a.save(Cursor("urn:uuid:2", "p2"))  # a wakes up and carries on: refused
    assert b.load() == Cursor("urn:uuid:1", "p1")
    assert a.lead() is False  # and a stands by
    assert a.lease_token is None


def test_an_expired_lease_is_refused_even_before_anyone_takes_over(replica: Open, pg_store: PgStore) -> None:
    a = replica("a")
    assert a.lead()
    _expire(pg_store)
    with pytest.raises(LeaseLostError):
        a.save(Cursor("urn:uuid:1", "p1"))
    assert a.load() is None


def test_takers_behind_a_paused_write_do_not_both_lead_and_get_a_whole_lease(replica: Open, pg_store: PgStore) -> None:
    # The leader was paused in the middle of a write past its lease: its transaction holds the
    # lease row. Two standbys try to take over at once. Exactly one may lead, for a whole lease
    # from when it took it (not from when it began to wait).
    lease = 0.5
    a = replica("a", lease_seconds=lease)
    b, c = replica("b", lease_seconds=lease), replica("c", lease_seconds=lease)
    assert a.lead()
    a.close()  # steps down; the row stays, expired
    paused = _db(pg_store, LEDGER_APPLICATION)  # a replica's ledger session, as the fence takes it
    paused.execute("BEGIN")
    paused.execute("SELECT 1 FROM dropship_leases FOR KEY SHARE")
    results: dict[str, bool] = {}

    def take(name: str, store: PostgresCheckpoint) -> None:
        deadline = time.monotonic() + 30
        while not store.lead() and time.monotonic() < deadline:  # as a standby does, every poll
            if any(results.values()):
                results.setdefault(name, False)
                return
        results[name] = store.lead()

    takers = [threading.Thread(target=take, args=item) for item in (("b", b), ("c", c))]
    for taker in takers:
        taker.start()
    for taker in takers:
        taker.join(timeout=60)
    assert sorted(results.values()) == [False, True]
    assert paused.closed or paused.broken or _ended(paused)  # the paused session was ended
    with _db(pg_store) as db:
        left = db.execute("SELECT expires_at - clock_timestamp() FROM dropship_leases").fetchone()
    assert left is not None
    assert left[0].total_seconds() > lease / 2  # a whole lease, from when it was taken


@pytest.mark.parametrize("standbys", [1, 3])
def test_a_leader_paused_mid_write_does_not_hold_up_the_take_over(
    replica: Open, pg_store: PgStore, standbys: int
) -> None:
    # Paused between two statements of a pipelined write, the leader's session is not "idle in
    # transaction" but "active", waiting for its client: no server timeout ends it. A standby
    # does, once the lease has run out, and takes over; with several, queued behind each other
    # for the row, one of them still finds the session that holds it.
    a = replica("a", lease_seconds=60)
    others = [replica(f"b{n}", lease_seconds=1) for n in range(standbys)]
    assert a.lead()
    _expire(pg_store)  # a is paused past its lease...
    writer = _db(pg_store, LEDGER_APPLICATION)
    with writer, contextlib.suppress(psycopg.Error), writer.pipeline():
        writer.execute("BEGIN")
        writer.execute("SELECT 1 FROM dropship_leases FOR KEY SHARE")  # ...in the middle of a write
        while writer.pgconn.flush():  # sent, without a sync: the server waits for more
            pass
        with _db(pg_store) as watch:
            _until(
                lambda: (
                    watch.execute(
                        "SELECT state FROM pg_stat_activity WHERE pid = %s", (writer.info.backend_pid,)
                    ).fetchone()
                    == ("active",)
                )
            )
        leaders = _race_to_lead(others)
    assert len(leaders) == 1
    with pytest.raises(LeaseLostError):
        a.save(Cursor("urn:uuid:late", "p"))


def _race_to_lead(standbys: list[Any], timeout: float = 30.0) -> list[Any]:
    """Each standby tries, as at every poll, on a thread of its own, until one leads."""
    leaders: list[Any] = []
    done = threading.Event()

    def try_to_lead(store: Any) -> None:
        deadline = time.monotonic() + timeout
        while not done.is_set() and time.monotonic() < deadline:
            if store.lead():
                leaders.append(store)
                done.set()

    threads = [threading.Thread(target=try_to_lead, args=(store,)) for store in standbys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout + 10)
    return leaders


def test_a_replica_paused_inside_its_own_take_does_not_hold_up_the_others(replica: Open, pg_store: PgStore) -> None:
    a, b = replica("a", lease_seconds=0.6), replica("b", lease_seconds=0.6)
    assert a.lead()
    a.close()
    taking = b._backend.lease._db()  # b's lease session, as it is in the middle of a take
    taking.execute("BEGIN")
    taking.execute("SELECT 1 FROM dropship_leases FOR UPDATE")
    c = replica("c", lease_seconds=0.6)
    assert _race_to_lead([c]) == [c]  # b's session ended after a third of a lease idle


def test_a_lease_row_deleted_by_hand_starts_the_next_term_not_the_first(replica: Open, pg_store: PgStore) -> None:
    a, b = replica("a"), replica("b")
    assert a.lead()
    a.close()
    with _db(pg_store) as db:
        db.execute("DELETE FROM dropship_leases")
    assert b.lead() is True
    assert b.lease_token == 2
    with _db(pg_store) as db:
        terms = db.execute("SELECT token, holder FROM dropship_lease_terms ORDER BY token").fetchall()
    assert terms == [(1, "a"), (2, "b")]


def test_a_session_that_is_not_a_replicas_write_is_never_ended(replica: Open, pg_store: PgStore) -> None:
    # An operator's psql holding the lease row (or anything but a ledger's write) is left alone:
    # the standby waits, and takes over once it lets go.
    a, b = replica("a", lease_seconds=60), replica("b", lease_seconds=0.3)
    assert a.lead()
    _expire(pg_store)
    with _db(pg_store, "psql") as operator:
        operator.execute("BEGIN")
        operator.execute("SELECT 1 FROM dropship_leases FOR UPDATE")
        assert b.lead() is False
        assert not _ended(operator)
        operator.execute("ROLLBACK")
    assert b.lead() is True


def test_a_leader_whose_write_waits_on_a_workers_order_keeps_its_lease(pg_store: PgStore) -> None:
    # The worker's own update comes back through the feed while it still holds the order: the
    # leader's write waits for the claim to end. Meanwhile it must go on renewing its lease, and
    # the standby must neither take over nor end the leader's session.
    lease = 0.6
    emulator = Emulator(orders=2, seed=21, history_rate=0.0)
    with (
        OrderLedger(pg_store.dsn, schema=pg_store.schema, lease_seconds=lease, holder="a") as a,
        OrderLedger(pg_store.dsn, schema=pg_store.schema, lease_seconds=lease, holder="b") as b,
        OrderLedger(pg_store.dsn, schema=pg_store.schema) as worker,
        client_for(emulator) as client,
    ):
        follower = client.follow(checkpoint=a)
        for _ in follower.poll():
            pass
        failures: list[BaseException] = []

        def poll() -> None:
            try:
                for _ in follower.poll():
                    pass
            except BaseException as error:
                failures.append(error)

        with worker.claim(OrderStatus.PENDING_SUPPLIER, limit=1) as orders:
            orders.update_order_status(client, orders[0].order_id, OrderStatus.ORDERED)
            leader = threading.Thread(target=poll)
            leader.start()
            with _db(pg_store) as watch:
                _until(lambda: _waiting_on_a_lock(watch, LEDGER_APPLICATION))
                began, deadline = _renewed_at(watch), time.monotonic() + 30
                while (_renewed_at(watch) - began).total_seconds() < 2 * lease:  # two leases went by
                    assert b.lead() is False
                    assert leader.is_alive()
                    assert time.monotonic() < deadline, "the leader stopped renewing its lease"
        leader.join(timeout=30)
        assert failures == []
        assert a.lease_token == 1
        assert b.lead() is False
        got = a.order(orders[0].order_id)
        assert got is not None
        assert got.status is OrderStatus.ORDERED


def _waiting_on_a_lock(watch: psycopg.Connection[Any], application: str) -> bool:
    row = watch.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND wait_event_type = 'Lock'",
        (application,),
    ).fetchone()
    return row is not None and row[0] > 0


def _renewed_at(watch: psycopg.Connection[Any]) -> Any:
    row = watch.execute("SELECT renewed_at FROM dropship_leases").fetchone()
    assert row is not None
    return row[0]


def _ended(connection: psycopg.Connection[Any]) -> bool:
    try:
        connection.execute("SELECT 1")
    except psycopg.OperationalError:
        return True
    return False


def test_a_standby_follower_delivers_nothing_and_takes_over_when_the_leader_stops(
    replica: Open, connect: Connect
) -> None:
    emulator = Emulator(events=30, seed=3)
    leader, standby = replica("leader", kind=OrderLedger), replica("standby", kind=OrderLedger)
    with connect(emulator) as client:
        assert leader.lead()
        assert list(client.follow(checkpoint=standby).poll()) == []  # it does not lead: nothing
        first = [entry.id for entry in client.follow(checkpoint=leader).poll()]
        leader.close()
        emulator.place_orders(3)
        rest = [entry.id for entry in client.follow(checkpoint=standby).poll()]
    assert first + rest == emulator.entry_ids()
    assert standby.entry_ids() == emulator.entry_ids()


def test_a_leader_that_lost_its_lease_mid_poll_raises_and_the_new_one_delivers_the_rest(
    replica: Open, connect: Connect, pg_store: PgStore
) -> None:
    emulator = Emulator(events=40, seed=5)  # one page: the ledger writes it in one transaction
    old, new = replica("old", kind=OrderLedger), replica("new", kind=OrderLedger)
    delivered: list[str] = []
    with connect(emulator) as client:
        entries = iter(client.follow(checkpoint=old).poll())
        for entry in itertools.islice(entries, 39):
            delivered.append(entry.id)
            if len(delivered) == 10:
                _expire(pg_store)  # paused here, past its lease
                assert new.lead()
        delivered.append(next(entries).id)  # the last entry
        with pytest.raises(LeaseLostError):
            next(entries)  # the poll ends: the page's write is refused, none of the page is applied
        rest = [entry.id for entry in client.follow(checkpoint=new).poll()]
    ids = emulator.entry_ids()
    assert delivered == ids  # delivered by the old leader, never written
    assert rest == ids  # so the new leader has the whole page again
    assert new.entry_ids() == ids  # every entry once


def _until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.01)


@pytest.mark.parametrize("seconds", [0, 0.01, -1, float("nan"), float("inf"), 10**6, "30", True])
@pytest.mark.parametrize("kind", [PostgresCheckpoint, OrderLedger])
def test_a_lease_that_would_end_at_once_or_never_is_refused_before_connecting(kind: type, seconds: Any) -> None:
    with pytest.raises(ConfigurationError, match=r"lease seconds must be a number from 0\.1"):
        kind("postgresql://nobody@127.0.0.1:1/none", lease_seconds=seconds)
